"""First version of the metrics engine (deepened by the metrics issue).

Conventions: ``opps`` is a canonical opportunities frame; a period is a
:class:`reporting.periods.Period` ``[start, end)``; ``by`` names a grouping column
(``owner``, ``team``, ``region``, ``source``, ``product``) or ``None`` for one group
labelled ``"all"``. Every function returns a new frame with a ``group`` column.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..periods import Period

DAY = pd.Timedelta(days=1)

DEFINITIONS: dict[str, str] = {
    "win_rate": (
        "Win rate: won / (won + lost) among opportunities whose closed_at falls in the "
        "period; open deals are excluded. The 95% Wilson score interval shows how sure the "
        "rate is; with fewer deals the interval is wider."
    ),
    "cycle_length": (
        "Sales cycle length: days from created_at (entering the funnel) to closed_at, for "
        "deals closed in the period, reported separately for won and lost deals (median, "
        "25th and 75th percentile, mean, count)."
    ),
    "deal_size": (
        "Deal size: mean and median amount of deals won in the period (closed_at in the "
        "period, status won), in the reporting currency."
    ),
    "account_value": (
        "Customer value to date: total revenue booked per account up to the end of the "
        "period, by kind (new, renewal, expansion, one-off); averaged over the accounts "
        "each rep acquired (acquisition quality) and each account manager keeps."
    ),
    "open_pipeline": (
        "Open opportunities at period end (as-of view): deals with created_at before the "
        "period end that were not closed by then (a deal won later was open then). Stale: "
        "no activity (last_activity_at, else created_at) for the stale threshold in days "
        "before the period end. Load: open deals / the rep's capacity."
    ),
    "cohort_win_rate": (
        "Cohort win rate: of the opportunities created in month M, the share won so far and "
        "the share won within 30, 60 and 90 days of creation; a horizon is shown only once the "
        "whole cohort has had that many days."
    ),
    "lead_conversion": (
        "Lead conversion: leads created in the period that became an opportunity, divided by "
        "all leads created in the period; disqualified and still-open leads are counted apart."
    ),
    "stage_funnel": (
        "Stage funnel: among deals closed in the period, those that reached each stage (its "
        "history shows that stage or a later one); conversion to the next stage = reached "
        "next / reached this one; 'lost here' = lost deals whose furthest stage it was."
    ),
    "time_to_close": (
        "Time to close incl. open deals: Kaplan-Meier median days from creation to close of "
        "deals created in the last 12 months, with deals still open counted as censored at "
        "the period end, so slow deals still open are not left out."
    ),
    "deal_bands": (
        "Deal-size bands: small / medium / large learned per business profile by KMeans (k=3) "
        "on log10 amounts of deals won in the 12 months before the period end; edges are the "
        "geometric midpoints between cluster centres. Band mix: each rep's share of won deals "
        "per band against the team's and the target mix in params/report.yaml."
    ),
    "stale": (
        "Stale deal: open at period end with no activity (last activity, else last stage "
        "change, else creation) for the stale threshold in days, or older than the 90th "
        "percentile cycle of deals won in the last 12 months."
    ),
    "bloat": (
        "Bloat (months of pipeline): open deals at period end / deals the rep closed (won or "
        "lost) per month over the last 6 months."
    ),
    "closed_when_tired": (
        "Closed when tired: among deals lost in the period, the share whose last activity "
        "was more than the stale threshold before they were closed."
    ),
    "churn": (
        "Churn: an account at least a year old with no revenue in the last 365 days; churn "
        "rate = churned / accounts at least a year old, per acquiring rep. Expansion per "
        "account: expansion revenue / accounts, per account manager."
    ),
    "predicted_clv": (
        "Predicted customer value: revenue each account is expected to bring over the next "
        "12 months, from the model that backtests best on this company's revenue (BG/NBD "
        "with average spend, Gamma-Gamma spend, RFM segments, a gradient-boosted regressor "
        "or shifted-beta-geometric retention), scored by |aggregate error| + (1 - Spearman) "
        "on the last 6 months held out; averaged per acquiring rep and account manager."
    ),
    "ratings": (
        "Ratings: good / watch / bad against params/baselines.yaml per business profile "
        "(team name patterns in params/report.yaml); a scope that mixes profiles is judged "
        "against the profiles' thresholds weighted by their share of deals closed; a win "
        "rate whose 95% interval is wider than max_interval_width is 'too few deals to judge'."
    ),
}


def _group(frame: pd.DataFrame, by: str | None) -> pd.Series:
    if by is None:
        return pd.Series("all", index=frame.index, name="group")
    return frame[by].fillna("(none)").rename("group")


def closed_in(opps: pd.DataFrame, period: Period) -> pd.DataFrame:
    """Opportunities won or lost with closed_at inside the period."""
    mask = opps["status"].isin(["won", "lost"]) & period.contains(opps["closed_at"])
    return opps[mask]


def open_at(opps: pd.DataFrame, when: pd.Timestamp) -> pd.DataFrame:
    """Opportunities open at instant ``when``: created before and not closed before it."""
    mask = (opps["created_at"] < when) & (opps["closed_at"].isna() | (opps["closed_at"] >= when))
    return opps[mask]


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
    c = closed_in(opps, period)
    g = _group(c, by)
    won = (c["status"] == "won").groupby(g).sum()
    lost = (c["status"] == "lost").groupby(g).sum()
    out = pd.DataFrame({"won": won, "lost": lost}).astype(int)
    out["closed"] = out["won"] + out["lost"]
    out["win_rate"] = out["won"] / out["closed"]
    lo, hi = wilson_interval(out["won"], out["closed"])
    out["ci_low"], out["ci_high"] = lo, hi
    return out.reset_index().rename(columns={"index": "group"})


TOO_FEW = "too few deals to judge"


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
    c = closed_in(opps, period)
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
    c = closed_in(opps, period)
    w = c[c["status"] == "won"]
    g = _group(w, by)
    agg = w["amount"].groupby(g).agg(
        won_count="count", won_amount="sum", avg_won_amount="mean", median_won_amount="median"
    )
    return agg.reset_index()


def open_pipeline(
    opps: pd.DataFrame,
    when: pd.Timestamp,
    by: str | None = "owner",
    stale_days: int = 45,
    reps: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Open deals at instant ``when`` per group: count, value, stale count, median age,
    and, per rep with a capacity, the load (open count / capacity). Columns: group,
    open_count, open_amount, stale_open_count, median_age_days, capacity, load."""
    o = open_at(opps, when)
    activity = o["last_activity_at"].where(o["last_activity_at"].notna(), o["created_at"])
    activity = activity.where(activity < when, when)  # activity after `when` is unknown then
    stale = (when - activity) / DAY > stale_days
    age = (when - o["created_at"]) / DAY
    g = _group(o, by)
    out = pd.DataFrame({
        "open_count": o["opportunity_id"].groupby(g).count(),
        "open_amount": o["amount"].fillna(0).groupby(g).sum(),
        "stale_open_count": stale.groupby(g).sum().astype(int),
        "median_age_days": age.groupby(g).median(),
    })
    out.index.name = "group"
    out = out.reset_index()
    if by == "owner" and reps is not None and not reps.empty and "capacity" in reps:
        cap = reps.set_index("rep_id")["capacity"]
        out["capacity"] = out["group"].map(cap)
        out["load"] = out["open_count"] / out["capacity"]
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
    stale_days: int = 45,
) -> pd.DataFrame:
    """One row per group with the figures of ``crm-report metrics``: won, lost, win_rate,
    created, median/mean cycle of won deals, median cycle of lost deals, average and
    median won amount, open count and amount at period end, stale open count."""
    wr = win_rate(opps, period, by).set_index("group")
    cyc = cycle_length(opps, period, by)
    ds = deal_size(opps, period, by).set_index("group")
    op = open_pipeline(opps, period.end, by, stale_days, reps).set_index("group")
    created = opps[period.contains(opps["created_at"])]
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
    out["open_amount"] = op["open_amount"].reindex(groups).fillna(0.0)
    out["stale_open_count"] = op["stale_open_count"].reindex(groups).fillna(0).astype(int)
    out["capacity"] = op["capacity"].reindex(groups)
    if by == "owner" and "team" in opps:
        # the team a rep sells in: the team of most of their deals
        team = opps.dropna(subset=["team"]).groupby("owner")["team"].agg(
            lambda t: t.mode().iloc[0]  # most frequent; ties -> alphabetical
        )
        out.insert(0, "team", team.reindex(groups).to_numpy())
    return out.reset_index()


def requirements(available: dict[str, bool], opps: pd.DataFrame) -> dict[str, str | None]:
    """Which metrics cannot be computed from the data at hand, and why (None = fine)."""
    has = lambda c: c in opps and opps[c].notna().any()  # noqa: E731
    return {
        "win_rate": None if len(opps) else "no opportunities",
        "cycle_length": None if len(opps) else "no opportunities",
        "deal_size": None if has("amount") else "opportunities have no amount column",
        "account_value": None
        if available.get("revenue") and available.get("accounts")
        else "needs the revenue and accounts tables (account_id, date, amount, kind)",
        "open_pipeline": None if len(opps) else "no opportunities",
        "stale_deals": None
        if has("last_activity_at")
        else "opportunities have no last_activity_at: staleness uses created_at",
        "capacity": None
        if available.get("reps")
        else "needs the reps table with capacity for workload against capacity",
        "stage_funnel": None
        if available.get("stage_history")
        else "needs the stage_history table for stage-to-stage conversion",
        "lead_conversion": None if available.get("leads") else "needs the leads table",
    }


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
    stale_days: int = 45,
) -> dict[str, float | int | None]:
    """The report's headline figures for one period (one group: the whole slice)."""
    wr = win_rate(opps, period).iloc[0] if len(closed_in(opps, period)) else None
    cyc = cycle_length(opps, period)
    won_c = cyc[cyc["status"] == "won"]
    ds = deal_size(opps, period)
    op = open_pipeline(opps, period.end, "owner", stale_days, reps)
    owners = op["open_count"]
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
        "open_count": int(owners.sum()),
        "open_amount": _scalar(op["open_amount"].sum()),
        "stale_open_count": int(op["stale_open_count"].sum()),
        "open_per_rep": _scalar(owners.mean()) if len(owners) else None,
        "avg_account_value": None,
    }
    if revenue is not None and accounts is not None and not revenue.empty and not accounts.empty:
        av = account_value(revenue, accounts, period.end)
        out["avg_account_value"] = _scalar(av["total"].mean()) if len(av) else None
    return out
