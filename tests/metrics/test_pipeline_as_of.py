"""Issue 11, items 1, 4 and 10 (metric part): the open pipeline as it was known at the
period end, one stale definition with per-stage thresholds, the load baseline applied, and
figures the data cannot support listed as not computable instead of rated.

Every expected value is worked out by hand in the comments."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from reporting import metrics as m
from reporting.cli import app
from reporting.engine.duckdb_summary import rep_summary_sql
from reporting.exceptions import ParamsError
from reporting.metrics import pipeline
from reporting.metrics.suite import analyse
from reporting.params import ReportSettings, load_settings
from reporting.periods import parse_period
from reporting.schema import empty_frame
from reporting.store import load, replace_all

from ..conftest import has_translation, shared

P = parse_period("2017-06")  # the as-of time is P.end = 2017-07-01
S = load_settings()


def opps(rows, cols=("opportunity_id", "owner", "team", "stage", "created_at", "closed_at",
                     "status", "amount", "last_activity_at")) -> pd.DataFrame:
    df = empty_frame("opportunities")
    add = pd.DataFrame(rows, columns=list(cols))
    df = pd.concat([df, add], ignore_index=True) if len(add) else df
    for c in ("created_at", "closed_at", "last_activity_at"):
        df[c] = pd.to_datetime(df[c]).astype("datetime64[us]")
    df["amount"] = df["amount"].astype(float)
    return df


def history(rows) -> pd.DataFrame:
    h = pd.DataFrame(rows, columns=["opportunity_id", "stage", "entered_at"])
    h["entered_at"] = pd.to_datetime(h["entered_at"]).astype("datetime64[us]")
    return h


# ------------------------------------------------------------------ item 1: no look-ahead

# five deals open on 2017-07-01 (created before, not closed before)
LOOK_AHEAD = [
    ("a", "ann", "T Inside", "S1", "2017-06-01", None, "open", 100.0, "2017-06-25"),
    ("b", "ann", "T Inside", "S1", "2017-06-01", None, "open", None, "2017-06-25"),
    ("c", "ann", "T Inside", "Won", "2017-06-01", "2017-07-20", "won", 500.0, "2017-07-19"),
    ("d", "ann", "T Inside", "Lost", "2017-06-01", "2017-08-01", "lost", 0.0, "2017-07-30"),
    ("e", "ann", "T Inside", "S2", "2017-06-01", None, "open", 300.0, "2017-06-25"),
    ("f", "ann", "T Inside", "Won", "2017-05-01", "2017-06-20", "won", 900.0, None),  # closed
]


def test_open_value_uses_only_amounts_known_at_the_period_end():
    o = opps(LOOK_AHEAD)
    known = pipeline.amount_as_of(o[o["opportunity_id"] != "f"], P.end)
    # a and e are still open: their amounts stand; b has none; c's 500 and d's 0 were set by
    # a win / loss after July 1, so their amounts then are unknown
    assert known.tolist()[0] == 100 and known.tolist()[4] == 300
    assert np.isnan(known.tolist()[1:4]).all()
    h = m.headline(o, P)
    assert h["open_count"] == 5
    # 3 of 5 unknown (60% > half): not computable, and never 100 + 300 = 400 nor 900
    assert h["open_amount"] is None
    assert h["open_amount_unknown_count"] == 3 and h["open_amount_unknown_share"] == 0.6
    # without d: 2 of 4 unknown (exactly half): the known part, 400, is shown
    h = m.headline(o[o["opportunity_id"] != "d"], P)
    assert h["open_amount"] == 400 and h["open_amount_unknown_count"] == 2
    # the old definition summed final amounts: 100 + 500 + 0 + 300 = 900 (b as 0)
    s = m.rep_summary(o, P).set_index("group")
    assert np.isnan(s.loc["ann", "open_amount"]) and s.loc["ann", "open_amount_unknown"] == 3


def test_a_deal_history_gives_the_value_then():
    """With ``opportunity_history`` versions, a deal the history covers at the as-of time
    is worth what its version then says; a deal it does not cover yet keeps the rule
    without history (current amount only while still open)."""
    o = opps(LOOK_AHEAD[:5])
    v = empty_frame("opportunity_history")
    rows = pd.DataFrame({
        "opportunity_id": ["c", "c", "a"],
        "valid_from": pd.to_datetime(["2017-06-05", "2017-07-20", "2017-07-02"]),
        "valid_to": pd.to_datetime(["2017-07-20", None, None]),
        "stage": ["S2", "Won", "S1"], "status": ["open", "won", "open"],
        "amount": [450.0, 500.0, 120.0],
        "stage_since": pd.to_datetime(["2017-06-05", "2017-07-20", "2017-07-02"])})
    v = pd.concat([v, rows], ignore_index=True).astype({"valid_from": "datetime64[us]",
                                                       "valid_to": "datetime64[us]",
                                                       "stage_since": "datetime64[us]"})
    d = pipeline.open_deals(o, P.end, deal_history=v).set_index("opportunity_id")
    # c: 450 in S2 on July 1 (500 came with the win); a: its history starts after July 1,
    # so the rule without history applies: still open now -> its amount, 100
    assert d.loc["c", "amount"] == 450 and d.loc["c", "stage"] == "S2"
    assert d.loc["a", "amount"] == 100
    # c entered S2 on June 5: 26 days in stage on July 1
    assert d.loc["c", "days_in_stage"] == 26
    h = m.headline(o, P, deal_history=v)
    # known: a 100 + c 450 + e 300 = 850; unknown b (no amount) and d (lost since) -> 2 of 5
    assert h["open_amount"] == 850 and h["open_amount_unknown_count"] == 2


def test_open_pipeline_counts_a_handed_over_deal_for_its_owner_then(tmp_path):
    """Deal h was ann's on July 1 and handed to bob on July 10 (still open): the open
    pipeline of June counts it for ann, in pandas and in SQL; bob owns nothing then. Its
    win of July stays bob's (current owner) in the closed figures of July."""
    rows = [("h", "bob", "T Inside", "S2", "2017-06-01", None, "open", 200.0, "2017-06-25"),
            ("e", "bob", "T Inside", "S1", "2017-06-02", None, "open", 50.0, "2017-06-25")]
    o = opps(rows)
    v = pd.DataFrame({
        "opportunity_id": ["h", "h", "e"],
        "valid_from": pd.to_datetime(["2017-06-01", "2017-07-10", "2017-06-02"]),
        "valid_to": pd.to_datetime(["2017-07-10", None, None]),
        "stage": ["S2", "S2", "S1"], "status": ["open", "open", "open"],
        "amount": [200.0, 200.0, 50.0], "owner": ["ann", "bob", "bob"],
        "stage_since": pd.to_datetime(["2017-06-01", "2017-06-01", "2017-06-02"])})
    v = pd.concat([empty_frame("opportunity_history"), v], ignore_index=True).astype(
        {"valid_from": "datetime64[us]", "valid_to": "datetime64[us]",
         "stage_since": "datetime64[us]"})
    op = m.open_pipeline(o, P.end, "owner", deal_history=v).set_index("group")
    assert op["open_count"].to_dict() == {"ann": 1, "bob": 1}
    assert op["open_amount"].to_dict() == {"ann": 200.0, "bob": 50.0}
    # the store derives its versions from evidence: the same states as snapshots
    snaps = v.rename(columns={"valid_from": "observed_at"})[
        ["opportunity_id", "observed_at", "stage", "status", "amount", "owner"]].assign(
        origin="export")
    store = tmp_path / "crm.duckdb"
    replace_all(store, {"opportunities": o.assign(region="R"), "opportunity_snapshots": snaps})
    con = duckdb.connect(str(store), read_only=True)
    got = rep_summary_sql(con, P, "owner").set_index("group")
    con.close()
    assert got["open_count"].to_dict() == {"ann": 1, "bob": 1}
    assert got["open_amount"].to_dict() == {"ann": 200.0, "bob": 50.0}
    # bob created both deals in June as their current owner: the created counts stay his
    assert got["created"].to_dict() == {"ann": 0, "bob": 2}


def test_metrics_cli_prints_null_for_an_amount_it_cannot_know(tmp_path):
    store = tmp_path / "crm.duckdb"
    replace_all(store, {"opportunities": opps(LOOK_AHEAD).assign(region="R")})
    con = duckdb.connect(str(store), read_only=True)
    got = rep_summary_sql(con, P, "owner")
    con.close()
    assert got["open_count"].tolist() == [5] and got["open_amount_unknown"].tolist() == [3]
    assert got["open_amount"].isna().all()
    res = CliRunner().invoke(app, ["metrics", "--period", "2017-06", "--store", str(store)])
    assert res.exit_code == 0, res.output
    row = json.loads(res.output)[0]
    assert row["open_amount"] is None and row["open_amount_unknown"] == 3


@pytest.fixture(scope="module")
def maven_store(tmp_path_factory):
    from reporting.ingest import ingest_paths

    path = tmp_path_factory.mktemp("maven") / "crm.duckdb"
    ingest_paths([shared("maven_crm")], "maven", path)
    return path


def test_maven_open_value_at_2017_09_30_no_longer_looks_ahead(maven_store):
    """On Maven, open deals carry no close_value and lost deals 0: the old as-of open value
    of a region was exactly what the deals open then were later won for."""
    p = parse_period("2017-09")
    d = load(maven_store, region="Central", until=p.end)
    o = d.opportunities
    open_then = o[(o["created_at"] < p.end) & (o["closed_at"].isna() | (o["closed_at"] >= p.end))]
    old = open_then["amount"].fillna(0).sum()  # the old definition, recomputed here
    later_won = open_then.loc[open_then["status"] == "won", "amount"].sum()
    assert old == later_won == 451_814  # measured before the change: `metrics --by region`
    h = m.headline(o, p, d.reps)
    assert h["open_count"] == len(open_then) == 781
    # every amount is unknown then: won / lost since, or still open without close_value
    assert h["open_amount_unknown_count"] == 781 and h["open_amount"] is None
    con = duckdb.connect(str(maven_store), read_only=True)
    sql = rep_summary_sql(con, p, "region").set_index("group")
    con.close()
    assert sql["open_amount"].isna().all()
    assert sql.loc["Central", "open_amount_unknown"] == 781


# ------------------------------------------------------------------ item 4: one stale rule

STALE = [
    # id, owner, team, stage (current), created, closed, status, amount, last activity
    ("n20", "ann", "T Inside", "Negotiation", "2017-05-01", None, "open", 1.0, "2017-06-11"),
    ("d20", "ann", "T Inside", "Discovery", "2017-05-01", None, "open", 1.0, "2017-06-11"),
    ("d50", "ann", "T Inside", "Discovery", "2017-04-01", None, "open", 1.0, "2017-05-12"),
    ("old", "bob", "T Inside", "Discovery", "2017-04-01", None, "open", 1.0, "2017-07-10"),
    ("new", "bob", "T Inside", "Discovery", "2017-06-21", None, "open", 1.0, "2017-07-10"),
    ("hst", "bob", "T Inside", "Closed Won", "2017-03-01", "2017-07-15", "won", 1.0, None),
]
STAGES = history([("hst", "Discovery", "2017-03-01"), ("hst", "Negotiation", "2017-06-21"),
                  ("hst", "Closed Won", "2017-07-15")])
RULE = {"default": 45, "Negotiation": 14}


def test_stale_rule_by_hand():
    d = pipeline.open_deals(opps(STALE), P.end, STAGES, RULE).set_index("opportunity_id")
    # idle days on July 1: n20 and d20 20 days (June 11), d50 50 days
    assert d.loc["n20", "stale_threshold_days"] == 14 and d.loc["n20", "stale"]  # 20 > 14
    assert not d.loc["d20", "stale"]  # 20 <= 45
    assert d.loc["d50", "stale"]  # 50 > 45
    # old: last activity July 10 (after the period end): the touch before it is unknown and
    # creation (91 days) would make it stale -> unknown, neither stale nor fresh
    assert d.loc["old", "stale_unknown"] and not d.loc["old", "stale"]
    # new: created June 21, 10 days before -> fresh whatever happened later
    assert not d.loc["new", "stale"] and not d.loc["new", "stale_unknown"]
    # hst: in Negotiation since June 21 on July 1 (history), won later: 10 days, threshold
    # 14 of the stage it was in then (not 'Closed Won')
    assert d.loc["hst", "stage"] == "Negotiation" and not d.loc["hst", "stale"]
    assert d.loc["hst", "stale_threshold_days"] == 14


def test_one_stale_definition_everywhere():
    """Headline, rep table, findings' figures and the rating all count the same deals."""
    settings = ReportSettings(**{**S.model_dump(), "stale_days": RULE})
    o = opps(STALE)
    a = analyse(o, P, settings, stage_history=STAGES,
                available={"stage_history": True, "reps": False})
    h = a.headline["current"]
    # stale: n20, d50 -> 2; unknown: old -> 1; known: 6 open - 1 = 5 -> 2 / 5 = 40%
    assert (h["stale_open_count"], h["stale_unknown_count"], h["open_count"]) == (2, 1, 6)
    assert h["stale_share"] == pytest.approx(0.4)
    assert a.summary["stale_open_count"].sum() == 2 == a.open_deals["stale"].sum()
    assert a.pipeline["stale"].sum() == 2
    per = a.summary.set_index("group")
    assert per.loc["ann", "stale_share"] == pytest.approx(2 / 3)  # n20, d50 of ann's 3
    assert per.loc["bob", "stale_share"] == pytest.approx(0.0)  # hst, new fresh; old unknown
    # velocity baseline: good <= 15%, bad > 30% -> 40% is bad
    assert a.ratings["stale_share"] == "bad"


def test_stale_days_mapping_is_validated(tmp_path):
    import shutil

    from ..conftest import PARAMS_DIR

    d = tmp_path / "params"
    shutil.copytree(PARAMS_DIR, d)
    (d / "report.yaml").write_text("stale_days: {Negotiation: 14}\n")
    with pytest.raises(ParamsError, match="stale_days.*default"):
        load_settings(d)
    (d / "report.yaml").write_text("stale_days: {default: 30, Negotiation: 14}\n")
    s = load_settings(d)
    assert s.stale_days == {"default": 30, "Negotiation": 14} and s.stale_default == 30
    assert load_settings().stale_default == 45  # a plain number still works


def test_load_baseline_is_applied():
    o = opps([(f"o{i}", "ann" if i < 6 else "bob", "T Inside", "S1", "2017-06-20", None,
               "open", 1.0, "2017-06-25") for i in range(9)])
    reps = pd.DataFrame({"rep_id": ["ann", "bob"], "capacity": [4.0, 2.0]})
    a = analyse(o, P, S, reps=reps, available={"reps": True})
    # ann 6 open / 4, bob 3 / 2: (6 + 3) / (4 + 2) = 1.5 > 1.2 (velocity 'bad')
    assert a.headline["current"]["load"] == pytest.approx(1.5)
    assert a.ratings["load"] == "bad"
    assert a.summary.set_index("group")["load"].to_dict() == {"ann": 1.5, "bob": 1.5}
    # without capacity: not computable, not rated
    a = analyse(o, P, S)
    assert a.headline["current"]["load"] is None and a.ratings["load"] is None
    assert a.missing["capacity"]


def test_sql_stale_per_stage_equals_pandas(demo_store):
    p = parse_period("2026-09")
    rule = {"default": 30, "Negotiation": 10, "Proposal": 20}
    data = load(demo_store, region="EMEA", until=p.end)
    expected = m.rep_summary(data.opportunities, p, None, "owner", rule,
                             data.stage_history, data.opportunity_history,
                             ).drop(columns=["capacity", "team"])
    con = duckdb.connect(str(demo_store), read_only=True)
    got = rep_summary_sql(con, p, "owner", region="EMEA", stale_days=rule)
    con.close()
    pd.testing.assert_frame_equal(got, expected.reset_index(drop=True), check_dtype=False,
                                  rtol=1e-9)
    assert got["stale_open_count"].sum() > 0


# ------------------------------------------------------------ item 10: not computable

NO_EVIDENCE = [
    # no activity dates, no stage history: only ages are known
    ("y1", "ann", "T Inside", "Prospecting", "2016-01-01", None, "open", 1.0, None),
    ("y2", "ann", "T Inside", "Engaging", "2016-01-01", None, "open", 1.0, None),
    ("w1", "ann", "T Inside", "Won", "2016-01-01", "2017-08-01", "won", 5.0, None),
    ("l1", "ann", "T Inside", "Lost", "2016-01-01", "2017-08-01", "lost", 0.0, None),
] + [(f"l{i}", "ann", "T Inside", "Lost", "2016-01-01", "2017-06-10", "lost", 0.0, None)
     for i in range(2, 8)]


def test_no_activity_and_no_history_is_not_rated():
    a = analyse(opps(NO_EVIDENCE), P, S, available={})
    h = a.headline["current"]
    # four deals open on July 1, each 547 days old: the old rule called all of them stale
    assert h["open_count"] == 4 and h["stale_open_count"] == 0
    assert h["stale_unknown_count"] == 4 and h["stale_share"] is None
    assert a.ratings.get("stale_share") is None
    assert "last_activity_at" in a.missing["stale_deals"]
    # six deals lost in June after 525 days: not 'lost when tired' from age alone
    assert h["lost_when_tired_share"] is None
    assert a.pipeline["lost_when_tired_share"].isna().all()
    assert not [f for f in a.findings if f.metric == "lost_when_tired_share"]
    assert a.missing["closed_when_tired"]
    # no stage history: no Won / Lost rows for deals open then, one row by age
    assert a.aging.index.tolist() == [pipeline.ALL_STAGES]
    assert a.aging.loc[pipeline.ALL_STAGES, ">365"] == 4
    assert a.missing["aging_by_stage"]


def test_maven_lists_what_it_cannot_support(maven_store):
    p = parse_period("2017-09")
    d = load(maven_store, region="Central", since=p.start - pd.DateOffset(months=13),
             until=p.end)
    a = analyse(d.opportunities, p, S, d.reps, d.stage_history, d.leads, d.revenue,
                d.accounts, d.available(), as_of=d.as_of)
    h = a.headline["current"]
    assert h["open_amount"] is None and h["stale_share"] is None
    for key in ("stale_share", "load", "lead_conversion"):
        assert a.ratings.get(key) is None, key
    for key in ("stale_deals", "closed_when_tired", "aging_by_stage", "capacity",
                "open_pipeline_value", "lead_conversion"):
        assert a.missing[key], key
    assert a.aging.index.tolist() == [pipeline.ALL_STAGES]
    assert "Won" not in a.aging.index and "Lost" not in a.aging.index


def test_every_not_computable_message_has_a_persian_translation():

    empty = opps([])
    figures = {"open_count": 4, "open_amount": None, "open_amount_unknown_count": 4,
               "stale_share": None, "stale_unknown_count": 4, "lead_conversion_mature": False,
               "lead_conversion_mature_on": pd.Timestamp("2017-07-12"),
               "lead_conversion_horizon_days": 11.0}
    msgs = list(m.requirements({}, empty).values())
    msgs += list(m.requirements({"leads": True}, opps(STALE), None, figures).values())
    for msg in filter(None, msgs):
        assert has_translation(getattr(msg, "template", msg), "fa"), msg
