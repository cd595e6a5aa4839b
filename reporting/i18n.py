"""Report text in English and Persian: a gettext catalogue, Persian digits, Jalali dates.

Every piece of report text is marked where the code writes it and extracted by Babel into
``reporting/locale/messages.pot`` (``make i18n``; ``scripts/i18n_catalogue.py``):
``tr("...", language)`` and ``ctx.t("...")`` translate on the spot, ``_("...")`` in the
Jinja2 templates (the i18n extension), :func:`N_` marks text defined in a table or a
constant and translated where it is shown, :func:`N_p` a word the code passes into a
template as a parameter ('rose' as ``direction``). The English text is the msgid (gettext's
convention). A text with a value in it is a marked template formatted after translation:
``ctx.t("Booked ({currency})").format(currency=cur)``. The Persian is
``locale/fa/LC_MESSAGES/messages.po``, loaded compiled (:func:`translations`).

A message without a translation falls back to English and is recorded in :data:`MISSING`
so a test can assert that a Persian report used none. What :func:`tr` gives is
:class:`Translated` and passes :func:`tr` again unchanged (a caption translated and
formatted by its section before ``show_table`` translates what it is given). Persian output also gets Persian digits
(:func:`localize_numbers`), right-to-left layout (set by the renderer) and, as an option,
Jalali (Solar Hijri) dates (:func:`jalali`, by jdatetime).
"""

from __future__ import annotations

import functools
import gettext
import io
import re
from datetime import date
from pathlib import Path

LANGUAGES = ("en", "fa")
MISSING: set[str] = set()


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue where it is defined (a table's column label, a
    status word) and leave it in English: it is translated where it is shown
    (``tr``, ``ctx.t``, a chart's :func:`reporting.presentation.fragments.localize_axes`)."""
    return message


def N_p(context: str, message: str) -> str:
    """:func:`N_` of a word with a context: a word the code passes into a template as its
    parameter ``context`` ('rose' as ``direction``), translated by :class:`Message`."""
    return message

_FA_DIGITS = str.maketrans("0123456789%", "۰۱۲۳۴۵۶۷۸۹٪")

FA_GREGORIAN_MONTHS = ("ژانویه", "فوریه", "مارس", "آوریل", "مه", "ژوئن", "ژوئیه", "اوت",
                       "سپتامبر", "اکتبر", "نوامبر", "دسامبر")
JALALI_MONTHS = ("فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان",
                 "آذر", "دی", "بهمن", "اسفند")


LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "messages"


class _Missing(gettext.NullTranslations):
    """The last fallback of a catalogue: the English text, noted in :data:`MISSING`.
    A word parameter without a translation (``pgettext``: a rep's name, say) is not a
    miss."""

    def gettext(self, message: str) -> str:
        MISSING.add(message)
        return message


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``language`` (``locale/<language>/LC_MESSAGES``): the
    ``.mo`` the wheel's build compiles (``setup.py``), else, in a source checkout or when
    the ``.po`` was edited since, the ``.po`` compiled in memory by Babel. English is the
    source language: no catalogue."""
    if language == "en":
        return gettext.NullTranslations()
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r}: use one of {', '.join(LANGUAGES)}")
    from babel.support import Translations

    folder = LOCALE_DIR / language / "LC_MESSAGES"
    mo, po = folder / f"{DOMAIN}.mo", folder / f"{DOMAIN}.po"
    if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as f:
            out = Translations(f, domain=DOMAIN)
    else:
        out = Translations(io.BytesIO(compile_po(po)), domain=DOMAIN)
    out.add_fallback(_Missing())
    return out


def compile_po(po: Path) -> bytes:
    """A ``.po`` file compiled to ``.mo`` bytes (Babel; fuzzy entries left out)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as f:
        catalog = read_po(f)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    return buf.getvalue()


class Translated(str):
    """Text :func:`tr` gave in a report's language: given to :func:`tr` again (a caption a
    section translated and formatted before ``show_table`` translates what it is given),
    it is returned as it is."""

    __slots__ = ()


def tr(text: str, language: str = "en") -> str:
    """``text`` (a message marked in the code: ``tr("...")``, ``ctx.t("...")``,
    :func:`N_`) in ``language``; English, noted in :data:`MISSING`, when the catalogue has
    no translation. The result is :class:`Translated` (a template with ``{placeholders}``
    a :class:`Message`, whose ``format`` keeps it so)."""
    if language == "en" or not text or isinstance(text, Translated):
        return text
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r}: use one of {', '.join(LANGUAGES)}")
    out = translations(language).gettext(text)
    if out is text:  # a miss (noted): English, which a later tr() should not take for ours
        return out
    return Message(out, language) if "{" in out else Translated(out)


class Message(Translated):
    """A translated template whose :meth:`format` also gives the word parameters the code
    passes ('rose' as ``direction``, marked ``N_p("direction", "rose")``) in the
    template's language: a string parameter is looked up with its parameter's name as the
    message context; other values are formatted as they are. The result is
    :class:`Translated`."""

    def __new__(cls, text: str, language: str = "en"):
        obj = super().__new__(cls, text)
        obj.language = language
        return obj

    def __getnewargs__(self):
        return str(self), self.language

    def format(self, *args, **kwargs) -> str:
        t = translations(self.language)
        kwargs = {k: t.pgettext(k, v) if isinstance(v, str) else v
                  for k, v in kwargs.items()}
        return Translated(str.format(self, *args, **kwargs))


# character and entity references (``&#39;``, ``&#x27;``, ``&amp;``) are markup, not text:
# their digits must stay ASCII, or ``&#۳۹;`` is no longer a reference (and WeasyPrint was
# seen laying out such a page for 20 minutes)
_REFERENCE = re.compile(r"(&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);)")


def _digits(text: str) -> str:
    return text.translate(_FA_DIGITS).replace(",", "٬")


def localize_numbers(text: str, language: str = "en") -> str:
    """Persian digits and percent sign for ``fa``; unchanged for ``en``. Character
    references such as ``&#39;`` are left as they are. :class:`Translated` text stays
    so."""
    if language != "fa" or not re.search(r"\d", text):
        return text
    parts = _REFERENCE.split(text)
    out = "".join(p if i % 2 else _digits(p) for i, p in enumerate(parts))
    return Translated(out) if isinstance(text, Translated) else out


_TEXT_NODE = re.compile(r">([^<]+)<")


def localize_html(html: str, language: str = "en") -> str:
    """Persian digits in the text between tags of an HTML fragment (never in tags,
    attributes, URIs or character references)."""
    if language != "fa":
        return html
    return _TEXT_NODE.sub(lambda m: ">" + localize_numbers(m.group(1), language) + "<", html)


def jalali(d: date) -> tuple[int, int, int]:
    """Gregorian date -> Jalali (Solar Hijri) year, month, day (jdatetime)."""
    import jdatetime

    j = jdatetime.date.fromgregorian(date=d)
    return j.year, j.month, j.day


def format_date(d: date, language: str = "en", calendar: str = "gregorian") -> str:
    """A date as readers of ``language`` expect it: ISO in English; '9 مهر ۱۴۰۵' (Jalali)
    or '1 اکتبر ۲۰۲۶' (Gregorian) in Persian."""
    if language != "fa":
        return d.isoformat()
    if calendar == "jalali":
        y, m, dd = jalali(d)
        return localize_numbers(f"{dd} {JALALI_MONTHS[m - 1]} {y}", "fa")
    return localize_numbers(f"{d.day} {FA_GREGORIAN_MONTHS[d.month - 1]} {d.year}", "fa")


def period_title(period, language: str = "en", calendar: str = "gregorian") -> str:
    """The period's title: 'October 2026'; 'اکتبر ۲۰۲۶'; or, in the Jalali calendar, the
    Jalali dates it spans ('۱۰ مهر تا ۹ آبان ۱۴۰۵')."""
    if language != "fa":
        return period.title
    start, last = period.start.date(), period.last_day.date()
    if calendar == "jalali":
        (y1, m1, d1), (y2, m2, d2) = jalali(start), jalali(last)
        left = f"{d1} {JALALI_MONTHS[m1 - 1]}" + ("" if y1 == y2 else f" {y1}")
        return localize_numbers(f"{left} تا {d2} {JALALI_MONTHS[m2 - 1]} {y2}", "fa")
    if period.kind == "month":
        return localize_numbers(f"{FA_GREGORIAN_MONTHS[start.month - 1]} {start.year}", "fa")
    if period.kind == "quarter":
        return localize_numbers(f"فصل {(start.month - 1) // 3 + 1} {start.year}", "fa")
    if period.kind == "year":
        return localize_numbers(str(start.year), "fa")
    return f"{format_date(start, 'fa')} تا {format_date(last, 'fa')}"
