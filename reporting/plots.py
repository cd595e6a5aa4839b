"""Charts. One theme for the whole toolkit, set in :func:`set_theme`.

Every function takes ready frames (computed by ``reporting.metrics``), an optional
``ax``, and returns the Axes. Titles and axis labels carry units.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.ticker import FuncFormatter, PercentFormatter  # noqa: E402

PALETTE = {
    "primary": "#1f3a5f",
    "accent": "#e07a1f",
    "good": "#2e7d32",
    "watch": "#f9a825",
    "bad": "#c62828",
    "muted": "#9aa5b1",
    "won": "#2e7d32",
    "lost": "#c62828",
}
FIGSIZE = (7.2, 3.4)  # inches: full A4 text width at 200 dpi


def set_theme(primary: str | None = None, accent: str | None = None) -> None:
    """The toolkit's seaborn / matplotlib theme (fonts, sizes, palette)."""
    if primary:
        PALETTE["primary"] = primary
    if accent:
        PALETTE["accent"] = accent
    sns.set_theme(
        style="whitegrid",
        context="paper",
        font="DejaVu Sans",
        palette=[PALETTE["primary"], PALETTE["accent"], PALETTE["muted"], PALETTE["good"]],
        rc={
            "figure.figsize": FIGSIZE,
            "figure.dpi": 100,
            "savefig.dpi": 200,
            "axes.titlesize": 10,
            "axes.titleweight": "bold",
            "axes.labelsize": 8.5,
            "xtick.labelsize": 7.5,
            "ytick.labelsize": 7.5,
            "legend.fontsize": 7.5,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "grid.color": "#e6e9ed",
        },
    )


def money(x: float, _pos=None) -> str:
    """Compact currency-free amount: 1.2k, 3.4M."""
    for div, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.1f}{unit}".replace(".0", "")
    return f"{x:.0f}"


def _ax(ax):
    if ax is None:
        _, ax = plt.subplots(figsize=FIGSIZE, layout="constrained")
    return ax


def _short(names: pd.Series, n: int = 18) -> list[str]:
    return [s if len(s) <= n else s[: n - 1] + "…" for s in names.astype(str)]


def win_rate_by_rep(wr: pd.DataFrame, baseline=None, ax=None):
    """Win rate per rep with its 95% interval; dashed lines at the good / bad baselines."""
    ax = _ax(ax)
    d = wr[wr["closed"] > 0].sort_values("win_rate", ascending=True)
    y = np.arange(len(d))
    ax.hlines(y, d["ci_low"], d["ci_high"], color=PALETTE["muted"], lw=2.5, alpha=0.7)
    ax.scatter(d["win_rate"], y, color=PALETTE["primary"], zorder=3, s=22)
    ax.set_yticks(y, _short(d["group"]))
    if baseline is not None:
        ax.axvline(baseline.good, color=PALETTE["good"], ls="--", lw=1, label="good")
        ax.axvline(baseline.bad, color=PALETTE["bad"], ls="--", lw=1, label="bad")
        ax.legend(loc="lower right", frameon=False)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlim(0, 1)
    ax.set_xlabel("win rate (won / closed), bar = 95% interval")
    ax.set_title("Win rate by rep, deals closed in the period")
    return ax


def cycle_quadrant(summary: pd.DataFrame, ax=None):
    """Deals closed against median won cycle per rep, split at the team medians."""
    ax = _ax(ax)
    d = summary.dropna(subset=["median_cycle_days_won"])
    d = d[d["won"] + d["lost"] > 0]
    x = d["won"] + d["lost"]
    yv = d["median_cycle_days_won"]
    ax.scatter(x, yv, color=PALETTE["primary"], s=28, zorder=3)
    if len(d):
        ax.axvline(x.median(), color=PALETTE["muted"], ls="--", lw=1)
        ax.axhline(yv.median(), color=PALETTE["muted"], ls="--", lw=1)
        for xi, yi, name in zip(x, yv, _short(d["group"], 16), strict=True):
            ax.annotate(name, (xi, yi), xytext=(3, 3), textcoords="offset points", fontsize=6.5)
    ax.set_xlabel("deals closed in the period (won + lost)")
    ax.set_ylabel("median cycle of won deals (days)")
    ax.set_title("Deals closed vs cycle length per rep (lines: team medians)")
    return ax


def deal_size_histogram(amounts: pd.Series, edges: list[float] | None = None, ax=None):
    """Won deal amounts on a log axis, with band edges as vertical lines."""
    ax = _ax(ax)
    a = amounts[amounts > 0].dropna()
    if len(a):
        bins = np.logspace(np.log10(a.min()), np.log10(a.max() * 1.001), 30)
        ax.hist(a, bins=bins, color=PALETTE["primary"], alpha=0.85)
        ax.set_xscale("log")
        for e in edges or []:
            ax.axvline(e, color=PALETTE["accent"], ls="--", lw=1.2)
    ax.xaxis.set_major_formatter(FuncFormatter(money))
    ax.set_xlabel("won deal amount (log scale)")
    ax.set_ylabel("deals")
    ax.set_title("Won deal sizes")
    return ax


def open_vs_capacity(op: pd.DataFrame, ax=None):
    """Open deals per rep at period end, stale part highlighted, capacity marked."""
    ax = _ax(ax)
    d = op.sort_values("open_count", ascending=True)
    y = np.arange(len(d))
    fresh = d["open_count"] - d["stale_open_count"]
    ax.barh(y, fresh, color=PALETTE["primary"], label="active")
    ax.barh(y, d["stale_open_count"], left=fresh, color=PALETTE["accent"], label="stale")
    if d["capacity"].notna().any():
        ax.scatter(d["capacity"], y, marker="|", s=120, color=PALETTE["bad"], label="capacity",
                   zorder=3)
    ax.set_yticks(y, _short(d["group"]))
    ax.set_xlabel("open opportunities at period end")
    ax.set_title("Open pipeline per rep against capacity")
    ax.legend(loc="lower right", frameon=False)
    return ax


def value_by_rep(av: pd.DataFrame, by: str, title: str, ax=None):
    """Average revenue to date of the accounts per rep (``acquired_by`` or
    ``account_manager``)."""
    ax = _ax(ax)
    d = av.dropna(subset=[by]).groupby(by)["total"].agg(["mean", "count"])
    d = d[d["count"] >= 1].sort_values("mean")
    y = np.arange(len(d))
    ax.barh(y, d["mean"], color=PALETTE["primary"])
    ax.set_yticks(y, _short(pd.Series(d.index)))
    ax.xaxis.set_major_formatter(FuncFormatter(money))
    ax.set_xlabel("average revenue to date per account")
    ax.set_title(title)
    return ax


def figure_png(ax_or_fig, dpi: int = 200) -> bytes:
    """PNG bytes of a chart at ``dpi``; closes the figure."""
    import io

    fig = ax_or_fig if isinstance(ax_or_fig, plt.Figure) else ax_or_fig.figure
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()
