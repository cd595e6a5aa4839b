"""Page layout of the report body: charts drawn at the size they are shown, and rows that
put two charts, or a chart and its table, side by side (one column on a phone).

A chart shown half the text width is drawn at half width (:func:`half_ax`), so its
labels keep their size in the PDF instead of being scaled down; every chart is embedded
as a ``data:`` PNG inside an HTML fragment (the Content-Security-Policy allows ``data:``
images only), and scales to the width of its box on a screen.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from markupsafe import Markup

from .. import formatting, plots
from ..i18n import N_, tr
from . import fragments
from .fragments import localize_axes, render_fragment

if TYPE_CHECKING:
    from ..context import ReportContext

#: inches: the A4 text width (178 mm) and half of it less the gap between two columns
FULL_WIDTH = 7.0
HALF_WIDTH = 3.45


def full_ax(height: float = 2.6):
    """Axes for a chart across the text width, ``height`` inches tall."""
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(FULL_WIDTH, height), layout="constrained")
    return ax


def half_ax(height: float = 2.9):
    """Axes for a chart half the text width, ``height`` inches tall."""
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(HALF_WIDTH, height), layout="constrained")
    return ax


def rows_height(n: int, per_row: float = 0.16, base: float = 1.0, low: float = 2.2,
                high: float = 4.6) -> float:
    """A bar chart's height in inches for ``n`` rows (reps, stages): tall enough for one
    label a row, no taller."""
    return max(low, min(high, base + per_row * n))


def wrap_titles(ax) -> None:
    """Break a chart's title and x-axis label into lines where they are wider than the room
    they have: a title starts at the axes' left edge, so long y tick labels (rep names)
    take their width from it; a half-width chart has room for about 32 characters of a
    10 pt title when its labels are short."""
    import textwrap

    width = ax.figure.get_figwidth()
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    size = ax.yaxis.get_ticklabels()[0].get_fontsize() if ticks else 9
    labels = max((len(t) for t in ticks), default=0) * size * 0.55 / 72
    room = max(1.2, width - 0.5 - labels)  # inches right of the tick labels
    for title in (ax.title, getattr(ax, "_left_title", None), getattr(ax, "_right_title", None)):
        text = title.get_text() if title is not None else ""
        if not text or "\n" in text:
            continue
        # a bold character is about 0.65 em wide
        chars = int(room * 72 / (title.get_fontsize() * 0.65))
        if len(text) > chars:
            title.set_text(textwrap.fill(text, chars))
    leg = ax.get_legend()
    if leg is not None and getattr(leg, "crm_above", False):
        # a legend above the plot on the right: on a narrow chart the title would run into
        # it, so the title goes above the legend's row instead of beside it
        for loc, title in (("left", getattr(ax, "_left_title", None)), ("center", ax.title)):
            if title is not None and title.get_text() and room < width - 0.5:
                ax.set_title(title.get_text(), loc=loc, pad=16)
    xlabel = ax.xaxis.label
    text = xlabel.get_text()
    chars = int(room * 72 / (xlabel.get_fontsize() * 0.55))
    if text and "\n" not in text and len(text) > chars:
        xlabel.set_text(textwrap.fill(text, chars))


def chart(ax, ctx: ReportContext | None = None, alt: str = N_("chart")) -> str:
    """A chart as an HTML figure (PNG data URI), its text in the report's language and
    its title broken into lines to fit the figure."""
    localize_axes(ax, ctx.language if ctx is not None else None)
    wrap_titles(ax)
    src = "data:image/png;base64," + base64.b64encode(plots.figure_png(ax)).decode()
    language = ctx.language if ctx is not None else formatting.active().language
    return render_fragment("chart.html.j2", "en", src=src, alt=tr(alt, language))


def row(*items: str | None) -> str:
    """Fragments side by side. One item alone takes the whole width; of two slots with
    the second left empty (None), the item keeps its half (a chart drawn at half width);
    with the first left empty, the second takes the whole width."""
    parts = [i for i in items if i]
    if not parts:
        return ""
    if len(items) == 1 or (len(items) == 2 and items[0] is None):
        return parts[0]
    if len(parts) == 1:
        parts.append(Markup("&nbsp;"))
    # the items are fragments rendered (and escaped) by render_fragment already
    return render_fragment("row.html.j2", "en", items=[Markup(p) for p in parts],
                           n=len(parts))


def show_row(*items: str | None) -> None:
    """Display :func:`row` of ``items`` (fragments already rendered and escaped)."""
    html = row(*items)
    if html:
        fragments.show_fragment(html)


def show(*items: str | None) -> None:
    """Display fragments one under the other."""
    for item in items:
        if item:
            fragments.show_fragment(item)
