"""The company roll-up: every region's figures of one period on one table, and a company
total computed over all the deals (a rate of the total is never a sum or mean of the
regions' rates).

Pure: canonical frames in, one row per region plus the total row out. Each figure uses
the definition of the monthly report (:mod:`reporting.metrics.core`): bookings are the
deals won in the period (count and value), the win rate is won / closed in the period,
the cycle is the median days from creation to win of the deals won in it, the average
deal the mean won amount; the open pipeline is the deals open at the period end as known
then (:func:`reporting.metrics.pipeline.open_deals` reads the deal history), and quota,
attainment and coverage come from :func:`reporting.metrics.targets.attainment` on the
deals as they were at the period end (the current rows without a deal history). Each
figure is grouped by region in one pass.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..i18n import N_
from ..params import ReportSettings
from ..periods import Period
from . import pipeline, targets
from .core import TOO_FEW, cycle_length, deal_size, largest_won, open_pipeline, win_rate
from .ratings import scope_thresholds

TOTAL = "all"  # the ``region`` of the company total row

ROLLUP_COLUMNS = [
    "region", "is_total", "won_count", "won_value", "lost", "closed", "win_rate",
    "win_rate_ci_low", "win_rate_ci_high", "median_cycle_days_won", "avg_won_amount",
    "open_count", "open_value", "quota", "attainment", "coverage", "coverage_note",
    "forecast_value", "forecast_low", "forecast_high",
    "win_rate_rating", "cycle_rating", "attainment_rating",
    "largest_won_id", "largest_won_amount", "largest_won_share", "concentrated",
]


def _rate(th, value) -> str | None:
    return None if th is None or value is None or pd.isna(value) else th.rate(float(value))


def region_rollup(
    opps: pd.DataFrame,
    period: Period,
    settings: ReportSettings | None = None,
    quotas: pd.DataFrame | None = None,
    reps: pd.DataFrame | None = None,
    deal_history: pd.DataFrame | None = None,
    stage_history: pd.DataFrame | None = None,
    forecast: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per region of ``opps`` (sorted by name) and a last row for the company
    (``region`` :data:`TOTAL`, ``is_total`` True), columns :data:`ROLLUP_COLUMNS`.

    ``won_value`` is the sum of the won amounts; ``open_value`` NaN when more than half
    of the open deals have no known amount (not computable, as in the monthly report).
    ``quota`` / ``attainment`` / ``coverage``: NaN without a quota (a company total needs
    every region's quota, see :func:`reporting.metrics.targets.attainment`); coverage is
    the open value due in the period over the quota still to go. ``forecast``: a frame
    indexed by region (and :data:`TOTAL`) with ``value``, ``low`` and ``high`` (the next
    period's expected bookings and its 80% range), shown as given. Ratings (``good``,
    ``watch``, ``bad`` or "too few deals to judge" for a win rate whose 95% interval is
    wider than ``settings.max_interval_width``) against each region's baselines, blended
    over its teams' business profiles (:func:`reporting.metrics.ratings.scope_thresholds`);
    None without ``settings``. ``largest_won_id`` / ``largest_won_amount`` /
    ``largest_won_share``: the largest deal won in the period and its share of ``won_value``; ``concentrated`` when the
    bookings rest on it (:func:`reporting.metrics.core.largest_won`)."""
    p = period
    o = opps[opps["region"].notna()] if "region" in opps else opps.assign(region="(none)")
    wr = win_rate(o, p, "region").set_index("group")
    wr_all = win_rate(o, p, None).set_index("group")
    cyc = cycle_length(o, p, "region")
    cyc_all = cycle_length(o, p, None)
    ds = deal_size(o, p, "region").set_index("group")
    ds_all = deal_size(o, p, None).set_index("group")
    lw = largest_won(o, p, "region").set_index("group")
    lw_all = largest_won(o, p, None).set_index("group")
    stale = settings.stale_days if settings is not None else 45
    hist = stage_history if stage_history is not None and len(stage_history) else None
    deals = pipeline.open_deals(o, p.end, hist, stale, deal_history=deal_history)
    op = open_pipeline(o, p.end, "region", stale, deals=deals).set_index("group")
    op_all = open_pipeline(o, p.end, None, stale, deals=deals).set_index("group")
    q = quotas if quotas is not None else targets.empty_frame("quotas")
    versions = deal_history if deal_history is not None and len(deal_history) else None
    from ..history import state_at

    # the deals as they were at the period end; without a deal history the current rows
    # (for a period that has ended they say what was won in it: state_at would leave the
    # won amounts of deals closed before the end unknown)
    then = state_at(o, versions, p.end) if versions is not None and len(q) else o
    if len(q):
        att = targets.attainment(then, q, p, by="region", as_of=p.end,
                                 reps=reps).set_index("group")
        att_all = targets.attainment(then, q, p, by=None, as_of=p.end,
                                     reps=reps).set_index("group")
    else:  # no quota anywhere: nothing to attain (and no need to work it out per region)
        att = att_all = pd.DataFrame(index=pd.Index([], name="group"))
    regions = sorted(set(o["region"].dropna()), key=str)

    def row(name: str, is_total: bool, w, c, d, pipe, a, big) -> dict:
        won_c = c[c["status"] == "won"] if len(c) else c
        key = TOTAL if is_total else name
        r = {"region": name, "is_total": is_total,
             "won_count": int(w.loc[key, "won"]) if key in w.index else 0,
             "lost": int(w.loc[key, "lost"]) if key in w.index else 0,
             "closed": int(w.loc[key, "closed"]) if key in w.index else 0,
             "win_rate": float(w.loc[key, "win_rate"]) if key in w.index else np.nan,
             "win_rate_ci_low": float(w.loc[key, "ci_low"]) if key in w.index else np.nan,
             "win_rate_ci_high": float(w.loc[key, "ci_high"]) if key in w.index else np.nan,
             "median_cycle_days_won": float(won_c.loc[won_c["group"] == key, "median"].iloc[0])
             if len(won_c) and (won_c["group"] == key).any() else np.nan,
             "won_value": float(d.loc[key, "won_amount"]) if key in d.index else 0.0,
             "avg_won_amount": float(d.loc[key, "avg_won_amount"]) if key in d.index
             else np.nan,
             "open_count": int(pipe.loc[key, "open_count"]) if key in pipe.index else 0,
             "open_value": float(pipe.loc[key, "open_amount"]) if key in pipe.index else 0.0,
             "largest_won_id": big.loc[key, "opportunity_id"] if key in big.index else None,
             "largest_won_amount": float(big.loc[key, "amount"]) if key in big.index
             else np.nan,
             "largest_won_share": float(big.loc[key, "share"]) if key in big.index else np.nan,
             "concentrated": bool(big.loc[key, "concentrated"]) if key in big.index
             else False}
        if key in a.index:
            r.update(quota=float(a.loc[key, "quota"]), attainment=float(a.loc[key, "attainment"]),
                     coverage=float(a.loc[key, "coverage"]),
                     coverage_note=a.loc[key, "coverage_note"])
        else:
            r.update(quota=np.nan, attainment=np.nan, coverage=np.nan, coverage_note=N_("no quota"))
        if forecast is not None and key in forecast.index:
            f = forecast.loc[key]
            r.update(forecast_value=f.get("value"), forecast_low=f.get("low"),
                     forecast_high=f.get("high"))
        if settings is not None:
            scope = o if is_total else o[o["region"] == name]
            th, _ = scope_thresholds(settings, scope, p)
            rating = _rate(th.get("win_rate"), r["win_rate"])
            if r["closed"] == 0:
                rating = None
            elif r["win_rate_ci_high"] - r["win_rate_ci_low"] > settings.max_interval_width:
                rating = TOO_FEW
            r.update(win_rate_rating=rating,
                     cycle_rating=_rate(th.get("median_cycle_days_won"),
                                        r["median_cycle_days_won"]),
                     attainment_rating=_rate(th.get("attainment"), r["attainment"]))
        return r

    rows = [row(g, False, wr, cyc, ds, op, att, lw) for g in regions]
    rows.append(row(TOTAL, True, wr_all, cyc_all, ds_all, op_all, att_all, lw_all))
    return pd.DataFrame(rows).reindex(columns=ROLLUP_COLUMNS)
