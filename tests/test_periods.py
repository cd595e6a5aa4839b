from datetime import date

import pandas as pd
import pytest

from reporting.exceptions import ParamsError
from reporting.periods import parse_period


@pytest.mark.parametrize(
    "text, start, end, prev, ly",
    [
        ("2017-06", "2017-06-01", "2017-07-01", "2017-05", "2016-06"),
        ("2017-Q2", "2017-04-01", "2017-07-01", "2017-Q1", "2016-Q2"),
        ("2017", "2017-01-01", "2018-01-01", "2016", "2016"),
        ("2017-01-01..2017-06-30", "2017-01-01", "2017-07-01",
         "2016-07-04..2016-12-31", "2016-01-01..2016-06-30"),
        ("2016-03", "2016-03-01", "2016-04-01", "2016-02", "2015-03"),
    ],
)
def test_parse(text, start, end, prev, ly):
    p = parse_period(text)
    assert p.start == pd.Timestamp(start) and p.end == pd.Timestamp(end)
    assert p.label == text
    assert p.previous().label == prev
    assert p.last_year().label == ly


def test_last_complete_month():
    p = parse_period("last-complete-month", today=date(2026, 11, 28))
    assert p.label == "2026-10"
    assert parse_period("last-complete-month", today=date(2026, 1, 5)).label == "2025-12"


@pytest.mark.parametrize("bad", ["2017-13", "17-06", "2017-Q5", "2017-06-30..2017-01-01", "x"])
def test_bad_periods_are_clear(bad):
    with pytest.raises(ParamsError, match="period"):
        parse_period(bad)


def test_next_and_quarter_of_a_period():
    from reporting.periods import parse_period

    nov = parse_period("2026-11")
    assert (str(nov.next().start.date()), str(nov.next().end.date())) == ("2026-12-01",
                                                                           "2027-01-01")
    q = nov.quarter()
    assert (q.kind, str(q.start.date()), str(q.end.date())) == ("quarter", "2026-10-01",
                                                               "2027-01-01")
    assert parse_period("2026-Q4").next().label == "2027-Q1"
    r = parse_period("2026-01-01..2026-01-10")
    # a range includes its last day: 10 days from Jan 1, then the next 10
    assert (str(r.next().start.date()), str(r.next().end.date())) == ("2026-01-11",
                                                                     "2026-01-21")
