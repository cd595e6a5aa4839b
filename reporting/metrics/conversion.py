"""Conversion beyond the win rate: cohorts, leads, and the stage-to-stage funnel."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..i18n import N_
from ..periods import Period
from .filters import closed_in_period, estimated_created

DAY = pd.Timedelta(days=1)


def cohort_win_rate(
    opps: pd.DataFrame, as_of: pd.Timestamp, horizons: tuple[int, ...] = (30, 60, 90),
    months: int = 12,
) -> pd.DataFrame:
    """Of the opportunities created in month M, the share won by ``as_of`` and the share
    won within 30 / 60 / 90 days of creation.

    A horizon's share is NaN until the whole cohort has had that many days (month end +
    horizon <= as_of), so young cohorts are not read as failures; there is no "win rate so
    far" (a cohort rate on an immature cohort), only the count ``won_so_far``. Columns:
    cohort (month start), created, won_so_far, and ``won_by_{d}d`` / ``win_rate_by_{d}d``
    per horizon. The last ``months`` cohorts before ``as_of``.
    """
    o = opps[(opps["created_at"] < as_of) & ~estimated_created(opps)]
    cohort = o["created_at"].dt.to_period("M").dt.to_timestamp()
    first = (as_of - pd.DateOffset(months=months)).to_period("M").to_timestamp()
    keep = cohort >= first
    o, cohort = o[keep], cohort[keep]
    won = (o["status"] == "won") & (o["closed_at"] < as_of)
    days = (o["closed_at"] - o["created_at"]) / DAY
    frame = pd.DataFrame({"cohort": cohort, "won": won})
    for d in horizons:
        frame[f"won_by_{d}d"] = won & (days <= d)
    g = frame.groupby("cohort")
    out = pd.DataFrame({"created": g.size(), "won_so_far": g["won"].sum().astype(int)})
    month_end = out.index + pd.offsets.MonthBegin(1)
    for d in horizons:
        out[f"won_by_{d}d"] = g[f"won_by_{d}d"].sum().astype(int)
        mature = (month_end + pd.Timedelta(days=d)) <= as_of
        out[f"win_rate_by_{d}d"] = np.where(mature, out[f"won_by_{d}d"] / out["created"], np.nan)
    return out.reset_index()


def conversion_horizon(leads: pd.DataFrame, as_of: pd.Timestamp, q: float = 0.9
                       ) -> float | None:
    """The maturity horizon of lead conversion learned from the data: the ``q`` quantile
    (90th percentile) of days from creation to conversion of the leads converted before
    ``as_of``, rounded up to whole days (None without conversions)."""
    conv = leads[leads["converted_at"].notna() & (leads["converted_at"] < as_of)]
    days = ((conv["converted_at"] - conv["created_at"]) / DAY).clip(lower=0)
    return float(np.ceil(days.quantile(q))) if len(days) else None


def lead_conversion(leads: pd.DataFrame, period: Period, by: str | None = None,
                    horizon_days: float | None = None,
                    as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """Leads created in the period and what became of them: converted to an opportunity,
    disqualified, or still open.

    Without ``horizon_days``: converted "so far" (as of the data), which rates the young
    leads at the end of a period before they had time to convert. With ``horizon_days``
    and ``as_of``: a lead counts as converted only when it converted within
    ``horizon_days`` of its creation, the same for every period compared, and the
    cohort is mature only when every lead of the period has had the whole horizon
    (period end + horizon <= ``as_of``); an immature cohort's conversion_rate is NaN (not
    rated), its counts are kept. Columns: group, leads, converted, disqualified, open,
    conversion_rate (converted / leads), median_days_to_convert, and with a horizon
    horizon_days, mature, mature_on.
    """
    lf = leads[period.contains(leads["created_at"])]
    group = lf[by].fillna("(none)") if by else pd.Series("all", index=lf.index)
    converted = lf["converted_opportunity_id"].notna() | lf["converted_at"].notna()
    days = ((lf["converted_at"] - lf["created_at"]) / DAY).where(converted)
    if horizon_days is not None:
        converted = converted & (days <= horizon_days) & (lf["converted_at"] < as_of)
        days = days.where(converted)
    disq = lf["disqualified"].fillna(False).astype(bool) & ~converted
    g = pd.DataFrame({"group": group, "converted": converted, "disq": disq, "days": days})
    agg = g.groupby("group").agg(
        leads=("converted", "size"), converted=("converted", "sum"),
        disqualified=("disq", "sum"), median_days_to_convert=("days", "median"),
    )
    agg["open"] = agg["leads"] - agg["converted"] - agg["disqualified"]
    agg["conversion_rate"] = agg["converted"] / agg["leads"]
    cols = ["leads", "converted", "disqualified", "open", "conversion_rate",
            "median_days_to_convert"]
    if horizon_days is not None:
        mature_on = period.end + pd.Timedelta(days=horizon_days)
        agg["horizon_days"] = float(horizon_days)
        agg["mature"] = bool(mature_on <= as_of)
        agg["mature_on"] = mature_on
        agg["conversion_rate"] = agg["conversion_rate"].where(agg["mature"])
        cols += ["horizon_days", "mature", "mature_on"]
    return agg[cols].reset_index()


def stage_order(stage_history: pd.DataFrame, opps: pd.DataFrame) -> list[str]:
    """The funnel's open stages in order: stages ranked by their median position in each
    deal's history, without the terminal (won / lost) stages."""
    terminal = set(opps.loc[opps["status"] != "open", "stage"].dropna())
    h = stage_history[~stage_history["stage"].isin(terminal)]
    if h.empty:
        return []
    pos = h.sort_values(["opportunity_id", "entered_at"], kind="stable").groupby(
        "opportunity_id").cumcount()
    return pos.groupby(h["stage"]).median().sort_values(kind="stable").index.tolist()


def furthest_stage(stage_history: pd.DataFrame, closed: pd.DataFrame,
                   stages: list[str]) -> np.ndarray:
    """Per deal of ``closed``: the position in ``stages`` of the furthest stage its history
    shows (0 when it shows none of them)."""
    rank = {s: i for i, s in enumerate(stages)}
    h = stage_history[stage_history["opportunity_id"].isin(closed["opportunity_id"])]
    furthest = h["stage"].map(rank).groupby(h["opportunity_id"]).max()
    return furthest.reindex(closed["opportunity_id"]).fillna(0).to_numpy()


def stage_funnel(
    stage_history: pd.DataFrame, opps: pd.DataFrame, period: Period,
    stages: list[str] | None = None,
) -> pd.DataFrame:
    """Stage-to-stage conversion of the deals closed in the period.

    A deal *reached* stage k when its history shows stage k or any later stage (CRMs let
    deals skip stages). Conversion k -> k+1 is reached(k+1) / reached(k); the last step is
    "Won". ``lost_here`` counts lost deals whose furthest stage was k: where deals are
    lost. Columns: stage, reached, conversion_to_next, lost_here.
    """
    closed = opps[closed_in_period(opps, period)]
    stages = stages or stage_order(stage_history, opps)
    cols = ["stage", "reached", "conversion_to_next", "lost_here"]
    if closed.empty or not stages:
        return pd.DataFrame(columns=cols)
    furthest = furthest_stage(stage_history, closed, stages)
    won = (closed["status"] == "won").to_numpy()
    # a won deal went through every stage
    furthest = np.where(won, len(stages) - 1, furthest)
    reached = [int((furthest >= i).sum()) for i in range(len(stages))] + [int(won.sum())]
    lost_here = [int(((furthest == i) & ~won).sum()) for i in range(len(stages))] + [0]
    nxt = [reached[i + 1] / reached[i] if reached[i] else np.nan for i in range(len(stages))]
    return pd.DataFrame({
        "stage": [*stages, N_("Won")],
        "reached": reached,
        "conversion_to_next": [*nxt, np.nan],
        "lost_here": lost_here,
    })
