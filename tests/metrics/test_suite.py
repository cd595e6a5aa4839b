"""The whole metrics suite on edge cases, and invariants of the per-rep figures."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reporting.metrics import rep_summary
from reporting.metrics.suite import analyse
from reporting.params import load_settings
from reporting.periods import parse_period
from reporting.schema import empty_frame

P = parse_period("2017-06")
S = load_settings()


def opps(rows):
    df = empty_frame("opportunities")
    add = pd.DataFrame(rows, columns=["opportunity_id", "owner", "team", "created_at",
                                      "closed_at", "status", "amount"])
    df = pd.concat([df, add], ignore_index=True) if len(add) else df
    for c in ("created_at", "closed_at", "last_activity_at"):
        df[c] = pd.to_datetime(df[c]).astype("datetime64[us]")
    return df


CASES = {
    "no data": [],
    "all open": [("a", "ann", "T Inside", "2017-05-01", None, "open", 10.0),
                 ("b", "bob", "T Inside", "2017-06-03", None, "open", 0.0)],
    "no closed deals in the period": [
        ("a", "ann", "T Inside", "2017-01-01", "2017-02-01", "won", 10.0)],
    "one rep": [("a", "ann", "T Inside", "2017-05-01", "2017-06-02", "won", 10.0),
                ("b", "ann", "T Inside", "2017-05-01", "2017-06-05", "lost", 0.0)],
    "zero amounts": [("a", "ann", "T Inside", "2017-05-01", "2017-06-02", "won", 0.0),
                     ("b", "bob", "T Inside", "2017-05-01", "2017-06-05", "won", 0.0)],
}


@pytest.mark.parametrize("case", list(CASES))
def test_suite_handles_edge_cases(case):
    a = analyse(opps(CASES[case]), P, S)
    h = a.headline["current"]
    if case in ("no data", "all open", "no closed deals in the period"):
        assert h["win_rate"] is None and h["won"] == 0
    if case == "all open":
        assert h["open_count"] == 2 and a.win_rates.empty
    if case == "one rep":
        assert h["win_rate"] == 0.5 and a.summary["group"].tolist() == ["ann"]
        assert a.ratings["win_rate"] == "too few deals to judge"
    if case == "zero amounts":
        assert h["avg_won_amount"] == 0 and a.band_edges == {}  # nothing to band
    # What is missing, worked out from the fixture: only opportunities, with no
    # last_activity_at, and no reps, leads, stage history, accounts or revenue.
    no_table = {
        "account_value": "revenue and accounts tables",
        "stale_deals": "no last_activity_at and there is no stage history",
        "closed_when_tired": "needs last_activity_at",
        "capacity": "reps table with capacity",
        "stage_funnel": "stage_history table",
        "aging_by_stage": "stage_history table",
        "lead_conversion": "leads table",
    }
    from_opps = ("win_rate", "cycle_length", "deal_size", "open_pipeline")
    assert set(a.missing) == set(no_table) | set(from_opps)
    for name, why in no_table.items():
        assert why in a.missing[name], name
    if case == "no data":
        assert {k: a.missing[k] for k in from_opps} == {
            "win_rate": "no opportunities", "cycle_length": "no opportunities",
            "deal_size": "opportunities have no amount column",
            "open_pipeline": "no opportunities"}
    else:  # every one of these has deals with amounts
        assert {k: a.missing[k] for k in from_opps} == dict.fromkeys(from_opps)
    # a metric that is not computable is never rated
    assert a.ratings.get("stale_share") is None and a.ratings.get("load") is None
    assert a.ratings.get("lead_conversion") is None


@st.composite
def frames(draw):
    n = draw(st.integers(1, 30))
    rows = []
    for i in range(n):
        created = pd.Timestamp("2017-01-01") + pd.Timedelta(days=draw(st.integers(0, 200)))
        status = draw(st.sampled_from(["open", "won", "lost"]))
        closed = None if status == "open" else created + pd.Timedelta(days=draw(st.integers(0, 90)))
        rows.append((f"o{i}", draw(st.sampled_from(["a", "b", "c"])), "T Inside", created,
                     closed, status, float(draw(st.integers(0, 5000)))))
    return opps(rows)


@settings(max_examples=40, deadline=None)
@given(frames(), st.integers(1, 20))
def test_rows_outside_the_period_change_nothing(df, n_later):
    """Deals created after the period end are invisible to every as-of figure."""
    later = df.head(n_later).assign(
        opportunity_id=lambda d: d["opportunity_id"] + "_later",
        created_at=P.end + pd.Timedelta(days=3),
        closed_at=lambda d: d["closed_at"].where(d["closed_at"].isna(), P.end + pd.Timedelta(days=9)),
    )
    base = rep_summary(df, P)
    more = rep_summary(pd.concat([df, later], ignore_index=True), P)
    pd.testing.assert_frame_equal(base, more)
