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
FIGSIZE = (7.2, 3.4)  # inches: full A4 text width (drawn at CHART_DPI)


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


#: Pixels per inch of the charts the reports embed: 1,080 px across the A4 text width
#: (``FIGSIZE``, 7.2 in), sharp in print and about 2.8 device pixels per CSS pixel on a
#: 390 px phone screen. 200 dpi cost a third more pixels to draw, encode and re-encode in
#: WeasyPrint for no visible gain at the size the charts are shown (benchmarks/NOTES.md).
CHART_DPI = 150


def figure_png(ax_or_fig, dpi: int = CHART_DPI) -> bytes:
    """PNG bytes of a chart at ``dpi``; closes the figure.

    The figure is drawn once on an Agg canvas (its layout engine runs within that draw)
    and its pixels written as an RGB PNG when they are all opaque. ``savefig`` draws twice
    (once to lay out, once to paint) and writes RGBA, whose alpha channel WeasyPrint then
    splits off and encodes again as a mask; the pixels are the same."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    fig = ax_or_fig if isinstance(ax_or_fig, plt.Figure) else ax_or_fig.figure
    try:
        canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
        fig.dpi = dpi
        canvas.draw()
        w, h = canvas.get_width_height(physical=True)
        img = Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        if img.getextrema()[3][0] == 255:  # opaque (the theme's white figure): no alpha
            img = img.convert("RGB")
        buf = io.BytesIO()
        img.save(buf, format="png")
    finally:
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


# --------------------------------------------------------------------------- pipeline movement
#: waterfall bar labels, in the order drawn (extras only when they moved something)
_WATERFALL_LABELS = {
    "created": "created", "pulled_in": "pulled in", "reopened": "reopened",
    "restored": "restored", "transferred_in": "handed over in", "amount_set": "amount set",
    "increased": "amount up", "decreased": "amount down", "amount_cleared": "amount cleared",
    "pushed_out": "pushed out", "won": "won", "lost": "lost", "deleted": "deleted",
    "transferred_out": "handed over out",
}
_WATERFALL_ALWAYS = ("created", "pulled_in", "increased", "decreased", "pushed_out", "won",
                     "lost")


def movement_waterfall(frame_row, currency: str, ax=None, title: str | None = None):
    """Pipeline movement of one group (a row of ``metrics.movement.pipeline_movement``) as a
    waterfall: the start and end values as totals, each movement as a floating bar coloured
    as an increase or a decrease, its value on it. When the value is not computable (most
    amounts unknown) the waterfall counts deals instead, and says so."""
    from .metrics.movement import SIGN

    ax = _ax(ax)
    r = frame_row
    by_value = bool(r.get("value_computable", True)) and pd.notna(r["start_value"])

    def val(key: str) -> float:
        if by_value:
            return float(r[{"start": "start_value", "end": "end_value"}.get(key, key)])
        return float(r[f"{key}_count"])

    # without any deal history pushes, pulls and amount changes are not known: no bar
    unknown = () if r.get("history_deals", 1) else ("pulled_in", "increased", "decreased",
                                                    "pushed_out")
    steps = [k for k in _WATERFALL_LABELS
             if (k in _WATERFALL_ALWAYS and k not in unknown) or val(k) != 0]
    labels, bottoms, heights, colours = ["start"], [0.0], [val("start")], [PALETTE["primary"]]
    level = val("start")
    for k in steps:
        delta = SIGN[k] * val(k)
        labels.append(_WATERFALL_LABELS[k])
        bottoms.append(level if delta >= 0 else level + delta)
        heights.append(abs(delta))
        colours.append(PALETTE["good"] if SIGN[k] > 0 else PALETTE["bad"])
        level += delta
    labels.append("end")
    bottoms.append(0.0)
    heights.append(val("end"))
    colours.append(PALETTE["primary"])
    x = np.arange(len(labels))
    ax.bar(x, heights, bottom=bottoms, color=colours, width=0.7)
    tops = np.array(bottoms) + np.array(heights)
    for i in range(len(x) - 1):  # connectors: the running level
        lvl = tops[i] if i == 0 or colours[i] != PALETTE["bad"] else bottoms[i]
        ax.plot([x[i] + 0.35, x[i + 1] - 0.35], [lvl, lvl], color=PALETTE["muted"], lw=0.6)
    span = max(float(np.max(tops)) if len(tops) else 0.0, 1.0)
    fmt = money if by_value else (lambda v, _p=None: f"{v:,.0f}")
    for xi, b, h, c in zip(x, bottoms, heights, colours, strict=True):
        sign = "-" if c == PALETTE["bad"] else ("+" if c == PALETTE["good"] else "")
        ax.text(xi, b + h + span * 0.015, f"{sign if h else ''}{fmt(h)}", ha="center",
                va="bottom", fontsize=6.5)
    ax.set_xticks(x, labels, rotation=30, ha="right")
    ax.set_ylim(0, span * 1.12)
    if by_value:
        ax.yaxis.set_major_formatter(FuncFormatter(money))
        ax.set_ylabel(f"pipeline value ({currency})")
    else:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p=None: f"{v:,.0f}"))
        ax.set_ylabel("deals (amounts unknown)")
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=PALETTE["primary"], label="total"),
                       Patch(color=PALETTE["good"], label="increase"),
                       Patch(color=PALETTE["bad"], label="decrease")],
              loc="upper right", bbox_to_anchor=(1.0, -0.2), ncol=3, frameon=False)
    ax.set_title(title or f"Pipeline movement, {r['group']}"
                 + ("" if not unknown else " (creation and close dates only)"), loc="left")
    return ax


def slippage_by_rep(frame: pd.DataFrame, limit: int = 15, min_deals: int = 5, ax=None):
    """Close-date pushes per open deal per rep (``metrics.movement.slippage``), the reps with
    at least ``min_deals`` deals, most pushes per deal first; each bar says the pushes, the
    deals and the share pushed twice or more; dashed line: the median rep."""
    ax = _ax(ax)
    d = frame.dropna(subset=["pushes_per_deal"])
    d = d[d["deals"] >= min_deals]
    med = d["pushes_per_deal"].median() if len(d) else np.nan
    d = d.sort_values("pushes_per_deal", ascending=False).head(limit).iloc[::-1]
    y = np.arange(len(d))
    ax.barh(y, d["pushes_per_deal"], color=PALETTE["primary"])
    top = float(d["pushes_per_deal"].max()) if len(d) else 1.0
    for yi, (_, r) in zip(y, d.iterrows(), strict=True):
        ax.text(r["pushes_per_deal"] + top * 0.01, yi,
                f"{r['pushes']:.0f} pushes, {r['deals']:.0f} deals, "
                f"{r['share_pushed_twice']:.0%} pushed 2+", va="center", fontsize=6.5)
    if pd.notna(med):
        ax.axvline(med, color=PALETTE["accent"], ls="--", lw=1, label=f"median rep {med:.2f}")
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False,
                  borderaxespad=0.2)
    ax.set_yticks(y, _short(d["group"]))
    ax.set_xlim(0, max(top, 1e-9) * 1.75)
    ax.set_xlabel("close-date pushes per open deal in the period")
    ax.set_title("Close-date slippage by rep", loc="left")
    return ax


_EFFECTS = (("open_deals_effect", "open deals"), ("win_rate_effect", "win rate"),
            ("avg_won_effect", "average won deal"), ("cycle_effect", "cycle days"))


def velocity_effects(frame: pd.DataFrame, currency: str | None = None, limit: int = 10,
                     ax=None):
    """What moved sales velocity (``metrics.velocity.velocity_change``). One row: a waterfall
    from the previous period's velocity through the four factor effects to this period's.
    Several rows: per group (the largest changes, decomposable rows only) the four effects
    as bars and the total change as a diamond."""
    ax = _ax(ax)
    unit = f"{currency} a day" if currency else "revenue a day"
    d = frame.dropna(subset=["open_deals_effect"])
    colours = [PALETTE["primary"], PALETTE["accent"], PALETTE["good"], PALETTE["muted"]]
    if len(frame) == 1 and len(d) == 1:
        r = d.iloc[0]
        labels = ["previous"] + [lab for _, lab in _EFFECTS] + ["now"]
        level = float(r["velocity_prev"])
        bottoms, heights, cols = [0.0], [level], [PALETTE["primary"]]
        for key, _ in _EFFECTS:
            e = float(r[key])
            bottoms.append(level if e >= 0 else level + e)
            heights.append(abs(e))
            cols.append(PALETTE["good"] if e >= 0 else PALETTE["bad"])
            level += e
        bottoms.append(0.0)
        heights.append(float(r["velocity"]))
        cols.append(PALETTE["primary"])
        x = np.arange(len(labels))
        ax.bar(x, heights, bottom=bottoms, color=cols, width=0.6)
        span = max(np.max(np.array(bottoms) + np.array(heights)), 1.0)
        for xi, b, h, c in zip(x, bottoms, heights, cols, strict=True):
            sign = "-" if c == PALETTE["bad"] else ("+" if c == PALETTE["good"] else "")
            ax.text(xi, b + h + span * 0.015, f"{sign}{money(h)}", ha="center", va="bottom",
                    fontsize=7)
        ax.set_xticks(x, labels)
        ax.set_ylim(0, span * 1.12)
        ax.yaxis.set_major_formatter(FuncFormatter(money))
        ax.set_ylabel(f"sales velocity ({unit})")
        ax.set_title("What moved sales velocity" if r["group"] == "all"
                     else f"What moved sales velocity, {r['group']}", loc="left")
        return ax
    d = d.reindex(d["change"].abs().sort_values(ascending=False).index).head(limit).iloc[::-1]
    y = np.arange(len(d))
    h = 0.8 / len(_EFFECTS)
    for i, ((key, lab), c) in enumerate(zip(_EFFECTS, colours, strict=True)):
        ax.barh(y + 0.4 - h * (i + 0.5), d[key], height=h, color=c, label=lab)
    ax.scatter(d["change"], y, marker="D", color="black", s=18, zorder=3, label="change")
    ax.axvline(0, color="#555", lw=0.6)
    ax.set_yticks(y, _short(d["group"]))
    ax.xaxis.set_major_formatter(FuncFormatter(money))
    ax.set_xlabel(f"effect on sales velocity ({unit}), previous period to this one")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=5, frameon=False)
    ax.set_title("What moved sales velocity", loc="left")
    return ax


def forecast_by_rep(groups: pd.DataFrame, currency: str, limit: int = 15, ax=None):
    """The next period's expected bookings per rep (the model's expected value of the deals
    open now plus the new deals expected to be created and won), its 80% range as a line,
    the simple rule (open value x trailing win rate) as a hollow mark and the quota as a
    red tick where one is set. Largest expected value first, at most ``limit`` reps."""
    ax = _ax(ax)
    g = groups.copy()
    g["total"] = g["expected_won_amount"].fillna(0) + g["expected_new_won_amount"].fillna(0)
    g = g[g["expected_won_amount"].notna()].sort_values("total", ascending=False).head(limit)
    g = g.iloc[::-1]
    if g.empty:
        ax.text(0.5, 0.5, "no amounts to forecast", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    y = np.arange(len(g))
    ax.barh(y, g["total"], color=PALETTE["primary"], height=0.6, label="expected")
    lo = g["low_amount"] + g["expected_new_won_amount"].fillna(0)
    hi = g["high_amount"] + g["expected_new_won_amount"].fillna(0)
    ax.hlines(y, lo, hi, color=PALETTE["accent"], lw=2, label="80% range")
    naive = g["naive_won_amount"] + g["expected_new_won_amount"].fillna(0)
    ax.scatter(naive, y, facecolors="none", edgecolors=PALETTE["muted"], s=22, zorder=3,
               label="open x win rate")
    if "quota" in g and g["quota"].notna().any():
        q = g["quota"]
        ax.scatter(q, y, marker="|", s=160, color=PALETTE["bad"], zorder=4, label="quota")
    ax.set_yticks(y, _short(g["group"]))
    ax.xaxis.set_major_formatter(FuncFormatter(money))
    ax.set_xlim(left=0)
    ax.set_xlabel(f"expected bookings ({currency})")
    ax.set_title("Forecast of bookings by rep")
    ax.legend(loc="lower right", frameon=True, framealpha=0.9)
    return ax
