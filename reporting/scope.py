"""Which regions and teams a store holds, whether a scope has data in a period, and the
folder each report goes to.

A report is only worth producing when its scope has something to say about the period:
deals created, closed or open in it. An empty scope is a clear error for a single report
(or a ``no data`` status in a batch), never a ten-page report of empty charts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import store as _store
from .exceptions import ParamsError, ReportingError
from .paths import folder_names, region_folder, team_folder
from .periods import Period
from .textsafe import visible


class NoDataError(ReportingError):
    """The scope has no deal created, closed or open in the period."""


@dataclass(frozen=True)
class Scopes:
    """The regions of a store and the teams of each region."""

    teams: dict[str, list[str]]  # region -> teams
    first: pd.Timestamp | None = None  # earliest created_at
    last: pd.Timestamp | None = None  # latest created_at / closed_at

    @property
    def regions(self) -> list[str]:
        return sorted(self.teams)

    def region_folders(self) -> dict[str, str]:
        from .kinds import RESERVED_FOLDERS  # a region never takes a report kind's folder

        return folder_names(self.teams, RESERVED_FOLDERS)

    def folder(self, region: str, team: str = "all") -> str:
        """``<region folder>`` or ``<region folder>--<team folder>``, distinct for names that
        differ only by case, punctuation or Unicode form."""
        r = self.region_folders().get(region) or region_folder(region)
        if not team or team.lower() == "all":
            return r
        teams = self.teams.get(region, []) + [team]
        return team_folder(r, folder_names(teams)[team])


def known_scopes(store: str | Path | None) -> Scopes:
    """Regions and their teams as the store's opportunities name them."""
    with _store.connect(store, read_only=True) as con:
        rows = con.execute(
            "SELECT DISTINCT region, team FROM opportunities WHERE region IS NOT NULL"
        ).fetchall()
        first, last = con.execute(
            "SELECT min(created_at), max(greatest(created_at, coalesce(closed_at, created_at), "
            "coalesce(last_activity_at, created_at))) FROM opportunities").fetchone()
    teams: dict[str, list[str]] = {}
    for region, team in rows:
        teams.setdefault(region, [])
        if team is not None and team not in teams[region]:
            teams[region].append(team)
    for v in teams.values():
        v.sort()
    return Scopes(teams, pd.Timestamp(first) if first is not None else None,
                  pd.Timestamp(last) if last is not None else None)


def _names(values: Iterable[str], limit: int = 12) -> str:
    vals = [visible(v) for v in values]
    more = f" and {len(vals) - limit} more" if len(vals) > limit else ""
    return ", ".join(repr(v) for v in vals[:limit]) + more if vals else "none"


def check_team(scopes: Scopes, regions: list[str], team: str) -> list[str]:
    """The regions among ``regions`` that have ``team``; ParamsError listing the known
    teams when none has it."""
    have = [r for r in regions if team in scopes.teams.get(r, [])]
    if not have:
        known = sorted({t for r in regions for t in scopes.teams.get(r, [])})
        where = "the store" if len(regions) != 1 else f"region {visible(regions[0])!r}"
        raise ParamsError(f"unknown team {visible(team)!r}; {where} has teams: {_names(known)}")
    return have


def activity(store: str | Path | None, period: Period, region: str | None,
             team: str | None = None) -> dict[str, int]:
    """Deals of the scope created in, closed in, and open at the end of ``period``."""
    where, args = ["1=1"], []
    if region and region.lower() != "all":
        where.append("region = ?")
        args.append(region)
    if team and team.lower() != "all":
        where.append("team = ?")
        args.append(team)
    s, e = period.start.to_pydatetime(), period.end.to_pydatetime()
    sql = f"""
        SELECT
          count(*) FILTER (WHERE created_at >= ? AND created_at < ?),
          count(*) FILTER (WHERE closed_at >= ? AND closed_at < ?),
          count(*) FILTER (WHERE created_at < ? AND (closed_at IS NULL OR closed_at >= ?))
        FROM opportunities WHERE {' AND '.join(where)}"""
    with _store.connect(store, read_only=True) as con:
        created, closed, open_ = con.execute(sql, [s, e, s, e, e, e, *args]).fetchone()
    return {"created": int(created or 0), "closed": int(closed or 0), "open": int(open_ or 0)}


def has_data(counts: dict[str, int], scopes: Scopes | None = None,
             period: Period | None = None) -> bool:
    """True when the scope has a deal created, closed or open in the period, and the store's
    data reaches into the period (deals left open in a store whose data ended before the
    period started say nothing about it)."""
    if scopes is not None and period is not None and scopes.last is not None \
            and scopes.last < period.start:
        return False
    return any(counts.values())


def no_data_message(scopes: Scopes, period: Period, region: str, team: str = "all") -> str:
    what = visible(region) + ("" if team in ("", "all") else f" / {visible(team)}")
    if scopes.last is not None and scopes.last < period.start:
        msg = f"no data for {what} in {period.label}"
        months = (period.start.year - scopes.last.year) * 12 + period.start.month - scopes.last.month
        msg += (f": the store's data ends {scopes.last.date().isoformat()}, "
                f"{months} month{'s' if months != 1 else ''} before "
                f"this period (try --period {scopes.last.strftime('%Y-%m')})")
        return msg
    msg = f"no data for {what} in {period.label}: no deal was created, closed or open in it"
    if scopes.first is not None and period.end <= scopes.first:
        msg += f"; the store's data starts {scopes.first.date().isoformat()}"
    return msg
