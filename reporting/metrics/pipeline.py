"""Open pipeline health: aging by stage, stale deals, bloat, and deals lost when tired."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..periods import Period

DAY = pd.Timedelta(days=1)
AGE_BUCKETS = (0, 30, 60, 90, 180, 365, np.inf)
AGE_LABELS = ("0-30", "31-60", "61-90", "91-180", "181-365", ">365")


def typical_stage_days(stage_history: pd.DataFrame, when: pd.Timestamp) -> pd.Series:
    """Median days deals spent in each stage, from stage changes completed before
    ``when`` (time in stage = next stage's entered_at - this stage's entered_at)."""
    h = stage_history[stage_history["entered_at"] < when].sort_values(
        ["opportunity_id", "entered_at"], kind="stable")
    nxt = h.groupby("opportunity_id")["entered_at"].shift(-1)
    done = nxt.notna() & (nxt < when)
    days = (nxt - h["entered_at"])[done] / DAY
    return days.groupby(h.loc[done, "stage"]).median().rename("typical_days")


def open_deals(
    opps: pd.DataFrame, when: pd.Timestamp, stage_history: pd.DataFrame | None = None,
    stale_days: int = 45, max_age_days: float | None = None,
) -> pd.DataFrame:
    """Every deal open at ``when`` with its age, stage, days in stage and stale flags.

    Stale means no activity (last_activity_at, else the last stage change, else
    created_at) for ``stale_days``, or older than ``max_age_days`` (e.g. the p90 cycle of
    won deals). Columns: opportunity_id, owner, stage, amount, age_days, age_bucket,
    days_in_stage, typical_stage_days, over_typical, inactive, too_old, stale.
    """
    o = opps[(opps["created_at"] < when) & (opps["closed_at"].isna() | (opps["closed_at"] >= when))]
    out = o[["opportunity_id", "owner", "amount"]].copy()
    out["age_days"] = ((when - o["created_at"]) / DAY).to_numpy()
    out["age_bucket"] = pd.cut(out["age_days"], AGE_BUCKETS, labels=AGE_LABELS, right=True,
                               include_lowest=True)
    last_change = pd.Series(pd.NaT, index=o.index, dtype="datetime64[us]")
    stage = o["stage"].copy()
    typical = pd.Series(np.nan, index=o.index)
    if stage_history is not None and not stage_history.empty:
        h = stage_history[(stage_history["entered_at"] < when)
                          & stage_history["opportunity_id"].isin(o["opportunity_id"])]
        last = h.sort_values("entered_at", kind="stable").groupby("opportunity_id").last()
        last_change = o["opportunity_id"].map(last["entered_at"]).astype("datetime64[us]")
        stage = o["opportunity_id"].map(last["stage"]).fillna(o["stage"])  # stage then
        typical = stage.map(typical_stage_days(stage_history, when))
    out["stage"] = stage.to_numpy()
    in_stage_since = last_change.fillna(o["created_at"])
    out["days_in_stage"] = ((when - in_stage_since) / DAY).to_numpy()
    out["typical_stage_days"] = typical.to_numpy()
    out["over_typical"] = out["days_in_stage"] > out["typical_stage_days"]
    activity = o["last_activity_at"].where(o["last_activity_at"] < when)
    activity = activity.fillna(in_stage_since)
    activity = np.maximum(activity, in_stage_since)
    out["inactive"] = ((when - activity) / DAY > stale_days).to_numpy()
    out["too_old"] = out["age_days"] > max_age_days if max_age_days else False
    out["stale"] = out["inactive"] | out["too_old"]
    return out.reset_index(drop=True)


def aging_heatmap(deals: pd.DataFrame, stages: list[str] | None = None) -> pd.DataFrame:
    """Open deals counted by stage (rows) and age bucket (columns)."""
    t = pd.crosstab(deals["stage"], deals["age_bucket"]).reindex(columns=list(AGE_LABELS),
                                                                   fill_value=0)
    if stages:
        t = t.reindex([s for s in stages if s in t.index] + [s for s in t.index if s not in stages])
    return t


def won_cycle_quantile(opps: pd.DataFrame, when: pd.Timestamp, q: float = 0.9,
                       months: int = 12) -> float:
    """The ``q`` quantile of won deals' cycle days, deals won in the ``months`` before."""
    w = opps[(opps["status"] == "won") & (opps["closed_at"] < when)
             & (opps["closed_at"] >= when - pd.DateOffset(months=months))]
    days = (w["closed_at"] - w["created_at"]) / DAY
    return float(days.quantile(q)) if len(days) else float("nan")


def pipeline_health(
    opps: pd.DataFrame, period: Period, deals: pd.DataFrame, by: str = "owner",
    months: int = 6, stale_days: int = 45,
) -> pd.DataFrame:
    """Per rep: open deals, stale share, bloat index and the share of lost deals closed
    only after going stale.

    Bloat index (months of pipeline) = open deals at period end / deals the rep closed
    (won or lost) per month over the ``months`` before the period end. "Closed when tired":
    among deals lost in the period, the share whose last activity was more than
    ``stale_days`` before they were closed. Columns: group, open, stale, stale_share,
    closed_per_month, bloat_months, lost, lost_when_tired, lost_when_tired_share.
    """
    start = period.end - pd.DateOffset(months=months)
    closed = opps[opps["closed_at"].notna() & (opps["closed_at"] >= start)
                  & (opps["closed_at"] < period.end)]
    per_month = closed.groupby(closed[by].fillna("(none)")).size() / months
    owners = opps.set_index("opportunity_id")[by]
    g = deals["opportunity_id"].map(owners).fillna("(none)")
    open_n = deals.groupby(g).size()
    stale = deals["stale"].groupby(g).sum()
    lost = opps[(opps["status"] == "lost") & period.contains(opps["closed_at"])]
    last = lost["last_activity_at"].fillna(lost["created_at"])
    tired = (lost["closed_at"] - last) / DAY > stale_days
    lg = lost[by].fillna("(none)")
    idx = sorted(set(open_n.index) | set(per_month.index) | set(lg), key=str)
    out = pd.DataFrame(index=pd.Index(idx, name="group"))
    out["open"] = open_n.reindex(idx).fillna(0).astype(int)
    out["stale"] = stale.reindex(idx).fillna(0).astype(int)
    out["stale_share"] = out["stale"] / out["open"].where(out["open"] > 0)
    out["closed_per_month"] = per_month.reindex(idx).fillna(0.0)
    out["bloat_months"] = out["open"] / out["closed_per_month"].where(out["closed_per_month"] > 0)
    out["lost"] = lg.value_counts().reindex(idx).fillna(0).astype(int)
    out["lost_when_tired"] = tired.groupby(lg).sum().reindex(idx).fillna(0).astype(int)
    out["lost_when_tired_share"] = out["lost_when_tired"] / out["lost"].where(out["lost"] > 0)
    return out.reset_index()
