"""The report's number formats (reporting.formatting, Babel and jdatetime), written out by
hand in English and Persian."""

from __future__ import annotations

from datetime import date

import jdatetime
import pytest

from reporting import formatting as fmt
from reporting import i18n
from reporting.presentation.fragments import fmt_money, fmt_num, fmt_pct

NB = "\xa0"  # a figure and its unit do not break apart


@pytest.mark.parametrize("value, en, fa", [
    (7_200, "$7.2K", f"۷٫۲{NB}هزار{NB}دلار"),
    (428_300, "$428.3K", f"۴۲۸٫۳{NB}هزار{NB}دلار"),
    (4_800_000, "$4.8M", f"۴٫۸{NB}میلیون{NB}دلار"),
    (2_500_000_000, "$2.5B", f"۲٫۵{NB}میلیارد{NB}دلار"),
    (999_960, "$1M", f"۱{NB}میلیون{NB}دلار"),  # not "1000K"
    (950, "$950", f"۹۵۰{NB}دلار"),
    (0, "$0", f"۰{NB}دلار"),
    (-4_700, "-$4.7K", f"-۴٫۷{NB}هزار{NB}دلار"),
    (-0.01, "$0", f"۰{NB}دلار"),  # no "-0"
    (None, "–", "–"),
    (float("nan"), "–", "–"),
])
def test_money_in_both_languages(value, en, fa):
    assert fmt.money(value, "USD", "en") == en
    assert fmt.money(value, "USD", "fa") == fa


def test_money_units_and_signs():
    assert fmt.money(7_200, "EUR", "en") == "€7.2K"
    assert fmt.money(7_200, "IRR", "en") == f"IRR{NB}7.2K"  # a code without a symbol
    assert fmt.money(7_200, "IRR", "fa") == f"۷٫۲{NB}هزار{NB}ریال"
    assert fmt.money(7_200, "EUR", "fa") == f"۷٫۲{NB}هزار{NB}یورو"
    assert fmt.money(713_600, "USD", "en", sign=True) == "+$713.6K"
    assert fmt.money(-713_600, "USD", "en", sign=True) == "-$713.6K"
    assert fmt.money(7_200, "", "en") == "7.2K"  # no currency


def test_percent_and_numbers_in_both_languages():
    assert fmt.percent(0.27, language="en") == "27%"
    assert fmt.percent(0.27, language="fa") == "۲۷٪"
    assert fmt.percent(0.275, 1, "fa") == "۲۷٫۵٪"
    assert fmt.percent(0.05, language="en", sign=True) == "+5%"
    assert fmt.number(1_234.56, 1, "en") == "1,234.6"
    assert fmt.number(1_234.56, 1, "fa") == "۱٬۲۳۴٫۶"
    assert fmt.count(1_234, "fa") == "۱٬۲۳۴"
    assert fmt.count(12.0, "en") == "12"
    assert fmt.number(-0.001, 2, "en") == "0.00"


def test_fragment_formatters_use_the_active_language_and_currency():
    """fmt_money / fmt_pct / fmt_num (the names every section calls) format in the
    report's language and currency once the context activated them."""
    assert (fmt_money(7_200), fmt_pct(0.27), fmt_num(1_234)) == ("7.2K", "27%", "1,234")
    with fmt.using("en", "USD"):
        assert fmt_money(7_200) == "$7.2K"
        assert fmt_money(7_200, "EUR") == "€7.2K"
    with fmt.using("fa", "USD"):
        assert (fmt_money(7_200), fmt_pct(0.27), fmt_num(1_234.5, 1)) == (
            f"۷٫۲{NB}هزار{NB}دلار", "۲۷٪", "۱٬۲۳۴٫۵")
    assert fmt.active() == fmt.Formats()


@pytest.mark.parametrize("greg, jal", [
    (date(2024, 3, 20), (1403, 1, 1)),    # Nowruz 1403
    (date(2025, 3, 21), (1404, 1, 1)),    # Nowruz 1404
    (date(2026, 3, 21), (1405, 1, 1)),    # Nowruz 1405
    (date(1979, 2, 11), (1357, 11, 22)),  # 22 Bahman 1357
    (date(2025, 12, 22), (1404, 10, 1)),  # 1 Dey 1404
])
def test_jalali_dates_match_the_library_and_the_calendar(greg, jal):
    assert i18n.jalali(greg) == jal == fmt.to_jalali(greg)
    assert fmt.from_jalali(*jal) == greg
    j = jdatetime.date.fromgregorian(date=greg)
    assert (j.year, j.month, j.day) == jal


def test_month_labels_and_starts():
    d = date(2026, 1, 15)
    assert fmt.month_label(d, "en") == "Jan 2026"
    assert fmt.month_label(d, "fa", "gregorian") == "ژانویه ۲۰۲۶"
    assert fmt.month_label(d, "fa", "jalali") == "دی ۱۴۰۴"  # 15 Jan 2026 = 25 Dey 1404
    assert fmt.month_starts(date(2025, 12, 1), date(2026, 2, 1)) == [
        date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]
    # 1 Dey, 1 Bahman, 1 Esfand 1404
    assert fmt.month_starts(date(2025, 12, 1), date(2026, 3, 1), "jalali") == [
        date(2025, 12, 22), date(2026, 1, 21), date(2026, 2, 20)]


def test_period_title_in_jalali():
    from reporting.periods import parse_period

    assert i18n.period_title(parse_period("2024-03"), "fa", "jalali") == (
        "۱۱ اسفند ۱۴۰۲ تا ۱۲ فروردین ۱۴۰۳")  # 20 March = 1 Farvardin
