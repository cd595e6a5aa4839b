"""Good / watch / bad ratings against baselines per business profile.

A scope (a region, say) can mix profiles: an enterprise team and two inside-sales teams.
Its baseline is the blend of the profiles' thresholds weighted by each profile's share of
the deals closed in the period, so a region is neither held to the enterprise bar nor let
off with it. Trailing baselines resolve against the profile's own trailing 12 months.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from ..params import ReportSettings, Threshold
from ..periods import Period
from .core import cycle_length, win_rate
from .filters import closed_in_period, won_in_period

TRAILING: dict[str, Callable[[pd.DataFrame, Period], float | None]] = {}


#: fewest closed (win rate) or won (cycle) deals in the trailing 12 months for a trailing
#: baseline; below it the figure is not rated rather than judged against a handful of deals
MIN_TRAILING_DEALS = 10


def _trailing_win_rate(opps: pd.DataFrame, p: Period) -> float | None:
    wr = win_rate(opps, p)
    ok = len(wr) and wr["closed"].iloc[0] >= MIN_TRAILING_DEALS
    return float(wr["win_rate"].iloc[0]) if ok else None


def _trailing_cycle(opps: pd.DataFrame, p: Period) -> float | None:
    c = cycle_length(opps, p)
    won = c[c["status"] == "won"]
    ok = len(won) and won["count"].iloc[0] >= MIN_TRAILING_DEALS
    return float(won["median"].iloc[0]) if ok else None


def _trailing_deal_size(opps: pd.DataFrame, p: Period) -> float | None:
    """Mean amount of the deals won in ``p`` (the deal-size tile's figure), from at
    least :data:`MIN_TRAILING_DEALS` won deals with an amount."""
    amounts = opps.loc[won_in_period(opps, p), "amount"].dropna()
    return float(amounts.mean()) if len(amounts) >= MIN_TRAILING_DEALS else None


TRAILING.update(win_rate=_trailing_win_rate, median_cycle_days_won=_trailing_cycle,
                avg_won_amount=_trailing_deal_size)


def trailing_period(period: Period) -> Period:
    """The 12 months before the period starts."""
    return Period("range", period.start - pd.DateOffset(months=12), period.start)


def profile_thresholds(
    settings: ReportSettings, profile: str, opps: pd.DataFrame, period: Period
) -> dict[str, Threshold]:
    """The profile's thresholds with trailing baselines resolved on ``opps`` (the
    profile's deals) over the 12 months before the period."""
    out = {}
    tp = trailing_period(period)
    for name, th in settings.thresholds(profile).items():
        value = TRAILING[name](opps, tp) if th.trailing is not None and name in TRAILING else None
        resolved = th.resolve(value)
        if resolved is not None:
            out[name] = resolved
    return out


def team_profiles(settings: ReportSettings, teams: pd.Series) -> pd.Series:
    """Business profile of each team name."""
    lookup = {t: settings.profile_of(t) for t in teams.dropna().unique()}
    return teams.map(lookup).fillna("default")


def scope_thresholds(
    settings: ReportSettings, opps: pd.DataFrame, period: Period
) -> tuple[dict[str, Threshold], dict[str, float]]:
    """Thresholds for a whole scope: each profile's thresholds blended by its share of the
    deals closed in the period (of all deals in scope when none closed). Returns the
    thresholds and the weights."""
    prof = team_profiles(settings, opps["team"]) if "team" in opps else pd.Series(
        "default", index=opps.index)
    closed = opps[closed_in_period(opps, period)]
    base = prof.loc[closed.index] if len(closed) else prof
    weights = base.value_counts(normalize=True).to_dict() if len(base) else {"default": 1.0}
    per_profile = {p: profile_thresholds(settings, p, opps[prof == p], period) for p in weights}
    names = set().union(*[set(t) for t in per_profile.values()])
    out: dict[str, Threshold] = {}
    for name in sorted(names):
        parts = [(w, per_profile[p][name]) for p, w in weights.items() if name in per_profile[p]]
        total = sum(w for w, _ in parts)
        good = sum(w * t.good for w, t in parts) / total
        bad = sum(w * t.bad for w, t in parts) / total
        out[name] = Threshold(good=good, bad=bad, higher_is_better=parts[0][1].higher_is_better)
    return out, {k: float(v) for k, v in weights.items()}
