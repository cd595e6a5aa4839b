"""Deal-size mix: each rep's share of small / medium / large won deals against the team's
mix and a target mix, and the zero-amount wins those bands hold."""

from __future__ import annotations

import pandas as pd

from ..periods import Period
from .filters import won_in_period


def band_mix(
    opps: pd.DataFrame, period: Period, bands: pd.Series, by: str = "owner",
    target: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Share of each band among the deals won in the period, per group, with the team's
    mix (all groups together) and an optional target mix.

    ``bands`` is the band label of every row of ``opps`` (e.g. from
    :class:`reporting.models.DealSizeBander`). Long format: group, band, won, share,
    team_share, target_share, gap (share - target_share, or share - team_share without a
    target). Rows whose groups won nothing in the period are absent.
    """
    won = won_in_period(opps, period) & bands.notna()
    f = pd.DataFrame({"group": opps.loc[won, by].fillna("(none)"), "band": bands[won]})
    cols = ["group", "band", "won", "share", "team_share", "target_share", "gap"]
    if f.empty:
        return pd.DataFrame(columns=cols)
    counts = f.groupby(["group", "band"]).size().unstack(fill_value=0)
    shares = counts.div(counts.sum(axis=1), axis=0)
    team = counts.sum() / counts.values.sum()
    out = shares.stack().rename("share").reset_index()
    out["won"] = counts.stack().to_numpy().astype(int)
    out["team_share"] = out["band"].map(team)
    out["target_share"] = out["band"].map(target) if target else float("nan")
    ref = out["target_share"] if target else out["team_share"]
    out["gap"] = out["share"] - ref
    return out[cols]


def zero_amount_wins(opps: pd.DataFrame, period: Period) -> int:
    """How many deals won in the period have an amount of exactly 0 (they count as won
    deals, in the smallest band and in the average deal size)."""
    return int((won_in_period(opps, period) & (opps["amount"] == 0)).sum())
