"""WeasyPrint fetches nothing but data: URIs and template assets; CRM text is escaped."""

from __future__ import annotations

import pytest
from pypdf import PdfReader

from reporting.presentation.fragments import environment
from reporting.render import AssetsOnlyFetcher, html_to_pdf


def test_fetcher_refuses_local_files_and_hosts(tmp_path):
    html = """<html><body><p>x</p>
      <img src="file:///etc/passwd"><img src="http://127.0.0.1:9/x.png">
      <link rel="stylesheet" href="file:///etc/hostname">
      <iframe src="file:///etc/passwd"></iframe>
      <object data="file:///etc/passwd"></object></body></html>"""
    out = tmp_path / "r.pdf"
    html_to_pdf(html, out)
    text = "".join(p.extract_text() for p in PdfReader(out).pages)
    assert "root:" not in text
    f = AssetsOnlyFetcher()
    for url in ("file:///etc/passwd", "http://127.0.0.1:9/", "ftp://x/y"):
        try:
            f.fetch(url)
        except ValueError:
            pass
        else:
            raise AssertionError(f"{url} was fetched")
    assert f.refused == ["file:///etc/passwd", "http://127.0.0.1:9/", "ftp://x/y"]


@pytest.mark.parametrize("language", ["en", "fa"])
def test_crm_text_is_escaped_in_fragments(language):
    evil = '<img src="file:///etc/passwd"><script>alert(1)</script>'
    html = environment(language).get_template("table.html.j2").render(
        columns=[{"label": "Rep", "align": ""}], rows=[[evil]] * 2, caption=evil, more=True,
        total=3
    )
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html
    assert ("Showing 2 of 3 rows." if language == "en" else "ردیف از") in html
