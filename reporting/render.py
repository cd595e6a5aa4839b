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


_FA_PAGE = """
@page { @bottom-right { content: "صفحه‌ی " counter(page, persian) " از " counter(pages, persian); }
        @bottom-left { content: string(company); } }
@page cover { @bottom-right { content: none; } @bottom-left { content: none; } }
"""


def _css(branding: Branding | None, language: str = "en") -> str:
    css = (ASSETS / "report.css").read_text(encoding="utf-8")
    if branding is not None:
        css += f"\n:root {{ --primary: {branding.primary}; --accent: {branding.accent}; }}\n"
    if language == "fa":
        css += _FA_PAGE
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
            "css": _css(branding, language),
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


def write_index(period_dir: Path, company: str, title: str, period_title: str,
                primary: str = "#1f3a5f") -> Path:
    """Write ``reports/<period>/index.html``: every report of the period with its headline
    figures and links (relative, so the folder can be moved or shared as is)."""
    import json
    from datetime import UTC, datetime
    from urllib.parse import quote

    from jinja2 import Environment, FileSystemLoader, select_autoescape

    def fmt(v, spec):
        return "–" if v is None else format(v, spec)

    rows = []
    for d in sorted(p for p in period_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        if d.name.endswith(".failed"):
            err = (d / "error.txt").read_text(encoding="utf-8").strip().splitlines()
            rows.append({"name": d.name[: -len(".failed")], "failed": True,
                         "error": err[-1][:300] if err else "see error.txt",
                         "notebook": quote(f"{d.name}/report.ipynb")
                         if (d / "report.ipynb").exists() else None})
            continue
        mfile = d / "metrics.json"
        if not mfile.exists():
            continue
        m = json.loads(mfile.read_text(encoding="utf-8"))
        h = {k: v.get("value") for k, v in m.get("headline", {}).items()}
        rating = m.get("ratings", {}).get("win_rate")
        team = m.get("team")
        rows.append({
            "name": m.get("region", d.name) + (f" / {team}" if team and team != "all" else ""),
            "failed": False,
            "win_rate": fmt(h.get("win_rate"), ".0%"),
            "rating": rating, "rating_class": rating if rating in ("good", "watch", "bad") else "",
            "cycle": fmt(h.get("median_cycle_days_won"), ".0f"),
            "deal": fmt(h.get("avg_won_amount"), ",.0f"),
            "open": fmt(h.get("open_per_rep"), ".1f"),
            "html": quote(f"{d.name}/report.html"), "pdf": quote(f"{d.name}/report.pdf"),
        })
    env = Environment(loader=FileSystemLoader(TEMPLATES / "fragments"),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    html = env.get_template("index.html.j2").render(
        company=company, title=title, period_title=period_title, primary=primary, rows=rows,
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    target = period_dir / "index.html"
    tmp = period_dir / ".index.html.tmp"
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(target)
    return target
