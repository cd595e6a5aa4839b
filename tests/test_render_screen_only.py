"""The PDF leaves out what only a screen shows (``.screen-only``: the deal list behind
every rep-table row): ``render.html_to_pdf`` empties those elements before WeasyPrint lays
the page out, which must not change the PDF by a byte."""

from __future__ import annotations

import pytest

from reporting import render

pytest.importorskip("weasyprint")

ROWS = "".join(f"<tr class='screen-only'><td>D{i}</td><td>Acme {i}</td><td class='num'>{i}</td>"
               "</tr>" for i in range(200))
HTML = f"""<!DOCTYPE html><html><head><style>
@media print {{ .screen-only {{ display: none !important; }} }}
.row > .cell + .cell {{ padding-left: 20mm; color: red; }}
td:first-child {{ font-weight: bold; }}
</style></head><body>
<h1>Report</h1>
<div class="row"><div class="cell screen-only">only on a screen</div><div class="cell">B</div></div>
<table><tbody><tr><td class="screen-only"><a href="#x">screen link</a></td><td>kept</td></tr>
{ROWS}<tr><td>D-print</td><td>printed</td><td class='num'>1</td></tr></tbody></table>
<p>before <span class="screen-only">hidden <b>words</b></span> after</p>
<details class="deal-list screen-only" id="x"><summary>deals</summary><p>many</p></details>
</body></html>"""


def test_screen_only_content_is_emptied_and_the_pdf_is_unchanged(tmp_path, monkeypatch):
    emptied = tmp_path / "emptied.pdf"
    assert render.html_to_pdf(HTML, emptied) == 1
    monkeypatch.setattr(render, "_empty_screen_only", lambda root: 0)
    whole = tmp_path / "whole.pdf"
    render.html_to_pdf(HTML, whole)
    assert emptied.read_bytes() == whole.read_bytes()


def test_emptying_keeps_the_elements_and_the_text_after_them():
    import xml.etree.ElementTree as ET

    root = ET.fromstring("<div><p>a <span class='x screen-only'>b <i>c</i></span> d</p>"
                         "<p class='screen-only'/></div>")
    assert render._empty_screen_only(root) == 1  # the empty one needs nothing
    span = root.find("p/span")
    assert span is not None and span.get("class") == "x screen-only"
    assert (span.text, len(span), span.tail) == (None, 0, " d")
    assert render._empty_screen_only(None) == 0
