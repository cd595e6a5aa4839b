"""A rep's scorecard figures: the rep's value of each metric beside the team's median rep.

Pure: the frames of :class:`reporting.metrics.suite.Analysis` and the typed settings in,
:class:`ScoreRow` records out (English labels, raw numbers); the report formats and
translates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..i18n import N_
from ..params import ReportSettings


@dataclass(frozen=True)
class ScoreRow:
    """One line of a scorecard. ``kind`` says how the numbers read: ``num`` (a count or
    days), ``num1`` (one decimal), ``pct`` (a ratio) or ``money``. ``team`` is the median
    of the rep's team (None when there is none); ``rating`` a baseline rating of the rep's
    figure; ``target`` the target share of a deal-size band (band rows only); ``flag`` a
    word the page shows beside the figure (``over capacity``: more open deals than the
    rep's capacity)."""

    label: str
    rep: Any
    team: Any
    kind: str
    rating: str | None = None
    target: float | None = None
    flag: str | None = None


OVER_CAPACITY = N_("over capacity")


def capacity_flag(open_count: float | None, capacity: float | None) -> str | None:
    """``over capacity`` when a rep holds more open deals than the capacity the reps table
    gives (a load above 100%); None at or under it, or without a capacity."""
    if open_count is None or capacity is None or pd.isna(open_count) or pd.isna(capacity) \
            or capacity <= 0:
        return None
    return OVER_CAPACITY if open_count > capacity else None


def rep_scorecard(summary: pd.DataFrame, band_mix: pd.DataFrame, acquirers: pd.DataFrame,
                  managers: pd.DataFrame, settings: ReportSettings, rep: str) -> list[ScoreRow]:
    """The five metrics for ``rep`` (a ``group`` of ``summary``) against the median rep of
    the rep's team (the reps of ``summary`` with the same ``team``; all of them without a
    team column): outcomes, cycle, deal size and band mix, open pipeline with stale share
    and load (rated against the fixed baselines of the rep's business profile), and the
    customer value of the accounts the rep won or manages."""
    s = summary.set_index("group")
    r = s.loc[rep]
    mates = s[s["team"] == r.get("team")] if "team" in s else s
    rows: list[ScoreRow] = []

    def add(label, col, kind, rating=None):
        if col in s:
            rows.append(ScoreRow(label, r[col], mates[col].median(), kind, rating))

    add(N_("Deals won"), "won", "num")
    add(N_("Deals lost"), "lost", "num")
    add(N_("Win rate"), "win_rate", "pct", r.get("rating"))
    add(N_("Median cycle of won deals (days)"), "median_cycle_days_won", "num")
    add(N_("Median days to win incl. open deals"), "median_days_to_win", "num")
    add(N_("Average won deal"), "avg_won_amount", "money")
    add(N_("Median won deal"), "median_won_amount", "money")
    if len(band_mix):
        mine = band_mix[band_mix["group"] == rep].set_index("band")
        for band, label in (("small", N_("Share of small deals")),
                            ("medium", N_("Share of medium deals")),
                            ("large", N_("Share of large deals"))):
            if band in mine.index:
                b = mine.loc[band]
                target = b["target_share"]
                rows.append(ScoreRow(label, b["share"], b["team_share"],
                                     "pct", target=target if pd.notna(target) else None))
    add(N_("Open deals at period end"), "open_count", "num")
    th = settings.thresholds(r.get("profile") or "default")

    def rated(name, value):  # the rep against the baseline of the rep's profile
        t = th.get(name)
        return t.rate(value) if t is not None and t.trailing is None and pd.notna(value) \
            else None

    add(N_("Stale open deals"), "stale_open_count", "num")
    if "stale_share" in s:
        add(N_("Share of open deals stale"), "stale_share", "pct",
            rated("stale_share", r.get("stale_share")))
    add(N_("Months of pipeline"), "bloat_months", "num1")
    add(N_("Lost deals closed when stale"), "lost_when_tired_share", "pct")
    if pd.notna(r.get("capacity")):
        load = r["open_count"] / r["capacity"] if r["capacity"] else None
        rows.append(ScoreRow(N_("Open deals / capacity"), load,
                             mates["load"].median() if "load" in mates else None, "pct",
                             rated("load", load),
                             flag=capacity_flag(r["open_count"], r["capacity"])))
    for frame, label, col, kind in (
            (acquirers, N_("Revenue per account-year of accounts won"), "value_per_account_year",
             "money"),
            (acquirers, N_("Churn of accounts won"), "churn_rate", "pct"),
            (acquirers, N_("Lifetime value per account won (discounted)"), "avg_predicted_value",
             "money"),
            (managers, N_("Expansion per account managed"), "expansion_per_account", "money")):
        if len(frame) and col in frame and rep in set(frame["person"]):
            peers = frame[frame["person"].isin(mates.index)]
            rows.append(ScoreRow(label, frame.set_index("person").loc[rep, col],
                                 peers[col].median() if len(peers) else None, kind))
    return rows


#: the columns of :func:`team_overview`
OVERVIEW_COLUMNS = ("group", "team", "won", "win_rate", "win_rate_rating",
                    "median_cycle_days_won", "avg_won_amount", "open_count", "capacity",
                    "load", "over_capacity", "bad", "watch")


def team_overview(summary: pd.DataFrame, band_mix: pd.DataFrame, acquirers: pd.DataFrame,
                  managers: pd.DataFrame, settings: ReportSettings) -> pd.DataFrame:
    """One row per rep of ``summary``: the figures a manager scans before turning to the
    reps' pages (deals won, win rate and its rating, median cycle of won deals, average
    won deal, open deals against capacity) and how many figures of the rep's scorecard
    (:func:`rep_scorecard`) are rated ``bad`` or ``watch`` (over capacity counts as bad).
    Ordered by team, then the most figures rated bad, then watch, then name: within each
    team the rep to look at first comes first."""
    cols = list(OVERVIEW_COLUMNS)
    if not len(summary):
        return pd.DataFrame(columns=cols)
    rows = []
    for _, r in summary.iterrows():
        card = rep_scorecard(summary, band_mix, acquirers, managers, settings, r["group"])
        ratings = [c.rating for c in card] + ["bad" for c in card if c.flag == OVER_CAPACITY]
        cap = r.get("capacity")
        rows.append({
            "group": r["group"], "team": r.get("team"), "won": r.get("won"),
            "win_rate": r.get("win_rate"), "win_rate_rating": r.get("rating"),
            "median_cycle_days_won": r.get("median_cycle_days_won"),
            "avg_won_amount": r.get("avg_won_amount"), "open_count": r.get("open_count"),
            "capacity": cap,
            "load": r["open_count"] / cap if pd.notna(cap) and cap and pd.notna(
                r.get("open_count")) else None,
            "over_capacity": capacity_flag(r.get("open_count"), cap) == OVER_CAPACITY,
            "bad": ratings.count("bad"), "watch": ratings.count("watch")})
    out = pd.DataFrame(rows, columns=cols)
    out["_team"] = out["team"].fillna("")
    out = out.sort_values(["_team", "bad", "watch", "group"],
                          ascending=[True, False, False, True], kind="mergesort")
    return out.drop(columns="_team").reset_index(drop=True)
