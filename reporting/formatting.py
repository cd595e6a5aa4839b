"""The number formats of every report: money, percent, counts, decimals and month labels,
in English and Persian, for tiles, tables, findings and chart axes alike.

Numbers go through Babel (CLDR): in Persian, Persian digits, the Persian group (٬) and
decimal (٫) separators, and amounts with their unit in words ('۷٫۲ هزار دلار'); in
English, the currency's symbol and a compact figure ('$7.2K', 'IRR 7.2K'). Jalali months
come from jdatetime.

The report's language, currency and calendar are *active* for the whole report: the report
context activates them once (:func:`activate`, as ``django.utils.translation.activate``
does), so a formatter called without them (``fmt_money(v)`` in a table) still formats in
the report's language and currency. Tests and other code use :func:`using` for a block.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from babel.numbers import (
    format_compact_decimal,
    format_decimal,
    format_percent,
    get_currency_name,
    get_currency_symbol,
)

from .i18n import FA_GREGORIAN_MONTHS, JALALI_MONTHS, jalali

DASH = "–"  # a missing figure
_NBSP = "\xa0"  # a figure and its unit stay on one line


@dataclass(frozen=True)
class Formats:
    """What the formatters format in: the report's language, currency and calendar."""

    language: str = "en"
    currency: str = ""
    calendar: str = "gregorian"


# a module global, not a ContextVar: a notebook kernel runs each cell in a context of its
# own, and the context activated in the first cell must hold for the whole report
_ACTIVE = [Formats()]


def activate(language: str = "en", currency: str = "", calendar: str = "gregorian") -> None:
    """Make ``language``, ``currency`` and ``calendar`` the defaults of every formatter
    (the report context does this once per report)."""
    _ACTIVE[0] = Formats(language, currency or "", calendar or "gregorian")


def activate_report(language: str, currency: str, calendar: str) -> None:
    """Make a report's formats active unless they already are (a report context calls
    this whenever it translates, since another context may have been activated since)."""
    formats = Formats(language, currency or "", calendar or "gregorian")
    if _ACTIVE[0] != formats:
        _ACTIVE[0] = formats


def active() -> Formats:
    """The formats in force (English, no currency, Gregorian unless activated)."""
    return _ACTIVE[0]


@contextmanager
def using(language: str = "en", currency: str = "",
          calendar: str = "gregorian") -> Iterator[Formats]:
    """The formats of a block: ``with using("fa", "USD", "jalali"): ...``."""
    before = _ACTIVE[0]
    _ACTIVE[0] = Formats(language, currency or "", calendar or "gregorian")
    try:
        yield _ACTIVE[0]
    finally:
        _ACTIVE[0] = before


def _lang(language: str | None) -> str:
    return language or active().language


def missing(v) -> bool:
    """None, NaN and pandas' NA are not a figure."""
    if v is None:
        return True
    try:
        return bool(v != v) or (isinstance(v, float) and math.isnan(v))  # NaN, pd.NA
    except (TypeError, ValueError):
        return False


# ----------------------------------------------------------------------------- digits
_PERSIAN = str.maketrans("0123456789%", "۰۱۲۳۴۵۶۷۸۹٪")
_BABEL_OPTS = {"en": {"locale": "en"}, "fa": {"locale": "fa", "numbering_system": "arabext"}}


def native_digits(text: str, language: str | None = None) -> str:
    """``text`` with the digits (and percent sign) of ``language``: Persian for ``fa``.
    Babel gives the Persian separators but ASCII digits; this puts in the Persian ones."""
    return text.translate(_PERSIAN) if _lang(language) == "fa" else text


def _opts(language: str) -> dict:
    return _BABEL_OPTS.get(language, _BABEL_OPTS["en"])


# ----------------------------------------------------------------------------- numbers
def number(v, digits: int = 0, language: str | None = None) -> str:
    """A decimal with ``digits`` decimals and group separators: '1,234.5'; '۱٬۲۳۴٫۵'."""
    if missing(v):
        return DASH
    lang = _lang(language)
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    # rounded as Python's format() rounds (Babel's half-even on the decimal repr differs
    # at ...5: 0.265 is 27% for Python and would be 26% for Babel)
    out = format_decimal(Decimal(repr(round(float(v), digits))), format=pattern,
                         **_opts(lang))
    if out.lstrip("-").strip("0.,٫٬") == "" and out.startswith("-"):
        out = out[1:]  # -0 reads as 0
    return native_digits(out, lang)


def count(v, language: str | None = None) -> str:
    """A count: a whole number with group separators ('1,234'; '۱٬۲۳۴')."""
    return number(v, 0, language)


def percent(v, digits: int = 0, language: str | None = None, sign: bool = False) -> str:
    """A share: '27%', '27.5%'; '۲۷٪'. ``sign``: '+5%' for a change."""
    if missing(v):
        return DASH
    lang = _lang(language)
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "") + "%"
    out = format_percent(Decimal(repr(round(float(v) * 100, digits))) / 100, format=pattern,
                         **_opts(lang))
    if sign and float(v) > 0:
        out = "+" + out
    return native_digits(out, lang)


# ----------------------------------------------------------------------------- money
#: the Persian name readers use for a currency where it is shorter than CLDR's
#: ('دلار آمریکا' is 'دلار' in a report about dollars); others: Babel's name
FA_CURRENCY_NAMES = {"USD": "دلار", "IRR": "ریال", "EUR": "یورو", "GBP": "پوند"}


def currency_unit(currency: str, language: str | None = None) -> str:
    """How ``currency`` is written next to an amount: '$', 'IRR'; 'دلار', 'یورو'."""
    if not currency:
        return ""
    lang = _lang(language)
    try:
        if lang == "fa":
            return FA_CURRENCY_NAMES.get(currency) or get_currency_name(currency, locale="fa")
        return get_currency_symbol(currency, locale="en")
    except Exception:  # noqa: BLE001 - not an ISO code Babel knows: the code itself
        return currency


def currency_words(text: str, currency: str | None = None,
                   language: str | None = None) -> str:
    """``text`` with the ISO code of ``currency`` (default: the active one) written as
    readers of ``language`` write the currency: unchanged in English ('Booked (USD)');
    in Persian the code becomes its name ('ثبت‌شده (USD)' -> 'ثبت‌شده (دلار)')."""
    lang = _lang(language)
    cur = active().currency if currency is None else currency
    if lang == "en" or not cur or not text or cur not in text:
        return text
    unit = currency_unit(cur, lang)
    return re.sub(rf"(?<![A-Za-z]){re.escape(cur)}(?![A-Za-z])", unit, text)


def _rounded(v: float) -> Decimal:
    """``v`` rounded to what its compact form shows (one decimal of thousands, millions,
    ...; whole numbers below 1,000), so 999,960 is 1M and not '1000K'."""
    a = abs(v)
    if a < 10:
        return Decimal(str(round(v, 1)))
    if a < 1000:
        return Decimal(round(v))
    exp = min(3 * int(math.log10(a) // 3), 12)
    m = round(v / 10 ** exp, 1)
    if abs(m) >= 1000 and exp < 12:
        m, exp = round(m / 1000, 1), exp + 3
    return Decimal(str(m)).scaleb(exp)


def compact(v, language: str | None = None) -> str:
    """A compact figure: '7.2K', '1.2M'; '۷٫۲ هزار', '۱٫۲ میلیون'."""
    if missing(v):
        return DASH
    lang = _lang(language)
    out = format_compact_decimal(_rounded(float(v)), fraction_digits=1, **_opts(lang))
    if out.startswith("-") and _rounded(float(v)) == 0:
        out = out[1:]
    return native_digits(out.replace(" ", _NBSP), lang)


def money(v, currency: str | None = None, language: str | None = None,
          sign: bool = False) -> str:
    """An amount, compact, with its currency: '$7.2K', '-$4.7K', 'IRR 1.2M';
    '۷٫۲ هزار دلار'. ``currency`` defaults to the active one; '' for none. ``sign``: '+'
    before an increase."""
    if missing(v):
        return DASH
    lang = _lang(language)
    cur = active().currency if currency is None else currency
    figure = compact(abs(float(v)), lang)
    neg = float(v) < 0 and figure.strip("0۰") != ""
    prefix = "-" if neg else ("+" if sign and float(v) > 0 else "")
    unit = currency_unit(cur, lang)
    if not unit:
        return prefix + figure
    if lang == "fa":
        return f"{prefix}{figure}{_NBSP}{unit}"
    spacer = _NBSP if unit[-1].isalpha() else ""  # 'IRR 7.2K' but '$7.2K'
    return f"{prefix}{unit}{spacer}{figure}"


# ----------------------------------------------------------------------------- dates
EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
             "Dec")


def to_jalali(d: date) -> tuple[int, int, int]:
    """Gregorian -> Jalali (Solar Hijri) year, month, day, by jdatetime."""
    return jalali(d.date() if isinstance(d, datetime) else d)


def from_jalali(year: int, month: int, day: int = 1) -> date:
    """Jalali year, month, day -> the Gregorian date, by jdatetime."""
    import jdatetime

    return jdatetime.date(year, month, day).togregorian()


def month_label(d: date, language: str | None = None, calendar: str | None = None,
                year: bool = True) -> str:
    """A month on a time axis: 'Jan 2026'; 'ژانویه ۲۰۲۶'; Jalali: 'دی ۱۴۰۴' (the Jalali
    month ``d`` falls in)."""
    lang = _lang(language)
    cal = calendar or active().calendar
    if lang != "fa":
        return f"{EN_MONTHS[d.month - 1]} {d.year}" if year else EN_MONTHS[d.month - 1]
    if cal == "jalali":
        y, m, _ = to_jalali(d)
        name = JALALI_MONTHS[m - 1]
    else:
        y, name = d.year, FA_GREGORIAN_MONTHS[d.month - 1]
    return native_digits(f"{name} {y}" if year else name, lang)


def month_starts(start: date, end: date, calendar: str = "gregorian") -> list[date]:
    """The first days of the months (Gregorian or Jalali) from ``start`` to ``end``."""
    out: list[date] = []
    if calendar == "jalali":
        y, m, d = to_jalali(start)
        if d != 1:
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        while (g := from_jalali(y, m)) <= end:
            out.append(g)
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out
    y, m = (start.year, start.month) if start.day == 1 else (
        (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1))
    while (g := date(y, m, 1)) <= end:
        out.append(g)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def generated_words(stamp: str, language: str | None = None,
                    calendar: str | None = None) -> str:
    """When a report was made (``ReportContext.generated_at``, '2026-12-02 00:43 UTC') as
    its readers write it: unchanged in English; in Persian the date in the report's
    calendar, the time in Persian digits and the zone in words
    ('۱۱ آذر ۱۴۰۵، ساعت ۰۰:۴۳ به وقت جهانی')."""
    from .i18n import format_date, tr

    lang = _lang(language)
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2}) (\d{2}:\d{2}) UTC", stamp or "")
    if lang == "en" or m is None:
        return stamp
    d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    return tr("{date}, {time} UTC", lang).format(
        date=format_date(d, lang, calendar or active().calendar),
        time=native_digits(m.group(4), lang))
