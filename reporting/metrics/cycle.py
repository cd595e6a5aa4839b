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


CENSORED, WON, LOST = 0, 1, 2


def aalen_johansen(groups: pd.Series, days: np.ndarray, outcome: np.ndarray) -> pd.DataFrame:
    """Aalen-Johansen cumulative incidence of winning and of losing (competing risks),
    vectorised over all groups at once.

    ``outcome`` is :data:`WON` (1), :data:`LOST` (2) or :data:`CENSORED` (0, still open at
    ``days``). At each distinct time t of a group, with n(t) deals at risk (not closed or
    censored before t; a deal censored at t is still at risk at t), d_w won and d_l lost
    at t and S(t-) the Kaplan-Meier share still open just before t:
    CIF_won(t) = sum over s <= t of S(s-) * d_w(s) / n(s), likewise for lost, and
    S(t) = S(t-) * (1 - (d_w + d_l) / n(t)). Columns: group, days, at_risk, won, lost,
    censored, open_share, cif_won, cif_lost (one row per group and distinct time).
    """
    f = pd.DataFrame({"group": groups.to_numpy(), "days": np.asarray(days, float),
                      "won": np.asarray(outcome) == WON, "lost": np.asarray(outcome) == LOST})
    f["censored"] = ~(f["won"] | f["lost"])
    cols = ["group", "days", "at_risk", "won", "lost", "censored", "open_share", "cif_won",
            "cif_lost"]
    if f.empty:
        return pd.DataFrame(columns=cols)
    t = f.groupby(["group", "days"], sort=True)[["won", "lost", "censored"]].sum().astype(int)
    t = t.reset_index()
    leaving = t["won"] + t["lost"] + t["censored"]
    total = leaving.groupby(t["group"]).transform("sum")
    before = leaving.groupby(t["group"]).cumsum() - leaving
    t["at_risk"] = (total - before).astype(int)
    hazard = (t["won"] + t["lost"]) / t["at_risk"]
    with np.errstate(divide="ignore"):
        log_s = np.log1p(-hazard.to_numpy())
    s = np.exp(pd.Series(log_s, index=t.index).groupby(t["group"]).cumsum())
    s_prev = s.groupby(t["group"]).shift(1).fillna(1.0)
    t["open_share"] = s.to_numpy()
    t["cif_won"] = (s_prev * t["won"] / t["at_risk"]).groupby(t["group"]).cumsum().to_numpy()
    t["cif_lost"] = (s_prev * t["lost"] / t["at_risk"]).groupby(t["group"]).cumsum().to_numpy()
    return t[cols]


def time_to_win(
    opps: pd.DataFrame, as_of: pd.Timestamp, horizon_days: float, by: str | None = "owner",
    months: int = 12,
) -> pd.DataFrame:
    """Time to win counting open deals: the Aalen-Johansen cumulative incidence of winning
    (losing a competing risk, deals still open censored at ``as_of``) of the deals created
    in the ``months`` before ``as_of``.

    ``won_by_horizon`` = CIF_won(horizon): the share of deals won within ``horizon_days``
    of creation. ``median_days_to_win``: the first time by which half of those wins have
    happened (CIF_won(t) >= CIF_won(horizon) / 2), i.e. the median cycle of the deals won
    within the horizon, with the deals still open taken into account; comparable with the
    median cycle of won deals, which sees only the deals that have already closed. NaN when
    no deal was won within the horizon, or when CIF_won(horizon) is not known yet (no deal
    of the group followed for the whole horizon while some were censored before it). Columns: group, deals, won, lost,
    still_open, horizon_days, won_by_horizon, median_days_to_win.
    """
    cols = ["group", "deals", "won", "lost", "still_open", "horizon_days", "won_by_horizon",
            "median_days_to_win"]
    start = as_of - pd.DateOffset(months=months)
    o = opps[(opps["created_at"] >= start) & (opps["created_at"] < as_of)]
    if o.empty or not np.isfinite(horizon_days):
        return pd.DataFrame(columns=cols)
    closed = o["closed_at"].notna() & (o["closed_at"] < as_of) & o["status"].isin(["won", "lost"])
    end = o["closed_at"].where(closed, as_of)
    days = ((end - o["created_at"]) / DAY).clip(lower=0).to_numpy()
    outcome = np.where(closed & (o["status"] == "won"), WON,
                       np.where(closed, LOST, CENSORED))
    groups = (o[by].fillna("(none)") if by else pd.Series("all", index=o.index)).astype(str)
    aj = aalen_johansen(groups, days, outcome)
    # CIF(horizon) is known when some deal was followed that long, or when no deal left
    # the risk set open (censored) before it
    followed = pd.Series(days, index=o.index).groupby(groups).max()
    early = pd.Series((outcome == CENSORED) & (days < horizon_days), index=o.index)
    known = (followed >= horizon_days) | ~early.groupby(groups).any()
    within = aj[aj["days"] <= horizon_days]
    at_h = within.groupby("group")["cif_won"].last()
    at_h = at_h.reindex(followed.index).fillna(0.0).where(known)
    target = within["group"].map(at_h / 2)
    hit = within[(within["cif_won"] >= target - 1e-12) & (within["won"] > 0)
                 & (within["group"].map(at_h) > 0)]
    med = hit.groupby("group")["days"].first()
    counts = pd.DataFrame({"group": groups, "won": outcome == WON, "lost": outcome == LOST})
    c = counts.groupby("group").agg(deals=("won", "size"), won=("won", "sum"),
                                    lost=("lost", "sum"))
    c["still_open"] = c["deals"] - c["won"] - c["lost"]
    c["horizon_days"] = float(horizon_days)
    c["won_by_horizon"] = at_h.reindex(c.index)
    c["median_days_to_win"] = med.reindex(c.index).astype(float)
    return c.reset_index()[cols]
