"""Issue 11, items 2, 7, 11 and 12 (parts): customer value on every account in scope,
band references tied to where they were learned, discounted lifetime value, titles by
period, zero-amount wins and a histogram that shows every deal.

Fixtures are small and their answers are worked out by hand in the comments."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from reporting import store as _store
from reporting.exceptions import ParamsError
from reporting.metrics import clv
from reporting.metrics.suite import analyse, apply_band_edges
from reporting.models.backtest import discounted_value
from reporting.models.reference import (
    MIN_DRIFT_DEALS,
    TOO_FEW_DEALS,
    band_drift,
    band_key,
    band_shares,
    select_reference,
)
from reporting.params import load_settings
from reporting.periods import parse_period
from reporting.plots import deal_size_histogram, histogram_bins
from reporting.presentation import report_title
from reporting.schema import empty_frame

from ..conftest import has_translation, shared

T = pd.Timestamp


def table(name: str, rows: list[dict]) -> pd.DataFrame:
    df = pd.concat([empty_frame(name), pd.DataFrame(rows)], ignore_index=True)
    for c, dtype in empty_frame(name).dtypes.items():
        if str(dtype).startswith("datetime"):
            df[c] = pd.to_datetime(df[c]).astype("datetime64[us]")
    return df


# --------------------------------------------------------------------------- item 2

def revenue(rows):
    return table("revenue", [{"revenue_id": f"r{i}", "account_id": a, "date": d, "amount": m,
                              "kind": k} for i, (a, d, m, k) in enumerate(rows)])


ACCOUNTS = pd.DataFrame({"account_id": ["A", "B", "C", "D"],
                         "acquired_by": ["ann", "ann", "bob", "bob"],
                         "account_manager": ["kim", "kim", "lee", "lee"], "industry": "x"})
REVENUE = revenue([
    ("A", "2015-01-01", 1000.0, "new"),       # churned: nothing since 2015
    ("B", "2016-01-01", 300.0, "new"),        # active: renewal in Dec 2017
    ("B", "2016-06-01", 100.0, "expansion"),
    ("B", "2017-12-10", 200.0, "renewal"),
    ("C", "2017-11-01", 500.0, "new"),        # young: 2 months old
    ("D", "2016-09-01", 400.0, "new"),        # churned, one year and four months old
    ("D", "2017-11-15", 0.0, "one-off"),      # a zero line is revenue booked, not a payment
])


def test_customer_headline_uses_every_account_by_hand():
    dec = parse_period("2017-12")
    h = clv.customer_headline(REVENUE, ACCOUNTS, dec)
    # customers with revenue before 2018-01-01: A, B, C, D
    assert h["customers"] == 4
    # a year old at 2018-01-01: A (2015), B (2016-01), D (2016-09); C is 61 days old
    # no revenue in the last 365 days: A; D's last line (2017-11-15, zero) is recent
    assert (h["mature_accounts"], h["churned_accounts"]) == (3, 1)
    assert h["churn_rate"] == pytest.approx(1 / 3)
    # revenue in December: B's 200 from one paying account
    assert (h["revenue_in_period"], h["paying_accounts"], h["avg_account_value"]) == (
        200.0, 1, 200.0)
    # to date: (1000 + 600 + 500 + 400) / 4 = 625
    assert h["value_to_date_per_account"] == 625.0
    # November on the same basis: C 500 + D 0 = 500 over 2 accounts, not a cumulative figure
    nov = clv.customer_headline(REVENUE, ACCOUNTS, parse_period("2017-11"))
    assert (nov["avg_account_value"], nov["paying_accounts"]) == (250.0, 2)


def test_acquirer_value_is_normalised_for_account_age_by_hand():
    until = T("2018-01-01")
    hist = clv.account_history(REVENUE, ACCOUNTS, until)
    acq = clv.value_by_person(hist, "acquired_by").set_index("person")
    # ann: A 1000 over 1096 days (3.0027 years), B 600 over 731 days (2.0027 years)
    assert acq.loc["ann", "value_per_account_year"] == pytest.approx(
        1600 / (1096 / 365 + 731 / 365))
    # first year: A 1000, B 300 + 100 (the 2017-12 renewal is in its third year) -> 700
    assert acq.loc["ann", "first_year_value"] == 700
    # bob: C 500 is 61 days old and counts as one account-year; D 400 over 487 days
    assert acq.loc["bob", "value_per_account_year"] == pytest.approx(900 / (1 + 487 / 365))
    # only D is a year old: its first year (2016-09-01 .. 2017-08-31) is 400
    assert (acq.loc["bob", "mature_accounts"], acq.loc["bob", "first_year_value"]) == (1, 400)
    # revenue to date per account still there, labelled as such: ann (1000 + 600) / 2
    assert acq.loc["ann", "avg_value"] == 800


@pytest.fixture()
def small_store(tmp_path):
    """Two EMEA accounts: X with a deal in 2017, Y whose only deal was in 2015."""
    opps = table("opportunities", [
        {"opportunity_id": "o1", "account_id": "X", "owner": "ann", "team": "EMEA Inside",
         "region": "EMEA", "created_at": "2017-05-01", "closed_at": "2017-06-01",
         "status": "won", "amount": 100.0},
        {"opportunity_id": "o2", "account_id": "Y", "owner": "ann", "team": "EMEA Inside",
         "region": "EMEA", "created_at": "2015-01-01", "closed_at": "2015-02-01",
         "status": "won", "amount": 100.0},
        {"opportunity_id": "o3", "account_id": "Z", "owner": "bob", "team": "US",
         "region": "US", "created_at": "2015-01-01", "closed_at": "2015-02-01",
         "status": "won", "amount": 100.0},
    ])
    acc = table("accounts", [{"account_id": a, "region": r, "acquired_by": "ann"}
                             for a, r in (("X", "EMEA"), ("Y", "EMEA"), ("Z", "US"))])
    rev = revenue([("X", "2017-06-01", 100.0, "new"), ("Y", "2015-02-01", 100.0, "new"),
                   ("Z", "2015-02-01", 100.0, "new")])
    path = tmp_path / "crm.duckdb"
    _store.replace_all(path, {"opportunities": opps, "accounts": acc, "revenue": rev})
    return path


def test_load_customers_keeps_accounts_without_a_recent_deal(small_store):
    p = parse_period("2017-12")
    window = _store.load(small_store, region="EMEA", since=p.start - pd.DateOffset(months=13),
                         until=p.end)
    assert set(window.accounts["account_id"]) == {"X"}  # Y, the churned one, drops out
    acc, rev = _store.load_customers(small_store, region="EMEA", until=p.end)
    assert set(acc["account_id"]) == {"X", "Y"} and set(rev["account_id"]) == {"X", "Y"}
    h = clv.customer_headline(rev, acc, p)
    assert (h["mature_accounts"], h["churned_accounts"]) == (1, 1)  # Y; X is 7 months old
    assert clv.customer_headline(window.revenue, window.accounts, p)["churn_rate"] is None


def test_demo_churn_counts_the_churned_customers(demo_store):
    """On the demo, EMEA churn read on the accounts with a deal in the last 13 months is
    lower than on every EMEA customer (this small test demo: 31.1% -> 31.7%; the full-size
    `crm-report demo-data` store, 2026-10: 30.8% -> 40.0%, 823 -> 1,153 customers)."""
    p = parse_period("2026-10")
    window = _store.load(demo_store, region="EMEA", since=p.start - pd.DateOffset(months=13),
                         until=p.end)
    acc, rev = _store.load_customers(demo_store, region="EMEA", until=p.end)
    before = clv.customer_headline(window.revenue, window.accounts, p)
    after = clv.customer_headline(rev, acc, p)
    assert after["customers"] > before["customers"]
    assert after["churned_accounts"] > before["churned_accounts"]
    assert after["churn_rate"] > before["churn_rate"]


# --------------------------------------------------------------------------- item 7

def ref(store_id, learned_end, edges=(10.0, 100.0), shares=(0.5, 0.25, 0.25), deals=40):
    key = band_key("/s/crm.duckdb", store_id, {"*": "default"})
    end = T(learned_end)
    return {"learned_on": "x", "key": key, "window": "w",
            "window_start": (end - pd.DateOffset(months=12)).isoformat(),
            "window_end": end.isoformat(), "edges": {"default": list(edges)},
            "shares": {"default": list(shares)}, "deals": {"default": deals}}


def test_reference_is_chosen_by_store_profiles_and_period_end():
    refs = [ref("s1", "2026-08-01"), ref("s1", "2026-11-01"), ref("s2", "2026-08-01")]
    key = refs[0]["key"]
    # 2026-10 ends 2026-11-01: the reference learned for it (window ended then) is newest
    assert select_reference(refs, key, parse_period("2026-10")) is refs[1]
    # 2026-09 ends 2026-10-01: the November reference would apply later edges; use August's
    assert select_reference(refs, key, parse_period("2026-09")) is refs[0]
    # before every reference: none (a fresh one is learned)
    assert select_reference(refs, key, parse_period("2026-06")) is None
    # another store, or another profile set, never matches
    other = band_key("/s/crm.duckdb", "s3", {"*": "default"})
    assert select_reference(refs, other, parse_period("2026-10")) is None
    profiles = band_key("/s/crm.duckdb", "s1", {"* Inside": "velocity", "*": "default"})
    assert select_reference(refs, profiles, parse_period("2026-10")) is None


def won(rows):
    return pd.DataFrame([{"closed_at": T(d), "amount": a} for d, a in rows])


def test_drift_is_judged_against_a_window_without_the_period_by_hand():
    # edges 10 / 100; baseline (12 months before October): 20 small, 10 medium, 10 large
    # -> r = 0.5, 0.25, 0.25; October: 10 small, 10 medium, 20 large -> c = .25, .25, .5
    # PSI = (.25 - .5) ln(.25/.5) + 0 + (.5 - .25) ln(.5/.25) = 0.5 ln 2 = 0.3466
    base = [("2026-03-01", 5)] * 20 + [("2026-04-01", 50)] * 10 + [("2026-05-01", 500)] * 10
    octo = [("2026-10-05", 5)] * 10 + [("2026-10-06", 50)] * 10 + [("2026-10-07", 500)] * 20
    w = won(base + octo)
    prof = pd.Series("default", index=w.index)
    # a reference learned for October itself contains October: not its own baseline
    r = ref("s1", "2026-11-01", shares=(0.25, 0.25, 0.5))
    d = band_drift(r, w, prof, parse_period("2026-10"))["default"]
    assert d["psi"] == pytest.approx(0.5 * math.log(2))
    assert d["verdict"] == "refresh the reference" and "12 months before" in d["baseline"]
    # a reference that ended by the period start is its own baseline: same shares -> 0
    r = ref("s1", "2026-10-01", shares=(0.25, 0.25, 0.5))
    d = band_drift(r, w, prof, parse_period("2026-10"))["default"]
    assert d["psi"] == pytest.approx(0.0) and "reference window" in d["baseline"]


def test_drift_on_a_handful_of_deals_says_too_few():
    w = won([("2026-03-01", 5)] * 40 + [("2026-10-05", 50)] * (MIN_DRIFT_DEALS - 1))
    d = band_drift(ref("s1", "2026-11-01"), w, pd.Series("default", index=w.index),
                   parse_period("2026-10"))["default"]
    assert d["psi"] is None and d["verdict"] == TOO_FEW_DEALS == "too few deals"
    assert d["deals"] == MIN_DRIFT_DEALS - 1 and has_translation(TOO_FEW_DEALS, "fa")


def test_another_store_and_an_earlier_period_get_their_own_reference(demo_store, tmp_path):
    from reporting.batch import build_artifacts, reference_path, store_identity
    from reporting.ingest import ingest_paths

    reports = tmp_path / "reports"
    refs = reference_path(reports)
    demo_oct = json.loads(build_artifacts(
        demo_store, parse_period("2026-10"), None, reports / "2026-10" / "_run" / "a.json",
        reference=refs).read_text())
    assert demo_oct["band_reference"]["window_end"] == "2026-11-01T00:00:00"
    # an earlier period never reuses October's edges: it learns its own, on its own window
    demo_jun = json.loads(build_artifacts(
        demo_store, parse_period("2026-06"), None, reports / "2026-06" / "_run" / "a.json",
        reference=refs).read_text())
    assert demo_jun["band_reference"]["window_end"] == "2026-07-01T00:00:00"
    assert demo_jun["band_edges"] != demo_oct["band_edges"]
    # Maven in the same reports folder: its own store, its own (default-profile) bands;
    # with the demo's reference it got none
    maven = tmp_path / "maven.duckdb"
    ingest_paths([shared("maven_crm")], "maven", maven)
    mv = json.loads(build_artifacts(
        maven, parse_period("2017-06"), None, reports / "2017-06" / "_run" / "a.json",
        reference=refs).read_text())
    assert mv["band_reference"]["store_id"] == store_identity(maven)[1]
    assert mv["band_reference"]["store_id"] != demo_oct["band_reference"]["store_id"]
    assert list(mv["band_edges"]) == ["default"] and len(mv["band_edges"]["default"]) == 2
    assert len(json.loads(refs.read_text())["references"]) == 3


# --------------------------------------------------------------------------- item 11

class _Purchases:
    """A stand-in for a fitted BG/NBD: ``expected_purchases`` follows a fixed schedule."""

    def __init__(self, schedule):
        self.schedule = schedule  # months -> cumulative purchases

    def expected_purchases(self, t, x, tx, T):
        months = round(t / (30.4375 / 7))
        return np.full(len(x), float(self.schedule(months)))


def _info(schedule, spend=100.0):
    rfm = pd.DataFrame({"frequency": [1.0], "recency": [1.0], "T": [2.0]}, index=["c1"])
    return {"bgnbd": _Purchases(schedule), "rfm": rfm, "spend": pd.Series([spend], ["c1"])}


def test_lifetime_value_is_discounted_month_by_month_by_hand():
    pred = pd.Series([100.0], index=["c1"])
    # one purchase of 100, in month 12, at 10% a year: 100 / 1.1 = 90.909...
    v = discounted_value(pred, _info(lambda m: 1.0 if m >= 12 else 0.0), 12, 0.10)
    assert v["c1"] == pytest.approx(100 / 1.1)
    # one purchase a month of 100, over 2 months, at a rate where a month halves the
    # value ((1 + r) ** (1 / 12) = 2): 100 / 2 + 100 / 4 = 75
    v = discounted_value(pred, _info(lambda m: float(m)), 2, 2.0 ** 12 - 1)
    assert v["c1"] == pytest.approx(75.0)
    # models without a time profile: 1200 spread over 2 months at that rate: 600/2 + 600/4
    v = discounted_value(pd.Series([1200.0], index=["c1"]), {}, 2, 2.0 ** 12 - 1)
    assert v["c1"] == pytest.approx(450.0)


def test_discount_settings_are_validated(tmp_path):
    s = load_settings()
    assert (s.clv.discount_rate, s.clv.horizon_months) == (0.10, 12)
    (tmp_path / "report.yaml").write_text("clv: {discount_rate: 1.5}\n")
    with pytest.raises(ParamsError, match=r"clv\.discount_rate"):
        load_settings(tmp_path)
    (tmp_path / "report.yaml").write_text("clv: {horizon_months: 0}\n")
    with pytest.raises(ParamsError, match=r"clv\.horizon_months"):
        load_settings(tmp_path)


# --------------------------------------------------------------------------- item 12

def test_titles_follow_the_period_kind():
    t = "Monthly Sales Report"
    assert report_title(t, parse_period("2026-10")) == "Monthly Sales Report"
    assert report_title(t, parse_period("2026-Q3")) == "Quarterly Sales Report"
    assert report_title(t, parse_period("2026")) == "Annual Sales Report"
    assert report_title(t, parse_period("2026-01-01..2026-06-30")) == "Sales Report"
    assert report_title("Monthly Pipeline Review", parse_period("2026-Q3")) == \
        "Quarterly Pipeline Review"
    assert report_title("Board Pack", parse_period("2026-Q3")) == "Board Pack"
    for title in ("Quarterly Sales Report", "Annual Sales Report", "Sales Report"):
        assert has_translation(title, "fa")


def opps(rows):
    return table("opportunities", [
        {"opportunity_id": f"o{i}", "owner": o, "team": "EMEA Inside", "created_at": "2017-05-01",
         "closed_at": "2017-06-10", "status": "won", "amount": a}
        for i, (o, a) in enumerate(rows)])


def test_zero_amount_wins_count_in_deal_size_and_in_the_bands_by_hand():
    o = opps([("ann", 0.0), ("ann", 20.0), ("bob", 100.0), ("bob", 1000.0), ("bob", None)])
    s = load_settings()
    a = analyse(o, parse_period("2017-06"), s, band_edges={"velocity": [50.0, 500.0]})
    h = a.headline["current"]
    # deal size over the 4 wins with an amount: (0 + 20 + 100 + 1000) / 4 = 280
    assert h["avg_won_amount"] == 280.0 and h["median_won_amount"] == 60.0
    # bands over the same 4 wins: 0 and 20 small, 100 medium, 1000 large; None unknown
    assert a.bands.tolist() == ["small", "small", "medium", "large", None]
    mix = a.band_mix.set_index(["group", "band"])
    assert mix.loc[("ann", "small"), "won"] == 2  # ann's zero-amount win is in her mix
    team = a.band_mix.drop_duplicates("band").set_index("band")["team_share"]
    assert team.to_dict() == {"large": 0.25, "medium": 0.25, "small": 0.5}
    assert band_shares(o["amount"], [50.0, 500.0]) == [0.5, 0.25, 0.25]
    assert apply_band_edges(pd.Series([-5.0]), pd.Series(["velocity"]),
                            {"velocity": [50.0, 500.0]}).tolist() == [None]


def _histogram_total(ax) -> int:
    return int(sum(p.get_height() for p in ax.patches))


def test_histogram_shows_every_deal():
    # log10(0.123456789) round-trips through logspace to a hair above the amount: the old
    # bins np.logspace(log10(min), log10(max * 1.001), 30) started above the smallest deal
    a = pd.Series([0.123456789, 0.123456789 * 3.7, 0.123456789 * 1000.3])
    old = np.logspace(np.log10(a.min()), np.log10(a.max() * 1.001), 30)
    assert old[0] > a.min()
    assert histogram_bins(a)[0] <= a.min() and histogram_bins(a)[-1] >= a.max()
    # every deal, zero-amount wins in a bar of their own; a missing amount is no deal size
    ax = deal_size_histogram(pd.concat([a, pd.Series([0.0, 0.0, np.nan])]), [0.3, 30.0])
    assert _histogram_total(ax) == 5


def test_histogram_shows_every_won_deal_of_the_salesforce_sample():
    raw = pd.read_csv(shared("salesforce_sample") / "salesforce_data.csv")
    amounts = raw.loc[raw["Won"].astype(str).str.upper() == "TRUE", "Amount"]
    amounts = pd.to_numeric(amounts, errors="coerce").dropna()
    ax = deal_size_histogram(amounts)
    assert _histogram_total(ax) == len(amounts)  # the old bins dropped the 109.2 deal


def test_a_profile_missing_from_the_reference_is_said_not_silent():
    o = opps([("ann", 10.0), ("bob", 100.0)])
    a = analyse(o, parse_period("2017-06"), load_settings(),
                band_edges={"enterprise": [50.0, 500.0]})  # EMEA Inside is 'velocity'
    assert a.bands.isna().all() and "velocity" in a.band_notes
    assert "not banded" in a.band_notes["velocity"]


def test_report_lifetime_value_is_discounted_and_states_its_basis():
    """On the public CDNOW sample as a revenue table: the summary states horizon and rate,
    the 8 zero-value lines are counted, and the discounted total lies between the
    undiscounted one and the undiscounted total / 1.1 (a year of revenue at 10% a year)."""
    from reporting.models.backtest import _canonical, fit_predict
    from reporting.models.reference import clv_reference

    tx = pd.read_csv("tests/data/CDNOW_sample.txt.gz", sep=r"\s+", header=None,
                     names=["master", "account_id", "date", "cds", "amount"], dtype={"date": str})
    tx = tx.assign(date=pd.to_datetime(tx["date"], format="%Y%m%d"))
    end = T("1998-01-01")
    pred, summary = clv_reference(tx, end, horizon_months=12, discount_rate=0.10)
    assert (summary["horizon_months"], summary["discount_rate"]) == (12, 0.10)
    assert summary["excluded_lines"] == 8 and summary["discounted"]
    positive = _canonical(tx[tx["amount"] > 0], "account_id", "date", "amount")
    plain, _ = fit_predict(positive, end - pd.Timedelta(days=1), summary["horizon_days"],
                           summary["model"])
    assert plain.sum() / 1.1 < pred.sum() < plain.sum()


def test_a_broken_reference_file_is_a_clear_error(demo_store, tmp_path):
    from reporting.batch import band_reference

    bad = tmp_path / "bands.json"
    bad.write_text("{not json")
    with pytest.raises(ParamsError, match="bands.json is not a deal-size band reference"):
        band_reference(demo_store, parse_period("2026-10"), None, bad)


@pytest.mark.parametrize("ids", ["strings", "integers"])
def test_the_reference_on_account_codes_is_the_reference_on_the_ids(ids, monkeypatch):
    """clv_reference fits its candidates on integer codes of the account ids (in their
    sorted order) and maps the predictions back: the same predictions, index (values,
    dtype, name) and summary to the last bit as on the ids themselves, for string ids
    and for the integer ids of the public CDNOW sample."""
    from reporting.models import reference

    tx = pd.read_csv("tests/data/CDNOW_sample.txt.gz", sep=r"\s+", header=None,
                     names=["master", "account_id", "date", "cds", "amount"], dtype={"date": str})
    tx = tx.assign(date=pd.to_datetime(tx["date"], format="%Y%m%d"))
    if ids == "strings":  # not in numeric order as text: "C-10" sorts before "C-9"
        tx = tx.assign(account_id="C-" + tx["account_id"].astype(str))
    end = T("1998-01-01")
    coded, coded_summary = reference.clv_reference(tx, end)
    monkeypatch.setattr(reference, "_account_codes", lambda rev: (rev, None))
    plain, plain_summary = reference.clv_reference(tx, end)
    pd.testing.assert_series_equal(coded, plain, check_exact=True)
    assert coded.index.dtype == plain.index.dtype == tx["account_id"].dtype
    assert coded_summary == plain_summary and coded_summary.get("model")
