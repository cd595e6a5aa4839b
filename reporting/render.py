"""Executed notebook -> self-contained HTML (nbconvert, our template) -> PDF (WeasyPrint).

Both run in-process. WeasyPrint gets a URL fetcher that serves only ``data:`` URIs and
files inside ``templates/assets``: untrusted CRM text that slipped into markup still
could not make the renderer read a local file or call a host.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
from nbconvert import HTMLExporter
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from .exceptions import RenderError
from .params import Branding

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
ASSETS = TEMPLATES / "assets"


class AssetsOnlyFetcher(URLFetcher):
    """Serve ``data:`` URIs and files under ``templates/assets``; refuse everything else."""

    def __init__(self, assets: Path = ASSETS, **kwargs) -> None:
        super().__init__(allowed_protocols=("data", "file"), allow_redirects=False, **kwargs)
        self.assets = assets.resolve()
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        scheme = url.split(":", 1)[0].lower()
        if scheme == "file":
            path = Path(unquote(urlsplit(url).path)).resolve()
            if not path.is_relative_to(self.assets):
                self.refused.append(url)
                raise ValueError(f"refused to read {url}: outside the template assets")
        elif scheme != "data":
            self.refused.append(url)
            raise ValueError(f"refused to fetch {url}: only data: and template assets")
        return super().fetch(url, headers)


def _css(branding: Branding | None) -> str:
    css = (ASSETS / "report.css").read_text(encoding="utf-8")
    if branding is not None:
        css += f"\n:root {{ --primary: {branding.primary}; --accent: {branding.accent}; }}\n"
    return css


def notebook_to_html(
    nb: nbformat.NotebookNode, title: str, branding: Branding | None = None,
    language: str = "en",
) -> str:
    """Render an executed notebook to one self-contained HTML string (no code cells)."""
    exporter = HTMLExporter(template_name="crm_report", extra_template_basedirs=[str(TEMPLATES)])
    resources = {
        "report": {
            "title": title,
            "css": _css(branding),
            "language": language,
            "dir": "rtl" if language == "fa" else "ltr",
            "show_text": False,
        }
    }
    try:
        html, _ = exporter.from_notebook_node(nb, resources=resources)
    except Exception as exc:  # nbconvert / jinja raise many types
        raise RenderError(f"HTML export failed: {exc}") from exc
    return html


def html_to_pdf(html: str, target: Path) -> int:
    """Write ``html`` as an A4 PDF at ``target``; return the number of pages."""
    fetcher = AssetsOnlyFetcher()
    try:
        doc = HTML(string=html, base_url=str(ASSETS) + "/", url_fetcher=fetcher).render()
        doc.write_pdf(target)
    except Exception as exc:
        raise RenderError(f"PDF rendering failed: {exc}") from exc
    return len(doc.pages)
