"""What a store holds and which metrics its data can support (``crm-report info``).

:func:`store_info` reads a store (read-only, one connection) into a :class:`StoreInfo`:
row counts per table, the regions, teams and reps, the date range of the opportunities,
the last ingest per source, the quarantined rows per table, and for each metric of the
report whether the data supports it (``supported``), supports it only in part
(``limited``) or not at all (``not supported``), with the reasons.

The thresholds are the ones the metrics code applies, imported from it where it names
them (see :func:`assess` for each one and where it comes from). Counts are over the
whole store; windows such as "the last 12 months" end at the data end (the latest
created, closed or last-activity time of the opportunities), as a report of the last
complete period would see them. A report of one region or team has fewer deals than the
store, so a metric supported here can still be limited for a small team.

:func:`format_info` renders the result as plain text (no markup, no colour); every name
that comes from the CRM (region, team, rep, file, source) is made terminal-safe with
:func:`reporting.textsafe.visible`.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from .metrics.clv import YEAR_DAYS
from .metrics.pipeline import MAX_UNKNOWN_SHARE
from .metrics.ratings import MIN_TRAILING_DEALS
from .models.bands import DEFAULT_LABELS
from .models.reference import MIN_DRIFT_DEALS, REFERENCE_MONTHS, clv_reference
from .schema import TABLES
from .store import connect, default_store_path
from .textsafe import visible

__all__ = [
    "LIMITED", "MIN_BAND_WON_DEALS", "NOT_SUPPORTED", "SUPPORTED", "Assessment", "IngestInfo",
    "Names", "StoreInfo", "assess", "format_info", "store_info",
]

SUPPORTED, LIMITED, NOT_SUPPORTED = "supported", "limited", "not supported"
_RANK = {SUPPORTED: 0, LIMITED: 1, NOT_SUPPORTED: 2}

#: fewest won deals with a positive amount in the 12-month reference window for deal-size
#: bands to be learned (``reporting.metrics.suite.learn_band_edges`` skips a profile with
#: fewer than 3); with fewer than 2 x 3 distinct amounts ``DealSizeBander`` falls back to
#: equal-count quantiles
MIN_BAND_WON_DEALS = 3
_BANDS = len(DEFAULT_LABELS)
#: the CLV backtest holds out the last months of revenue (``clv_reference``'s default)
CLV_HOLDOUT_MONTHS: int = inspect.signature(clv_reference).parameters["holdout_months"].default
#: names listed per kind (the counts are always complete)
NAME_CAP = 20

METRICS = ("conversion", "cycle", "deal_size", "customer_value", "open_pipeline",
           "deal_history", "forecast")
METRIC_TITLES = {
    "conversion": "Conversion (win rate, lead conversion, stage funnel)",
    "cycle": "Sales cycle length",
    "deal_size": "Deal size and bands",
    "customer_value": "Customer value (account value, churn)",
    "open_pipeline": "Open pipeline and workload",
    "deal_history": "Deal history (time in stage, as-of amounts)",
    "forecast": "Predicted customer value (CLV model; no bookings forecast yet)",
}


@dataclass(frozen=True)
class Names:
    """Distinct names of one kind: how many, and the first :data:`NAME_CAP` sorted."""

    count: int
    names: tuple[str, ...]

    @property
    def more(self) -> int:
        """How many names are not listed."""
        return self.count - len(self.names)


@dataclass(frozen=True)
class IngestInfo:
    """The latest ingest batch of one source (from ``ingest_log``)."""

    source: str
    ingested_at: datetime
    files: int
    rows_loaded: int
    rows_quarantined: int


@dataclass(frozen=True)
class Assessment:
    """Whether the data supports one metric: ``status`` is :data:`SUPPORTED`,
    :data:`LIMITED` or :data:`NOT_SUPPORTED`; ``reasons`` say why (empty when supported)."""

    metric: str
    status: str
    reasons: tuple[str, ...] = ()


@dataclass
class StoreInfo:
    """What :func:`store_info` found in a store."""

    path: str
    tables: dict[str, int]
    regions: Names
    teams: Names
    reps: Names
    created: tuple[datetime, datetime] | None
    closed: tuple[datetime, datetime] | None
    data_end: datetime | None
    ingests: list[IngestInfo]
    quarantined: dict[str, int]
    support: dict[str, Assessment]
    facts: dict[str, int | float | None] = field(default_factory=dict)


# --------------------------------------------------------------------------- reading


def _names(con: duckdb.DuckDBPyConnection, sql: str) -> Names:
    rows = [r[0] for r in con.execute(sql).fetchall()]
    return Names(len(rows), tuple(rows[:NAME_CAP]))


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    have = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND NOT temporary "
        "ORDER BY table_name").fetchall()]
    order = [*TABLES, "quarantine", "ingest_log", "data_notes", "row_flags", "store_meta"]
    shown = [t for t in order if t in have] + [
        t for t in have if t not in order and not t.startswith("_")]
    return {t: int(con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in shown}


_FACTS = """
WITH o AS (SELECT * FROM opportunities),
     bounds AS (SELECT greatest(max(created_at), max(closed_at), max(last_activity_at)) AS data_end
                FROM o),
     recent AS (SELECT o.* FROM o, bounds WHERE o.status IN ('won', 'lost')
                AND o.closed_at >= bounds.data_end - INTERVAL 12 MONTH)
SELECT
  (SELECT count(*) FROM o) AS opportunities,
  (SELECT count(*) FROM o WHERE status IN ('won', 'lost')) AS closed,
  (SELECT count(*) FROM o WHERE status = 'won') AS won,
  (SELECT count(*) FROM o WHERE status = 'won' AND amount IS NOT NULL) AS won_with_amount,
  (SELECT count(*) FROM recent) AS closed_12m,
  (SELECT count(*) FROM recent WHERE status = 'won') AS won_12m,
  (SELECT count(*) FROM recent WHERE status = 'won' AND amount > 0) AS won_positive_12m,
  (SELECT count(DISTINCT amount) FROM recent WHERE status = 'won' AND amount > 0)
    AS won_distinct_amounts_12m,
  (SELECT count(*) FROM o WHERE status = 'open') AS open_now,
  (SELECT count(*) FROM o WHERE status = 'open' AND amount IS NULL) AS open_without_amount,
  (SELECT count(*) FROM o WHERE last_activity_at IS NOT NULL) AS with_last_activity,
  (SELECT count(*) FROM reps WHERE capacity > 0) AS reps_with_capacity,
  (SELECT count(*) FROM stage_history) AS stage_history,
  (SELECT count(*) FROM leads) AS leads,
  (SELECT count(*) FROM leads WHERE converted_at IS NOT NULL) AS leads_converted,
  (SELECT count(*) FROM accounts) AS accounts,
  (SELECT count(*) FROM revenue) AS revenue,
  (SELECT count(*) FROM revenue WHERE amount > 0) AS revenue_positive,
  (SELECT datediff('day', min(date), max(date)) FROM revenue WHERE amount > 0)
    AS revenue_span_days,
  (SELECT count(*) FROM revenue r, (SELECT max(date) AS last FROM revenue WHERE amount > 0) m
   WHERE r.amount > 0 AND r.date < m.last - to_months($holdout)) AS revenue_before_holdout,
  (SELECT count(*) FROM (SELECT account_id FROM revenue WHERE amount > 0 GROUP BY account_id
                         HAVING count(DISTINCT CAST(date AS DATE)) >= 2)) AS repeat_accounts,
  (SELECT data_end FROM bounds) AS data_end
"""


def store_info(path: str | Path | None = None) -> StoreInfo:
    """Read what the store at ``path`` holds (read-only, one connection).

    Raises :class:`reporting.exceptions.StoreError` when the store is missing or is not a
    crm-report store (see :func:`reporting.store.connect`)."""
    with connect(path, read_only=True) as con:
        tables = _tables(con)
        regions = _names(con, "SELECT region FROM opportunities WHERE region IS NOT NULL UNION "
                              "SELECT region FROM reps WHERE region IS NOT NULL ORDER BY 1")
        teams = _names(con, "SELECT team FROM opportunities WHERE team IS NOT NULL UNION "
                            "SELECT team FROM reps WHERE team IS NOT NULL ORDER BY 1")
        reps = _names(con, "SELECT owner FROM opportunities WHERE owner IS NOT NULL UNION "
                           "SELECT rep_id FROM reps ORDER BY 1")
        c0, c1, d0, d1 = con.execute(
            "SELECT min(created_at), max(created_at), min(closed_at), max(closed_at) "
            "FROM opportunities").fetchone()
        ingests = [IngestInfo(s, t, int(f), int(lo), int(q)) for s, t, f, lo, q in con.execute(
            """SELECT source, max(ingested_at), count(DISTINCT file), sum(rows_loaded),
                      sum(rows_quarantined)
               FROM ingest_log l
               WHERE batch_id = (SELECT arg_max(batch_id, ingested_at) FROM ingest_log m
                                 WHERE m.source IS NOT DISTINCT FROM l.source)
               GROUP BY source ORDER BY source""").fetchall()]
        quarantined = dict(con.execute(
            'SELECT "table", count(DISTINCT (file, "row")) FROM quarantine GROUP BY 1 '
            "ORDER BY 1").fetchall())
        cur = con.execute(_FACTS, {"holdout": CLV_HOLDOUT_MONTHS})
        names = [d[0] for d in cur.description]
        facts = dict(zip(names, cur.fetchone(), strict=True))
        flags = dict(con.execute(
            "SELECT code, count(DISTINCT key) FROM row_flags WHERE \"table\" = 'opportunities' "
            "GROUP BY code").fetchall()) if "row_flags" in tables else {}
        for code in ("created_at_estimated", "created_after_close"):
            facts[code] = int(flags.get(code, 0))
        # versions that record an amount (a history of stages alone does not give the
        # value of the pipeline at a past date)
        facts["amount_history"] = int(con.execute(
            "SELECT COUNT(*) FROM opportunity_history WHERE amount IS NOT NULL").fetchone()[0]
        ) if tables.get("opportunity_history") else 0
    data_end = facts.pop("data_end")
    return StoreInfo(
        path=str(path if path is not None else default_store_path()),
        tables=tables, regions=regions, teams=teams, reps=reps,
        created=(c0, c1) if c0 is not None else None,
        closed=(d0, d1) if d0 is not None else None,
        data_end=data_end, ingests=ingests,
        quarantined={str(k): int(v) for k, v in quarantined.items()},
        support=assess(facts), facts=facts,
    )


# --------------------------------------------------------------------------- assessing


def _verdict(metric: str, problems: list[tuple[str, str]]) -> Assessment:
    status = max((lvl for lvl, _ in problems), key=_RANK.__getitem__, default=SUPPORTED)
    return Assessment(metric, status, tuple(text for _, text in problems))


def assess(f: dict) -> dict[str, Assessment]:
    """Which metrics the data supports, from the store's counts ``f`` (see ``_FACTS``).

    The rules, with the code each threshold comes from:

    * conversion -- not supported without closed (won or lost) deals; limited with fewer
      than ``MIN_TRAILING_DEALS`` (10, ``reporting.metrics.ratings``) closed in the last 12
      months (no trailing win-rate baseline), without leads (``lead_conversion`` needs the
      leads table) or converted leads (no maturity horizon,
      ``conversion.conversion_horizon``), and without stage_history (no stage funnel).
    * cycle -- not supported without won deals (the headline is the median cycle of won
      deals); limited with fewer than 10 won in the last 12 months (no trailing cycle
      baseline), without stage_history (time in stage unknown) and when ingest floored
      the created_at of deals entered after their close (row flag ``created_after_close``:
      0-day cycles).
    * deal size -- not supported without a won deal with an amount; limited with fewer
      than :data:`MIN_BAND_WON_DEALS` positive won amounts in the 12-month reference
      window (``REFERENCE_MONTHS``; bands not learned), fewer than 2 x 3 distinct ones
      (``DealSizeBander`` falls back to quantiles), or fewer than ``MIN_DRIFT_DEALS`` (30,
      ``reporting.models.reference``) won deals in the window (drift not judged).
    * customer value -- not supported without both revenue and accounts rows (the
      ``account_value`` requirement of ``reporting.metrics.core.requirements``); limited
      when positive revenue spans less than ``YEAR_DAYS`` (365, ``reporting.metrics.clv``):
      no account is old enough for churn.
    * open pipeline -- not supported without opportunities; limited without open deals,
      with open deals whose created_at ingest estimated (row flag
      ``created_at_estimated``: their age is not known), without last_activity_at and
      stage_history (staleness not rated), without
      last_activity_at (deals closed when tired), without reps with a capacity (load),
      and when more than ``MAX_UNKNOWN_SHARE`` (half, ``reporting.metrics.pipeline``) of
      the open deals have no amount (open value not computable).
    * deal history -- not supported without stage_history (time in stage, aging by stage
      and the stage funnel unknown); limited without an ``opportunity_history`` table:
      ``pipeline.amount_as_of`` then has no amount history, so the amount at a past date
      of a deal closed since is unknown.
    * forecast -- the predicted value of each account (``clv_reference``): not supported
      without revenue before the last ``CLV_HOLDOUT_MONTHS`` (6) months of revenue (the
      backtest has nothing to calibrate on, "no revenue before the backtest window") or
      without an account that bought on two or more days (BG/NBD needs repeat purchases).
      There is no pipeline (bookings) forecast in crm-reporting.
    """
    out: dict[str, list[tuple[str, str]]] = {m: [] for m in METRICS}
    n_opps, closed, won = f["opportunities"], f["closed"], f["won"]
    if not n_opps:
        for m in ("conversion", "cycle", "deal_size", "open_pipeline"):
            out[m].append((NOT_SUPPORTED, "no opportunities rows"))
    # conversion
    c = out["conversion"]
    if n_opps and not closed:
        c.append((NOT_SUPPORTED, "no closed (won or lost) deals: win rate not computable"))
    elif n_opps and f["closed_12m"] < MIN_TRAILING_DEALS:
        c.append((LIMITED, f"{f['closed_12m']} deals closed in the last 12 months (< "
                           f"{MIN_TRAILING_DEALS}): no trailing win-rate baseline"))
    if not f["leads"]:
        c.append((LIMITED, "no leads table rows: lead conversion not computable"))
    elif not f["leads_converted"]:
        c.append((LIMITED, "no converted leads: no conversion horizon, lead conversion not "
                           "computable"))
    if not f["stage_history"]:
        c.append((LIMITED, "no stage_history: stage funnel not computable"))
    # cycle
    c = out["cycle"]
    if n_opps and not won:
        c.append((NOT_SUPPORTED, "no won deals: median cycle of won deals not computable"))
    elif n_opps and f["won_12m"] < MIN_TRAILING_DEALS:
        c.append((LIMITED, f"{f['won_12m']} deals won in the last 12 months (< "
                           f"{MIN_TRAILING_DEALS}): no trailing cycle baseline"))
    if n_opps and not f["stage_history"]:
        c.append((LIMITED, "no stage_history: time in stage unknown"))
    if f["created_after_close"]:
        c.append((LIMITED, f"{f['created_after_close']} closed deals were entered after "
                           "their close: created_at floored to the close date (0-day cycles)"))
    # deal size and bands
    c = out["deal_size"]
    if n_opps and not f["won_with_amount"]:
        c.append((NOT_SUPPORTED, "no won deal has an amount: deal size not computable"))
    elif n_opps:
        pos, distinct = f["won_positive_12m"], f["won_distinct_amounts_12m"]
        if pos < MIN_BAND_WON_DEALS:
            c.append((LIMITED, f"{pos} won deals with an amount in the last "
                               f"{REFERENCE_MONTHS} months (< {MIN_BAND_WON_DEALS}): "
                               "deal-size bands not learned"))
        elif distinct < 2 * _BANDS:
            c.append((LIMITED, f"{distinct} distinct won amounts in the last "
                               f"{REFERENCE_MONTHS} months (< {2 * _BANDS}): bands are "
                               "equal-count quantiles"))
        if f["won_12m"] < MIN_DRIFT_DEALS:
            c.append((LIMITED, f"{f['won_12m']} deals won in the last {REFERENCE_MONTHS} "
                               f"months (< {MIN_DRIFT_DEALS}): band drift not judged"))
    # customer value
    c = out["customer_value"]
    missing = [t for t in ("revenue", "accounts") if not f[t]]
    if missing:
        c.append((NOT_SUPPORTED, f"no {' or '.join(missing)} table rows: account value "
                                 "and churn not computable"))
    elif not f["revenue_positive"]:
        c.append((NOT_SUPPORTED, "no positive revenue lines: account value not computable"))
    elif (f["revenue_span_days"] or 0) < YEAR_DAYS:
        c.append((LIMITED, f"revenue spans {f['revenue_span_days']} days (< {YEAR_DAYS}): "
                           "no account is a year old, churn not computable"))
    # open pipeline and workload
    c = out["open_pipeline"]
    if n_opps:
        if not f["open_now"]:
            c.append((LIMITED, "no open deals at the data end"))
        if f["created_at_estimated"]:
            c.append((LIMITED, f"{f['created_at_estimated']} open deals have no creation "
                               "date (created_at estimated at ingest): their age is unknown"))
        if not f["with_last_activity"] and not f["stage_history"]:
            c.append((LIMITED, "no last_activity_at and no stage_history: stale deals not "
                               "rated"))
        if not f["with_last_activity"]:
            c.append((LIMITED, "no last_activity_at: deals closed when tired not computable"))
        if not f["reps_with_capacity"]:
            c.append((LIMITED, "no reps with a capacity: load not computable"))
        if f["open_now"] and f["open_without_amount"] > MAX_UNKNOWN_SHARE * f["open_now"]:
            c.append((LIMITED, f"{f['open_without_amount']} of {f['open_now']} open deals "
                               "have no amount (more than half): open value not computable"))
    # deal history
    c = out["deal_history"]
    if not f["stage_history"]:
        c.append((NOT_SUPPORTED, "no stage_history: time in stage, aging by stage and the "
                                 "stage funnel unknown"))
    if not f["amount_history"]:
        c.append((LIMITED, "no opportunity_history: the amount, stage and owner at a "
                           "past date of a deal changed since are unknown (ingest full "
                           "exports regularly, pull from the CRM, or ingest its history)"))
    # forecast (predicted customer value)
    c = out["forecast"]
    if not f["revenue_positive"]:
        c.append((NOT_SUPPORTED, "no revenue lines: no CLV model"))
    else:
        if not f["revenue_before_holdout"]:
            c.append((NOT_SUPPORTED, f"revenue has less than {CLV_HOLDOUT_MONTHS} months: "
                                     "the CLV backtest has nothing to calibrate on"))
        if not f["repeat_accounts"]:
            c.append((NOT_SUPPORTED, "no account bought on two or more days: BG/NBD cannot "
                                     "be fitted"))
    return {m: _verdict(m, p) for m, p in out.items()}


# --------------------------------------------------------------------------- text


def _safe(text: object) -> str:
    """CRM text for a plain-text listing: control characters, tabs and newlines shown as
    escapes, so a name can neither restyle the terminal nor break the layout."""
    return visible(text).replace("\t", "\\t").replace("\n", "\\n")


def _day(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d") if t is not None else "-"


def _names_line(label: str, n: Names) -> str:
    listed = ", ".join(_safe(x) for x in n.names)
    more = f", ... ({n.more} more)" if n.more else ""
    return f"{label}: {n.count:,}" + (f" ({listed}{more})" if n.count else "")


def format_info(info: StoreInfo) -> str:
    """``info`` as plain text: no markup or colour, CRM names terminal-safe."""
    lines = [f"store: {_safe(info.path)}", "", "tables (rows):"]
    width = max((len(t) for t in info.tables), default=0)
    lines += [f"  {t:<{width}}  {n:>10,}" for t, n in info.tables.items()]
    lines += ["", _names_line("regions", info.regions), _names_line("teams", info.teams),
              _names_line("reps", info.reps), ""]
    if info.created:
        lines.append(f"opportunities created: {_day(info.created[0])} .. {_day(info.created[1])}")
    else:
        lines.append("opportunities created: none")
    if info.closed:
        lines.append(f"opportunities closed:  {_day(info.closed[0])} .. {_day(info.closed[1])}")
    else:
        lines.append("opportunities closed:  none")
    lines.append(f"data end: {_day(info.data_end)}")
    lines += ["", "last ingest per source:"]
    if info.ingests:
        lines += [f"  {_safe(i.source)}: {i.ingested_at:%Y-%m-%d %H:%M} UTC, {i.files} file(s), "
                  f"{i.rows_loaded:,} rows loaded, {i.rows_quarantined:,} quarantined"
                  for i in info.ingests]
    else:
        lines.append("  none")
    lines += ["", "quarantined rows:"]
    if info.quarantined:
        lines += [f"  {_safe(t)}: {n:,}" for t, n in info.quarantined.items()]
    else:
        lines.append("  none")
    lines += ["", "metrics the data can support:"]
    for m in METRICS:
        a = info.support[m]
        lines.append(f"  {METRIC_TITLES[m]}: {a.status}")
        lines += [f"    - {r}" for r in a.reasons]
    return "\n".join(lines) + "\n"
