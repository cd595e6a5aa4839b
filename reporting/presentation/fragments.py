"""Display helpers of the report notebooks: HTML fragments rendered by Jinja2 with
autoescape (CRM text never becomes markup), in the report's language, and PNG charts;
the number formats the fragments and tables share.
"""

from __future__ import annotations

import base64
import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from IPython.display import HTML, Image, display
from jinja2 import Environment, FileSystemLoader, select_autoescape
from matplotlib.ticker import FixedFormatter

from .. import formatting, plots
from ..exceptions import ParamsError
from ..i18n import LANGUAGES, localize_html, localize_numbers, tr, translations
from ..resources import templates_dir

if TYPE_CHECKING:
    from ..context import ReportContext


TEMPLATES = templates_dir()  # shipped in the package (reporting/resources/templates)



def fmt_money(v: float | None, currency: str = "", language: str | None = None) -> str:
    """An amount with its currency, compact: '$7.2K'; '۷٫۲ هزار دلار'
    (:func:`reporting.formatting.money`; the report's currency and language when not
    given)."""
    return formatting.money(v, currency or None, language)


def fmt_pct(v: float | None, language: str | None = None, digits: int = 0) -> str:
    """A share: '27%'; '۲۷٪' (:func:`reporting.formatting.percent`)."""
    return formatting.percent(v, digits, language)


def fmt_num(v: float | None, digits: int = 0, language: str | None = None) -> str:
    """A count or a decimal with group separators: '1,234'; '۱٬۲۳۴'
    (:func:`reporting.formatting.number`)."""
    return formatting.number(v, digits, language)




@functools.cache
def environment(language: str = "en") -> Environment:
    """The fragments' Jinja2 environment of ``language``: autoescaped, with Jinja2's i18n
    extension bound to the language's catalogue (:func:`reporting.i18n.tr` and
    :func:`reporting.i18n.translations`), so a template's own text (``_("...")``,
    ``{% trans %}``) is extracted from the template and translated as it renders. Old-style gettext: ``_()`` returns the plain
    translation and a template formats it with ``.format`` (the ``{name}`` placeholders
    the Python code uses), then autoescape escapes the result."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES / "fragments"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    catalogue = translations(language)
    # tr: the Python code's own lookup (misses noted, text it translated passes again),
    # so a template translating a value it is given behaves as show_table does
    env.install_gettext_callables(gettext=lambda text: tr(text, language),
                                  ngettext=catalogue.ngettext, pgettext=catalogue.pgettext,
                                  npgettext=catalogue.npgettext, newstyle=False)
    env.filters.update(money=fmt_money, pct=fmt_pct, num=fmt_num)
    return env


def render_fragment(template: str, language: str = "en", **values: Any) -> str:
    """A fragment from ``templates/fragments``, autoescaped, in ``language`` (its ``_()``
    strings through the catalogue, Persian digits for ``fa``)."""
    if language not in LANGUAGES:
        raise ParamsError(f"language {language!r}: use one of {', '.join(LANGUAGES)}")
    html = environment(language).get_template(template).render(**values)
    return localize_html(html, language)


def show_html(template: str, language: str = "en", **values: Any) -> None:
    """Render a fragment (see :func:`render_fragment`) and display it."""
    display(HTML(render_fragment(template, language, **values)))


def show_fragment(html: str) -> None:
    """Display an HTML fragment already rendered by :func:`render_fragment`."""
    display(HTML(html))


def localize_axes(ax, language: str | None = None) -> None:
    """Persian digits in every text of a chart in ``language`` (default: the report's)
    that is not drawn by a tick formatter: titles, axis labels, annotations, legend, fixed
    tick labels. The words are the chart's own: :mod:`reporting.plots` draws its marked
    text in the report's language (``_t``), and its tick formatters format numbers in the
    language themselves."""
    language = language or formatting.active().language
    if language == "en":
        return
    for axis in (ax.xaxis, ax.yaxis):
        if not isinstance(axis.get_major_formatter(), FixedFormatter):
            continue  # a formatter's ticks are drawn in the language by the formatter
        ticks = [t.get_text() for t in axis.get_ticklabels()]
        if any(_ascii_digit(t) for t in ticks):
            axis.set_ticks(axis.get_ticklocs(), [localize_numbers(t, language)
                                                 for t in ticks])
    legend = ax.get_legend()
    if legend is not None:
        for text in legend.get_texts():
            text.set_text(formatting.currency_words(
                localize_numbers(text.get_text(), language), None, language))
    for text in ax.texts:
        text.set_text(localize_numbers(text.get_text(), language))
    for title in (ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label):
        # 'USD' in a label is the currency's name in the language ('دلار')
        title.set_text(formatting.currency_words(localize_numbers(title.get_text(), language),
                                                 None, language))


def _ascii_digit(text: str) -> bool:
    return any("0" <= ch <= "9" for ch in text)


def show_chart(ax, ctx: ReportContext | None = None) -> None:
    """Display a chart as a PNG at :data:`reporting.plots.CHART_DPI`, its text in the
    report's language (the context's, else the active one)."""
    localize_axes(ax, ctx.language if ctx is not None else None)
    display(Image(data=plots.figure_png(ax), format="png"))


def show_note(ctx: ReportContext, text: str) -> None:
    """A short narrative line (escaped), in the report's language."""
    show_html("note.html.j2", ctx.language, text=text)


def say(ctx: ReportContext, text: str | None) -> str | None:
    """A metrics message (plain or :class:`reporting.metrics.core.Note`) in the report's
    language."""
    if not text:
        return text
    template = getattr(text, "template", None)
    if template is not None:
        params = text.params
        if ctx.language != "en":  # a date ('2026-12-18') in the report's calendar
            params = {k: _as_date(v, ctx) for k, v in params.items()}
        return ctx.t(template).format(**params)
    return ctx.t(text)


def _as_date(v, ctx: ReportContext):
    """An ISO date parameter of a note as the report writes dates; anything else as is."""
    import re
    from datetime import date

    from ..i18n import format_date

    if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
        return format_date(date.fromisoformat(v), ctx.language, ctx.settings.calendar)
    return v


def logo_data_uri(name: str | None, params_dir: str | Path | None = None) -> str | None:
    """The branding logo as a data: URI, so the HTML stays self-contained; None when no
    logo is configured. Looked up in ``assets/`` of the params folder in use (a project's
    own logo: ``params/assets/logo.png``), then in the shipped ``templates/assets``."""
    if not name:
        return None
    folders = [TEMPLATES / "assets"]
    if params_dir:
        folders.insert(0, Path(params_dir) / "assets")
    path = None
    for folder in folders:
        candidate = (folder / name).resolve()
        if candidate.is_relative_to(folder.resolve()) and candidate.is_file():
            path = candidate
            break
    if path is None:
        raise ParamsError(f"branding logo {name!r} is not a file in params/assets/ or the "
                          "shipped templates/assets/")
    mime = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg",
            ".jpeg": "image/jpeg"}.get(path.suffix.lower())
    if mime is None:
        raise ParamsError(f"branding logo {name!r}: use a .png, .jpg or .svg file")
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode()
