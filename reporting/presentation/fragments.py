"""Display helpers of the report notebooks: HTML fragments rendered by Jinja2 with
autoescape (CRM text never becomes markup), in the report's language, and PNG charts;
the number formats the fragments and tables share.
"""

from __future__ import annotations

import base64
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from IPython.display import HTML, Image, display
from jinja2 import Environment, FileSystemLoader, select_autoescape

from .. import plots
from ..exceptions import ParamsError
from ..i18n import _CATALOGUES, localize_html, tr
from ..resources import templates_dir

if TYPE_CHECKING:
    from ..context import ReportContext


TEMPLATES = templates_dir()  # shipped in the package (reporting/resources/templates)

_env = Environment(
    loader=FileSystemLoader(TEMPLATES / "fragments"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def fmt_money(v: float | None, currency: str = "") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{currency} {plots.money(v)}".strip()


def fmt_pct(v: float | None) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.0%}"


def fmt_num(v: float | None, digits: int = 0) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{v:,.{digits}f}"


_env.filters.update(money=fmt_money, pct=fmt_pct, num=fmt_num)


def render_fragment(template: str, language: str = "en", **values: Any) -> str:
    """A fragment from ``templates/fragments``, autoescaped, in ``language`` (its ``_()``
    strings through the catalogue, Persian digits for ``fa``)."""
    html = _env.get_template(template).render(_=lambda text: tr(text, language), **values)
    return localize_html(html, language)


def show_html(template: str, language: str = "en", **values: Any) -> None:
    """Render a fragment (see :func:`render_fragment`) and display it."""
    display(HTML(render_fragment(template, language, **values)))


def localize_axes(ax, language: str) -> None:
    """Chart title, axis labels and legend entries through the catalogue."""
    if language == "en":
        return
    ax.set_title(tr(ax.get_title(), language))
    for loc in ("left", "right"):  # titles placed aside (loc="left") are separate texts
        if ax.get_title(loc=loc):
            ax.set_title(tr(ax.get_title(loc=loc), language), loc=loc)
    ax.set_xlabel(tr(ax.get_xlabel(), language))
    ax.set_ylabel(tr(ax.get_ylabel(), language))
    catalogue = _CATALOGUES.get(language, {})
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    if any(t in catalogue for t in ticks):  # our own row labels; data labels stay as they are
        ax.set_yticks(ax.get_yticks(), [catalogue.get(t, t) for t in ticks])
    legend = ax.get_legend()
    if legend is not None:
        for text in legend.get_texts():
            text.set_text(tr(text.get_text(), language))


def show_chart(ax, ctx: ReportContext | None = None) -> None:
    """Display a chart as a PNG at :data:`reporting.plots.CHART_DPI` (its text in the
    report's language)."""
    if ctx is not None:
        localize_axes(ax, ctx.language)
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
        return ctx.t(template).format(**text.params)
    return ctx.t(text)


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
