"""Charts of the trend report (a monthly series) and the company roll-up.

Like :mod:`reporting.plots` (whose theme, palette and amount format they use) these never
choose a matplotlib backend and draw CRM text as plain text. Amount axes carry the
currency as the tables write it ("$1.2M"), rates are percentages, counts use integer ticks; month labels and
digits are in the report's language (``tr`` / ``localize_numbers``).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, MaxNLocator

from . import formatting as fmt
from . import plots
from .i18n import FA_GREGORIAN_MONTHS, N_, format_date, jalali, localize_numbers, tr

_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
              "Dec")


def month_label(start: pd.Timestamp, language: str = "en", calendar: str = "gregorian") -> str:
    """A short month tick: ``Nov 26``; in Persian the month's name and the year's digits;
    in the Jalali calendar the day the (Gregorian) month starts, as the table's rows say
    it, the year below ('۱۰ آبان' over '۱۴۰۵' for November 2026: a Gregorian month is no
    Jalali month)."""
    if language == "fa" and calendar == "jalali":  # the year on a second line: '۱۰ آبان\n۱۴۰۵'
        return format_date(start.date(), "fa", "jalali").rsplit(" ", 1)[0] + "\n" + \
            localize_numbers(str(jalali(start.date())[0]), "fa")
    if language == "fa":
        return localize_numbers(f"{FA_GREGORIAN_MONTHS[start.month - 1]} {start.year % 100:02d}",
                                "fa")
    return f"{_EN_MONTHS[start.month - 1]} {start.year % 100:02d}"


def currency_formatter(currency: str, language: str = "en") -> FuncFormatter:
    """Axis ticks as the tables write amounts (:func:`reporting.formatting.money`):
    ``$1.2M``; ``۱٫۲ میلیون دلار``."""
    return FuncFormatter(lambda v, _p=None: fmt.money(v, currency, language))


def _percent(language: str) -> FuncFormatter:
    return FuncFormatter(lambda v, _p=None: fmt.percent(v, 0, language))


def _plain(language: str, digits: int = 0) -> FuncFormatter:
    return FuncFormatter(lambda v, _p=None: fmt.number(v, digits, language))


#: the panels of :func:`trend_panels`: column, title, unit (money, count, pct, days)
PANELS = (
    ("won_value", N_("Bookings (won value)"), "money"),
    ("won_count", N_("Deals won"), "count"),
    ("win_rate", N_("Win rate"), "pct"),
    ("median_cycle_days_won", N_("Median cycle of won deals (days)"), "days"),
    ("avg_won_amount", N_("Average won deal"), "money"),
    ("open_value", N_("Open pipeline at month end"), "money"),
)


def trend_line(series: pd.DataFrame, column: str, title: str, unit: str,
               currency: str = "", language: str = "en", ax=None,
               calendar: str = "gregorian"):
    """One monthly line (markers on each month; a gap where the month's value is not
    computable) with its axis in ``unit``: ``money`` (currency), ``pct``, ``count``
    (integer ticks, from 0) or ``days``."""
    ax = plots._ax(ax)
    x = np.arange(len(series))
    y = pd.to_numeric(series[column], errors="coerce").to_numpy(dtype=float)
    ax.plot(x, y, marker="o", markersize=3, linewidth=1.6, color=plots.PALETTE["primary"])
    ax.set_title(tr(title, language), loc="left")
    fmt = {"money": currency_formatter(currency, language), "pct": _percent(language),
           "count": _plain(language), "days": _plain(language)}[unit]
    ax.yaxis.set_major_formatter(fmt)
    if unit == "count":
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    finite = y[np.isfinite(y)]
    if len(finite):  # rates and amounts from 0, so a small wobble does not look like a cliff
        top = float(finite.max())
        ax.set_ylim(0, top * 1.12 if top > 0 else 1)
    else:  # no month has the figure (e.g. open values without a deal history): say so
        ax.set_yticks([])
        ax.text(0.5, 0.5, tr("not computable", language), transform=ax.transAxes,
                ha="center", va="center", color=plots.PALETTE["muted"], fontsize=9)
    # a half-width chart has room for ~6 month names, ~4 Jalali days
    per = 4 if language == "fa" and calendar == "jalali" else 6
    step = max(1, int(np.ceil(len(series) / per)))
    ax.set_xticks(x[::step], [month_label(pd.Timestamp(s), language, calendar)
                              for s in series["start"].iloc[::step]])
    ax.set_xlim(-0.5, len(series) - 0.5)
    ax.set_xlabel("")
    ax.set_ylabel("")
    return ax


def trend_panels(series: pd.DataFrame, currency: str = "", language: str = "en",
                 panels=PANELS, calendar: str = "gregorian"):
    """The trend's small multiples: one :func:`trend_line` per panel, two per row, on
    one figure the width of the page."""
    rows = int(np.ceil(len(panels) / 2))
    fig, axes = plt.subplots(rows, 2, figsize=(plots.FIGSIZE[0], 2.3 * rows),
                             layout="constrained", squeeze=False)
    for ax, (col, title, unit) in zip(axes.flat, panels, strict=False):
        trend_line(series, col, title, unit, currency, language, ax=ax, calendar=calendar)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    return fig


def bookings_by_region(rows: pd.DataFrame, currency: str = "", language: str = "en",
                       ax=None):
    """Won value per region (bars) with each region's quota as a tick where it has one;
    the company total is not drawn (it would dwarf the regions)."""
    r = rows[~rows["is_total"]].iloc[::-1]
    if ax is None:
        _, ax = plt.subplots(figsize=(plots.FIGSIZE[0], 0.8 + 0.3 * len(r)),
                             layout="constrained")
    y = np.arange(len(r))
    ax.barh(y, r["won_value"].fillna(0.0), color=plots.PALETTE["primary"], height=0.6,
            label=tr("Bookings (won value)", language))
    q = pd.to_numeric(r["quota"], errors="coerce").to_numpy(dtype=float)
    has = np.isfinite(q)
    if has.any():
        ax.scatter(q[has], y[has], marker="|", s=400, linewidths=2.5,
                   color=plots.PALETTE["accent"], label=tr("Quota", language), zorder=3)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, frameon=False)
    ax.set_yticks(y, [str(v) for v in r["region"]])
    ax.xaxis.set_major_formatter(currency_formatter(currency, language))
    ax.set_title(tr("Bookings by region", language), loc="left")
    ax.set_xlabel("")
    return ax
