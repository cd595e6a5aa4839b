"""Targets: quota attainment, pacing and coverage per rep, team or region.

Pure functions of DataFrames (no I/O). Quotas are rows of the canonical ``quotas`` table
(``scope_type, scope, period, amount, currency``; amounts already in the reporting
currency), from ``params/quotas.yaml`` (:func:`reporting.params.load_quotas_file`) and/or
the ingested table (:func:`reporting.store.load_quotas`), combined by
:func:`combine_quotas`.

Definitions (also in :data:`DEFINITIONS`, printed by the methodology appendix):

* **attainment** = won value in the period / quota. Won value: the amounts of the deals
  won with ``closed_at`` in ``[period start, as_of)``.
* **pacing**: ``expected_to_date`` = quota x the share of the period expected to be
  booked by ``as_of``: *linear* (the share of the period's time elapsed) or *seasonal*
  (of the won value of the past periods of the same kind, the share that had been booked
  by the same day of the period, pooled over at least ``min_periods`` past periods with
  bookings; fewer: linear). ``pacing_method`` says which was used. ``pace`` = won value /
  expected_to_date (1 = on pace).
* **coverage** = open pipeline expected to close in the period / remaining quota, where
  remaining = quota - won value and the pipeline is the amount of the deals open at
  ``as_of`` whose expected close date is before the period end (or, where the deals have
  no expected close dates, the forecast's expected value passed in). When remaining <= 0
  the quota is met and coverage is not meaningful: NaN with ``coverage_note`` "quota met".
* a missing quota makes quota, attainment, expected_to_date, pace, remaining and coverage
  NaN (not computable), never 0. A quarterly quota is never split into months silently
  (see :func:`quota_for`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..i18n import N_, N_p
from ..periods import Period, parse_period
from ..schema import empty_frame

#: past periods with bookings needed for a seasonal pacing shape
MIN_SEASONAL_PERIODS = 3
#: past periods looked at for the seasonal shape, by period kind
SEASONAL_LOOKBACK = {"month": 12, "quarter": 8}
_BY_COLUMN = {"rep": "owner", "team": "team", "region": "region"}
_CHILD = {"region": "team", "team": "rep"}

DEFINITIONS: dict[str, str] = {
    "quota_attainment": (
        N_("Quota attainment: won value in the period (deals won with closed_at in the period, "
        "up to the as-of time) / the quota of the rep, team or region for that period. A "
        "team or region without a quota of its own uses the sum of its members' quotas when "
        "every member has one (quota_source says which); a quarter without a quota uses "
        "the sum of its three monthly quotas when all exist; a quarterly quota is never "
        "split into months unless asked (even split or seasonal shape). Missing quota: not "
        "computable, never 0. quotas.yaml wins over an ingested quota for the same scope "
        "and period; quotas in another currency are converted to the reporting currency.")
    ),
    "quota_pacing": (
        N_("Pacing: the share of the quota expected to be booked by the as-of time: linear "
        "(the share of the period's days elapsed) or seasonal (of the won value of up to "
        "12 past months, or 8 past quarters, the share booked by the same day of the "
        "period, pooled; used when at least 3 past periods had bookings, else linear). "
        "Pace = won value / expected to date (1.0 = on pace).")
    ),
    "quota_coverage": (
        N_("Coverage: open pipeline expected to close in the period (deals open at the as-of "
        "time with an expected close date before the period end; where deals carry no "
        "expected close date, the forecast's expected value) / remaining quota (quota - "
        "won value). When the quota is already met coverage is not meaningful and is not "
        "shown.")
    ),
}


def definitions() -> dict[str, str]:
    """The methodology appendix's paragraphs for targets."""
    return dict(DEFINITIONS)


def _as_period(period: Period | str) -> Period:
    return period if isinstance(period, Period) else parse_period(str(period))


# --------------------------------------------------------------------------- quotas


def combine_quotas(from_yaml: pd.DataFrame | None, from_table: pd.DataFrame | None
                   ) -> tuple[pd.DataFrame, list[str]]:
    """One quotas table from ``params/quotas.yaml`` and the ingested ``quotas`` table.

    For the same scope type, scope and period the yaml wins; the returned notes say so
    (how many, and the first few). Returns ``(quotas, notes)``."""
    cols = list(empty_frame("quotas").columns)
    frames = [f[cols] for f in (from_yaml, from_table) if f is not None and len(f)]
    notes: list[str] = []
    if not frames:
        return empty_frame("quotas"), notes
    if len(frames) == 2:
        key = ["scope_type", "scope", "period"]
        y, t = from_yaml[cols], from_table[cols]
        both = t.merge(y[key], on=key, how="inner")
        if len(both):
            shown = ", ".join(f"{r.scope_type} {r.scope} {r.period}"
                              for r in both.head(3).itertuples())
            more = f" and {len(both) - 3} more" if len(both) > 3 else ""
            notes.append(f"quotas.yaml overrides {len(both)} ingested quota"
                         f"{'s' if len(both) != 1 else ''} for the same scope and period "
                         f"({shown}{more})")
        t = t.merge(y[key].assign(_y=True), on=key, how="left")
        t = t[t["_y"].isna()].drop(columns="_y")
        out = pd.concat([y, t], ignore_index=True)
    else:
        out = frames[0].copy()
    out["amount"] = out["amount"].astype(float)
    return out.reset_index(drop=True), notes


class QuotaIndex:
    """A canonical quotas table (see :func:`combine_quotas`) indexed by (scope type,
    scope), built once: the quota of each of a region's 550 reps is then a lookup, not a
    scan of the table (which took 2.3 s of a 1M-opportunity report's attainment).
    :func:`quota_for` takes one in place of the table."""

    def __init__(self, quotas: pd.DataFrame) -> None:
        self._rows: dict[tuple, list[tuple]] = {}
        if quotas is not None and len(quotas):
            for st, sc, per, amt in zip(quotas["scope_type"], quotas["scope"],
                                        quotas["period"], quotas["amount"].astype(float),
                                        strict=True):
                self._rows.setdefault((st, sc), []).append((per, amt))

    def rows(self, scope_type: str, scope: str) -> list[tuple]:
        """The (period, amount) rows of one scope, in the table's order."""
        return self._rows.get((scope_type, scope), [])

    def given(self, scope_type: str, scope: str) -> dict[str, float]:
        """Period -> amount of one scope (a later row of the same period wins, as in
        ``dict(zip(...))`` over the table)."""
        return dict(self.rows(scope_type, scope))


def _lookup(quotas: pd.DataFrame | QuotaIndex, scope_type: str, scope: str
            ) -> dict[str, float]:
    if isinstance(quotas, QuotaIndex):
        return quotas.given(scope_type, scope)
    q = quotas[(quotas["scope_type"] == scope_type) & (quotas["scope"] == scope)]
    return dict(zip(q["period"], q["amount"].astype(float), strict=True))


def _months(p: Period) -> list[str]:
    return [f"{(p.start + pd.DateOffset(months=i)):%Y-%m}" for i in range(3)]


def quota_for(quotas: pd.DataFrame | QuotaIndex, scope_type: str, scope: str,
              period: Period | str,
              split: str | dict[str, float] | None = None) -> float | None:
    """The quota of one rep, team or region for ``period``, or None.

    * a quota given for the period itself;
    * a quarter: else the sum of its three monthly quotas, only when all three exist;
    * a year: the sum of its four quarters (each as above), only when all exist;
    * a month without a quota of its own, inside a quarter that has one: None (a quarterly
      quota is not split silently) unless ``split="even"`` (a third of it) or ``split`` is
      a shape ``{month label: share of the quarter}`` (e.g. from past bookings); the
      quarter's share for the month is then used;
    * anything else (a custom range, nothing given): None.
    """
    p = _as_period(period)
    given = _lookup(quotas, scope_type, scope)
    return _quota_from(given, p, split)


def _quota_from(given: dict[str, float], p: Period,
                split: str | dict[str, float] | None) -> float | None:
    if p.kind in ("month", "quarter") and p.label in given:
        return float(given[p.label])
    if p.kind == "quarter":
        months = _months(p)
        if all(m in given for m in months):
            return float(math.fsum(given[m] for m in months))
        return None
    if p.kind == "year":
        parts = [_quota_from(given, Period("quarter", p.start + pd.DateOffset(months=3 * i),
                                           p.start + pd.DateOffset(months=3 * i + 3)), None)
                 for i in range(4)]
        return float(math.fsum(parts)) if all(x is not None for x in parts) else None
    if p.kind == "month" and split is not None:
        q = p.quarter()
        if q.label not in given:
            return None
        if split == "even":
            return given[q.label] / 3.0
        if isinstance(split, dict):
            shares = [float(split.get(m, np.nan)) for m in _months(q)]
            if any(not np.isfinite(s) or s < 0 for s in shares) or not math.fsum(shares) > 0:
                return None
            return given[q.label] * float(split[p.label]) / math.fsum(shares)
        raise ValueError(f"split must be None, 'even' or a mapping of months to shares, "
                         f"not {split!r}")
    return None


def _members(opps: pd.DataFrame, reps: pd.DataFrame | None) -> pd.DataFrame:
    """rep -> team, region: the reps table where it says, else each owner's latest deal."""
    parts = []
    if reps is not None and len(reps):
        parts.append(pd.DataFrame({"rep": reps["rep_id"], "team": reps.get("team"),
                                   "region": reps.get("region")}))
    if len(opps):
        latest = opps.sort_values("created_at", kind="stable").drop_duplicates(
            "owner", keep="last")
        parts.append(pd.DataFrame({"rep": latest["owner"], "team": latest.get("team"),
                                   "region": latest.get("region")}))
    if not parts:
        return pd.DataFrame(columns=["rep", "team", "region"])
    m = pd.concat(parts, ignore_index=True).dropna(subset=["rep"])
    return m.drop_duplicates("rep", keep="first").reset_index(drop=True)


def _group_quota(quotas: pd.DataFrame, level: str, name: str, p: Period,
                 members: pd.DataFrame, split, active: set[str] | None = None,
                 ) -> tuple[float | None, str | None]:
    """A group's quota and where it came from: its own, else (team, region) the sum of
    its members' when every member that counts has one. A rep counts when they have a
    quota for the period or deals in it (``active``: won in the period or open pipeline;
    a rep who left long ago does not make the team's quota unknown); a team counts when it
    has a quota or such a rep."""
    own = quota_for(quotas, level, name, p, split)
    if own is not None:
        return own, f"{level} quota"
    child = _CHILD.get(level)
    if child is None:
        return None, None
    kids = sorted(set(members.loc[members[level] == name, child].dropna()))
    kids = [k for k in kids if _counts(quotas, child, k, p, members, split, active)]
    if not kids:
        return None, None
    vals = [_group_quota(quotas, child, k, p, members, split, active)[0] for k in kids]
    if all(v is not None for v in vals):
        return float(math.fsum(vals)), f"sum of {child} quotas"
    return None, None


def _counts(quotas: pd.DataFrame, level: str, name: str, p: Period, members: pd.DataFrame,
            split, active: set[str] | None) -> bool:
    """Whether a member counts in its group's quota (see :func:`_group_quota`)."""
    if active is None or quota_for(quotas, level, name, p, split) is not None:
        return True
    if level == "rep":
        return name in active
    reps = set(members.loc[members[level] == name, "rep"].dropna())
    if level == "region":
        teams = set(members.loc[members["region"] == name, "team"].dropna())
        return any(_counts(quotas, "team", t, p, members, split, active) for t in teams) or \
            bool(reps & active)
    return any(_counts(quotas, "rep", r, p, members, split, active) for r in reps)


# --------------------------------------------------------------------------- pacing


def seasonal_share(opps: pd.DataFrame, period: Period | str, as_of: pd.Timestamp,
                   min_periods: int = MIN_SEASONAL_PERIODS,
                   lookback: int | None = None) -> tuple[float | None, int]:
    """The share of a period's bookings that past periods of the same kind had booked by
    the same day: for each of the ``lookback`` periods before ``period`` (default 12
    months or 8 quarters), the won value closed before ``start_k + (as_of - start)``
    (the same number of days into the period, at most the whole period), pooled over the
    periods with bookings (sum of the early won values / sum of their totals). Returns
    ``(share, periods used)``; share None when fewer than ``min_periods`` had bookings."""
    p = _as_period(period)
    if p.kind not in SEASONAL_LOOKBACK:
        return None, 0
    k = lookback or SEASONAL_LOOKBACK[p.kind]
    elapsed = pd.Timestamp(as_of) - p.start
    won = opps[(opps["status"] == "won") & opps["closed_at"].notna()]
    won = won[won["amount"].notna()]
    early_sum, total_sum, used = [], [], 0
    past = p
    for _ in range(k):
        past = past.previous()
        inside = won[(won["closed_at"] >= past.start) & (won["closed_at"] < past.end)]
        total = math.fsum(inside["amount"])
        if not total > 0:
            continue
        cut = min(past.start + elapsed, past.end)
        early_sum.append(math.fsum(inside.loc[inside["closed_at"] < cut, "amount"]))
        total_sum.append(total)
        used += 1
    if used < min_periods:
        return None, used
    return math.fsum(early_sum) / math.fsum(total_sum), used


def linear_share(period: Period | str, as_of: pd.Timestamp) -> float:
    """The share of the period's time elapsed at ``as_of`` (0 at its start, 1 at its end)."""
    p = _as_period(period)
    t = min(max(pd.Timestamp(as_of), p.start), p.end)
    return float((t - p.start) / (p.end - p.start))


# --------------------------------------------------------------------------- attainment

ATTAINMENT_COLUMNS = [
    "group", "won_value", "won_count", "quota", "quota_source", "attainment",
    "expected_share", "expected_to_date", "pacing_method", "pace", "remaining", "pipeline",
    "pipeline_count", "coverage", "coverage_basis", "coverage_note", "typical_won",
    "deals_short",
]


def attainment(
    opps: pd.DataFrame,
    quotas: pd.DataFrame,
    period: Period | str,
    by: str | None = "rep",
    as_of: pd.Timestamp | str | None = None,
    reps: pd.DataFrame | None = None,
    shape: str | None = None,
    expected_pipeline: pd.Series | None = None,
    split: str | dict[str, float] | None = None,
    min_periods: int = MIN_SEASONAL_PERIODS,
) -> pd.DataFrame:
    """Quota attainment, pacing and coverage per group for ``period`` at ``as_of``.

    ``opps``: the deals as they were at ``as_of`` (``store.opportunities_as_of``; for a
    period that has ended, ``as_of`` defaults to its end and the current rows will do).
    ``by``: ``rep`` (column ``owner``), ``team``, ``region`` or None (one row ``all``).
    ``quotas``: canonical quotas (see :func:`combine_quotas`); ``reps`` tells which reps
    make a team or region (default: each owner's latest deal). ``shape``: None / "linear"
    or "seasonal" (see :func:`seasonal_share`; ``pacing_method`` says what was used).
    ``expected_pipeline``: group -> the forecast's expected value, used as the pipeline
    when the deals have no expected close dates (``coverage_basis`` says which).
    ``split``: how a month may take a share of its quarter's quota (see
    :func:`quota_for`; default never).

    One row per group in scope (the reps of ``reps`` and the owners of ``opps``, their
    teams and regions; quotas of groups outside it are ignored) with a quota, a won deal in
    the period or open pipeline, sorted by group; columns :data:`ATTAINMENT_COLUMNS`: ``won_value`` (NaN when a won deal's amount
    is unknown), ``won_count``, ``quota`` (NaN: none), ``quota_source`` (``rep quota``,
    ``team quota``, ``sum of rep quotas``, ...), ``attainment`` (won / quota),
    ``expected_share`` and ``expected_to_date`` (quota x share), ``pacing_method``,
    ``pace`` (won / expected to date; NaN at the period's start), ``remaining`` (quota -
    won), ``pipeline``, ``pipeline_count``, ``coverage`` (pipeline / remaining; NaN when
    the quota is met: ``coverage_note`` "quota met"), ``coverage_basis``, ``typical_won``
    (median won amount of the group in the 365 days before the period) and
    ``deals_short`` (remaining / typical_won: how many typical deals the group is short).
    """
    p = _as_period(period)
    if by not in (None, "rep", "team", "region"):
        raise ValueError(f"by must be rep, team, region or None, not {by!r}")
    t = p.end if as_of is None else min(max(pd.Timestamp(as_of), p.start), p.end)
    quotas = quotas if quotas is not None else empty_frame("quotas")
    level = by or "all"
    col = _BY_COLUMN.get(by or "", None)
    o = opps.copy()
    o["_g"] = o[col] if col else "all"
    members = _members(opps, reps)

    won = o[(o["status"] == "won") & (o["closed_at"] >= p.start) & (o["closed_at"] < t)]
    is_open = (o["status"] == "open") & (o["created_at"] < t)
    ecd = o["expected_close_date"] if "expected_close_date" in o else pd.Series(pd.NaT,
                                                                               index=o.index)
    has_ecd = bool(ecd[is_open].notna().any())
    pipe = o[is_open & (ecd < p.end)] if has_ecd else o.iloc[:0]
    hist = o[(o["status"] == "won") & (o["closed_at"] >= p.start - pd.Timedelta(days=365))
             & (o["closed_at"] < p.start) & o["amount"].notna()]

    groups: set[str] = set(won["_g"].dropna()) | set(pipe["_g"].dropna())
    if by is not None:
        # quotas of groups in scope only (the reps given, the deals' owners, their teams
        # and regions): a region's report with company-wide quotas lists its own reps
        in_scope = set(o[col].dropna()) | set(members[by].dropna())
        groups |= set(quotas.loc[(quotas["scope_type"] == by)
                                 & (quotas["period"].isin(_labels_of(p)))
                                 & quotas["scope"].isin(in_scope), "scope"])
    else:
        groups = {"all"}
    # shape of the period's bookings (the whole scope's, for every group)
    method, share = N_p("method", "linear"), linear_share(p, t)
    if shape == "seasonal":
        s, _ = seasonal_share(opps, p, t, min_periods=min_periods)
        if s is not None:
            method, share = N_p("method", "seasonal"), s
    elif shape not in (None, "linear"):
        raise ValueError(f"shape must be None, 'linear' or 'seasonal', not {shape!r}")
    if t >= p.end:
        share = 1.0

    active = set(won["owner"].dropna()) | set(pipe["owner"].dropna())
    qi = QuotaIndex(quotas)
    # each group's rows, split once (not one scan of the deals per group)
    by_won, by_pipe, by_hist = (dict(iter(f.groupby("_g", sort=False))) if len(f) else {}
                                for f in (won, pipe, hist))
    rows = []
    for g in sorted(groups, key=str):
        w = by_won.get(g, won.iloc[:0])
        won_value = float(math.fsum(w["amount"])) if w["amount"].notna().all() else np.nan
        if by is None:
            regions = sorted(set(members["region"].dropna())) or []
            regions = [r for r in regions
                       if _counts(qi, "region", r, p, members, split, active)]
            vals = [_group_quota(qi, "region", r, p, members, split, active)[0]
                    for r in regions]
            quota = (float(math.fsum(vals)) if regions and all(v is not None for v in vals)
                     else None)
            source = "sum of region quotas" if quota is not None else None
        else:
            quota, source = _group_quota(qi, level, str(g), p, members, split, active)
        q = np.nan if quota is None else float(quota)
        expected = q * share
        pace = won_value / expected if expected and np.isfinite(expected) else np.nan
        remaining = q - won_value
        gp = by_pipe.get(g, pipe.iloc[:0])
        if has_ecd:
            pipeline, basis = float(math.fsum(gp["amount"].dropna())), "expected close date"
        elif expected_pipeline is not None and g in expected_pipeline.index:
            pipeline, basis = float(expected_pipeline[g]), "forecast expected value"
        else:
            pipeline, basis = np.nan, "no expected close dates"
        note = None
        if np.isnan(q):
            coverage, note = np.nan, N_("no quota")
        elif np.isfinite(remaining) and remaining <= 0:
            coverage, note = np.nan, N_("quota met")
        elif np.isfinite(remaining):
            coverage = pipeline / remaining if np.isfinite(pipeline) else np.nan
        else:
            coverage = np.nan
        hw = by_hist.get(g, hist.iloc[:0])["amount"]
        typical = float(hw.median()) if len(hw) else np.nan
        rows.append({
            "group": g, "won_value": won_value, "won_count": int(len(w)), "quota": q,
            "quota_source": source, "attainment": won_value / q if q else np.nan,
            "expected_share": share if np.isfinite(q) else np.nan,
            "expected_to_date": expected, "pacing_method": method, "pace": pace,
            "remaining": remaining, "pipeline": pipeline, "pipeline_count": int(len(gp)),
            "coverage": coverage, "coverage_basis": basis, "coverage_note": note,
            "typical_won": typical,
            "deals_short": remaining / typical if typical and np.isfinite(remaining) else np.nan,
        })
    out = pd.DataFrame(rows, columns=ATTAINMENT_COLUMNS)
    out.attrs.update(period=p.label, as_of=t, by=level, pacing_method=method)
    return out


def _labels_of(p: Period) -> list[str]:
    """The quota labels that can make up ``p``'s quota (itself, its months, its quarter)."""
    out = [p.label]
    if p.kind == "quarter":
        out += _months(p)
    elif p.kind == "month":
        out.append(p.quarter().label)
    elif p.kind == "year":
        qs = [Period("quarter", p.start + pd.DateOffset(months=3 * i),
                     p.start + pd.DateOffset(months=3 * i + 3)) for i in range(4)]
        out += [q.label for q in qs] + [m for q in qs for m in _months(q)]
    return out


def quota_periods(quotas: pd.DataFrame) -> list[str]:
    """The distinct periods the quotas cover, in order."""
    labels: Iterable[str] = quotas["period"].dropna().unique() if len(quotas) else []
    return sorted(labels, key=lambda lab: (parse_period(lab).start, parse_period(lab).days))
