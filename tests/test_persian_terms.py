"""The pieces a Persian report's text is made of (issue 16, requirement 6): the CRM's
standard words, currency codes in labels, the generated time, titles, definitions' names,
dates in notes. The whole report is checked in tests/test_persian_text.py."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pandas as pd

from reporting import formatting as fmt
from reporting.crm_terms import crm_term
from reporting.i18n import tr
from reporting.metrics.core import Note
from reporting.naming import kind_title
from reporting.periods import parse_period
from reporting.presentation.fragments import say
from reporting.presentation.methodology import metric_name, named
from reporting.presentation.tables import table_html

NB = "\xa0"


def test_standard_crm_words_are_translated_and_a_company_s_own_are_not():
    assert crm_term("Closed Won", "fa") == "بسته‌شده (برده)"
    assert crm_term("Went dark", "fa") == "قطع ارتباط"
    assert crm_term("velocity", "fa") == "پرسرعت"  # the shipped profile
    assert crm_term("Technical Win", "fa") == "Technical Win"  # a stage a company named
    assert crm_term("Closed Won", "en") == "Closed Won"
    assert crm_term(None, "fa") is None


def test_a_currency_code_in_a_label_is_the_currency_s_name_in_persian():
    with fmt.using("fa", "USD"):
        assert fmt.currency_words("ثبت‌شده (USD)") == "ثبت‌شده (دلار)"
        assert fmt.currency_words("USDX (USD در روز)") == "USDX (دلار در روز)"
    assert fmt.currency_words("Booked (USD)", "USD", "en") == "Booked (USD)"
    assert fmt.currency_words("ارزش (EUR)", "EUR", "fa") == "ارزش (یورو)"


def test_the_generated_time_in_persian_words_and_the_report_s_calendar():
    stamp = "2026-12-02 00:43 UTC"  # 2 December 2026 = 11 Azar 1405
    assert fmt.generated_words(stamp, "fa", "jalali") == (
        "۱۱ آذر ۱۴۰۵، ساعت ۰۰:۴۳ به وقت جهانی")
    assert fmt.generated_words(stamp, "fa", "gregorian") == (
        "۲ دسامبر ۲۰۲۶، ساعت ۰۰:۴۳ به وقت جهانی")
    assert fmt.generated_words(stamp, "en") == stamp


def test_the_document_title_in_persian():
    p = parse_period("2026-11")
    assert kind_title("monthly", "Monthly Sales Report", p, "EMEA") == (
        "Monthly Sales Report: EMEA November 2026")
    assert kind_title("monthly", "Monthly Sales Report", p, "EMEA", language="fa",
                      calendar="jalali") == "گزارش ماهانه‌ی فروش: EMEA ۱۰ آبان تا ۹ آذر ۱۴۰۵"


def test_definitions_are_named_by_id_in_english_and_by_name_in_persian():
    assert named("win_rate", "Win rate: won / closed", "en") == (
        "win_rate", "Win rate: won / closed")
    assert named("win_rate", "نرخ برد: برده / بسته‌شده", "fa") == (
        "نرخ برد", "برده / بسته‌شده")
    assert named("x", "بی‌نام", "fa") == ("", "بی‌نام")
    assert metric_name("win_rate", "fa") == "نرخ برد"
    assert metric_name("win_rate", "en") == "win_rate"


def test_a_persian_table_translates_stages_names_its_currency_and_keeps_deal_ids():
    frame = pd.DataFrame({"opportunity_id": ["OPP-12"], "stage": ["Negotiation"],
                          "owner": ["Proposal Team"], "amount": [7_200.0]})
    cols = [("opportunity_id", "Deal", "text"), ("stage", "Stage", "text"),
            ("owner", "Owner", "text"),
            ("amount", tr("Amount ({currency})", "fa").format(currency="USD"), "money")]
    with fmt.using("fa", "USD"):
        html = table_html(frame, cols, "Open deals with the largest expected value", 5, "fa")
    cells = re.findall(r"<td[^>]*>(.*?)</td>", html)
    assert cells == ["OPP-&#49;&#50;", "مذاکره", "Proposal Team", f"۷٫۲{NB}هزار{NB}دلار"]
    assert "مبلغ (دلار)" in html and "USD" not in html
    with fmt.using("en", "USD"):
        html = table_html(frame, cols[:3], "x", 5, "en")
    assert re.findall(r"<td[^>]*>(.*?)</td>", html)[:2] == ["OPP-12", "Negotiation"]


def test_a_note_s_date_in_the_report_s_calendar():
    ctx = SimpleNamespace(language="fa", settings=SimpleNamespace(calendar="jalali"),
                          t=lambda text: {"mature on {on}": "بالغ در {on}"}[text])
    assert say(ctx, Note("mature on {on}", on="2026-12-18")) == "بالغ در ۲۷ آذر ۱۴۰۵"
    en = SimpleNamespace(language="en", settings=ctx.settings, t=lambda text: text)
    assert say(en, Note("mature on {on}", on="2026-12-18")) == "mature on 2026-12-18"
