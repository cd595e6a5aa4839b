"""Charts. One theme for the whole toolkit, set in :func:`set_theme`.

Every function takes ready frames (computed by ``reporting.metrics``), an optional
``ax``, and returns the Axes. Titles and axis labels carry units.

Importing this module never chooses a matplotlib backend: in Jupyter the charts show
inline; the report runner sets ``MPLBACKEND=Agg`` for its kernels, and reports embed each
chart explicitly as an image (:func:`figure_png`).
"""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import FuncFormatter, PercentFormatter

# CRM names are drawn as plain text in every chart, themed or not: a rep called "$\\foo$"
# is not TeX (mathtext would fail the whole report on it).
matplotlib.rcParams["text.parse_math"] = False

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
            # CRM names are plain text: "$\\foo$" is a rep, not TeX (mathtext fails on it)
            "text.parse_math": False,
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


def win_rate_by_rep(wr: pd.DataFrame, baseline=None, limit: int = 25, ax=None):
    """Win rate per rep with its 95% interval; dashed lines at the good / bad baselines.
    At most ``limit`` reps: those with the most closed deals."""
    ax = _ax(ax)
    d = wr[wr["closed"] > 0].nlargest(limit, "closed").sort_values("win_rate", ascending=True)
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


def cycle_quadrant(summary: pd.DataFrame, limit: int = 40, ax=None):
    """Deals closed against median won cycle per rep, split at the medians. At most
    ``limit`` reps (most deals closed)."""
    ax = _ax(ax)
    d = summary.dropna(subset=["median_cycle_days_won"])
    d = d[d["won"] + d["lost"] > 0]
    d = d.loc[(d["won"] + d["lost"]).nlargest(limit).index]
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


def histogram_bins(amounts: pd.Series, n: int = 30) -> np.ndarray:
    """Log-spaced bin edges whose first edge is at or below the smallest positive amount
    and whose last is at or above the largest, so every positive amount falls in a bin
    (``np.logspace`` of the logs alone can land a hair above the minimum and drop it)."""
    a = amounts[amounts > 0].dropna().to_numpy(dtype=float)
    lo, hi = float(a.min()), float(a.max())
    if hi <= lo:
        lo, hi = lo / 1.1, hi * 1.1
    bins = np.logspace(np.log10(lo), np.log10(hi), n)
    bins[0], bins[-1] = min(bins[0], lo), max(bins[-1], hi)
    return bins


def deal_size_histogram(amounts: pd.Series, edges: list[float] | None = None, ax=None):
    """Every won deal: positive amounts on a log axis, with band edges as vertical lines;
    zero-amount wins (which a log axis cannot place) in a bar of their own at the left,
    labelled 0. Missing amounts are not deals with a size and are left out."""
    ax = _ax(ax)
    a = amounts.dropna()
    pos, zero = a[a > 0], int((a == 0).sum())
    if len(pos) or zero:
        bins = histogram_bins(pos) if len(pos) else np.array([1.0, 10.0])
        ax.hist(pos, bins=bins, color=PALETTE["primary"], alpha=0.85)
        ax.set_xscale("log")
        for e in edges or []:
            ax.axvline(e, color=PALETTE["accent"], ls="--", lw=1.2)
        if zero:
            step = bins[1] / bins[0]
            left = bins[0] / step ** 4
            ax.bar(left, zero, width=left * (step - 1), align="edge", color=PALETTE["muted"])
            ax.annotate("0", (left * step ** 0.5, 0), xycoords=("data", "axes fraction"),
                        xytext=(0, -2), textcoords="offset points", ha="center", va="top",
                        fontsize=7.5, fontweight="bold", color=PALETTE["muted"])
            ax.set_xlim(left / step, None)
    ax.xaxis.set_major_formatter(FuncFormatter(money))
    ax.set_xlabel("won deal amount (log scale)")
    ax.set_ylabel("deals")
    ax.set_title("Won deal sizes")
    return ax


def open_vs_capacity(op: pd.DataFrame, stale: str = "stale_open_count",
                     unknown: str = "stale_unknown_count", limit: int = 25, ax=None):
    """Open deals per rep at period end: active, stale and (where the data cannot tell)
    stale state unknown, with the capacity marked. At most ``limit`` reps: those with the
    most open deals."""
    ax = _ax(ax)
    d = op.nlargest(limit, "open_count").sort_values("open_count", ascending=True)
    y = np.arange(len(d))
    unk = d[unknown] if unknown in d else pd.Series(0, index=d.index)
    fresh = d["open_count"] - d[stale] - unk
    ax.barh(y, fresh, color=PALETTE["primary"], label="active")
    ax.barh(y, d[stale], left=fresh, color=PALETTE["accent"], label="stale")
    if unk.sum():
        ax.barh(y, unk, left=fresh + d[stale], color=PALETTE["muted"],
                label="stale state unknown")
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


def funnel(f: pd.DataFrame, ax=None):
    """Deals closed in the period by the furthest stage they reached, with the share that
    moved on to the next stage."""
    ax = _ax(ax)
    d = f.reset_index(drop=True)
    y = np.arange(len(d))[::-1]
    ax.barh(y, d["reached"], color=PALETTE["primary"])
    top = d["reached"].max() if len(d) else 1
    for yi, (_, r) in zip(y, d.iterrows(), strict=True):
        label = f"{int(r['reached'])}"
        if pd.notna(r["conversion_to_next"]):
            label += f"  ({r['conversion_to_next']:.0%} move on, {int(r['lost_here'])} lost here)"
        ax.text(r["reached"] + top * 0.01, yi, label, va="center", fontsize=7)
    ax.set_yticks(y, _short(d["stage"], 22))
    ax.set_xlim(0, top * 1.6)
    ax.set_xlabel("deals closed in the period that reached the stage")
    ax.set_title("Stage-to-stage funnel of deals closed in the period")
    return ax


def win_rate_trend(trend: pd.DataFrame, threshold=None, ax=None):
    """Monthly win rate with its 95% interval and the good / bad baseline band."""
    ax = _ax(ax)
    d = trend.dropna(subset=["win_rate"])
    if threshold is not None:
        lo, hi = sorted([threshold.bad, threshold.good])
        ax.axhspan(0, lo, color=PALETTE["bad"], alpha=0.07, lw=0)
        ax.axhspan(lo, hi, color=PALETTE["watch"], alpha=0.10, lw=0)
        ax.axhspan(hi, 1, color=PALETTE["good"], alpha=0.07, lw=0)
    ax.fill_between(d["month"], d["ci_low"], d["ci_high"], color=PALETTE["muted"], alpha=0.35,
                    lw=0, label="95% interval")
    ax.plot(d["month"], d["win_rate"], marker="o", color=PALETTE["primary"], label="win rate")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    top = float(np.nanmax(d["ci_high"])) if len(d) else 1.0
    ax.set_ylim(0, min(1.0, max(top * 1.15, (threshold.good if threshold else 0) * 1.3)))
    ax.set_ylabel("win rate (won / closed)")
    ax.set_xlabel("month closed")
    ax.set_title("Win rate by month against the baseline (green good, red bad)")
    ax.legend(loc="upper left", frameon=False)
    import matplotlib.dates as mdates

    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %y"))
    return ax


def band_mix(mix: pd.DataFrame, reps: list[str] | None = None, ax=None):
    """Each rep's share of small / medium / large won deals, with the team mix and the
    target mix as the first two bars."""
    ax = _ax(ax)
    order = ["small", "medium", "large"]
    colors = {"small": PALETTE["muted"], "medium": PALETTE["primary"], "large": PALETTE["accent"]}
    m = mix if reps is None else mix[mix["group"].isin(reps)]
    wide = m.pivot_table(index="group", columns="band", values="share", fill_value=0.0)
    wide = wide.reindex(columns=[b for b in order if b in wide.columns])
    team = m.groupby("band")["team_share"].first().reindex(wide.columns)
    rows = {"team mix": team}
    target = m.groupby("band")["target_share"].first().reindex(wide.columns)
    if target.notna().all():
        rows["target mix"] = target
    wide = pd.concat([pd.DataFrame(rows).T, wide.sort_values(wide.columns[0])])
    y = np.arange(len(wide))[::-1]
    left = np.zeros(len(wide))
    for band in wide.columns:
        ax.barh(y, wide[band], left=left, color=colors.get(band), label=band)
        left += wide[band].to_numpy()
    ax.set_yticks(y, _short(pd.Series(wide.index)))
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of won deals in the period")
    ax.set_title("Deal-size mix per rep against the team and target mix")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False, ncols=3)
    return ax


def aging_heatmap(aging: pd.DataFrame, ax=None):
    """Open deals at period end by stage and age bucket."""
    ax = _ax(ax)
    if aging.empty:
        ax.set_title("No open deals")
        return ax
    sns.heatmap(aging, annot=True, fmt="d", cmap="Blues", cbar=False, ax=ax,
                annot_kws={"fontsize": 7})
    ax.set_xlabel("age of the open deal (days since created)")
    if list(aging.index) == ["all open deals"]:  # no stage history: by age only
        ax.figure.set_size_inches(FIGSIZE[0], 1.5)
        ax.set_ylabel("")
        ax.set_title("Open deals by age (no stage history: stage at period end unknown)")
    else:
        ax.set_ylabel("stage at period end")
        ax.set_title("Open deals by stage and age")
    return ax


def person_bars(frame: pd.DataFrame, column: str, title: str, xlabel: str,
                percent: bool = False, limit: int = 15, ax=None):
    """One bar per person (acquiring rep or account manager), largest first."""
    ax = _ax(ax)
    d = frame.dropna(subset=[column]).sort_values(column, ascending=False).head(limit)
    d = d.iloc[::-1]
    y = np.arange(len(d))
    ax.barh(y, d[column], color=PALETTE["primary"])
    ax.set_yticks(y, _short(d["person"]))
    ax.xaxis.set_major_formatter(PercentFormatter(1.0) if percent else FuncFormatter(money))
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return ax


def cycle_distribution(opps: pd.DataFrame, period, limit: int = 20, ax=None):
    """Cycle days of the deals each rep won in the period: one box per rep (the reps with
    the most wins), median line, whiskers to 1.5 IQR."""
    ax = _ax(ax)
    w = opps[(opps["status"] == "won") & period.contains(opps["closed_at"])]
    days = ((w["closed_at"] - w["created_at"]).dt.total_seconds() / 86400).rename("days")
    d = pd.DataFrame({"rep": w["owner"], "days": days})
    top = d["rep"].value_counts().head(limit).index
    d = d[d["rep"].isin(top)]
    order = d.groupby("rep")["days"].median().sort_values().index.tolist()
    if len(d):
        sns.boxplot(data=d, y="rep", x="days", order=order, ax=ax, color=PALETTE["muted"],
                    fliersize=2, linewidth=0.8)
        ax.set_yticks(range(len(order)), _short(pd.Series(order)))
    ax.set_xlabel("days from created to won")
    ax.set_ylabel("")
    ax.set_title("Cycle length of won deals per rep")
    return ax
