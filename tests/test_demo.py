"""Tests of the synthetic demo data: shape, determinism, integrity and planted stories."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reporting.demo import PLANTED, REGIONS, generate
from reporting.schema import REVENUE_KINDS, STATUSES, TABLES

END = dt.date(2026, 10, 31)
END_TS = pd.Timestamp(END)
SEED = 7
SCALE = 0.5  # teams keep >= 3 reps, so small scales mostly thin out each rep's data
ORDER = ["Qualification", "Discovery", "Proposal", "Negotiation", "Closed Won", "Closed Lost"]
STAGES = set(ORDER)


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    return generate(seed=SEED, scale=SCALE, end=END)


@pytest.fixture(scope="module")
def data_full() -> dict[str, pd.DataFrame]:
    """Scale 1: enough Enterprise accounts per account manager for revenue comparisons."""
    return generate(seed=SEED, scale=1.0, end=END)


def _days(td: pd.Series) -> pd.Series:
    return td.dt.total_seconds() / 86_400


def _team_of(data, rep: str) -> str:
    reps = data["reps"]
    return reps.loc[reps["rep_id"] == rep, "team"].item()


def _team_reps(data, team: str) -> pd.Index:
    reps = data["reps"]
    return pd.Index(reps.loc[reps["team"] == team, "rep_id"])


# --- API, determinism, columns ----------------------------------------------------------
# The team each planted story is told in, as the comment above demo._PLANTED_TEAM gives
# it (EMEA and LATAM two stories each, North America three, APAC none: the control region).
PLANTED_TEAMS = {
    "many_deals_long_cycles": "EMEA Mid-Market",
    "bloated_stale_pipeline": "EMEA Inside",
    "mostly_small_deals": "North America Mid-Market",
    "won_customers_churn_fast": "LATAM Inside",
    "expanding_account_manager": "North America Enterprise",
    "deals_slip_quarter_after_quarter": "LATAM Enterprise",
    "bookings_collapsed_behind_quota": "North America Inside",
}


@pytest.mark.parametrize("seed", [1, 2])
def test_public_constants(seed):
    """REGIONS is what the generator makes, in its order, and PLANTED names reps that exist
    under the same names whatever the seed, each in its story's team, none in APAC."""
    d = generate(seed=seed, scale=0.05, end=END)
    reps = d["reps"].set_index("rep_id")
    assert sorted(REGIONS) == ["APAC", "EMEA", "LATAM", "North America"]  # the docstring's 4
    assert tuple(dict.fromkeys(reps["region"])) == REGIONS  # reps are drawn region by region
    assert set(d["opportunities"]["region"]) == set(REGIONS)
    assert set(d["accounts"]["region"]) == set(REGIONS)
    assert {story: reps.loc[rep, "team"] for story, rep in PLANTED.items()} == PLANTED_TEAMS
    assert "APAC" not in {reps.loc[rep, "region"] for rep in PLANTED.values()}
    owners = d["opportunities"]["owner"].value_counts()
    assert all(owners.get(rep, 0) > 0 for rep in PLANTED.values())  # each one owns deals
    assert len(set(PLANTED.values())) == len(PLANTED) == 7


def test_deterministic(data):
    again = generate(seed=SEED, scale=SCALE, end=END)
    assert list(again) == list(data)
    for name in data:
        pd.testing.assert_frame_equal(again[name], data[name])
    other = generate(seed=SEED + 1, scale=SCALE, end=END)
    assert not other["opportunities"]["amount"].equals(data["opportunities"]["amount"])


def test_columns_and_dtypes(data):
    assert set(data) == set(TABLES)
    for name, frame in data.items():
        assert list(frame.columns) == TABLES[name].columns, name
        for f in TABLES[name].fields:
            col = frame[f.name]
            if f.kind == "datetime":
                assert col.dtype == "datetime64[us]", (name, f.name)
            elif f.kind in ("float", "int"):
                assert col.dtype == "float64", (name, f.name)
            elif f.kind == "bool":  # the generator knows every flag: no missing values
                assert col.dtype == bool, (name, f.name)
            else:  # object columns holding text (None where missing), what the store reads
                assert col.dtype == object, (name, f.name)
                assert col.dropna().map(type).eq(str).all(), (name, f.name)
            if f.required:
                assert col.notna().all(), (name, f.name)


def test_default_end_is_today():
    today = dt.datetime.now(dt.UTC).date()
    d = generate(seed=1, scale=0.02)
    opp = d["opportunities"]
    assert opp["created_at"].max() <= pd.Timestamp(today)
    assert opp["created_at"].min() >= pd.Timestamp(today) - pd.DateOffset(years=3)


# --- size and structure -----------------------------------------------------------------
def test_reps_and_teams(data):
    reps = data["reps"]
    assert reps["rep_id"].is_unique and reps["name"].is_unique
    assert (reps["rep_id"] == reps["name"]).all()
    assert set(reps["region"]) == set(REGIONS)
    assert reps["team"].nunique() == 12
    for team, region in reps.groupby("team")["region"].first().items():
        assert team.startswith(region + " ")
        assert team.split(" ", len(region.split()))[-1] in ("Inside", "Mid-Market", "Enterprise")
    assert reps.groupby("team").size().min() >= 3
    assert reps["manager"].notna().all()
    assert not set(reps["manager"]) & set(reps["rep_id"])
    assert set(PLANTED.values()) <= set(reps["rep_id"])
    planted_regions = reps.set_index("rep_id").loc[list(PLANTED.values()), "region"]
    assert planted_regions.value_counts().max() >= 2
    ent = reps["team"].str.endswith("Enterprise")
    assert reps.loc[ent, "capacity"].between(12, 20).all()
    assert reps.loc[~ent, "capacity"].between(25, 40).all()


def test_size_at_scale_one(data_full):
    d = data_full
    opp, reps = d["opportunities"], d["reps"]
    assert 15_000 <= len(opp) <= 25_000
    assert 36 <= len(reps) <= 44
    assert reps.groupby("team").size().between(3, 4).all()
    assert 2 <= len(d["leads"]) / len(opp) <= 4


def test_business_profiles(data):
    opp = data["opportunities"]
    ent = opp["team"].str.endswith("Enterprise")
    closed = opp[opp["status"] != "open"]
    win_rate = (closed["status"] == "won").mean()
    assert 0.2 <= win_rate <= 0.35
    by_source = (closed["status"] == "won").groupby(closed["source"]).mean()
    assert by_source["Referral"] > by_source["Outbound"] + 0.1
    won = opp[opp["status"] == "won"]
    cycle = _days(won["closed_at"] - won["created_at"])
    w_ent = won["team"].str.endswith("Enterprise")
    assert 10 <= cycle[~w_ent].median() <= 45
    assert 60 <= cycle[w_ent].median() <= 240
    assert 1_000 <= won.loc[~w_ent, "amount"].median() <= 5_000
    assert 40_000 <= won.loc[w_ent, "amount"].median() <= 400_000
    assert ent.mean() < 0.2
    # funnel: lost deals drop out at every stage (distinct stages: a deal that moved back
    # a stage, or was reopened, enters a stage twice)
    sh = data["stage_history"]
    lost_ids = opp.loc[opp["status"] == "lost", "opportunity_id"]
    last_open_stage = (
        sh[sh["opportunity_id"].isin(lost_ids) & ~sh["stage"].isin(["Closed Lost", "Closed Won"])]
        .groupby("opportunity_id")["stage"]
        .nunique()
    )
    assert set(last_open_stage.unique()) == {1, 2, 3, 4}


def test_seasonality(data):
    opp = data["opportunities"]
    month = opp["created_at"].dt.month
    per_month = month.value_counts()
    assert per_month[8] < per_month[9] and per_month[12] < per_month[11]
    q_end_months = per_month[[3, 6, 9]].mean()
    q_start_months = per_month[[4, 7]].mean()
    assert q_end_months > q_start_months


# --- integrity --------------------------------------------------------------------------
def test_integrity_opportunities(data):
    opp, reps, acc = data["opportunities"], data["reps"], data["accounts"]
    assert opp["opportunity_id"].is_unique
    assert opp["opportunity_id"].str.fullmatch(r"OPP-\d{6,}").all()
    assert set(opp["status"]) <= set(STATUSES)
    assert set(opp["stage"]) <= STAGES
    assert set(opp["source"]) <= {"Inbound", "Outbound", "Partner", "Referral", "Event"}
    assert (opp["currency"] == "USD").all()
    assert opp["owner"].isin(reps["rep_id"]).all()
    assert opp["account_id"].isin(acc["account_id"]).all()
    assert set(acc["account_id"]) == set(opp["account_id"])
    by_rep = reps.set_index("rep_id")
    assert (opp["team"] == by_rep.loc[opp["owner"], "team"].to_numpy()).all()
    assert (opp["region"] == by_rep.loc[opp["owner"], "region"].to_numpy()).all()
    assert (opp["created_at"] >= by_rep.loc[opp["owner"], "start_date"].to_numpy()).all()

    status_of_stage = opp["stage"].map({"Closed Won": "won", "Closed Lost": "lost"}).fillna("open")
    assert (status_of_stage == opp["status"]).all()
    is_open = opp["status"] == "open"
    assert opp.loc[is_open, "closed_at"].isna().all()
    assert opp.loc[~is_open, "closed_at"].notna().all()
    assert (opp.loc[~is_open, "created_at"] <= opp.loc[~is_open, "closed_at"]).all()
    assert (opp["closed_at"].dropna() <= END_TS).all()
    assert (opp["created_at"] <= END_TS).all()
    assert (opp["created_at"] >= END_TS - pd.DateOffset(years=3)).all()
    assert opp["amount"].notna().all() and (opp["amount"] > 0).all()
    last = opp["last_activity_at"]
    upper = opp["closed_at"].fillna(END_TS)
    assert ((last >= opp["created_at"]) & (last <= upper)).all()


def test_integrity_stage_history(data):
    opp, sh = data["opportunities"], data["stage_history"]
    assert set(sh["stage"]) <= STAGES
    assert set(sh["opportunity_id"]) == set(opp["opportunity_id"])
    assert not sh.duplicated(["opportunity_id", "stage", "entered_at"]).any()
    # a stage is entered twice only by a deal that moved backwards (a regression, or a
    # reopening: from a closed stage back to an open one)
    again = set(sh.loc[sh.duplicated(["opportunity_id", "stage"]), "opportunity_id"])
    rank = sh["stage"].map({**{s: i for i, s in enumerate(ORDER[:4])}, "Closed Won": 4,
                            "Closed Lost": 4})
    step = rank.groupby(sh["opportunity_id"], sort=False).diff()
    backwards = set(sh.loc[step < 0, "opportunity_id"])
    assert again and again <= backwards
    assert (sh["entered_at"] <= END_TS).all()
    assert (
        sh.groupby("opportunity_id", sort=False)["entered_at"]
        .apply(lambda s: s.is_monotonic_increasing)
        .all()
    )
    first = sh.groupby("opportunity_id").first()
    last = sh.groupby("opportunity_id").last()
    o = opp.set_index("opportunity_id")
    assert (first.loc[o.index, "stage"] == "Qualification").all()
    assert (first.loc[o.index, "entered_at"] == o["created_at"]).all()
    assert (last.loc[o.index, "stage"] == o["stage"]).all()
    closed = o["status"] != "open"
    assert (last.loc[o.index[closed], "entered_at"] == o.loc[closed, "closed_at"]).all()
    merged = sh.merge(opp[["opportunity_id", "created_at"]], on="opportunity_id")
    assert (merged["entered_at"] >= merged["created_at"]).all()


def test_integrity_leads(data):
    leads, opp, reps = data["leads"], data["opportunities"], data["reps"]
    assert leads["lead_id"].is_unique
    assert leads["lead_id"].str.fullmatch(r"LEAD-\d{7,}").all()
    assert 2 <= len(leads) / len(opp) <= 4
    assert leads["owner"].isin(reps["rep_id"]).all()
    for col in ("source", "region", "team", "owner"):
        assert leads[col].notna().all()
    conv = leads[leads["converted_opportunity_id"].notna()]
    assert conv["converted_opportunity_id"].is_unique
    assert conv["converted_at"].notna().all()
    assert not conv["disqualified"].any()
    assert len(conv) / len(opp) > 0.7  # most opportunities come from a lead
    o = opp.set_index("opportunity_id").loc[conv["converted_opportunity_id"]]
    assert (conv["created_at"].to_numpy() <= conv["converted_at"].to_numpy()).all()
    assert (conv["converted_at"].to_numpy() <= o["created_at"].to_numpy()).all()
    assert (conv["owner"].to_numpy() == o["owner"].to_numpy()).all()
    rest = leads[leads["converted_opportunity_id"].isna()]
    assert rest["converted_at"].isna().all()
    assert rest["disqualified"].any() and (~rest["disqualified"]).any()
    assert (leads["created_at"] <= END_TS).all()


def test_integrity_accounts_and_revenue(data):
    acc, rev, opp, reps = data["accounts"], data["revenue"], data["opportunities"], data["reps"]
    assert acc["account_id"].is_unique
    assert acc["account_id"].str.fullmatch(r"ACC-\d{5,}").all()
    assert acc["industry"].nunique() == 8
    assert acc["account_manager"].isin(reps["rep_id"]).all()
    region_of = reps.set_index("rep_id")["region"]
    assert (region_of.loc[acc["account_manager"]].to_numpy() == acc["region"].to_numpy()).all()
    # acquired_by is the owner of the account's first won deal
    won = opp[opp["status"] == "won"].sort_values("closed_at", kind="stable")
    first_win = won.groupby("account_id")["owner"].first()
    a = acc.set_index("account_id")
    assert (a.loc[first_win.index, "acquired_by"] == first_win).all()
    assert a.loc[~a.index.isin(first_win.index), "acquired_by"].isna().all()
    # Enterprise accounts are kept by 2-3 account managers per region
    ent_ids = opp.loc[opp["team"].str.endswith("Enterprise"), "account_id"].unique()
    ams = a.loc[ent_ids].groupby("region")["account_manager"].nunique()
    assert ams.between(2, 3).all()

    assert rev["revenue_id"].is_unique
    assert rev["account_id"].isin(acc["account_id"]).all()
    assert (rev["amount"] > 0).all()
    assert (rev["date"] <= END_TS).all()
    assert (rev["currency"] == "USD").all()
    assert set(rev["kind"]) == set(REVENUE_KINDS)
    assert set(rev["account_id"]) == set(first_win.index)
    assert (rev["kind"] == "new").groupby(rev["account_id"]).sum().ge(1).all()


# --- planted behaviours -----------------------------------------------------------------
def test_planted_many_deals_long_cycles(data):
    rep = PLANTED["many_deals_long_cycles"]
    opp = data["opportunities"]
    team = opp[opp["team"] == _team_of(data, rep)]
    won = team[team["status"] == "won"]
    cycle = _days(won["closed_at"] - won["created_at"])
    mine = won["owner"] == rep
    assert cycle[mine].median() / cycle.median() >= 1.5
    assert cycle[mine].median() / cycle[~mine].median() >= 1.8
    assert won["owner"].value_counts().idxmax() == rep
    assert team.loc[team["status"] != "open", "owner"].value_counts().idxmax() == rep


def test_planted_bloated_stale_pipeline(data):
    rep = PLANTED["bloated_stale_pipeline"]
    opp = data["opportunities"]
    team_name = _team_of(data, rep)
    team = opp[opp["team"] == team_name]
    open_ = team[team["status"] == "open"]
    counts = open_["owner"].value_counts().reindex(_team_reps(data, team_name), fill_value=0)
    assert counts[rep] >= 2 * counts.median()
    mine = open_[open_["owner"] == rep]
    assert ((END_TS - mine["last_activity_at"]) > pd.Timedelta(days=45)).mean() > 0.5
    won = team[team["status"] == "won"]
    typical_cycle = _days(won["closed_at"] - won["created_at"]).median()
    assert (_days(END_TS - mine["created_at"]) > typical_cycle).mean() > 0.5
    lost = team[team["status"] == "lost"]
    long_idle = _days(lost["closed_at"] - lost["last_activity_at"]) > 30
    assert long_idle[lost["owner"] == rep].mean() >= 0.3  # many closed after long inactivity
    assert long_idle[lost["owner"] != rep].mean() < 0.05


def test_planted_mostly_small_deals(data):
    rep = PLANTED["mostly_small_deals"]
    opp = data["opportunities"]
    won = opp[(opp["team"] == _team_of(data, rep)) & (opp["status"] == "won")]
    mine = won["owner"] == rep
    assert won.loc[mine, "amount"].median() / won.loc[~mine, "amount"].median() <= 0.45
    assert won.loc[mine, "amount"].median() / won["amount"].median() <= 0.7
    per_rep = won.groupby("owner")["amount"].median()
    assert per_rep.idxmin() == rep


def test_planted_won_customers_churn_fast(data):
    rep = PLANTED["won_customers_churn_fast"]
    acc, rev = data["accounts"], data["revenue"]
    team_reps = _team_reps(data, _team_of(data, rep))
    span = rev.groupby("account_id")["date"].agg(["min", "max"])
    span = span.join(acc.set_index("account_id")["acquired_by"], how="inner")
    span = span[span["acquired_by"].isin(team_reps)]
    span = span[span["min"] <= END_TS - pd.Timedelta(days=400)]  # a year to show churn
    kept = (span["max"] - span["min"]) > pd.Timedelta(days=365)
    mine = span["acquired_by"] == rep
    assert mine.sum() >= 10
    assert kept[mine].mean() <= 0.15
    assert kept[~mine].mean() >= 0.25
    assert kept[mine].mean() <= 0.5 * kept[~mine].mean()


def _per_account_manager(data) -> pd.DataFrame:
    """Mean revenue and expansion lines per account, per Enterprise account manager."""
    acc, rev, reps = data["accounts"], data["revenue"], data["reps"]
    ent_reps = reps.loc[reps["team"].str.endswith("Enterprise"), "rep_id"]
    ent = acc[acc["account_manager"].isin(ent_reps)]
    lines = rev.merge(ent[["account_id", "account_manager"]], on="account_id")
    per_account = lines.groupby(["account_manager", "account_id"]).agg(
        revenue=("amount", "sum"),
        expansions=("kind", lambda k: int((k == "expansion").sum())),
    )
    per_manager = per_account.groupby("account_manager").mean()
    region_of = reps.set_index("rep_id")["region"]
    return per_manager.assign(region=region_of.loc[per_manager.index].to_numpy())


def test_planted_expanding_account_manager_lines(data):
    rep = PLANTED["expanding_account_manager"]
    per_manager = _per_account_manager(data)
    assert per_manager["expansions"].idxmax() == rep
    others = per_manager.drop(index=rep)
    assert per_manager.loc[rep, "expansions"] >= 2 * others["expansions"].max()


def test_planted_expanding_account_manager_revenue(data_full):
    rep = PLANTED["expanding_account_manager"]
    per_manager = _per_account_manager(data_full)
    assert 8 <= len(per_manager) <= 12  # 2-3 per region
    others = per_manager.drop(index=rep)
    assert per_manager.loc[rep, "revenue"] >= 1.5 * others["revenue"].median()
    peers = others[others["region"] == per_manager.loc[rep, "region"]]
    assert len(peers) >= 1
    assert per_manager.loc[rep, "revenue"] > peers["revenue"].max()


def test_scale_grows_volume():
    small = generate(seed=2, scale=0.05, end=END)
    larger = generate(seed=2, scale=0.2, end=END)
    for name in ("opportunities", "leads", "accounts", "revenue"):
        assert len(larger[name]) > 2.5 * len(small[name]), name
    assert len(larger["reps"]) >= len(small["reps"])
    assert np.isclose(len(larger["opportunities"]) / 4000, 1.0, atol=0.1)


# --- any seed / end date ------------------------------------------------------------------
def _core_integrity(d: dict[str, pd.DataFrame], end_ts: pd.Timestamp) -> None:
    opp, sh, leads = d["opportunities"], d["stage_history"], d["leads"]
    acc, reps, rev = d["accounts"], d["reps"], d["revenue"]
    for name, key in (
        ("opportunities", "opportunity_id"),
        ("leads", "lead_id"),
        ("accounts", "account_id"),
        ("reps", "rep_id"),
        ("revenue", "revenue_id"),
    ):
        assert d[name][key].is_unique, name
        assert list(d[name].columns) == TABLES[name].columns
    closed = opp["closed_at"].notna()
    assert (opp.loc[closed, "created_at"] <= opp.loc[closed, "closed_at"]).all()
    assert (opp["closed_at"].dropna() <= end_ts).all()
    assert (opp["created_at"] <= end_ts).all()
    assert ((opp["status"] == "open") != closed).all()
    assert (opp.loc[opp["status"] == "won", "amount"] > 0).all()
    assert opp["owner"].isin(reps["rep_id"]).all()
    assert opp["account_id"].isin(acc["account_id"]).all()
    assert (
        (opp["last_activity_at"] >= opp["created_at"])
        & (opp["last_activity_at"] <= opp["closed_at"].fillna(end_ts))
    ).all()
    diffs = sh.groupby("opportunity_id", sort=False)["entered_at"].diff().dropna()
    assert (diffs >= pd.Timedelta(0)).all()
    merged = sh.merge(opp[["opportunity_id", "created_at"]], on="opportunity_id")
    assert (merged["entered_at"] >= merged["created_at"]).all()
    assert (sh["entered_at"] <= end_ts).all()
    assert (rev["amount"] > 0).all() and (rev["date"] <= end_ts).all()
    assert rev["account_id"].isin(acc["account_id"]).all()
    assert leads["converted_opportunity_id"].dropna().isin(opp["opportunity_id"]).all()
    assert (leads["created_at"] <= end_ts).all()


@settings(max_examples=8, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    end=st.dates(dt.date(2000, 1, 1), dt.date(2100, 12, 31)),
    scale=st.sampled_from([0.01, 0.05, 0.1]),
)
def test_integrity_any_seed_and_end(seed, end, scale):
    d = generate(seed=seed, scale=scale, end=end)
    _core_integrity(d, pd.Timestamp(end))
    assert d["opportunities"]["created_at"].min() >= pd.Timestamp(end) - pd.DateOffset(years=3)
