"""The trend report's monthly series: one row per month of a 12-24 month range.

Pure: canonical frames and the months (:func:`reporting.periods.trend_months`) in, one
row per month out. What each month's figures know:

- **as known at the month's end** (from the deal history, as the monthly report does):
  the open pipeline at the month end, its count and value
  (:func:`reporting.metrics.pipeline.open_deals`: open, owner and amount from each deal's
  version in force then; amounts of deals closed since are unknown without a history);
- **as recorded now** (as the monthly report of that month computes them when run
  today): the deals won and lost in the month, so bookings (count and value), win rate,
  median cycle of won deals and average won deal. A deal reopened after the month's end
  counts as the store records it now, exactly as in a monthly report run again.

The closed-deal figures are grouped by month in one pass over the deals closed in the
range; the open pipeline is one :func:`open_deals` call per month end.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..periods import Period
from . import pipeline
from .core import cycle_length, deal_size, largest_won, win_rate
from .filters import closed_in_period, created_counted

TREND_COLUMNS = ["month", "start", "won_count", "won_value", "lost", "closed", "win_rate",
                 "median_cycle_days_won", "avg_won_amount", "created", "open_count",
                 "open_value", "largest_won_amount", "largest_won_share", "concentrated"]


def monthly_series(opps: pd.DataFrame, months: list[Period],
                   deal_history: pd.DataFrame | None = None,
                   stage_history: pd.DataFrame | None = None,
                   stale_days=45) -> pd.DataFrame:
    """Per month of ``months`` (consecutive calendar months, oldest first): ``won_count``
    and ``won_value`` (bookings), ``lost``, ``closed``, ``win_rate`` (won / closed; NaN
    when none closed), ``median_cycle_days_won``, ``avg_won_amount``, ``created`` (deals
    created in the month), ``open_count`` and ``open_value`` at the month's end as known
    then (``open_value`` NaN when more than half of the open deals have no known amount),
    ``largest_won_amount`` / ``largest_won_share`` / ``concentrated``: the month's largest
    won deal, its share of the bookings and whether they rest on it
    (:func:`reporting.metrics.core.largest_won`).
    Columns :data:`TREND_COLUMNS`; ``month`` is the label (``2026-11``)."""
    if not months:
        return pd.DataFrame(columns=TREND_COLUMNS)
    whole = Period("range", months[0].start, months[-1].end)
    labels = [m.label for m in months]
    closed = opps[closed_in_period(opps, whole)]
    tagged = closed.assign(month=closed["closed_at"].dt.strftime("%Y-%m"))
    wr = win_rate(tagged, whole, "month").set_index("group").reindex(labels)
    cyc = cycle_length(tagged, whole, "month")
    won_c = cyc[cyc["status"] == "won"].set_index("group").reindex(labels) if len(cyc) else \
        pd.DataFrame(index=labels, columns=["median"])
    ds = deal_size(tagged, whole, "month").set_index("group").reindex(labels)
    big = largest_won(tagged, whole, "month").set_index("group").reindex(labels)
    created = opps[created_counted(opps, whole)]
    cr = created["created_at"].dt.strftime("%Y-%m").value_counts().reindex(labels).fillna(0)
    hist = stage_history if stage_history is not None and len(stage_history) else None
    open_n, open_v = [], []
    for m in months:
        d = pipeline.open_deals(opps, m.end, hist, stale_days, deal_history=deal_history)
        n = len(d)
        unknown = int((~d["amount_known"]).sum()) if n else 0
        open_n.append(n)
        open_v.append(np.nan if unknown > pipeline.MAX_UNKNOWN_SHARE * n
                      else float(d["amount"].sum()) if n else 0.0)
    out = pd.DataFrame({
        "month": labels, "start": [m.start for m in months],
        "won_count": wr["won"].fillna(0).astype(int).to_numpy(),
        "won_value": ds["won_amount"].fillna(0.0).to_numpy(dtype=float),
        "lost": wr["lost"].fillna(0).astype(int).to_numpy(),
        "closed": wr["closed"].fillna(0).astype(int).to_numpy(),
        "win_rate": wr["win_rate"].to_numpy(dtype=float),
        "median_cycle_days_won": won_c["median"].to_numpy(dtype=float),
        "avg_won_amount": ds["avg_won_amount"].to_numpy(dtype=float),
        "created": cr.astype(int).to_numpy(),
        "open_count": open_n, "open_value": open_v,
        "largest_won_amount": big["amount"].to_numpy(dtype=float),
        "largest_won_share": big["share"].to_numpy(dtype=float),
        "concentrated": big["concentrated"].eq(True).to_numpy(),  # a month without wins: False
    })
    return out[TREND_COLUMNS]
