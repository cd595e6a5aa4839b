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
from matplotlib.ticker import (
    Formatter,
    FuncFormatter,
    Locator,
    LogLocator,
    MaxNLocator,
    NullFormatter,
)
from matplotlib.transforms import Bbox

from . import formatting as fmt
from .crm_terms import crm_term
from .i18n import N_, tr

# CRM names are drawn as plain text in every chart, themed or not: a rep called "$\\foo$"
# is not TeX (mathtext would fail the whole report on it).
matplotlib.rcParams["text.parse_math"] = False

#: status colours, the same in every chart: a rating (good / watch / bad), a deal's state
#: (won / lost / open, stale) and the limits a figure is held against (capacity, quota)
STATUS = {
    "good": "#2e7d32",
    "watch": "#f9a825",
    "bad": "#c62828",
    "won": "#2e7d32",
    "lost": "#c62828",
    "open": "#1f3a5f",
    "stale": "#f9a825",
    "unknown": "#9aa5b1",
    "limit": "#c2185b",
}
#: deal-size bands, light to dark as the deals grow, the same in the histogram and the mix
BANDS = {"small": "#b3cde3", "medium": "#5b8db8", "large": "#1f3a5f"}
_BAND_WORDS = (N_("small"), N_("medium"), N_("large"))  # drawn as the legend, by _t
#: the factors of sales velocity (velocity_effects): no status colour, so that a factor is
#: not read as good or bad
FACTORS = {"open deals": "#5b8db8", "win rate": "#e07a1f", "average won deal": "#7b5ea7",
           "cycle days": "#9aa5b1"}
#: waterfalls: totals, and each step as an increase or a decrease
DIRECTION = {"total": "#1f3a5f", "increase": STATUS["good"], "decrease": STATUS["bad"]}
_DIRECTION_WORDS = (N_("total"), N_("increase"), N_("decrease"))  # the waterfalls' legend
PALETTE = {
    "primary": "#1f3a5f",
    "accent": "#e07a1f",
    "muted": "#9aa5b1",
    **{k: STATUS[k] for k in ("good", "watch", "bad", "won", "lost")},
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
    """Compact amount without a currency: 1.2K, 3.4M (in the active language); charts
    label amounts with :func:`money_formatter`, which adds the currency."""
    return fmt.compact(x)


# ----------------------------------------------------------------------------- text & ticks
def _t(text: str) -> str:
    """A chart string in the active language (the report's)."""
    return tr(text, fmt.active().language)


class _Ticks(Formatter):
    """Tick labels by one of :mod:`reporting.formatting`'s functions, in the language
    (and currency) active when the chart was drawn."""

    def __init__(self, kind: str, currency: str | None = None, digits: int | None = None):
        self.kind, self.digits = kind, digits
        self.language = fmt.active().language
        self.currency = fmt.active().currency if currency is None else currency
        self._auto = 0

    def set_locs(self, locs):
        super().set_locs(locs)
        if self.digits is None and self.kind == "number":  # as many decimals as the steps
            finite = [v for v in locs if np.isfinite(v)]
            self._auto = next((d for d in range(4) if all(
                abs(round(v, d) - v) < 1e-9 for v in finite)), 3)

    def __call__(self, x, pos=None):
        if self.kind == "money":
            return fmt.money(x, self.currency, self.language)
        if self.kind == "percent":
            return fmt.percent(x, self.digits or 0, self.language)
        if self.kind == "count":
            return fmt.count(x, self.language)
        digits = self._auto if self.digits is None else self.digits
        return fmt.number(x, digits, self.language)


def money_formatter(currency: str | None = None) -> Formatter:
    """Amount ticks with the currency: $200K; ۲۰۰ هزار دلار (the active currency when
    ``currency`` is None)."""
    return _Ticks("money", currency)


def _money_axis(axis, currency: str | None = None, nbins: int = 6) -> None:
    axis.set_major_locator(MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10]))
    axis.set_major_formatter(money_formatter(currency))


def _percent_axis(axis, digits: int = 0) -> None:
    axis.set_major_formatter(_Ticks("percent", digits=digits))


def _ticks_for(axis, per_inch: float = 1.5, most: int = 9) -> int:
    """How many ticks an axis has room for: about ``per_inch`` ticks per inch of its
    figure's width (a half-width chart gets 5, not the 9 that crowd its labels)."""
    width = axis.axes.figure.get_figwidth()
    return max(3, min(most, int(width * per_inch)))


def _count_axis(axis) -> None:
    """A count axis: whole numbers only, as many ticks as the chart's width has room for."""
    nbins = _ticks_for(axis) if axis.axis_name == "x" else "auto"
    axis.set_major_locator(MaxNLocator(nbins=nbins, integer=True))
    axis.set_major_formatter(_Ticks("count"))


def _number_axis(axis) -> None:
    axis.set_major_formatter(_Ticks("number"))


def _log_money_axis(axis, lo: float, hi: float, currency: str | None = None) -> None:
    """A log amount axis labelled in plain amounts ($1K, $10K, never 10^3): majors at
    1 (and 2, 5, or 3) times the powers of ten as the range allows, minors unlabelled."""
    decades = np.log10(max(hi, lo * 1.0001) / lo) if lo > 0 else 3
    subs = (1.0,) if decades > 3 else (1.0, 3.0) if decades > 1.5 else (1.0, 2.0, 5.0)
    axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_major_formatter(money_formatter(currency))
    axis.set_minor_locator(LogLocator(base=10, subs=np.arange(2, 10)))
    axis.set_minor_formatter(NullFormatter())


def _texts(labels) -> list[str]:
    """Our own category labels, translated (data labels are never passed here)."""
    return [_t(str(x)) for x in labels]


def _legend_outside(ax, where: str = "below", ncols: int = 4, **kw):
    """A legend outside the plot area: below it, or above it on the right (beside a
    title on the left), never over data."""
    if where == "above":
        leg = ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False,
                        borderaxespad=0.2, ncols=ncols, **kw)
        leg.crm_above = True  # presentation.layout lifts the title over it
        return leg
    return ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), frameon=False,
                     ncols=ncols, **kw)


def _ax(ax):
    if ax is None:
        _, ax = plt.subplots(figsize=FIGSIZE, layout="constrained")
    return ax


def _short(names: pd.Series, n: int = 18) -> list[str]:
    return [s if len(s) <= n else s[: n - 1] + "…" for s in names.astype(str)]


def win_rate_by_rep(wr: pd.DataFrame, baseline=None, limit: int = 25, ax=None):
    """Win rate per rep with its 95% interval; dashed lines at the good / bad baselines.
    At most ``limit`` reps: those with the most closed deals. A dot at 0% or 100% is drawn
    whole (the axis has a margin)."""
    ax = _ax(ax)
    d = wr[wr["closed"] > 0].nlargest(limit, "closed").sort_values("win_rate", ascending=True)
    y = np.arange(len(d))
    ax.hlines(y, d["ci_low"], d["ci_high"], color=PALETTE["muted"], lw=2.5, alpha=0.7,
              clip_on=False)
    ax.scatter(d["win_rate"], y, color=STATUS["open"], zorder=3, s=22, clip_on=False)
    ax.set_yticks(y, _short(d["group"]))
    if baseline is not None:
        ax.axvline(baseline.good, color=STATUS["good"], ls="--", lw=1, label=_t("good"),
                   gid="status:good")
        ax.axvline(baseline.bad, color=STATUS["bad"], ls="--", lw=1, label=_t("bad"),
                   gid="status:bad")
        _legend_outside(ax, "above", ncols=2)
    ax.set_xlim(-0.04, 1.04)
    ax.set_xticks(np.linspace(0, 1, 6))
    _percent_axis(ax.xaxis)
    ax.set_xlabel(_t("win rate (won / closed), bar = 95% interval"))
    ax.set_title(_t("Win rate by rep, deals closed in the period"), loc="left")
    return ax


def _notable(x: pd.Series, y: pd.Series, names: list[str], highlight, most: int) -> list[int]:
    """Which points of a scatter to name, most notable first: the ones asked for, then the
    extremes of each axis, then the farthest from the medians (in units of spread)."""
    n = len(names)
    order: list[int] = [i for i, nm in enumerate(names) if highlight and nm in highlight]
    xs, ys = x.to_numpy(dtype=float), y.to_numpy(dtype=float)
    for arr in (ys, xs):
        order += [int(np.argmax(arr)), int(np.argmin(arr))]
    sx = np.nanstd(xs) or 1.0
    sy = np.nanstd(ys) or 1.0
    dist = ((xs - np.nanmedian(xs)) / sx) ** 2 + ((ys - np.nanmedian(ys)) / sy) ** 2
    order += [int(i) for i in np.argsort(-dist)]
    seen: list[int] = []
    for i in order:
        if i not in seen and i < n:
            seen.append(i)
    forced = sum(1 for nm in names if highlight and nm in highlight)
    return seen[:max(most, forced)]


#: where a label may sit around its point (offset in points, alignment), tried in order
_LABEL_SPOTS = ((4, 3, "left", "bottom"), (4, -3, "left", "top"), (-4, 3, "right", "bottom"),
                (-4, -3, "right", "top"), (0, 6, "center", "bottom"), (0, -6, "center", "top"),
                (8, 0, "left", "center"), (-8, 0, "right", "center"))


def _laid_out(fig):
    """Lay ``fig`` out (its layout engine runs) without painting a pixel, and return the
    canvas's renderer, for the text sizes and positions a draw would give: what
    ``fig.canvas.draw()`` gave these helpers, without rasterising the whole chart a
    second time (:func:`figure_png` paints it once, at its own dpi)."""
    fig.draw_without_rendering()
    return fig.canvas.get_renderer()


def place_labels(ax, xs, ys, labels, points=None, fontsize: float = 6.5,
                 marker_pt: float = 3.5) -> list:
    """Name points without any two names overlapping, a name covering a point (of
    ``points``, an (n, 2) array of every point drawn; default the named ones) or leaving
    the plot: each label, in order, takes the first free spot around its point, or is left
    out when none is free (greedy; the order says which names matter most). Draws the
    figure once to know the layout. Returns the annotations placed."""
    fig = ax.figure
    renderer = _laid_out(fig)
    frame = ax.get_window_extent(renderer)
    r = marker_pt * fig.dpi / 72
    taken = []
    pts = np.column_stack([xs, ys]) if points is None else np.asarray(points, dtype=float)
    for px, py in ax.transData.transform(pts):
        taken.append(Bbox([[px - r, py - r], [px + r, py + r]]))
    placed = []
    for xi, yi, text in zip(xs, ys, labels, strict=True):
        for dx, dy, ha, va in _LABEL_SPOTS:
            ann = ax.annotate(text, (xi, yi), xytext=(dx, dy), textcoords="offset points",
                              ha=ha, va=va, fontsize=fontsize, annotation_clip=False)
            ann.set_in_layout(False)
            box = ann.get_window_extent(renderer).padded(1)
            inside = (box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0
                      and box.y1 <= frame.y1)
            if inside and not any(box.overlaps(t) for t in taken):
                taken.append(box)
                placed.append(ann)
                break
            ann.remove()
    return placed


def bar_labels(ax, xs, tops, labels, fontsize: float = 6.5, gap_pt: float = 2.0) -> list:
    """Value labels above bars, each raised a line above its left neighbour's when the two
    would overlap (long Persian amounts on narrow bars), and the y axis extended to hold
    them. Draws the figure once to know the text sizes."""
    fig = ax.figure
    anns = [ax.annotate(text, (x, top), xytext=(0, gap_pt), textcoords="offset points",
                        ha="center", va="bottom", fontsize=fontsize, annotation_clip=False)
            for x, top, text in zip(xs, tops, labels, strict=True)]
    for a in anns:
        a.set_in_layout(False)
    renderer = _laid_out(fig)
    placed = []
    for a in anns:
        box = a.get_window_extent(renderer)
        lift = 0.0
        while any(box.padded(6).overlaps(b) for b in placed) and lift < 10 * box.height:
            step = box.height + 1
            lift += step
            box = Bbox([[box.x0, box.y0 + step], [box.x1, box.y1 + step]])
        if lift:
            a.xyann = (0, gap_pt + lift * 72 / fig.dpi)
        placed.append(box)
    top = max((b.y1 for b in placed), default=0)
    frame = ax.get_window_extent(renderer)
    if placed and top > frame.y1:  # room above the highest label
        y0, y1 = ax.get_ylim()
        ax.set_ylim(y0, y0 + (y1 - y0) * (top - frame.y0) / (frame.y1 - frame.y0) * 1.02)
    return anns


def cycle_quadrant(summary: pd.DataFrame, limit: int = 40, ax=None,
                   highlight: list[str] | None = None, labels: int = 8):
    """Deals closed against median won cycle per rep, split at the medians. At most
    ``limit`` reps (most deals closed). Only the notable reps are named (``highlight``,
    e.g. the ones the findings are about, then the extremes and the farthest from the
    medians, at most ``labels``), and no two names overlap."""
    ax = _ax(ax)
    d = summary.dropna(subset=["median_cycle_days_won"])
    d = d[d["won"] + d["lost"] > 0]
    d = d.loc[(d["won"] + d["lost"]).nlargest(limit).index]
    x = d["won"] + d["lost"]
    yv = d["median_cycle_days_won"]
    ax.scatter(x, yv, color=STATUS["open"], s=28, zorder=3, clip_on=False)
    ax.set_xlabel(_t("deals closed in the period (won + lost)"))
    ax.set_ylabel(_t("median cycle of won deals (days)"))
    ax.set_title(_t("Deals closed vs cycle length per rep (lines: team medians)"), loc="left")
    _count_axis(ax.xaxis)
    _count_axis(ax.yaxis)
    if len(d):
        ax.axvline(x.median(), color=PALETTE["muted"], ls="--", lw=1)
        ax.axhline(yv.median(), color=PALETTE["muted"], ls="--", lw=1)
        ax.margins(x=0.08, y=0.1)
        names = _short(d["group"], 16)
        pick = _notable(x, yv, list(d["group"].astype(str)), highlight, labels)
        place_labels(ax, x.iloc[pick].to_numpy(), yv.iloc[pick].to_numpy(),
                     [names[i] for i in pick], points=np.column_stack([x, yv]))
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


def _band_of(value: float, edges: list[float] | None) -> str | None:
    """The band of an amount for band edges [small/medium, medium/large] (as the metrics
    cut them: below the first edge small, from the last edge large)."""
    if not edges:
        return None
    if value < edges[0]:
        return "small"
    return "large" if value >= edges[-1] else "medium"


def deal_size_histogram(amounts: pd.Series, edges: list[float] | None = None, ax=None):
    """Every won deal: positive amounts on a log axis labelled in plain amounts, each bar
    in the colour of its deal-size band (:data:`BANDS`) with the band edges as dashed
    lines; zero-amount wins (which a log axis cannot place) in a bar of their own at the
    left, labelled 0. Missing amounts are not deals with a size and are left out."""
    ax = _ax(ax)
    a = amounts.dropna()
    pos, zero = a[a > 0], int((a == 0).sum())
    if len(pos) or zero:
        bins = histogram_bins(pos) if len(pos) else np.array([1.0, 10.0])
        _, _, patches = ax.hist(pos, bins=bins, color=STATUS["open"], alpha=0.9)
        for patch, lo, hi in zip(patches, bins[:-1], bins[1:], strict=True):
            band = _band_of(float(np.sqrt(lo * hi)), edges)
            if band:
                patch.set_facecolor(BANDS[band])
                patch.set_gid(f"band:{band}")
        ax.set_xscale("log")
        for e in edges or []:
            ax.axvline(e, color=STATUS["limit"], ls="--", lw=0.9)
        left = bins[0]
        if zero:
            step = bins[1] / bins[0]
            left = bins[0] / step ** 4
            ax.bar(left, zero, width=left * (step - 1), align="edge", color=PALETTE["muted"])
            ax.annotate(fmt.money(0), (left * step ** 0.5, 0),
                        xycoords=("data", "axes fraction"), xytext=(0, -2),
                        textcoords="offset points", ha="center", va="top", fontsize=7.5,
                        fontweight="bold", color=PALETTE["muted"])
            ax.set_xlim(left / step, None)
        _log_money_axis(ax.xaxis, float(left), float(bins[-1]))
        if edges:
            from matplotlib.patches import Patch

            _legend_outside(ax, "below", ncols=3, handles=[
                Patch(color=BANDS[b], label=_t(b)) for b in BANDS])
    _count_axis(ax.yaxis)
    ax.set_xlabel(_t("won deal amount (log scale)"))
    ax.set_ylabel(_t("deals"))
    ax.set_title(_t("Won deal sizes"))  # centred: value.py appends the profile
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
    ax.barh(y, fresh, color=STATUS["open"], label=_t("active"), gid="status:open")
    ax.barh(y, d[stale], left=fresh, color=STATUS["stale"], label=_t("stale"),
            gid="status:stale")
    if unk.sum():
        ax.barh(y, unk, left=fresh + d[stale], color=STATUS["unknown"],
                label=_t("stale state unknown"), gid="status:unknown")
    if d["capacity"].notna().any():
        ax.scatter(d["capacity"], y, marker="|", s=120, color=STATUS["limit"],
                   label=_t("capacity"), zorder=3, clip_on=False, gid="status:limit")
    ax.set_yticks(y, _short(d["group"]))
    _count_axis(ax.xaxis)
    ax.set_xlabel(_t("open opportunities at period end"))
    ax.set_title(_t("Open pipeline per rep against capacity"), loc="left")
    _legend_outside(ax, "below")
    return ax


def value_by_rep(av: pd.DataFrame, by: str, title: str, ax=None):
    """Average revenue to date of the accounts per rep (``acquired_by`` or
    ``account_manager``)."""
    ax = _ax(ax)
    d = av.dropna(subset=[by]).groupby(by)["total"].agg(["mean", "count"])
    d = d[d["count"] >= 1].sort_values("mean")
    y = np.arange(len(d))
    ax.barh(y, d["mean"], color=STATUS["open"])
    ax.set_yticks(y, _short(pd.Series(d.index)))
    _money_axis(ax.xaxis)
    ax.set_xlabel(_t("average revenue to date per account"))
    ax.set_title(_t(title))
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
    ax.barh(y, d["reached"], color=STATUS["open"])
    top = d["reached"].max() if len(d) else 1
    narrow = ax.figure.get_figwidth() < 5
    for yi, (_, r) in zip(y, d.iterrows(), strict=True):
        label = fmt.count(r["reached"])
        if pd.notna(r["conversion_to_next"]):
            label = _t("{n}  ({rate} move on, {lost} lost here)").format(
                n=label, rate=fmt.percent(r["conversion_to_next"]),
                lost=fmt.count(r["lost_here"]))
        if narrow:  # a half-width chart: the label in two short lines beside its bar
            import textwrap

            label = textwrap.fill(label, 20)
        ax.text(r["reached"] + top * 0.01, yi, label, va="center", fontsize=7,
                linespacing=1.0)
    ax.set_yticks(y, _short(d["stage"].map(crm_term), 22))
    # room right of the bars for their labels: more on a narrow (half-width) chart
    ax.set_xlim(0, top * (2.2 if narrow else 1.6))
    _count_axis(ax.xaxis)
    ax.set_xlabel(_t("deals closed in the period that reached the stage"))
    ax.set_title(_t("Stage-to-stage funnel of deals closed in the period"), loc="left")
    return ax


class MonthLocator(Locator):
    """Ticks at the first days of months, Gregorian or Jalali (the report's calendar), at
    most ``max_ticks`` of them (every n-th month)."""

    def __init__(self, calendar: str = "gregorian", max_ticks: int = 7):
        self.calendar, self.max_ticks = calendar, max_ticks

    def __call__(self):
        import matplotlib.dates as mdates

        lo, hi = self.axis.get_view_interval()
        if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
            return []
        starts = fmt.month_starts(mdates.num2date(lo).date(), mdates.num2date(hi).date(),
                                  self.calendar)
        step = max(1, int(np.ceil(len(starts) / self.max_ticks)))
        return [mdates.date2num(d) for d in starts[::step]]

    def tick_values(self, vmin, vmax):  # pragma: no cover - the axis calls __call__
        return self()


def month_axis(axis, calendar: str | None = None, max_ticks: int = 7) -> None:
    """A time axis of months named in the report's language and calendar: 'Jan 2026';
    'ژانویه ۲۰۲۶'; Jalali months 'دی ۱۴۰۴' (ticks at the Jalali month starts)."""
    import matplotlib.dates as mdates

    cal = calendar or fmt.active().calendar
    lang = fmt.active().language
    if lang != "fa":
        cal = "gregorian"  # the Jalali calendar is an option of Persian reports
    axis.set_major_locator(MonthLocator(cal, min(max_ticks, _ticks_for(axis, per_inch=1.3))))
    axis.set_major_formatter(FuncFormatter(
        lambda v, _p=None: fmt.month_label(mdates.num2date(v).date(), lang, cal)))


def _date_nums(values: pd.Series) -> np.ndarray:
    import matplotlib.dates as mdates

    t = pd.to_datetime(values)
    if getattr(t.dt, "tz", None) is not None:
        t = t.dt.tz_localize(None)
    return mdates.date2num(t.to_numpy())


def win_rate_trend(trend: pd.DataFrame, threshold=None, ax=None):
    """Monthly win rate with its 95% interval and the good / bad baseline band; the
    months in the report's language and calendar."""
    ax = _ax(ax)
    d = trend.dropna(subset=["win_rate"])
    if threshold is not None:
        lo, hi = sorted([threshold.bad, threshold.good])
        ax.axhspan(0, lo, color=STATUS["bad"], alpha=0.07, lw=0, gid="status:bad")
        ax.axhspan(lo, hi, color=STATUS["watch"], alpha=0.10, lw=0, gid="status:watch")
        ax.axhspan(hi, 1, color=STATUS["good"], alpha=0.07, lw=0, gid="status:good")
    x = _date_nums(d["month"])
    ax.fill_between(x, d["ci_low"], d["ci_high"], color=PALETTE["muted"], alpha=0.35,
                    lw=0, label=_t("95% interval"))
    ax.plot(x, d["win_rate"], marker="o", color=STATUS["open"], label=_t("win rate"),
            clip_on=False)
    _percent_axis(ax.yaxis)
    top = float(np.nanmax(d["ci_high"])) if len(d) else 1.0
    top = min(1.0, max(top * 1.15, (threshold.good if threshold else 0) * 1.3))
    ax.set_ylim(-0.02 * top, top)
    if len(x):
        pad = 12.0  # days
        ax.set_xlim(x.min() - pad, x.max() + pad)
    month_axis(ax.xaxis)
    ax.set_ylabel(_t("win rate (won / closed)"))
    ax.set_xlabel(_t("month closed"))
    ax.set_title(_t("Win rate by month against the baseline (green good, red bad)"),
                 loc="left")
    _legend_outside(ax, "below", ncols=2)
    return ax


def band_mix(mix: pd.DataFrame, reps: list[str] | None = None, ax=None,
             target: dict[str, float] | None = None):
    """Each rep's share of small / medium / large won deals, with the team mix and the
    target mix as the first two bars; every bar sums to 100%: a band nobody won in has no
    row in ``mix`` but is still a band of the target (``target``, the profile's
    ``deal_mix_target``; without it, a single band missing from the mix takes the rest of
    the target)."""
    ax = _ax(ax)
    order = list(BANDS)
    m = mix if reps is None else mix[mix["group"].isin(reps)]
    wide = m.pivot_table(index="group", columns="band", values="share", fill_value=0.0)
    team = m.groupby("band")["team_share"].first()
    target = (pd.Series(target, dtype=float) if target else
              m.groupby("band")["target_share"].first())
    missing = [b for b in order if b not in target.index]
    if len(target) and target.notna().all() and len(missing) == 1 and target.sum() < 1:
        target[missing[0]] = 1.0 - float(target.sum())
    bands = [b for b in order if b in wide.columns or b in target.dropna().index]
    wide = wide.reindex(columns=bands, fill_value=0.0)
    rows = {_t("team mix"): team.reindex(bands).fillna(0.0)}
    if len(target) and target.notna().all():
        rows[_t("target mix")] = target.reindex(bands).fillna(0.0)
    wide = pd.concat([pd.DataFrame(rows).T, wide.sort_values(wide.columns[0])])
    y = np.arange(len(wide))[::-1]
    left = np.zeros(len(wide))
    for band in wide.columns:
        ax.barh(y, wide[band], left=left, color=BANDS.get(band), label=_t(band),
                gid=f"band:{band}")
        left += wide[band].to_numpy()
    ax.set_yticks(y, _short(pd.Series(wide.index)))
    ax.set_xlim(0, 1)
    _percent_axis(ax.xaxis)
    ax.set_xlabel(_t("share of won deals in the period"))
    # centred: value.py appends the profile to the title
    ax.set_title(_t("Deal-size mix per rep against the team and target mix"))
    _legend_outside(ax, "below", ncols=3)
    return ax


def aging_heatmap(aging: pd.DataFrame, ax=None):
    """Open deals at period end by stage and age bucket."""
    ax = _ax(ax)
    if aging.empty:
        ax.set_title(_t("No open deals"))
        return ax
    aging = aging.rename(index=crm_term)  # the CRM's standard stages in the language
    cells = aging.apply(lambda col: col.map(fmt.count))
    sns.heatmap(aging, annot=cells.to_numpy(), fmt="", cmap="Blues", cbar=False, ax=ax,
                annot_kws={"fontsize": 7})
    ax.set_xticks(ax.get_xticks(), [fmt.native_digits(str(c)) for c in aging.columns])
    # stage names across (seaborn turns them upright, where they overlapped), the six age
    # buckets as small as the counts, so that they stay apart at half width ('>365' stays
    # a sign: a Persian phrase there overlapped its neighbour)
    ax.tick_params(axis="y", labelrotation=0)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_xlabel(_t("age of the open deal (days since created)"))
    if list(aging.index) == ["all open deals"]:  # no stage history: by age only
        ax.figure.set_size_inches(FIGSIZE[0], 1.5)
        ax.set_yticks(ax.get_yticks(), [_t("all open deals")])
        ax.set_ylabel("")
        ax.set_title(_t("Open deals by age (no stage history: stage at period end unknown)"))
    else:
        ax.set_ylabel(_t("stage at period end"))
        ax.set_title(_t("Open deals by stage and age"))
    return ax


def person_bars(frame: pd.DataFrame, column: str, title: str, xlabel: str,
                percent: bool = False, limit: int = 15, ax=None):
    """One bar per person (acquiring rep or account manager), largest first."""
    ax = _ax(ax)
    d = frame.dropna(subset=[column]).sort_values(column, ascending=False).head(limit)
    d = d.iloc[::-1]
    y = np.arange(len(d))
    ax.barh(y, d[column], color=STATUS["open"])
    ax.set_yticks(y, _short(d["person"]))
    if percent:
        _percent_axis(ax.xaxis)
    else:
        _money_axis(ax.xaxis)
    ax.set_xlabel(_t(xlabel))
    ax.set_title(_t(title))
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
    _count_axis(ax.xaxis)
    ax.set_xlabel(_t("days from created to won"))
    ax.set_ylabel("")
    ax.set_title(_t("Cycle length of won deals per rep"), loc="left")
    return ax


# --------------------------------------------------------------------------- pipeline movement
#: waterfall bar labels, in the order drawn (extras only when they moved something)
_WATERFALL_LABELS = {
    "created": N_("created"), "pulled_in": N_("pulled in"), "reopened": N_("reopened"),
    "restored": N_("restored"), "transferred_in": N_("handed over in"), "amount_set": N_("amount set"),
    "increased": N_("amount up"), "decreased": N_("amount down"), "amount_cleared": N_("amount cleared"),
    "pushed_out": N_("pushed out"), "won": N_("won"), "lost": N_("lost"),
    "deleted": N_("deleted"),
    "transferred_out": N_("handed over out"),
}
_WATERFALL_ALWAYS = ("created", "pulled_in", "increased", "decreased", "pushed_out", "won",
                     "lost")


def _waterfall_legend(ax):
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=DIRECTION[k], label=_t(k)) for k in DIRECTION],
              loc="upper right", bbox_to_anchor=(1.0, -0.2), ncol=3, frameon=False)


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
    labels, bottoms, heights, kinds = [N_("start")], [0.0], [val("start")], ["total"]
    level = val("start")
    for k in steps:
        delta = SIGN[k] * val(k)
        labels.append(_WATERFALL_LABELS[k])
        bottoms.append(level if delta >= 0 else level + delta)
        heights.append(abs(delta))
        kinds.append("increase" if SIGN[k] > 0 else "decrease")
        level += delta
    labels.append(N_("end"))
    bottoms.append(0.0)
    heights.append(val("end"))
    kinds.append("total")
    x = np.arange(len(labels))
    bars = ax.bar(x, heights, bottom=bottoms, color=[DIRECTION[k] for k in kinds], width=0.7)
    for bar, k in zip(bars, kinds, strict=True):
        bar.set_gid(f"direction:{k}")
    tops = np.array(bottoms) + np.array(heights)
    for i in range(len(x) - 1):  # connectors: the running level
        lvl = tops[i] if i == 0 or kinds[i] != "decrease" else bottoms[i]
        ax.plot([x[i] + 0.35, x[i + 1] - 0.35], [lvl, lvl], color=PALETTE["muted"], lw=0.6)
    span = max(float(np.max(tops)) if len(tops) else 0.0, 1.0)
    texts = []
    for h, k in zip(heights, kinds, strict=True):
        v = -h if k == "decrease" else h
        texts.append(fmt.money(v, currency, sign=k == "increase") if by_value
                     else ("+" if k == "increase" and h else "") + fmt.count(v))
    ax.set_xticks(x, _texts(labels), rotation=30, ha="right")
    ax.set_ylim(0, span * 1.1)
    if by_value:
        _money_axis(ax.yaxis, currency)
        ax.set_ylabel(_t("pipeline value ({currency})").replace("{currency}", currency))
    else:
        _count_axis(ax.yaxis)
        ax.set_ylabel(_t("deals (amounts unknown)"))
    _waterfall_legend(ax)
    if title or r["group"] == "all":
        head = _t(title or N_("Pipeline movement"))
    else:
        head = _t("Pipeline movement, {group}").format(group=r["group"])
    if unknown:
        head += " " + _t("(creation and close dates only)")
    ax.set_title(head, loc="left")
    bar_labels(ax, x, tops, texts, fontsize=6)
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
    ax.barh(y, d["pushes_per_deal"], color=STATUS["open"])
    top = float(d["pushes_per_deal"].max()) if len(d) else 1.0
    for yi, (_, r) in zip(y, d.iterrows(), strict=True):
        ax.text(r["pushes_per_deal"] + top * 0.01, yi,
                _t("{pushes} pushes, {deals} deals, {share} pushed 2+").format(
                    pushes=fmt.count(r["pushes"]), deals=fmt.count(r["deals"]),
                    share=fmt.percent(r["share_pushed_twice"])),
                va="center", fontsize=6.5)
    if pd.notna(med):
        ax.axvline(med, color=PALETTE["accent"], ls="--", lw=1,
                   label=_t("median rep {value}").replace("{value}", fmt.number(med, 2)))
        _legend_outside(ax, "above", ncols=1)
    ax.set_yticks(y, _short(d["group"]))
    ax.set_xlim(0, max(top, 1e-9) * 1.75)
    _number_axis(ax.xaxis)
    ax.set_xlabel(_t("close-date pushes per open deal in the period"))
    ax.set_title(_t("Close-date slippage by rep"), loc="left")
    return ax


_EFFECTS = (("open_deals_effect", N_("open deals")), ("win_rate_effect", N_("win rate")),
            ("avg_won_effect", N_("average won deal")), ("cycle_effect", N_("cycle days")))


def velocity_effects(frame: pd.DataFrame, currency: str | None = None, limit: int = 10,
                     ax=None):
    """What moved sales velocity (``metrics.velocity.velocity_change``). One row: a waterfall
    from the previous period's velocity through the four factor effects to this period's.
    Several rows: per group (the largest changes, decomposable rows only) the four effects
    as bars and the total change as a diamond."""
    ax = _ax(ax)
    cur = currency or ""
    d = frame.dropna(subset=["open_deals_effect"])
    if len(frame) == 1 and len(d) == 1:
        r = d.iloc[0]
        labels = [N_("previous")] + [lab for _, lab in _EFFECTS] + [N_("now")]
        level = float(r["velocity_prev"])
        bottoms, heights, kinds = [0.0], [level], ["total"]
        for key, _ in _EFFECTS:
            e = float(r[key])
            bottoms.append(level if e >= 0 else level + e)
            heights.append(abs(e))
            kinds.append("increase" if e >= 0 else "decrease")
            level += e
        bottoms.append(0.0)
        heights.append(float(r["velocity"]))
        kinds.append("total")
        x = np.arange(len(labels))
        bars = ax.bar(x, heights, bottom=bottoms, color=[DIRECTION[k] for k in kinds],
                      width=0.6)
        for bar, k in zip(bars, kinds, strict=True):
            bar.set_gid(f"direction:{k}")
        tops = np.array(bottoms) + np.array(heights)
        span = max(np.max(tops), 1.0)
        ax.set_xticks(x, _texts(labels))
        ax.set_ylim(0, span * 1.08)
        _money_axis(ax.yaxis, cur)
        ax.set_ylabel(_t("sales velocity ({currency} a day)").format(currency=currency)
                      if currency else _t("sales velocity (revenue a day)"))
        ax.set_title(_t("What moved sales velocity") if r["group"] == "all"
                     else _t("What moved sales velocity, {group}").format(group=r["group"]),
                     loc="left")
        bar_labels(ax, x, tops, [fmt.money(-h if k == "decrease" else h, cur,
                                           sign=k == "increase")
                                 for h, k in zip(heights, kinds, strict=True)], fontsize=7)
        return ax
    d = d.reindex(d["change"].abs().sort_values(ascending=False).index).head(limit).iloc[::-1]
    y = np.arange(len(d))
    h = 0.8 / len(_EFFECTS)
    for i, (key, lab) in enumerate(_EFFECTS):
        ax.barh(y + 0.4 - h * (i + 0.5), d[key], height=h, color=FACTORS[lab], label=_t(lab),
                gid=f"factor:{lab}")
    ax.scatter(d["change"], y, marker="D", color="black", s=18, zorder=3, label=_t("change"),
               clip_on=False)
    ax.axvline(0, color="#555", lw=0.6)
    ax.set_yticks(y, _short(d["group"]))
    _money_axis(ax.xaxis, cur)
    ax.set_xlabel(_t("effect on sales velocity ({currency} a day), previous period to this "
                     "one").format(currency=cur) if cur else
                  _t("effect on sales velocity (revenue a day), previous period to this one"))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=5, frameon=False)
    ax.set_title(_t("What moved sales velocity"), loc="left")
    return ax


def forecast_by_rep(groups: pd.DataFrame, currency: str, limit: int = 15, ax=None):
    """The next period's expected bookings per rep (the model's expected value of the deals
    open now plus the new deals expected to be created and won), its 80% range as a line,
    the simple rule (open value x trailing win rate) as a hollow mark and the quota as a
    dark tick where one is set. Largest expected value first, at most ``limit`` reps."""
    ax = _ax(ax)
    g = groups.copy()
    g["total"] = g["expected_won_amount"].fillna(0) + g["expected_new_won_amount"].fillna(0)
    g = g[g["expected_won_amount"].notna()].sort_values("total", ascending=False).head(limit)
    g = g.iloc[::-1]
    if g.empty:
        ax.text(0.5, 0.5, _t("no amounts to forecast"), ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    y = np.arange(len(g))
    ax.barh(y, g["total"], color=STATUS["open"], height=0.6, label=_t("expected"))
    lo = g["low_amount"] + g["expected_new_won_amount"].fillna(0)
    hi = g["high_amount"] + g["expected_new_won_amount"].fillna(0)
    ax.hlines(y, lo, hi, color=PALETTE["accent"], lw=2, label=_t("80% range"))
    naive = g["naive_won_amount"] + g["expected_new_won_amount"].fillna(0)
    ax.scatter(naive, y, facecolors="none", edgecolors=PALETTE["muted"], s=22, zorder=3,
               label=_t("open x win rate"), clip_on=False)
    if "quota" in g and g["quota"].notna().any():
        q = g["quota"]
        ax.scatter(q, y, marker="|", s=160, color=STATUS["limit"], zorder=4,
                   label=_t("quota"), clip_on=False, gid="status:limit")
    ax.set_yticks(y, _short(g["group"]))
    _money_axis(ax.xaxis, currency)
    ax.set_xlim(left=0)
    ax.set_xlabel(_t("expected bookings ({currency})").replace("{currency}", currency))
    ax.set_title(_t("Forecast of bookings by rep"), loc="left")
    _legend_outside(ax, "below")
    return ax
