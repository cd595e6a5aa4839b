"""Open pipeline health: aging by stage, stale deals, bloat, and deals lost when tired."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..engine.sql import MAX_UNKNOWN_SHARE, StaleDays  # noqa: F401 - more unknown: not computable
from ..i18n import N_
from ..periods import Period
from .filters import closed_in_period, open_at

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




def stale_threshold(stale_days: StaleDays, stages: pd.Series) -> pd.Series:
    """Days without a touch after which a deal in each ``stages`` value is stale: the
    stage's own number when ``stale_days`` is a mapping stage -> days (Pipedrive's
    "rotting"), else its ``default``; a plain number applies to every stage. Deals whose
    stage is unknown get the default."""
    if isinstance(stale_days, Mapping):
        default = float(stale_days["default"])
        per_stage = {k: float(v) for k, v in stale_days.items() if k != "default"}
        return stages.map(per_stage).astype(float).fillna(default)
    return pd.Series(float(stale_days), index=stages.index)


def has_activity(opps: pd.DataFrame) -> bool:
    """Whether the slice records activity dates at all (a CRM export without them has
    ``last_activity_at`` empty on every deal)."""
    return "last_activity_at" in opps and bool(opps["last_activity_at"].notna().any())


def amount_as_of(opps: pd.DataFrame, when: pd.Timestamp,
                 amount_history: pd.DataFrame | None = None) -> pd.Series:
    """The amount of each deal as it was known at ``when`` (NaN: unknown).

    Without an amount history, a deal's current amount is what was known only while the
    deal is still open: once it is won or lost the amount may have been set or changed by
    the close (Maven fills close_value only then, with 0 for lost deals), so for a deal
    open at ``when`` and closed since the amount then is unknown. A missing amount is
    unknown, never 0. With ``amount_history`` (columns opportunity_id, changed_at, amount:
    one row per value an amount took, e.g. from an ``opportunity_history`` table), the
    last value recorded before ``when`` is used for the deals it covers.
    """
    known = opps["amount"].where(opps["status"].eq("open")).astype(float)
    if amount_history is not None and len(amount_history):
        h = amount_history[amount_history["changed_at"] < when].sort_values(
            "changed_at", kind="stable")
        last = h.groupby("opportunity_id")["amount"].last()
        covered = opps["opportunity_id"].isin(amount_history["opportunity_id"])
        known = known.where(~covered, opps["opportunity_id"].map(last).astype(float))
    return known


def open_deals(
    opps: pd.DataFrame, when: pd.Timestamp, stage_history: pd.DataFrame | None = None,
    stale_days: StaleDays = 45, max_age_days: float | None = None,
    deal_history: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every deal open at ``when`` with what was known about it then.

    With a deal history (``deal_history``: ``opportunity_history`` versions, see
    :func:`reporting.history.state_at`), a deal it covers at ``when`` is open, in a stage,
    owned by a rep and worth an amount as its version then says, and its days in stage
    count from when it entered that stage. Deals the history does not cover then (and
    every deal without a history) follow the rules below. Open: created before ``when``
    and not closed before it. Stage: the stage it was in at ``when`` from the stage
    history; without a history, the current stage of deals still open (None for deals
    closed since: their stage then is unknown). Amount: see :func:`amount_as_of`.

    Stale (the one definition every figure uses): the deal's last touch before ``when``
    (its last activity, last stage change or creation, whichever is latest) is more than
    the stage's stale threshold (:func:`stale_threshold`) before ``when``. A store keeps
    only a deal's latest activity: when that is after ``when``, the touch before it is not
    known, so a deal that would be stale on the rest of the evidence is ``stale_unknown``
    rather than stale or fresh. With neither activity dates nor a stage history, age is
    all there is and every deal is ``stale_unknown`` (not computable).

    ``too_old``: older than ``max_age_days`` (e.g. the p90 cycle of won deals), shown
    apart, not part of stale. Columns: opportunity_id, owner, stage, amount,
    amount_known, age_days, age_bucket, days_in_stage, typical_stage_days,
    over_typical, last_touch, stale_threshold_days, stale, stale_unknown, too_old.
    """
    then = None
    if deal_history is not None and len(deal_history):
        from ..history import state_at

        then = state_at(opps, deal_history, when).set_index("opportunity_id")
        o = opps[opps["opportunity_id"].isin(then.index[then["status"].eq("open")])]
        then = then.reindex(o["opportunity_id"])
        covered = then["history_known"].to_numpy(dtype=bool)
    else:
        o = opps[open_at(opps, when)]
    out = o[["opportunity_id", "owner"]].copy()
    out["amount"] = amount_as_of(o, when)
    if then is not None:
        out["owner"] = np.where(covered, then["owner"].to_numpy(dtype=object),
                                out["owner"].to_numpy(dtype=object))
        out["amount"] = np.where(covered, then["amount"].to_numpy(dtype=float),
                                 out["amount"].to_numpy(dtype=float))
    out["amount_known"] = out["amount"].notna()
    out["age_days"] = ((when - o["created_at"]) / DAY).to_numpy()
    out["age_bucket"] = pd.cut(out["age_days"], AGE_BUCKETS, labels=AGE_LABELS, right=True,
                               include_lowest=True)
    last_change = pd.Series(pd.NaT, index=o.index, dtype="datetime64[us]")
    stage = o["stage"].where(o["status"].eq("open")) if "stage" in o else pd.Series(
        None, index=o.index, dtype=object)
    typical = pd.Series(np.nan, index=o.index)
    history = stage_history is not None and not stage_history.empty
    if history:
        h = stage_history[(stage_history["entered_at"] < when)
                          & stage_history["opportunity_id"].isin(o["opportunity_id"])]
        last = h.sort_values("entered_at", kind="stable").groupby("opportunity_id").last()
        last_change = o["opportunity_id"].map(last["entered_at"]).astype("datetime64[us]")
        stage = o["opportunity_id"].map(last["stage"]).where(
            o["opportunity_id"].isin(last.index), stage)  # the stage then
    if then is not None:  # the deal history's stage then, and since when
        stage = pd.Series(np.where(covered, then["stage"].to_numpy(dtype=object),
                                   stage.to_numpy(dtype=object)), index=o.index)
        last_change = pd.Series(np.where(
            covered, then["stage_since"].to_numpy(dtype="datetime64[us]"),
            last_change.to_numpy(dtype="datetime64[us]")), index=o.index)
    if history:
        typical = stage.map(typical_stage_days(stage_history, when))
    out["stage"] = stage.to_numpy()
    out["days_in_stage"] = ((when - last_change.fillna(o["created_at"])) / DAY).to_numpy() \
        if history or then is not None else np.nan
    out["typical_stage_days"] = typical.to_numpy()
    out["over_typical"] = out["days_in_stage"] > out["typical_stage_days"]
    activity = o["last_activity_at"] if "last_activity_at" in o else pd.Series(
        pd.NaT, index=o.index, dtype="datetime64[us]")
    before = activity.where(activity < when)
    touch = pd.concat([o["created_at"], last_change, before], axis=1).max(axis=1)
    idle = (when - touch) / DAY
    threshold = stale_threshold(stale_days, stage)
    over = idle > threshold
    later = (activity >= when).fillna(False).astype(bool)
    # what the data records at all, over the deals that existed then (as the SQL does)
    existed = opps[opps["created_at"] < when]
    evidence = has_activity(existed) or (history and bool(
        stage_history["opportunity_id"].isin(existed["opportunity_id"]).any())) or (
        then is not None and bool(covered.any()))
    out["last_touch"] = touch.to_numpy()
    out["stale_threshold_days"] = threshold.to_numpy()
    out["stale"] = (over & ~later & evidence).to_numpy(dtype=bool)
    out["stale_unknown"] = ((over & later) | (not evidence)).to_numpy(dtype=bool)
    return flag_too_old(out, max_age_days).reset_index(drop=True)


def flag_too_old(deals: pd.DataFrame, max_age_days: float | None) -> pd.DataFrame:
    """``deals`` (from :func:`open_deals`) with ``too_old`` for ``max_age_days`` (False
    for every deal without one): the same deals checked against another age limit,
    without reconstructing them again."""
    deals = deals.copy()
    deals["too_old"] = (deals["age_days"] > max_age_days) if max_age_days else False
    return deals


def lost_when_tired(lost: pd.DataFrame, stale_days: StaleDays = 45,
                    stage_history: pd.DataFrame | None = None) -> pd.Series:
    """For lost deals: True where the deal was closed only after it had gone stale (its
    last activity, or its creation, more than the stale threshold of the stage it was lost
    in before its close)."""
    lost_stage = pd.Series(None, index=lost.index, dtype=object)
    if stage_history is not None and len(stage_history) and len(lost):
        h = stage_history[stage_history["opportunity_id"].isin(lost["opportunity_id"])]
        h = h.merge(lost[["opportunity_id", "closed_at"]], on="opportunity_id")
        h = h[h["entered_at"] < h["closed_at"]].sort_values("entered_at", kind="stable")
        lost_stage = lost["opportunity_id"].map(h.groupby("opportunity_id")["stage"].last())
    last = lost["last_activity_at"].fillna(lost["created_at"])
    return (lost["closed_at"] - last) / DAY > stale_threshold(stale_days, lost_stage)


def stale_share(stale: int, unknown: int, open_count: int) -> float | None:
    """Stale deals / open deals whose state is known; None when there are no open deals
    or more than half of them are unknown."""
    known = open_count - unknown
    if open_count == 0 or unknown > MAX_UNKNOWN_SHARE * open_count or known <= 0:
        return None
    return stale / known


ALL_STAGES = N_("all open deals")


def aging_heatmap(deals: pd.DataFrame, stages: list[str] | None = None,
                  by_stage: bool = True) -> pd.DataFrame:
    """Open deals counted by stage at the as-of time (rows) and age bucket (columns).

    ``by_stage=False`` (no stage history: the stage a deal was in then is not known, and a
    deal closed since would show as Won or Lost) gives one row, ``all open deals``."""
    if not by_stage:
        counts = deals["age_bucket"].value_counts().reindex(list(AGE_LABELS), fill_value=0)
        t = pd.DataFrame([counts.to_numpy()], index=pd.Index([ALL_STAGES], name="stage"),
                         columns=pd.Index(list(AGE_LABELS), name="age_bucket"))
        return t if len(deals) else t.iloc[0:0]
    d = deals.assign(stage=deals["stage"].fillna(N_("stage unknown")))
    t = pd.crosstab(d["stage"], d["age_bucket"]).reindex(columns=list(AGE_LABELS),
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
    months: int = 6, stale_days: StaleDays = 45, stage_history: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per rep: open deals, stale share, bloat index and the share of lost deals closed
    only after going stale.

    ``deals`` is :func:`open_deals` at the period end (its ``stale`` / ``stale_unknown``
    flags are the one definition of stale). Stale share = stale / open deals whose state
    is known (NaN when more than half are unknown). Bloat index (months of pipeline) = open
    deals at period end / deals the rep closed (won or lost) per month over the ``months``
    before the period end. "Lost when tired": among deals lost in the period, the share
    whose last activity was more than the stale threshold of the stage they were lost
    from before they were closed; it needs activity dates (NaN without them: a deal's age
    alone does not say it was neglected). Columns: group, open, stale, stale_unknown,
    stale_share, closed_per_month, bloat_months, lost, lost_when_tired,
    lost_when_tired_share.
    """
    start = period.end - pd.DateOffset(months=months)
    closed = opps[opps["closed_at"].notna() & (opps["closed_at"] >= start)
                  & (opps["closed_at"] < period.end)]
    per_month = closed.groupby(closed[by].fillna("(none)")).size() / months
    owners = opps.set_index("opportunity_id")[by]
    g = deals["opportunity_id"].map(owners).fillna("(none)")
    open_n = deals.groupby(g).size()
    stale = deals["stale"].groupby(g).sum()
    unknown = deals["stale_unknown"].groupby(g).sum()
    lost = opps[closed_in_period(opps, period) & (opps["status"] == "lost")]
    tired = lost_when_tired(lost, stale_days, stage_history)
    lg = lost[by].fillna("(none)")
    idx = sorted(set(open_n.index) | set(per_month.index) | set(lg), key=str)
    out = pd.DataFrame(index=pd.Index(idx, name="group"))
    out["open"] = open_n.reindex(idx).fillna(0).astype(int)
    out["stale"] = stale.reindex(idx).fillna(0).astype(int)
    out["stale_unknown"] = unknown.reindex(idx).fillna(0).astype(int)
    known = out["open"] - out["stale_unknown"]
    ok = (out["open"] > 0) & (out["stale_unknown"] <= MAX_UNKNOWN_SHARE * out["open"]) & (known > 0)
    out["stale_share"] = (out["stale"] / known.where(known > 0)).where(ok)
    out["closed_per_month"] = per_month.reindex(idx).fillna(0.0)
    out["bloat_months"] = out["open"] / out["closed_per_month"].where(out["closed_per_month"] > 0)
    out["lost"] = lg.value_counts().reindex(idx).fillna(0).astype(int)
    if has_activity(opps[opps["created_at"] < period.end]):
        out["lost_when_tired"] = tired.groupby(lg).sum().reindex(idx).fillna(0).astype(int)
        out["lost_when_tired_share"] = out["lost_when_tired"] / out["lost"].where(out["lost"] > 0)
    else:
        out["lost_when_tired"] = np.nan
        out["lost_when_tired_share"] = np.nan
    return out.reset_index()
