"""One message catalogue, English and Persian: RTL, Persian digits, Jalali dates."""

from __future__ import annotations

from datetime import date

import nbformat
import pytest
from pypdf import PdfReader

from reporting import i18n
from reporting.periods import parse_period
from reporting.runner import NOTEBOOKS, run_report


@pytest.mark.parametrize("greg, jal", [
    (date(2024, 3, 20), (1403, 1, 1)),    # Nowruz 1403
    (date(2025, 3, 21), (1404, 1, 1)),    # Nowruz 1404
    (date(1979, 2, 11), (1357, 11, 22)),  # 22 Bahman 1357
    (date(2026, 10, 1), (1405, 7, 9)),
])
def test_jalali_known_dates(greg, jal):
    assert i18n.jalali(greg) == jal


def test_period_titles_and_digits():
    p = parse_period("2026-10")
    assert i18n.period_title(p, "fa") == "اکتبر ۲۰۲۶"
    assert i18n.period_title(p, "fa", "jalali") == "۹ مهر تا ۹ آبان ۱۴۰۵"
    assert i18n.localize_numbers("27% of 1,234", "fa") == "۲۷٪ of ۱٬۲۳۴"
    html = '<td class="num" data-x="12">12%</td><img src="data:image/png;base64,AB12">'
    assert i18n.localize_html(html, "fa") == (
        '<td class="num" data-x="12">۱۲٪</td><img src="data:image/png;base64,AB12">')
    with pytest.raises(ValueError, match="language 'de': use one of en, fa"):
        i18n.tr("x", "de")


def test_every_report_string_has_a_persian_translation(demo_store, monkeypatch):
    """Run the report notebook's cells in this process in Persian: no string falls back to
    English (the catalogue records every miss)."""
    from IPython.display import display  # noqa: F401 - the cells display outside a kernel

    monkeypatch.setattr("reporting.presentation.fragments.display", lambda *a, **k: None)
    monkeypatch.setattr("reporting.presentation.payload.display", lambda *a, **k: None)
    i18n.MISSING.clear()
    for name in ("monthly_sales_report", "rep_scorecard"):
        nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        ns = {}
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            exec(cell.source, ns)  # noqa: S102 - our own notebook
            if "parameters" in cell.metadata.get("tags", []):
                ns.update(region="EMEA", team="all" if name.startswith("monthly") else
                          "EMEA Inside", period="2026-09", store=str(demo_store),
                          params_dir="", artifacts="", language="fa")
    assert i18n.MISSING == set()


@pytest.mark.slow
def test_persian_report_is_rtl_with_persian_text(demo_store, tmp_path):
    res = run_report("EMEA", "2026-09", store=demo_store, reports_dir=tmp_path, language="fa")
    html = res.html.read_text()
    assert 'dir="rtl"' in html and 'lang="fa"' in html
    text = "\n".join(p.extract_text() for p in PdfReader(res.pdf).pages)
    for title in ("خلاصه‌ی مدیریتی", "نرخ تبدیل", "پیوست ب"):
        assert title.replace("\u200c", "") in text.replace("\u200c", "")
    assert "Executive summary" not in text and "How to read this" not in text
    assert "۲۰۲۶" in text  # Persian digits
