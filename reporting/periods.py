"""Reporting periods: months, quarters, years and custom date ranges.

A period is a half-open interval of naive UTC timestamps ``[start, end)``. Its label is
what users type: ``2017-06``, ``2017-Q2``, ``2017``, ``2017-01-01..2017-06-30`` (both days
inclusive). ``previous()`` is the period of the same length just before it and
``last_year()`` the same period one year earlier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pandas as pd

from .exceptions import ParamsError

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
_MONTH_RANGE = re.compile(r"^(\d{4})-(\d{2})\.\.(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Period:
    """A reporting period ``[start, end)`` with its kind and label."""

    kind: str  # month | quarter | year | range
    start: pd.Timestamp
    end: pd.Timestamp  # exclusive

    @property
    def label(self) -> str:
        s = self.start
        if self.kind == "month":
            return f"{s.year:04d}-{s.month:02d}"
        if self.kind == "quarter":
            return f"{s.year:04d}-Q{(s.month - 1) // 3 + 1}"
        if self.kind == "year":
            return f"{s.year:04d}"
        last = self.end - pd.Timedelta(days=1)
        return f"{s.date().isoformat()}..{last.date().isoformat()}"

    @property
    def title(self) -> str:
        """Human title, e.g. 'October 2026', 'Q2 2017'."""
        s = self.start
        if self.kind == "month":
            return s.strftime("%B %Y")
        if self.kind == "quarter":
            return f"Q{(s.month - 1) // 3 + 1} {s.year}"
        if self.kind == "year":
            return str(s.year)
        last = self.end - pd.Timedelta(days=1)
        return f"{s.strftime('%d %b %Y')} – {last.strftime('%d %b %Y')}"

    @property
    def last_day(self) -> pd.Timestamp:
        return self.end - pd.Timedelta(days=1)

    @property
    def days(self) -> int:
        return int((self.end - self.start).days)

    def shift_months(self, months: int) -> Period:
        if self.kind == "range":
            raise ValueError("use previous() for custom ranges")
        return Period(
            self.kind,
            self.start + pd.DateOffset(months=months),
            self.end + pd.DateOffset(months=months),
        )

    def previous(self) -> Period:
        """The period of the same kind and length just before this one."""
        if self.kind == "range":
            length = self.end - self.start
            return Period("range", self.start - length, self.start)
        n = {"month": 1, "quarter": 3, "year": 12}[self.kind]
        return self.shift_months(-n)

    def next(self) -> Period:
        """The period of the same kind and length just after this one."""
        if self.kind == "range":
            length = self.end - self.start
            return Period("range", self.end, self.end + length)
        n = {"month": 1, "quarter": 3, "year": 12}[self.kind]
        return self.shift_months(n)

    def quarter(self) -> Period:
        """The calendar quarter this period starts in."""
        start = self.start.to_period("Q").start_time
        return Period("quarter", start, start + pd.DateOffset(months=3))

    def last_year(self) -> Period:
        """The same period one year earlier."""
        if self.kind == "range":
            return Period(
                "range",
                self.start - pd.DateOffset(years=1),
                self.end - pd.DateOffset(years=1),
            )
        return self.shift_months(-12)

    def contains(self, ts: pd.Series) -> pd.Series:
        return (ts >= self.start) & (ts < self.end)

    def __str__(self) -> str:
        return self.label


def parse_period(text: str, today: date | None = None) -> Period:
    """Parse a period label.

    Accepts ``YYYY-MM``, ``YYYY-Qn``, ``YYYY``, ``YYYY-MM-DD..YYYY-MM-DD``, ``YYYY-MM..YYYY-MM``
    (whole months, both inclusive: a range from the first day of the first month to the
    last day of the last) and the keyword
    ``last-complete-month`` (the month before ``today``, default the current UTC date).
    """
    raw = str(text).strip()
    try:
        if raw in ("last-complete-month", "last-month"):
            t = today or datetime.now(UTC).date()
            first = pd.Timestamp(t.year, t.month, 1)
            return Period("month", first - pd.DateOffset(months=1), first)
        if m := _MONTH.match(raw):
            start = pd.Timestamp(int(m[1]), int(m[2]), 1)
            return Period("month", start, start + pd.DateOffset(months=1))
        if m := _QUARTER.match(raw):
            start = pd.Timestamp(int(m[1]), 3 * (int(m[2]) - 1) + 1, 1)
            return Period("quarter", start, start + pd.DateOffset(months=3))
        if m := _YEAR.match(raw):
            start = pd.Timestamp(int(m[1]), 1, 1)
            return Period("year", start, start + pd.DateOffset(years=1))
        if m := _RANGE.match(raw):
            start, last = pd.Timestamp(m[1]), pd.Timestamp(m[2])
            if last < start:
                raise ParamsError(f"period {raw!r}: the range ends before it starts")
            return Period("range", start, last + timedelta(days=1))
        if m := _MONTH_RANGE.match(raw):  # 2025-01..2026-11: whole months, both inclusive
            start = pd.Timestamp(int(m[1]), int(m[2]), 1)
            last = pd.Timestamp(int(m[3]), int(m[4]), 1)
            if last < start:
                raise ParamsError(f"period {raw!r}: the range ends before it starts")
            return Period("range", start, last + pd.DateOffset(months=1))
    except (ValueError, OverflowError) as exc:
        raise ParamsError(f"period {raw!r} is not a valid date: {exc}") from None
    raise ParamsError(
        f"period {raw!r} is not understood; use 2017-06, 2017-Q2, 2017, "
        "2017-01-01..2017-06-30, 2017-01..2017-06 or last-complete-month"
    )


def split_months(period: Period) -> list[Period]:
    """The calendar months that make up ``period``, oldest first.

    ``period`` must be whole months: a month, a quarter, a year, or a range from the first
    day of a month to the last day of a month (``2025-01..2026-11``); anything else is a
    :class:`ParamsError` naming the days that do not fit."""
    start, end = period.start, period.end
    if start != start.normalize() or start.day != 1 or end.day != 1 or \
            end != end.normalize():
        raise ParamsError(
            f"period {period.label} is not whole months: a monthly series needs a range from "
            "the first day of a month to the last day of a month, e.g. 2025-01..2026-11")
    out: list[Period] = []
    m = Period("month", start, start + pd.DateOffset(months=1))
    while m.start < end:
        out.append(m)
        m = m.next()
    return out


#: months of a trend report when one month is given (the twelve months ending with it)
TREND_MONTHS = 12
MAX_TREND_MONTHS = 36


def trend_months(period: Period, months: int = TREND_MONTHS) -> list[Period]:
    """The months a trend report shows for ``period``: a single month means the ``months``
    months ending with it (``2026-11`` -> 2025-12 .. 2026-11, so a monthly schedule gives a
    trailing year); a quarter, a year or a range of whole months is split into its months
    (:func:`split_months`). At least 2 and at most :data:`MAX_TREND_MONTHS` months."""
    if period.kind == "month":
        first = period.start - pd.DateOffset(months=months - 1)
        out = split_months(Period("range", first, period.end))
    else:
        out = split_months(period)
    if not 2 <= len(out) <= MAX_TREND_MONTHS:
        raise ParamsError(
            f"period {period.label}: a trend report covers 2 to {MAX_TREND_MONTHS} months "
            f"(this is {len(out)}); give e.g. 2025-01..2026-11")
    return out


_QUOTA_QUARTER = re.compile(r"^(?:(\d{4})\s*[- ]?\s*[Qq]([1-4])|[Qq]([1-4])\s*[- ]?\s*(\d{4}))$")
_MONTH_START_DAY = re.compile(r"^(\d{4})-(\d{2})-01(?:[ T]00:00(?::00(?:\.0+)?)?)?$")


def quota_period_label(text: object) -> str | None:
    """The canonical label of a quota's period: ``2026-11`` (a month) or ``2026-Q4`` (a
    quarter), or None when ``text`` is neither.

    Accepted: ``2026-11``, ``2026-Q4`` / ``2026-q4`` / ``2026Q4`` / ``Q4 2026`` and the first
    day of a month (``2026-11-01``, what a spreadsheet makes of a cell typed 2026-11).
    Years and date ranges are not quota periods (a yearly target is four quarterly ones)."""
    raw = str(text).strip() if text is not None else ""
    if m := _MONTH.match(raw):
        return raw if 1 <= int(m[2]) <= 12 else None
    if m := _QUOTA_QUARTER.match(raw):
        year, q = (m[1], m[2]) if m[1] else (m[4], m[3])
        return f"{year}-Q{q}"
    if m := _MONTH_START_DAY.match(raw):
        return f"{m[1]}-{m[2]}" if 1 <= int(m[2]) <= 12 else None
    return None


def check_not_future(period: Period, today: date | None = None) -> Period:
    """Raise a clear error for a period that has not ended by ``today`` (UTC).

    A report on a period in progress would compare a part-month against whole months
    (bookings, win rates and cohorts all read low), so unfinished periods are refused
    rather than reported as if complete."""
    t = today or datetime.now(UTC).date()
    if period.start.date() > t:
        raise ParamsError(
            f"period {period.label} is in the future (today is {t.isoformat()}); "
            "reports cover periods that have ended"
        )
    if period.end.date() > t:
        raise ParamsError(
            f"period {period.label} has not ended: it runs to {period.last_day.date().isoformat()} "
            f"and today is {t.isoformat()}. Reports cover complete periods: use "
            "last-complete-month, or a range that ends before today "
            f"(e.g. {period.start.date().isoformat()}..{(t - timedelta(days=1)).isoformat()})"
            if period.start.date() < t else
            f"period {period.label} has not ended: it starts today ({t.isoformat()}); "
            "use last-complete-month"
        )
    return period
