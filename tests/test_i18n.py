"""One message catalogue, English and Persian: RTL, Persian digits, Jalali dates."""

from __future__ import annotations

from datetime import date

import nbformat
import pytest
from pypdf import PdfReader

from reporting import i18n
from reporting.periods import parse_period
from reporting.runner import NOTEBOOKS, run_report

from .conftest import has_translation


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
    monkeypatch.setattr("reporting.presentation.rollup.display", lambda *a, **k: None)
    i18n.MISSING.clear()
    for name in ("monthly_sales_report", "rep_scorecard", "company_rollup", "trend_report"):
        nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        ns = {}
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            exec(cell.source, ns)  # noqa: S102 - our own notebook
            if "parameters" in cell.metadata.get("tags", []):
                ns.update(region="all" if name == "company_rollup" else "EMEA",
                          team="EMEA Inside" if name == "rep_scorecard" else "all",
                          period="2026-09", store=str(demo_store),
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


def _persian_only(text: str) -> bool:
    """No English word left in a rendered Persian sentence (names and codes aside)."""
    import re

    return not re.search(r"\b(rose|fell|linear|seasonal|quota|pace|deals?|rep)\b", text)


def _target_frame():
    """One group per head + tail combination :func:`insights.target_findings` builds: a
    period that is over (shortfall only), behind pace with no pipeline due, behind pace
    with thin coverage."""
    import numpy as np
    import pandas as pd

    nan = np.nan
    f = pd.DataFrame([
        # group, quota, won, expected to date, expected share, pace, remaining, pipeline,
        # coverage, typical won deal, method
        ("Ann", 100_000.0, 30_000.0, 100_000.0, 1.0, 0.3, 70_000.0, nan, nan, 10_000.0,
         "linear"),
        ("Bob", 100_000.0, 10_000.0, 50_000.0, 0.5, 0.2, 90_000.0, nan, nan, 10_000.0,
         "seasonal"),
        ("Cy", 100_000.0, 20_000.0, 50_000.0, 0.5, 0.4, 80_000.0, 40_000.0, 0.5, 5_000.0,
         "linear"),
    ], columns=["group", "quota", "won_value", "expected_to_date", "expected_share", "pace",
                "remaining", "pipeline", "coverage", "typical_won", "pacing_method"])
    f["attainment"] = f["won_value"] / f["quota"]
    f["coverage_note"] = None
    f["deals_short"] = (f["expected_to_date"] - f["won_value"]) / f["typical_won"]
    f.attrs["period"] = "2026-09"
    return f


def _movement_frames(group: str = "all", prev: float = 1000.0, cur: float = 1240.0):
    """A slippage table whose top rep slips (1.0 quarter-end pushes a deal, the median rep
    0.3) and a velocity change of one group."""
    import pandas as pd

    slip = pd.DataFrame({
        "group": ["Dee", "Eve", "Fay"], "deals": [12, 20, 15], "pushes": [20, 8, 6],
        "pushes_per_deal": [20 / 12, 0.4, 0.4], "quarter_pushes": [12, 6, 3],
        "quarter_pushes_per_deal": [1.0, 0.3, 0.2], "share_pushed_twice": [0.5, 0.1, 0.0],
        "value_pushed_out": [45_000.0, 5_000.0, 0.0]})
    sign = 1 if cur >= prev else -1
    vc = pd.DataFrame([{"group": group, "velocity_prev": prev, "velocity": cur,
                        "change": cur - prev, "open_deals_effect": sign * 50.0,
                        "win_rate_effect": sign * 150.0, "avg_won_effect": sign * 20.0,
                        "cycle_effect": sign * 20.0, "main_factor": "win rate"}])
    return slip, vc


def test_every_finding_template_has_a_persian_translation():
    """Every sentence target_findings and movement_findings can build (each head + tail
    of the targets, the slip, velocity for the scope and for one group) is in the
    catalogue, and renders in Persian without an English word."""
    from reporting.insights import movement_findings, target_findings

    targets = target_findings(_target_frame())
    assert [f.subject for f in targets] == ["Bob", "Ann", "Cy"]  # lowest pace first
    movement = (movement_findings(*_movement_frames())
                + movement_findings(*_movement_frames("EMEA", 1240.0, 1000.0))[1:])
    templates = {f.template for f in targets + movement}
    assert len(templates) == 6  # 3 target combinations, the slip, velocity twice
    assert sorted(t for t in templates if not has_translation(t, "fa")) == []
    for f in targets + movement:
        text = f.render("fa")
        assert _persian_only(text), text
        assert "{" not in text


def test_finding_renders_in_persian_by_hand():
    """Two findings, written out in Persian by hand: figures in Persian digits, the pacing
    method and the velocity direction and factor in Persian."""
    from reporting import formatting
    from reporting.insights import movement_findings, target_findings

    cy = [f for f in target_findings(_target_frame()) if f.subject == "Cy"][0]
    velocity = movement_findings(*_movement_frames("EMEA", 1240.0, 1000.0))[-1]
    with formatting.using("fa", "USD"):  # as the report context activates them
        # amounts in words with their currency, the Persian decimal separator
        assert cy.render("fa") == (
            "Cy برای سپتامبر ۲۰۲۶ تاکنون از سهمیه\u200cی ۱۰۰ هزار دلار، ۲۰ هزار دلار فروش ثبت "
            "کرده است (۲۰٪)، یعنی ۴۰٪ از آهنگ خطی مورد انتظار تا امروز؛ قیف باز با سررسید "
            "در این دوره (۴۰ هزار دلار) ۰٫۵ برابر ۸۰ هزار دلار باقی\u200cمانده را پوشش "
            "می\u200cدهد.".replace(" هزار", "\xa0هزار").replace("هزار دلار", "هزار\xa0دلار"))
        # effects -50, -150, -20, -20: win rate moved it most, 150 / 240 of the combined
        # effect
        assert velocity.render("fa") == (
            "در EMEA، سرعت فروش از ۱٫۲\xa0هزار\xa0دلار به ۱\xa0هزار\xa0دلار در روز کاهش "
            "یافت؛ بیشترین اثر را نرخ برد داشت (-۱۵۰\xa0دلار در روز، ۶۲٪ از اثر مجموع "
            "عوامل).")
    with formatting.using("en", "USD"):
        assert cy.render("en") == (
            "Cy has booked $20K of a $100K quota for September 2026 (20%), 40% of the linear pace "
            "expected by now; the open pipeline due in the period ($40K) covers 0.5x of "
            "the $80K still to go.")
        assert cy.text.startswith("Cy has booked 20,000 of a 100,000 quota")  # the payload


def test_static_forward_strings_have_a_persian_translation():
    """What the report prints whatever the data: the methodology appendix's definitions,
    the sections' titles and how-to-read, the forecast methods' names and the backtest
    table's labels."""
    from reporting.presentation.forward import METHOD_NAMES
    from reporting.presentation.methodology import BACKTEST_COLUMNS, definitions
    from reporting.presentation.sections import SECTIONS

    texts = [*definitions().values(), *METHOD_NAMES.values(),
             *(label for _, label, _ in BACKTEST_COLUMNS),
             *(s for title, how, _ in SECTIONS.values() for s in (title, how))]
    assert [t[:60] for t in texts if not has_translation(t, "fa")] == []


def test_marked_templates_text_already_translated_and_word_parameters():
    """A label with a value is a marked template formatted after translation; what tr
    gave (a caption translated and formatted before show_table) passes unchanged, digits
    localized or not; neither is recorded as missing. An unmarked label with a value
    written in, or Persian text tr did not give, is a miss."""
    i18n.MISSING.clear()
    assert i18n.tr("Booked ({currency})", "fa").format(currency="EUR") == "ثبت\u200cشده (EUR)"
    assert i18n.tr("CRM weighted ({currency})", "fa").format(currency="IRR") == (
        "وزن\u200cدار CRM (IRR)")
    assert i18n.tr("median rep {value}", "fa").format(value="0.25") == "کارشناس میانه 0.25"
    caption = i18n.tr("Forecast for {period}", "fa").format(period="اکتبر ۲۰۲۶")
    assert caption == "پیش\u200cبینی اکتبر ۲۰۲۶" and i18n.tr(caption, "fa") is caption
    assert i18n.tr(i18n.localize_numbers(i18n.tr("median rep {value}", "fa").format(
        value="0.25"), "fa"), "fa") == "کارشناس میانه ۰.۲۵"
    assert i18n.MISSING == set()
    assert i18n.tr("Booked (EUR)", "fa") == "Booked (EUR)"  # no guessing at placeholders
    # a text is never taken for translated by its script: only what tr gave passes
    assert i18n.tr("پیش\u200cبینی اکتبر ۲۰۲۶", "fa") == "پیش\u200cبینی اکتبر ۲۰۲۶"
    assert i18n.MISSING == {"Booked (EUR)", "پیش\u200cبینی اکتبر ۲۰۲۶"}
    i18n.MISSING.clear()
    # word parameters (marked N_p("direction", "rose")) take the template's language;
    # other values are left as they are, and a name is no miss
    msg = i18n.tr("In {group}, sales velocity {direction} from {prev:,.0f} to {cur:,.0f} a "
                  "day; {factor} moved it most ({effect:+,.0f} a day, {share:.0%} of the "
                  "factors' combined effect).", "fa")
    text = msg.format(group="rose", direction="rose", prev=1, cur=2, factor="cycle days",
                      effect=1.0, share=0.5)
    assert "افزایش یافت" in text and "طول چرخه" in text and text.startswith("در rose،")
    assert i18n.MISSING == set()
    import pickle

    assert pickle.loads(pickle.dumps(msg)) == msg
    assert pickle.loads(pickle.dumps(msg)).format(
        group="g", direction="fell", prev=1, cur=2, factor="win rate", effect=1.0,
        share=0.5) == msg.format(group="g", direction="fell", prev=1, cur=2,
                                 factor="win rate", effect=1.0, share=0.5)
