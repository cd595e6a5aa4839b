"""Sales cycle beyond closed-deal medians: censored time to close and monthly trend."""

from __future__ import annotations

import numpy as np
import pandas as pd

DAY = pd.Timedelta(days=1)


def kaplan_meier(durations: np.ndarray, events: np.ndarray) -> pd.DataFrame:
    """Kaplan-Meier survival curve: the share of deals still open after t days.

    ``events`` is True where the deal closed at ``durations`` and False where it was still
    open then (censored). Columns: days, at_risk, closed, open_share.
    """
    d = np.asarray(durations, dtype=float)
    e = np.asarray(events, dtype=bool)
    if d.size == 0:
        return pd.DataFrame(columns=["days", "at_risk", "closed", "open_share"])
    times, inv = np.unique(d, return_inverse=True)
    closed = np.bincount(inv, weights=e.astype(float), minlength=len(times))
    leaving = np.bincount(inv, minlength=len(times))
    at_risk = len(d) - np.concatenate([[0], np.cumsum(leaving)[:-1]])
    s = np.cumprod(1 - closed / at_risk)
    keep = closed > 0
    return pd.DataFrame({"days": times[keep], "at_risk": at_risk[keep],
                         "closed": closed[keep].astype(int), "open_share": s[keep]})


def km_median(curve: pd.DataFrame) -> float:
    """First time at which at most half the deals are still open (NaN if never)."""
    hit = curve[curve["open_share"] <= 0.5 + 1e-9]
    return float(hit["days"].iloc[0]) if len(hit) else float("nan")


def km_medians(groups: pd.Series, days: np.ndarray, events: np.ndarray) -> pd.Series:
    """Kaplan-Meier median per group, vectorised over all groups at once.

    Within a group, observations are taken in order of time (events before censorings
    at the same time); each event multiplies survival by 1 - 1/at_risk, which over tied
    events gives the usual 1 - d/n.
    """
    f = pd.DataFrame({"g": groups.to_numpy(), "t": days, "e": events.astype(bool)})
    f = f.sort_values(["g", "t", "e"], ascending=[True, True, False], kind="stable")
    n = f.groupby("g")["t"].transform("size").to_numpy()
    rank = f.groupby("g").cumcount().to_numpy()
    at_risk = n - rank
    with np.errstate(divide="ignore"):
        logf = np.log1p(-f["e"].to_numpy(dtype=float) / at_risk)
    surv = np.exp(pd.Series(logf, index=f.index).groupby(f["g"]).cumsum().to_numpy())
    hit = f[(surv <= 0.5 + 1e-9) & f["e"].to_numpy()]  # tolerance: a product of ratios
    med = hit.groupby("g")["t"].first()
    return med.reindex(pd.unique(f["g"])).astype(float)


def time_to_close(
    opps: pd.DataFrame, as_of: pd.Timestamp, by: str | None = "owner", months: int = 12
) -> pd.DataFrame:
    """Median days from creation to close per group, counting still-open deals as
    censored (Kaplan-Meier), for deals created in the ``months`` before ``as_of``.

    The closed-only median flatters a rep whose slow deals are still open; this one does
    not. Columns: group, deals, closed, still_open, km_median_days, closed_only_median_days
    (km_median_days is NaN where fewer than half the deals have closed: the median is not
    known yet).
    """
    start = as_of - pd.DateOffset(months=months)
    o = opps[(opps["created_at"] >= start) & (opps["created_at"] < as_of)]
    closed = o["closed_at"].notna() & (o["closed_at"] < as_of)
    end = o["closed_at"].where(closed, as_of)
    days = ((end - o["created_at"]) / DAY).to_numpy()
    groups = o[by].fillna("(none)") if by else pd.Series("all", index=o.index)
    cols = ["group", "deals", "closed", "still_open", "km_median_days",
            "closed_only_median_days"]
    if o.empty:
        return pd.DataFrame(columns=cols)
    ev = closed.to_numpy()
    f = pd.DataFrame({"group": groups.to_numpy(), "closed": ev,
                      "closed_days": np.where(ev, days, np.nan)})
    g = f.groupby("group", sort=True)
    out = pd.DataFrame({"deals": g.size(), "closed": g["closed"].sum().astype(int)})
    out["still_open"] = out["deals"] - out["closed"]
    out["km_median_days"] = km_medians(groups, days, ev).reindex(out.index)
    out["closed_only_median_days"] = g["closed_days"].median()
    return out.reset_index()[cols]


def cycle_trend(opps: pd.DataFrame, as_of: pd.Timestamp, months: int = 12,
                by: str | None = None) -> pd.DataFrame:
    """Median and mean cycle of deals won per month (by closed_at), the last ``months``
    complete months before ``as_of``. Columns: month, group, won, median_days, mean_days."""
    first = (as_of - pd.DateOffset(months=months)).to_period("M").to_timestamp()
    w = opps[(opps["status"] == "won") & (opps["closed_at"] >= first)
             & (opps["closed_at"] < as_of)]
    month = w["closed_at"].dt.to_period("M").dt.to_timestamp()
    days = (w["closed_at"] - w["created_at"]) / DAY
    group = w[by].fillna("(none)") if by else pd.Series("all", index=w.index)
    f = pd.DataFrame({"month": month, "group": group, "days": days})
    out = f.groupby(["month", "group"])["days"].agg(won="size", median_days="median",
                                                    mean_days="mean")
    return out.reset_index()
