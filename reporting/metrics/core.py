"""The five metrics of one period in pandas: win rate, cycle length, deal size, open
pipeline and account value, per group (:func:`rep_summary`) and for the whole slice
(:func:`headline`), and which of them the data cannot support (:func:`requirements`).
Their plain-language definitions are in :mod:`reporting.metrics.definitions`.

Conventions: ``opps`` is a canonical opportunities frame; a period is a
:class:`reporting.periods.Period` ``[start, end)``; ``by`` names a grouping column
(``owner``, ``team``, ``region``, ``source``, ``product``) or ``None`` for one group
labelled ``"all"``. Every function returns a new frame with a ``group`` column.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..i18n import N_
from ..periods import Period
from . import pipeline
from .filters import closed_in_period, created_counted
from .pipeline import StaleDays

DAY = pd.Timedelta(days=1)


def _group(frame: pd.DataFrame, by: str | None) -> pd.Series:
    if by is None:
        return pd.Series("all", index=frame.index, name="group")
    return frame[by].fillna("(none)").rename("group")


def wilson_interval(successes, trials, z: float = 1.959964) -> tuple[np.ndarray, np.ndarray]:
    """95% Wilson score interval for ``successes / trials`` (NaN where trials == 0)."""
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return centre - half, centre + half


def win_rate(opps: pd.DataFrame, period: Period, by: str | None = None) -> pd.DataFrame:
    """Won, lost and win rate of deals closed in the period, per group, with the 95%
    Wilson interval. Columns: group, won, lost, closed, win_rate, ci_low, ci_high."""
    c = opps[closed_in_period(opps, period)]
    g = _group(c, by)
    won = (c["status"] == "won").groupby(g).sum()
    lost = (c["status"] == "lost").groupby(g).sum()
    out = pd.DataFrame({"won": won, "lost": lost}).astype(int)
    out["closed"] = out["won"] + out["lost"]
    out["win_rate"] = out["won"] / out["closed"]
    lo, hi = wilson_interval(out["won"], out["closed"])
    out["ci_low"], out["ci_high"] = lo, hi
    return out.reset_index().rename(columns={"index": "group"})


TOO_FEW = N_("too few deals to judge")


def rate_win_rates(wr: pd.DataFrame, good: float, bad: float, max_width: float = 0.3) -> pd.Series:
    """Rating of each row of :func:`win_rate`: ``good`` / ``watch`` / ``bad`` against the
    baseline, or ``too few deals to judge`` when the 95% interval is wider than
    ``max_width`` (2 of 3 won is not a 67% performer: its interval is 21%-94%)."""
    rating = np.where(wr["win_rate"] >= good, "good",
                      np.where(wr["win_rate"] < bad, "bad", "watch")).astype(object)
    width = wr["ci_high"] - wr["ci_low"]
    rating[(width > max_width).to_numpy() | wr["closed"].eq(0).to_numpy()] = TOO_FEW
    return pd.Series(rating, index=wr.index, name="rating")


def cycle_length(opps: pd.DataFrame, period: Period, by: str | None = None) -> pd.DataFrame:
    """Days from created_at to closed_at of deals closed in the period, per group and
    outcome. Columns: group, status, count, median, p25, p75, mean."""
    c = opps[closed_in_period(opps, period)]
    days = ((c["closed_at"] - c["created_at"]) / DAY).rename("days")
    frame = pd.DataFrame({"group": _group(c, by), "status": c["status"], "days": days})
    cols = ["group", "status", "count", "median", "p25", "p75", "mean"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    g = frame.groupby(["group", "status"])["days"]
    agg = g.agg(count="count", median="median", mean="mean")
    agg["p25"] = g.quantile(0.25)
    agg["p75"] = g.quantile(0.75)
    return agg.reset_index()[cols]


def deal_size(opps: pd.DataFrame, period: Period, by: str | None = None) -> pd.DataFrame:
    """Mean and median amount of deals won in the period, per group. Columns: group,
    won_count, won_amount, avg_won_amount, median_won_amount."""
    c = opps[closed_in_period(opps, period)]
    w = c[c["status"] == "won"]
    g = _group(w, by)
    agg = w["amount"].groupby(g).agg(
        won_count="count", won_amount="sum", avg_won_amount="mean", median_won_amount="median"
    )
    return agg.reset_index()


#: a group's bookings rest on one deal when its largest won deal is at least this share
#: of the won value (and the group won at least :data:`CONCENTRATION_MIN_WON` deals:
#: with one or two, the count already says so)
CONCENTRATION_SHARE = 0.5
CONCENTRATION_MIN_WON = 3


def largest_won(opps: pd.DataFrame, period: Period, by: str | None = None) -> pd.DataFrame:
    """The largest deal won in the period per group (the deals of :func:`deal_size`) and
    its share of the group's won value. Columns: group, opportunity_id, amount, share,
    won_count, concentrated (share at least :data:`CONCENTRATION_SHARE` with at least
    :data:`CONCENTRATION_MIN_WON` deals won). ``share`` is NaN when the won value is not
    positive; deals without an amount are not candidates."""
    cols = ["group", "opportunity_id", "amount", "share", "won_count", "concentrated"]
    c = opps[closed_in_period(opps, period)]
    w = c[(c["status"] == "won")]
    if not len(w):
        return pd.DataFrame(columns=cols)
    w = w.assign(_g=_group(w, by))
    known = w[w["amount"].notna()]
    total = known.groupby("_g")["amount"].sum()
    count = w.groupby("_g").size()
    top = known.sort_values(["amount", "opportunity_id"], ascending=[False, True],
                            kind="mergesort").drop_duplicates("_g").set_index("_g")
    out = pd.DataFrame({"group": top.index, "opportunity_id": top["opportunity_id"].to_numpy(),
                        "amount": top["amount"].to_numpy(dtype=float)})
    t = total.reindex(out["group"]).to_numpy(dtype=float)
    out["share"] = np.where(t > 0, out["amount"] / np.where(t > 0, t, 1), np.nan)
    out["won_count"] = count.reindex(out["group"]).fillna(0).astype(int).to_numpy()
    out["concentrated"] = (out["share"] >= CONCENTRATION_SHARE) & (
        out["won_count"] >= CONCENTRATION_MIN_WON)
    return out.reset_index(drop=True)[cols]


def open_pipeline(
    opps: pd.DataFrame,
    when: pd.Timestamp,
    by: str | None = "owner",
    stale_days: StaleDays = 45,
    reps: pd.DataFrame | None = None,
    stage_history: pd.DataFrame | None = None,
    deal_history: pd.DataFrame | None = None,
    deals: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Open deals at instant ``when`` per group, as known then (:func:`pipeline.open_deals`);
    grouped by rep, each deal counts for its owner at ``when``.

    open_amount: the sum of the amounts known at ``when`` (:func:`pipeline.amount_as_of`),
    NaN (not computable) when more than half of the group's open deals have no known
    amount; open_amount_unknown counts them. stale_open_count / stale_unknown_count: the
    one stale definition. Load = open count / the rep's capacity (rep groups with a
    capacity). Columns: group, open_count, open_amount, open_amount_unknown,
    stale_open_count, stale_unknown_count, median_age_days, capacity, load."""
    d = deals if deals is not None else pipeline.open_deals(
        opps, when, stage_history, stale_days, deal_history=deal_history)
    if by is None:
        g = pd.Series("all", index=d.index, name="group")
    elif by == "owner":  # the owner at ``when`` (the deal history's, else the current one)
        g = d["owner"].fillna("(none)").rename("group")
    else:
        g = d["opportunity_id"].map(opps.set_index("opportunity_id")[by]).fillna(
            "(none)").rename("group")
    out = pd.DataFrame({
        "open_count": d["opportunity_id"].groupby(g).count(),
        "open_amount": d["amount"].fillna(0.0).groupby(g).sum(),
        "open_amount_unknown": (~d["amount_known"]).groupby(g).sum().astype(int),
        "stale_open_count": d["stale"].groupby(g).sum().astype(int),
        "stale_unknown_count": d["stale_unknown"].groupby(g).sum().astype(int),
        "median_age_days": d["age_days"].groupby(g).median(),
    })
    out.index.name = "group"
    too_many = out["open_amount_unknown"] > pipeline.MAX_UNKNOWN_SHARE * out["open_count"]
    out["open_amount"] = out["open_amount"].where(~too_many)
    out = out.reset_index()
    if by == "owner" and reps is not None and not reps.empty and "capacity" in reps:
        cap = reps.set_index("rep_id")["capacity"]
        out["capacity"] = out["group"].map(cap)
        out["load"] = out["open_count"] / out["capacity"].where(out["capacity"] > 0)
    else:
        out["capacity"] = np.nan
        out["load"] = np.nan
    return out


def account_value(
    revenue: pd.DataFrame, accounts: pd.DataFrame, until: pd.Timestamp
) -> pd.DataFrame:
    """Revenue to date per account (booked before ``until``), by kind, with the acquiring
    rep and the account manager. Columns: account_id, acquired_by, account_manager,
    industry, total, and one column per revenue kind."""
    r = revenue[revenue["date"] < until]
    kinds = r.pivot_table(
        index="account_id", columns="kind", values="amount", aggfunc="sum", fill_value=0.0
    )
    kinds.columns = [str(c) for c in kinds.columns]
    kinds["total"] = kinds.sum(axis=1)
    a = accounts[["account_id", "acquired_by", "account_manager", "industry"]]
    out = a.merge(kinds, left_on="account_id", right_index=True, how="inner")
    return out.reset_index(drop=True)


def rep_summary(
    opps: pd.DataFrame,
    period: Period,
    reps: pd.DataFrame | None = None,
    by: str = "owner",
    stale_days: StaleDays = 45,
    stage_history: pd.DataFrame | None = None,
    deal_history: pd.DataFrame | None = None,
    deals: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per group with the figures of ``crm-report metrics``: won, lost, win_rate,
    created, median/mean cycle of won deals, median cycle of lost deals, average and
    median won amount, open count and amount at period end as known then (NaN where not
    computable), open deals without a known amount, stale and stale-unknown open counts.
    ``deals``: the open deals at the period end (:func:`pipeline.open_deals` with the same
    stale rule and histories) when the caller has them."""
    wr = win_rate(opps, period, by).set_index("group")
    cyc = cycle_length(opps, period, by)
    ds = deal_size(opps, period, by).set_index("group")
    op = open_pipeline(opps, period.end, by, stale_days, reps, stage_history,
                       deal_history, deals=deals).set_index("group")
    created = opps[created_counted(opps, period)]
    cr = _group(created, by).value_counts()
    groups = sorted(set(wr.index) | set(ds.index) | set(op.index) | set(cr.index), key=str)
    out = pd.DataFrame(index=pd.Index(groups, name="group"))
    out["won"] = wr["won"].reindex(groups).fillna(0).astype(int)
    out["lost"] = wr["lost"].reindex(groups).fillna(0).astype(int)
    out["win_rate"] = wr["win_rate"].reindex(groups)
    out["created"] = cr.reindex(groups).fillna(0).astype(int)
    won_c = cyc[cyc["status"] == "won"].set_index("group")
    lost_c = cyc[cyc["status"] == "lost"].set_index("group")
    out["median_cycle_days_won"] = won_c["median"].reindex(groups)
    out["mean_cycle_days_won"] = won_c["mean"].reindex(groups)
    out["median_cycle_days_lost"] = lost_c["median"].reindex(groups)
    out["avg_won_amount"] = ds["avg_won_amount"].reindex(groups)
    out["median_won_amount"] = ds["median_won_amount"].reindex(groups)
    out["open_count"] = op["open_count"].reindex(groups).fillna(0).astype(int)
    # a group with no open deal has an open value of 0 (known); NaN stays not computable
    out["open_amount"] = op["open_amount"].reindex(groups).where(
        out["open_count"].gt(0).to_numpy(), 0.0)
    out["open_amount_unknown"] = op["open_amount_unknown"].reindex(groups).fillna(0).astype(int)
    out["stale_open_count"] = op["stale_open_count"].reindex(groups).fillna(0).astype(int)
    out["stale_unknown_count"] = op["stale_unknown_count"].reindex(groups).fillna(0).astype(int)
    out["capacity"] = op["capacity"].reindex(groups)
    if by == "owner" and "team" in opps:
        # the team a rep sells in: the team of most of their deals
        team = opps.dropna(subset=["team"]).groupby("owner")["team"].agg(
            lambda t: t.mode().iloc[0]  # most frequent; ties -> alphabetical
        )
        out.insert(0, "team", team.reindex(groups).to_numpy())
    return out.reset_index()


class Note(str):
    """An English message that keeps its template and figures, so that a report can say
    it in another language (``tr(note.template).format(**note.params)``)."""

    template: str
    params: dict

    def __new__(cls, template: str, **params):
        obj = super().__new__(cls, template.format(**params))
        obj.template, obj.params = template, params
        return obj


def requirements(available: dict[str, bool], opps: pd.DataFrame,
                 reps: pd.DataFrame | None = None,
                 figures: dict | None = None) -> dict[str, str | None]:
    """Which metrics cannot be computed from the data at hand, and why (None = fine).
    A metric listed here is shown as not computable and is never rated. ``figures`` (the
    current headline) adds what only the figures show: most open deals without a known
    amount, most stale states unknown, an immature lead cohort."""
    has = lambda c: c in opps and opps[c].notna().any()  # noqa: E731
    f = figures or {}
    history = bool(available.get("stage_history"))
    capacity = (reps is not None and "capacity" in reps and bool(reps["capacity"].gt(0).any())
                if reps is not None else bool(available.get("reps")))
    out: dict[str, str | None] = {
        "win_rate": None if len(opps) else N_("no opportunities"),
        "cycle_length": None if len(opps) else N_("no opportunities"),
        "deal_size": None if has("amount") else N_("opportunities have no amount column"),
        "account_value": None
        if available.get("revenue") and available.get("accounts")
        else N_("needs the revenue and accounts tables (account_id, date, amount, kind)"),
        "open_pipeline": None if len(opps) else N_("no opportunities"),
        "stale_deals": None
        if has("last_activity_at") or history
        else N_("opportunities have no last_activity_at and there is no stage history: a deal's "
             "age alone does not show that nobody works it, so staleness is not rated"),
        "closed_when_tired": None if has("last_activity_at")
        else N_("needs last_activity_at (when a lost deal was last worked)"),
        "capacity": None if capacity
        else N_("needs the reps table with capacity for workload against capacity"),
        "stage_funnel": None if history
        else N_("needs the stage_history table for stage-to-stage conversion"),
        "aging_by_stage": None if history
        else N_("needs the stage_history table (the stage each deal was in at the period end); "
             "open deals are shown by age only"),
        "lead_conversion": None if available.get("leads") else N_("needs the leads table"),
    }
    n_open = f.get("open_count") or 0
    if n_open and f.get("open_amount") is None and out["open_pipeline"] is None:
        out["open_pipeline_value"] = Note(
            N_("{unknown} of {open} open deals have no amount known at the period end (closed "
            "since, or no amount): open value not computable"),
            unknown=f.get("open_amount_unknown_count"), open=n_open)
    if n_open and out["stale_deals"] is None and f.get("stale_share") is None:
        out["stale_deals"] = Note(
            N_("the stale state of {unknown} of {open} open deals is unknown (worked after the "
            "period end, nothing known before): stale share not rated"),
            unknown=f.get("stale_unknown_count"), open=n_open)
    if out["lead_conversion"] is None and f.get("lead_conversion_mature") is False:
        out["lead_conversion"] = Note(
            N_("the period's leads have not all had {days:.0f} days to convert (mature on "
            "{on}): not rated yet"), days=f.get("lead_conversion_horizon_days"),
            on=pd.Timestamp(f["lead_conversion_mature_on"]).date().isoformat())
    return out


def _scalar(x) -> float | None:
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def headline(
    opps: pd.DataFrame,
    period: Period,
    reps: pd.DataFrame | None = None,
    revenue: pd.DataFrame | None = None,
    accounts: pd.DataFrame | None = None,
    stale_days: StaleDays = 45,
    stage_history: pd.DataFrame | None = None,
    deal_history: pd.DataFrame | None = None,
    deals: pd.DataFrame | None = None,
) -> dict[str, float | int | None]:
    """The report's headline figures for one period (one group: the whole slice).

    Open pipeline figures are as known at the period end (:func:`pipeline.open_deals`):
    ``open_amount`` is None when more than half of the open deals have no known amount;
    ``stale_share`` is stale / open deals whose state is known (None when not computable);
    ``load`` is the open deals of the reps with a capacity / their total capacity.
    ``deals``: those open deals at the period end when the caller has them."""
    wr = win_rate(opps, period).iloc[0] if closed_in_period(opps, period).any() else None
    cyc = cycle_length(opps, period)
    won_c = cyc[cyc["status"] == "won"]
    ds = deal_size(opps, period)
    if deals is None:
        deals = pipeline.open_deals(opps, period.end, stage_history, stale_days,
                                    deal_history=deal_history)
    op = open_pipeline(opps, period.end, "owner", stale_days, reps, deals=deals)
    owners = op["open_count"]
    n_open = int(owners.sum())
    unknown = int(op["open_amount_unknown"].sum())
    stale_n = int(op["stale_open_count"].sum())
    stale_unknown = int(op["stale_unknown_count"].sum())
    with_cap = op[op["capacity"].notna() & (op["capacity"] > 0)]
    out: dict[str, float | int | None] = {
        "won": int(wr["won"]) if wr is not None else 0,
        "lost": int(wr["lost"]) if wr is not None else 0,
        "win_rate": _scalar(wr["win_rate"]) if wr is not None else None,
        "win_rate_ci_low": _scalar(wr["ci_low"]) if wr is not None else None,
        "win_rate_ci_high": _scalar(wr["ci_high"]) if wr is not None else None,
        "median_cycle_days_won": _scalar(won_c["median"].iloc[0]) if len(won_c) else None,
        "won_amount": _scalar(ds["won_amount"].iloc[0]) if len(ds) else 0.0,
        "avg_won_amount": _scalar(ds["avg_won_amount"].iloc[0]) if len(ds) else None,
        "median_won_amount": _scalar(ds["median_won_amount"].iloc[0]) if len(ds) else None,
        "open_count": n_open,
        "open_amount": (None if unknown > pipeline.MAX_UNKNOWN_SHARE * n_open
                        else float(deals["amount"].sum())),
        "open_amount_unknown_count": unknown,
        "open_amount_unknown_share": unknown / n_open if n_open else None,
        "stale_open_count": stale_n,
        "stale_unknown_count": stale_unknown,
        "stale_share": pipeline.stale_share(stale_n, stale_unknown, n_open),
        "open_per_rep": _scalar(owners.mean()) if len(owners) else None,
        "load": (float(with_cap["open_count"].sum() / with_cap["capacity"].sum())
                 if len(with_cap) else None),
        "avg_account_value": None,
    }
    if revenue is not None and accounts is not None and not revenue.empty and not accounts.empty:
        av = account_value(revenue, accounts, period.end)
        out["avg_account_value"] = _scalar(av["total"].mean()) if len(av) else None
    return out
