"""The forward look: bookings forecast of the open pipeline, and its backtest.

Definitions (the methodology appendix prints :data:`DEFINITIONS`):

* **Origin** ``t``: an instant; the state "at t" is the state just *before* t (the
  convention of :func:`reporting.history.as_of_sql`). Month-end origins are the first
  instant of the next month (``2017-10-01`` is "at the end of September").
* **Target** of an origin and horizon ``h`` (days): the deals open at ``t`` that are won
  in ``[t, t + h)`` (a deal closed exactly at ``t`` was still open at t), counted and
  valued at their won amount. The total adds the deals *created* in ``[t, t + h)`` and won
  in it.
* **Known at t** (no look-ahead): the open deals at t and each deal's fields then come from
  its version in the deal history in force at t (``opportunity_history``). A deal the history
  does not cover at t: its stage, amount, probability, forecast category and expected close
  date are unknown then -- the current row is used only when t is at or after the store's
  data end (then nothing has happened since). The current row's values would leak the
  future: a deal whose stage is still known from the current row is one that has not closed
  since. Activity: the store keeps only each deal's latest activity, so whether a deal was
  touched before a *past* t is not known; activity is no feature of the model (it feeds
  only the ``inactive`` flag of the forecast's deals). Pushes are counted from versions
  before t; the owner's trailing win rate from deals closed in ``[t - 365 d, t)``.
* **Won amounts** (outcomes, trailing means): a deal's *booked* amount, the amount of its
  first won version (known since the win), else its current amount.
* **Amount basis**: a deal's amount known at t; where unknown, the mean won amount of its
  product over ``[t - 365 d, t)`` (else of every product), said in the notes
  (``amount_imputed``). Every method values deals on the same basis.
* **Methods** (per group):

  - ``model``: sum of :class:`reporting.models.winprob.WinProbability` probabilities; value
    sum of p x amount; 80% interval of the won count from the Poisson-binomial distribution
    of the open deals' wins (exact), of the value by simulation;
  - ``naive``: open count (value) x the trailing 12-month win rate (won / closed in
    ``[t - 365 d, t)``), the hand-built sales-ops forecast;
  - ``weighted``: the CRM's weighted pipeline: deals expected to close before ``t + h`` (or
    without an expected close date) x their probability then (else their stage's default
    probability); not computable when fewer than half the open deals have one;
  - ``category``: the deals in the ``commit`` category expected to close before ``t + h``;
    not computable when no open deal has a category.

  Expected **new** deals created and won within the horizon (``expected_new_won_count``):
  the deals created in ``[t - h, t)`` x the mean of ``max(0, 1 - T / h)`` over the deals
  created in ``[t - 365 d, t - h)`` (``T``: days from creation to win; a lost or unwon deal
  counts 0), the expected number created and won in a window of length h at the recent
  creation rate. The same estimate is added to every method's total.
* **Backtest** (:func:`backtest`): rolling origins (default the last 12 month-ends with a
  full horizon of outcomes before the data end); at each origin the model is trained only on
  earlier origins whose horizon had ended by then (``s + h <= t``), at most
  ``train_origins`` of them, so no outcome after t is ever used. Errors: MAPE (mean over
  origins of |forecast - actual| / actual, origins with actual 0 left out), 80% interval
  coverage (share of origins whose actual count lies in the interval), Brier score of the
  per-deal probabilities. The chosen method: the lowest ``mape_value``, ties (and methods
  without a value error) by ``mape_count``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from .exceptions import ReportingError
from .i18n import N_
from .models.winprob import (
    CATEGORICAL,
    NUMERIC,
    WinProbability,
    brier,
    count_interval,
    reliability_table,
    value_interval,
)

__all__ = ["BY", "DEFINITIONS", "METHODS", "BacktestTable", "ForecastResult", "backtest",
           "forecast", "origin_rows"]

METHODS = ("model", "weighted", "category", "naive")
#: ``by`` -> the column grouped by
BY = {"rep": "owner", "owner": "owner", "team": "team", "region": "region"}
TRAILING_DAYS = 365
#: prior strength (deals) pulling a rep's trailing win rate to the scope's
OWNER_PRIOR = 10.0
DEFAULT_TRAIN_ORIGINS = 24
DEFAULT_MAX_TRAIN_ROWS = 100_000
LEVEL = 0.8
DAY_S = 86400.0

DEFINITIONS: dict[str, str] = {
    "forecast": (
        N_("Forecast of bookings: the deals open at the as-of time (the state just before it) "
        "won within the horizon [as-of, as-of + horizon days), counted and valued at their "
        "amount known then (unknown amounts: the product's trailing 12-month mean won "
        "amount). The model's expected count is the sum of each deal's win probability, "
        "with an 80% interval from the exact distribution of a sum of independent wins "
        "(Poisson-binomial; value by simulation); new deals expected to be created and won "
        "within the horizon are added from the recent creation rate and how soon past deals "
        "were won. For comparison: the CRM's weighted pipeline (amount x probability of deals "
        "expected to close within the horizon), the commit category, and the naive forecast "
        "(open deals x trailing 12-month win rate).")
    ),
    "win_probability": (
        N_("Win probability: a gradient-boosted classifier (scikit-learn), calibrated by "
        "isotonic regression on its latest training origins, trained on the deals open at "
        "past month-ends whose horizon had ended, with only what was known at each: stage, "
        "age, days in stage, amount, days to the expected close date, close-date pushes, "
        "source, product, the CRM's probability and the owner's trailing win rate. Fields "
        "the deal history does not cover at a past date are unknown then, never taken from "
        "the current record. Calibration: Brier score against the base rate's and the "
        "CRM probability's, and a reliability table.")
    ),
    "forecast_backtest": (
        N_("Forecast backtest: at each of the last 12 month-ends with a full horizon of "
        "outcomes, every method forecasts from what was known then (the model trained only "
        "on earlier month-ends whose horizon had ended) and is compared with the bookings "
        "that followed: MAPE of count and value (mean of |forecast - actual| / actual over "
        "the month-ends), share of month-ends inside the 80% interval, Brier score. The "
        "report uses the method with the lowest value error.")
    ),
}


# --------------------------------------------------------------------------- results


@dataclass
class ForecastResult:
    """What :func:`forecast` returns (see the module docstring for the definitions)."""

    groups: pd.DataFrame
    deals: pd.DataFrame
    method: str
    model_info: dict
    notes: list[str] = field(default_factory=list)
    #: the same columns as ``groups`` for the whole scope (one row, group "all")
    total: pd.DataFrame | None = None
    as_of: pd.Timestamp | None = None
    horizon_days: int = 90


@dataclass
class BacktestTable:
    """What :func:`backtest` returns: ``table`` (one row per method), ``per_origin``
    (origin x method), ``chosen`` (the method with the lowest ``mape_value``, then
    ``mape_count``), ``calibration`` (the model's out-of-sample Brier, base-rate and CRM
    Brier, reliability table; ``chance_mape_count`` / ``_value``: the error that chance
    alone would leave if the probabilities were exact and independent, sqrt(2 / pi) x the
    outcome's standard deviation / actual, averaged over the origins) and ``notes``."""

    table: pd.DataFrame
    per_origin: pd.DataFrame
    chosen: str
    calibration: dict
    notes: list[str] = field(default_factory=list)
    horizon_days: int = 90


# --------------------------------------------------------------------------- SQL


def _scope(region: str | None, team: str | None) -> tuple[str, dict]:
    from .store import _numbered, _where

    where, args = _where(region, team)
    return _numbered(where), {f"p{i}": a for i, a in enumerate(args)}


def data_end(con) -> pd.Timestamp | None:
    """The store's latest event: the latest creation, close or activity (as
    :func:`reporting.store.load`'s ``as_of``)."""
    v = con.execute("SELECT GREATEST(MAX(created_at), MAX(closed_at), MAX(last_activity_at)) "
                    "FROM opportunities").fetchall()[0][0]
    return pd.Timestamp(v) if v is not None else None


def _prepare(con, origins: list[pd.Timestamp], region, team) -> None:
    """Temp tables: the origins ``_fc_og`` and the scope's deals ``_fc_o``, with each
    deal's ``booked_amount``: the amount of its first won version (what it was won at,
    known since the win), else its current amount."""
    from .history import ALL_OPPORTUNITIES
    from .store import ESTIMATED_CREATED_IDS_SQL

    og = pd.DataFrame({"t": pd.Series(sorted(set(origins)), dtype="datetime64[us]")})
    con.register("_fc_og_df", og)
    con.execute("CREATE OR REPLACE TEMP TABLE _fc_og AS SELECT t FROM _fc_og_df")
    con.unregister("_fc_og_df")
    where, params = _scope(region, team)
    # a region's or team's forecast reads the versions of its own deals only
    scoped = ("TRUE" if where == "TRUE" else
              f"opportunity_id IN (SELECT opportunity_id FROM {ALL_OPPORTUNITIES} "
              f"WHERE {where})")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _fc_o AS
        SELECT o.opportunity_id, owner, team, region, source, product, created_at, stage,
               status, closed_at, amount, probability, forecast_category,
               expected_close_date, last_activity_at, deleted_at,
               o.opportunity_id IN ({ESTIMATED_CREATED_IDS_SQL}) AS created_est,
               COALESCE(b.booked, o.amount) AS booked_amount
        FROM (SELECT * FROM {ALL_OPPORTUNITIES} WHERE {where}) o
        LEFT JOIN (SELECT opportunity_id, arg_min(amount, valid_from) AS booked
                   FROM opportunity_history WHERE status = 'won' AND amount IS NOT NULL
                     AND {scoped}
                   GROUP BY ALL) b USING (opportunity_id)""", params)


def _rows_sql() -> list[str]:
    """One row per (origin, deal open at it), every field as known then (see the module
    docstring): the as-of rules of :func:`reporting.history.as_of_sql` for which deals are
    open, the current row for fields only when the origin is at or after the data end.
    Statements run in order; the last one returns the rows. A push is an open version
    whose close date is later than that of the open version it directly follows (versions
    are contiguous: the earlier one's ``valid_to`` is its ``valid_from``); the pushes of
    a deal at t are those whose version began before t."""
    def f(v: str, cur: str) -> str:
        return (f"COALESCE(kv.{v}, CASE WHEN kv.t >= $end AND o.status = 'open' "
                f"THEN o.{cur} END)")

    keys = """
    CREATE OR REPLACE TEMP TABLE _fc_k AS
    SELECT og.t, o.opportunity_id FROM _fc_o o JOIN _fc_og og   -- open by the dates
      ON o.created_at < og.t AND (o.closed_at IS NULL OR o.closed_at >= og.t)
    WHERE o.deleted_at IS NULL OR o.deleted_at >= og.t
    UNION ALL   -- closed before t by the dates, but open then by their version
    SELECT og.t, x.opportunity_id FROM (
        SELECT h.opportunity_id, h.valid_from, h.valid_to, o.closed_at, o.created_at,
               o.deleted_at
        FROM opportunity_history h JOIN _fc_o o USING (opportunity_id)
        WHERE h.status = 'open' AND o.closed_at IS NOT NULL
          AND (h.valid_to IS NULL OR h.valid_to > o.closed_at)) x
    JOIN _fc_og og ON x.valid_from < og.t AND (x.valid_to IS NULL OR x.valid_to >= og.t)
    WHERE x.closed_at < og.t AND x.created_at < og.t
      AND (x.deleted_at IS NULL OR x.deleted_at >= og.t)"""
    pushes = """
    CREATE OR REPLACE TEMP TABLE _fc_p AS   -- close-date pushes: when each happened
    WITH v AS (  -- the open versions of the deals open at some origin (both sides' rows)
        SELECT opportunity_id, valid_from, valid_to, close_date FROM opportunity_history
        SEMI JOIN (SELECT DISTINCT opportunity_id FROM _fc_k) USING (opportunity_id)
        WHERE status = 'open')
    SELECT h.opportunity_id, h.valid_from AS at
    FROM v h JOIN v p ON p.opportunity_id = h.opportunity_id AND p.valid_to = h.valid_from
    WHERE h.close_date > p.close_date"""
    rows = f"""
    WITH kv AS (
        SELECT k.t, k.opportunity_id, h.valid_from IS NOT NULL AS history_known,
               h.stage, h.status, h.amount, h.close_date, h.probability,
               h.forecast_category, h.owner, h.stage_since
        FROM _fc_k k LEFT JOIN opportunity_history h ON h.opportunity_id = k.opportunity_id
          AND h.valid_from < k.t AND (h.valid_to IS NULL OR h.valid_to >= k.t)),
    pc AS (
        SELECT k.t, k.opportunity_id, COUNT(*) AS n
        FROM _fc_k k JOIN _fc_p p ON p.opportunity_id = k.opportunity_id AND p.at < k.t
        GROUP BY ALL)
    SELECT kv.t AS origin, o.opportunity_id, COALESCE(kv.owner, o.owner) AS owner,
           o.team, o.region, o.source, o.product, o.created_at, o.created_est,
           kv.history_known,
           {f('stage', 'stage')} AS stage,
           {f('amount', 'amount')} AS amount,
           {f('probability', 'probability')} AS probability,
           {f('forecast_category', 'forecast_category')} AS forecast_category,
           {f('close_date', 'expected_close_date')} AS expected_close_date,
           kv.stage_since,
           CASE WHEN o.last_activity_at < kv.t THEN o.last_activity_at END
               AS last_activity_at,
           o.status = 'won' AND o.closed_at >= kv.t
               AND o.closed_at < kv.t + to_days($h) AS won,
           kv.t + to_days($h) <= $end AS labelled,
           CASE WHEN o.status = 'won' AND o.closed_at >= kv.t
                     AND o.closed_at < kv.t + to_days($h) THEN o.booked_amount END
               AS won_amount,
           CASE WHEN kv.history_known THEN COALESCE(pc.n, 0) END AS pushes
    FROM kv JOIN _fc_o o USING (opportunity_id)
    LEFT JOIN pc ON pc.t = kv.t AND pc.opportunity_id = kv.opportunity_id
    WHERE COALESCE(kv.status, CASE WHEN o.closed_at IS NULL OR o.closed_at >= kv.t
                                   THEN 'open' ELSE o.status END) = 'open'
    ORDER BY origin, opportunity_id"""
    return [keys, pushes, rows]


def _spans(name: str, src: str, lo: str, hi: str) -> str:
    """CTEs ``{name}`` (the rows of ``src``) and ``{name}_b``: each row with the indexes
    ``[i1, i2)`` of the origins t of ``_fc_og`` with ``lo < t <= hi`` (ASOF joins on the
    sorted origins), so that a statistic over a window that moves with t is one
    aggregation per (key, i1, i2) and a join to the origins, not a join of every deal to
    every origin. Needs the CTE ``ogi`` (:data:`_OGI`)."""
    return f"""
    {name} AS ({src}),
    {name}_a AS (SELECT r.*, x.i AS i1 FROM (SELECT *, {lo} AS lo_t, {hi} AS hi_t
                                          FROM {name}) r
                 ASOF LEFT JOIN ogi x ON r.lo_t < x.t),
    {name}_b AS (SELECT r.* EXCLUDE (lo_t, hi_t),
                        COALESCE(y.i, (SELECT COUNT(*) + 1 FROM _fc_og)) AS i2
                 FROM {name}_a r ASOF LEFT JOIN ogi y ON r.hi_t < y.t
                 WHERE r.i1 IS NOT NULL)"""


_OGI = "ogi AS (SELECT t, row_number() OVER (ORDER BY t) AS i FROM _fc_og)"


def _trailing_sql(group: str) -> str:
    """Per origin: the deals closed in ``[t - 365 d, t)`` (t in ``(closed, closed +
    365 d]``) by owner, by group, by product and overall: won, closed, mean booked amount of
    the won ones."""
    src = f"""
        SELECT o.owner, {group} AS grp, o.product, o.closed_at,
               CASE WHEN o.status = 'won' THEN 1 ELSE 0 END AS w,
               CASE WHEN o.status = 'won' THEN o.booked_amount END AS a,
               CASE WHEN o.status = 'won' AND o.booked_amount IS NOT NULL THEN 1 ELSE 0 END
                   AS an
        FROM _fc_o o WHERE o.status IN ('won', 'lost') AND o.closed_at IS NOT NULL"""
    return f"""
    WITH {_OGI},
    {_spans("c", src, "closed_at", f"closed_at + INTERVAL {TRAILING_DAYS} DAY")},
    agg AS (SELECT owner, grp, product, i1, i2, SUM(w) AS w, COUNT(*) AS n, SUM(a) AS sa,
                   SUM(an) AS na
            FROM c_b GROUP BY ALL)
    SELECT ogi.t AS origin, agg.owner, agg.grp, agg.product,
           GROUPING(agg.owner) AS g_owner, GROUPING(agg.grp) AS g_grp,
           GROUPING(agg.product) AS g_product,
           SUM(agg.w) AS won, SUM(agg.n) AS closed,
           CASE WHEN SUM(agg.na) > 0 THEN SUM(agg.sa) / SUM(agg.na) END AS won_mean
    FROM agg JOIN ogi ON ogi.i >= agg.i1 AND ogi.i < agg.i2
    GROUP BY GROUPING SETS ((ogi.t, agg.owner), (ogi.t, agg.grp), (ogi.t, agg.product),
                            (ogi.t))"""


CYCLE_SQL = f"""
    SELECT og.t AS origin, MEDIAN(epoch(o.closed_at - o.created_at) / {DAY_S}) AS won_cycle
    FROM _fc_o o JOIN _fc_og og
      ON o.closed_at < og.t AND o.closed_at >= og.t - INTERVAL {TRAILING_DAYS} DAY
    WHERE o.status = 'won' AND NOT o.created_est GROUP BY ALL"""


def _new_sql(group: str) -> str:
    """Per origin and group: the new-deal estimate's inputs (the cohort created in
    ``[t - 365 d, t - h)``: t in ``(created + h, created + 365 d]``; the creations of
    ``[t - h, t)``: t in ``(created, created + h]``) and the actual new deals created and
    won in ``[t, t + h)`` (t in ``(closed - h, created]``)."""
    won_h = "o.status = 'won' AND o.closed_at < o.created_at + to_days($h)"
    frac = f"(1 - epoch(o.closed_at - o.created_at) / ({DAY_S} * $h))"
    cohort = f"""
        SELECT {group} AS grp, o.created_at,
               CASE WHEN {won_h} THEN {frac} ELSE 0 END AS f1,
               CASE WHEN {won_h} THEN {frac} * o.booked_amount END AS f2,
               CASE WHEN {won_h} AND o.booked_amount IS NULL THEN 1 ELSE 0 END AS f2m
        FROM _fc_o o WHERE NOT o.created_est"""
    recent = f"SELECT {group} AS grp, o.created_at FROM _fc_o o WHERE NOT o.created_est"
    actual = f"""
        SELECT {group} AS grp, o.created_at, o.closed_at, o.booked_amount
        FROM _fc_o o WHERE NOT o.created_est AND o.status = 'won'"""
    return f"""
    WITH {_OGI},
    {_spans("co", cohort, "created_at + to_days($h)",
            f"created_at + INTERVAL {TRAILING_DAYS} DAY")},
    {_spans("re", recent, "created_at", "created_at + to_days($h)")},
    {_spans("ac", actual, "closed_at - to_days($h)", "created_at")},
    cohort AS (
        SELECT ogi.t AS origin, a.grp, SUM(a.n) AS cohort, SUM(a.s1) AS s1, SUM(a.s2) AS s2,
               SUM(a.s2m) AS s2_missing
        FROM (SELECT grp, i1, i2, COUNT(*) AS n, SUM(f1) AS s1, SUM(f2) AS s2,
                     SUM(f2m) AS s2m FROM co_b GROUP BY ALL) a
        JOIN ogi ON ogi.i >= a.i1 AND ogi.i < a.i2 GROUP BY ALL),
    recent AS (
        SELECT ogi.t AS origin, a.grp, SUM(a.n) AS created_recent
        FROM (SELECT grp, i1, i2, COUNT(*) AS n FROM re_b GROUP BY ALL) a
        JOIN ogi ON ogi.i >= a.i1 AND ogi.i < a.i2 GROUP BY ALL),
    actual AS (
        SELECT ogi.t AS origin, a.grp, SUM(a.n) AS new_won, SUM(a.v) AS new_won_amount
        FROM (SELECT grp, i1, i2, COUNT(*) AS n, SUM(booked_amount) AS v FROM ac_b
              GROUP BY ALL) a
        JOIN ogi ON ogi.i >= a.i1 AND ogi.i < a.i2 GROUP BY ALL)
    SELECT * FROM cohort FULL JOIN recent USING (origin, grp)
                         FULL JOIN actual USING (origin, grp)"""


def _group_expr(by: str | None) -> str:
    if by is None:
        return "'all'"
    col = BY.get(by)
    if col is None:
        raise ReportingError(f"by={by!r}: use rep, team or region")
    return f"COALESCE(o.{col}, '(none)')"


def origin_rows(con, origins: list[pd.Timestamp], horizon_days: int,
                region: str | None = None, team: str | None = None,
                by: str | None = None, end: pd.Timestamp | None = None
                ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The deals open at each origin with their features and outcome, in one DuckDB pass
    over every origin (an origins table joined to the deals and their versions), plus the
    trailing statistics per origin and the new-deal inputs per origin and group.

    Returns ``(rows, trailing, new)``: ``rows`` one per (origin, open deal) with the model's
    features (:data:`reporting.models.winprob.NUMERIC` / ``CATEGORICAL``), ``won`` (won in
    ``[t, t + h)``), ``labelled`` (``t + h`` is before the data end), ``won_amount``,
    ``amount_basis``, ``amount_imputed``, ``weight`` (the CRM's probability of a win
    within the horizon), ``category``-related columns and ``group``."""
    end = end if end is not None else data_end(con)
    if end is None:
        raise ReportingError("the store holds no opportunities; load some with "
                             "`crm-report ingest` or `crm-report demo-data`")
    try:  # no bar on the CLI's output; inside a Jupyter kernel DuckDB refuses the setting
        con.execute("SET enable_progress_bar = false")  # without ipywidgets: keep its own
    except duckdb.Error:
        pass
    _prepare(con, origins, region, team)
    prm = {"h": int(horizon_days), "end": end.to_pydatetime()}
    *setup, last = _rows_sql()
    for stmt in setup:
        con.execute(stmt)
    from .store import _frame

    rows = _frame(con, last, prm, None)  # a chunk at a time: the Python strings of one chunk
    gexpr = _group_expr(by)
    trailing = con.execute(_trailing_sql(gexpr)).df()
    cycle = con.execute(CYCLE_SQL).df()
    overall = (trailing["g_owner"] == 1) & (trailing["g_grp"] == 1) & (
        trailing["g_product"] == 1)
    trailing["won_cycle"] = np.where(overall, trailing["origin"].map(
        cycle.set_index("origin")["won_cycle"]).astype(float), np.nan)
    new = con.execute(_new_sql(gexpr), {"h": int(horizon_days)}).df()
    stage_p = dict(con.execute("SELECT stage, AVG(probability) FROM stages "
                               "WHERE probability IS NOT NULL GROUP BY 1").fetchall())
    rot = dict(con.execute("SELECT stage, AVG(rotting_days) FROM stages "
                           "WHERE rotting_days IS NOT NULL GROUP BY 1").fetchall())
    for tmp in ("_fc_og", "_fc_o", "_fc_k", "_fc_p"):
        con.execute(f"DROP TABLE IF EXISTS {tmp}")
    # one row order whatever DuckDB's threads did: sums over the frames (a scope's total)
    # are then the same to the last bit on every run and executor
    rows = rows.sort_values(["origin", "opportunity_id"], kind="stable", ignore_index=True)
    keys = ["origin", "g_owner", "g_grp", "g_product", "owner", "grp", "product"]
    trailing = trailing.sort_values(keys, kind="stable", na_position="first",
                                    ignore_index=True)
    new = new.sort_values(["origin", "grp", "cohort"], kind="stable", na_position="first",
                          ignore_index=True)
    rows = _features(rows, trailing, horizon_days, by, stage_p, rot)
    return rows, trailing, new


def _features(rows: pd.DataFrame, trailing: pd.DataFrame, h: int, by: str | None,
              stage_p: dict, rot: dict) -> pd.DataFrame:
    """The model's features and the methods' inputs, from the SQL rows (pure)."""
    r = rows
    for c in ("origin", "created_at", "expected_close_date", "stage_since",
              "last_activity_at"):
        r[c] = pd.to_datetime(r[c], cache=False).astype("datetime64[us]")
    for c in ("amount", "probability", "won_amount", "pushes"):
        r[c] = pd.to_numeric(r[c], errors="coerce").astype(float)
    for c in ("stage", "forecast_category", "source", "product", "owner", "team", "region"):
        r[c] = r[c].astype(object).where(r[c].notna(), None)
    r["won"] = r["won"].fillna(False).astype(bool)
    r["labelled"] = r["labelled"].fillna(False).astype(bool)
    r["history_known"] = r["history_known"].fillna(False).astype(bool)
    r["created_est"] = r["created_est"].fillna(False).astype(bool)

    def days(a, b) -> np.ndarray:
        return (a - b).dt.total_seconds().to_numpy() / DAY_S

    r["age_days"] = np.where(r["created_est"], np.nan, days(r["origin"], r["created_at"]))
    r["days_in_stage"] = days(r["origin"], r["stage_since"])
    r["days_to_close"] = days(r["expected_close_date"], r["origin"])
    r["days_since_activity"] = days(r["origin"], r["last_activity_at"])
    a = r["amount"].to_numpy()
    r["amount_log"] = np.where(np.isfinite(a) & (a >= 0), np.log1p(np.where(a > 0, a, 0)),
                               np.nan)
    # trailing statistics known at each origin
    tr = trailing
    overall = tr[(tr["g_owner"] == 1) & (tr["g_grp"] == 1) & (tr["g_product"] == 1)]
    overall = overall.set_index("origin")
    own = tr[tr["g_owner"] == 0].set_index(["origin", "owner"])
    prod = tr[(tr["g_product"] == 0) & tr["product"].notna()].set_index(["origin", "product"])
    o_idx = pd.MultiIndex.from_arrays([r["origin"], r["owner"]])
    rate_all = (overall["won"] / overall["closed"]).reindex(r["origin"]).to_numpy(float)
    ow = own["won"].reindex(o_idx).to_numpy(float)
    oc = own["closed"].reindex(o_idx).to_numpy(float)
    ow, oc = np.nan_to_num(ow), np.nan_to_num(oc)
    r["owner_win_rate"] = (ow + OWNER_PRIOR * rate_all) / (oc + OWNER_PRIOR)
    r["owner_closed"] = oc
    # amount basis: the amount known then, else the product's trailing mean won amount
    p_idx = pd.MultiIndex.from_arrays([r["origin"], r["product"]])
    pm = prod["won_mean"].reindex(p_idx).to_numpy(float)
    am = overall["won_mean"].reindex(r["origin"]).to_numpy(float)
    fill = np.where(np.isfinite(pm), pm, am)
    r["amount_imputed"] = ~np.isfinite(a)
    r["amount_basis"] = np.where(np.isfinite(a), a, fill)
    # the CRM's probability of a win within the horizon: its probability (else the
    # stage's default) for deals expected to close before t + h (or without a date)
    horizon_end = r["origin"] + pd.Timedelta(days=h)
    in_h = (r["expected_close_date"].isna() | (r["expected_close_date"] < horizon_end))
    r["in_horizon"] = in_h.to_numpy()
    prob = r["probability"].to_numpy(float)
    sp = r["stage"].map(stage_p).to_numpy(dtype=float, na_value=np.nan)
    crm = np.where(np.isfinite(prob), prob, sp)
    r["crm_probability"] = crm
    r["weight"] = np.where(r["in_horizon"], crm, np.where(np.isfinite(crm), 0.0, np.nan))
    # risk flags (the forecast's deals)
    cyc = overall["won_cycle"].reindex(r["origin"]).to_numpy(float)
    r["old"] = np.isfinite(cyc) & (r["age_days"].to_numpy() > 2 * cyc)
    r["slipping"] = (r["pushes"].fillna(0).to_numpy() >= 2) | (
        r["expected_close_date"].notna() & (r["expected_close_date"] < r["origin"])
    ).to_numpy()
    rot_days = r["stage"].map(rot).to_numpy(dtype=float, na_value=np.nan)
    rot_days = np.where(np.isfinite(rot_days), rot_days, 30.0)
    r["inactive"] = np.isfinite(r["days_since_activity"].to_numpy()) & (
        r["days_since_activity"].to_numpy() > rot_days)
    col = BY.get(by) if by else None
    r["group"] = (r[col].where(r[col].notna(), "(none)") if col else "all")
    return r


# --------------------------------------------------------------------------- methods


def _month_starts(first: pd.Timestamp, last: pd.Timestamp) -> list[pd.Timestamp]:
    """Month starts ``m`` with ``first <= m <= last``."""
    s = pd.Timestamp(first.year, first.month, 1)
    if s < first:
        s = s + pd.DateOffset(months=1)
    out = []
    while s <= last:
        out.append(pd.Timestamp(s))
        s = s + pd.DateOffset(months=1)
    return out


def _fit(rows: pd.DataFrame, target: pd.Timestamp, h: int, end: pd.Timestamp,
         train_origins: int, max_rows: int, random_state: int, model=None):
    """The model trained for the origin ``target``: rows of earlier origins whose horizon
    ended before both ``target`` and the data end, the latest ``train_origins`` of them,
    at most ``max_rows`` rows (a seeded sample). Returns (model, training rows) or
    (None, empty) when there are none."""
    limit = min(target, end)
    hz = pd.Timedelta(days=h)
    cand = pd.Series(rows["origin"].unique())
    cand = sorted(cand[(cand < target) & (cand + hz <= limit)])[-train_origins:]
    # the rows' positions first, then one copy of the sample (a copy of every candidate
    # row, then of the sample, was most of a backtest's pandas time at 1M opportunities)
    pos = np.flatnonzero(rows["origin"].isin(cand).to_numpy())
    if len(pos) > max_rows:
        idx = np.random.default_rng(random_state).choice(len(pos), max_rows, replace=False)
        pos = pos[np.sort(idx)]
    train = rows.iloc[pos]
    if train.empty:
        return None, train
    est = (model if model is not None else WinProbability(random_state=random_state))
    from sklearn.base import clone

    est = clone(est)
    est.fit(train[[*NUMERIC, *CATEGORICAL]], train["won"].astype(int),
            groups=train["origin"].to_numpy())
    est.forecast_stats_ = _training_stats(train)
    return est, train


def _training_stats(train: pd.DataFrame) -> dict:
    """What the model's forecast takes from its training rows besides the classifier:

    * ``value_ratio``: won amount / amount then, summed over the won training deals whose
      amount was known then (discounts and re-scoping between the origin and the win);
      1 with fewer than 20 such deals; clipped to [0.5, 1.5];
    * ``level_cv``: the origin-to-origin variation of the win-within-horizon share of the
      open deals beyond what chance explains (sqrt(max(0, var(r_s) - mean(r_s (1 - r_s) /
      n_s))) / mean(r_s) over the latest 12 training origins s with a win; 0 with fewer
      than 3 such origins): a shock
      common to every deal of an origin (a good or bad quarter), which widens the interval
      of the count and value (see :func:`_widen`)."""
    w = train[train["won"] & ~train["amount_imputed"] & (train["amount"] > 0)]
    ratio = 1.0
    if len(w) >= 20 and w["amount"].sum() > 0:
        ratio = float(np.clip(w["won_amount"].sum() / w["amount"].sum(), 0.5, 1.5))
    by = train.groupby("origin")["won"].agg(["mean", "size"])
    by = by[by["mean"] > 0].iloc[-12:]  # the recent regime: origins with a win, at most 12
    cv = 0.0
    if len(by) >= 3 and by["mean"].mean() > 0:
        chance = float((by["mean"] * (1 - by["mean"]) / by["size"]).mean())
        cv = float(np.sqrt(max(0.0, float(by["mean"].var(ddof=1)) - chance))
                   / by["mean"].mean())
    return {"value_ratio": ratio, "level_cv": cv}


def _widen(lo: float, hi: float, mean: float, cv: float, integer: bool) -> tuple[float, float]:
    """The interval ``[lo, hi]`` around ``mean`` widened in quadrature by a common level
    shock of coefficient of variation ``cv`` (80%: z = 1.2816): each half-width becomes
    sqrt(half^2 + (z cv mean)^2); counts rounded outwards."""
    if not (np.isfinite(lo) and np.isfinite(hi) and np.isfinite(mean)) or cv <= 0:
        return lo, hi
    z = 1.2815515655446004
    s = z * cv * mean
    lo2 = mean - np.sqrt((mean - lo) ** 2 + s * s)
    hi2 = mean + np.sqrt((hi - mean) ** 2 + s * s)
    lo2 = max(0.0, lo2)
    if integer:
        return float(np.floor(lo2)), float(np.ceil(hi2))
    return float(lo2), float(hi2)


def _new_terms(new: pd.DataFrame) -> pd.DataFrame:
    """Expected new deals created and won within the horizon, per (origin, group)."""
    n = new.copy()
    for c in ("cohort", "s1", "s2", "s2_missing", "created_recent", "new_won",
              "new_won_amount"):
        n[c] = pd.to_numeric(n[c], errors="coerce").astype(float)
    n["origin"] = pd.to_datetime(n["origin"], cache=False).astype("datetime64[us]")
    n["new_won"] = n["new_won"].fillna(0.0)  # no deal created and won: 0
    n["new_won_amount"] = n["new_won_amount"].fillna(0.0)
    rec = n["created_recent"].fillna(0)
    ok = n["cohort"] > 0
    n["expected_new_won_count"] = np.where(ok, rec * n["s1"] / n["cohort"], np.nan)
    n["expected_new_won_amount"] = np.where(ok & (n["s2_missing"].fillna(0) == 0),
                                            rec * n["s2"].fillna(0) / n["cohort"], np.nan)
    n["grp"] = n["grp"].where(n["grp"].notna(), "(none)")
    return n


def _aggregate(d: pd.DataFrame, rate: float, new_count: float, new_amount: float,
               random_state: int, stats: dict | None = None) -> dict:
    """Every method's forecast for one group's open deals ``d`` (with ``p_win``);
    ``stats``: the model's :func:`_training_stats` (None: ratio 1, no level shock)."""
    stats = stats or {"value_ratio": 1.0, "level_cv": 0.0}
    ratio, cv = stats["value_ratio"], stats["level_cv"]
    p = d["p_win"].to_numpy(float)
    basis = d["amount_basis"].to_numpy(float)
    value_known = bool(len(d) == 0 or np.isfinite(basis).all())
    have_p = bool(np.isfinite(p).all())
    out = {"open_count": len(d)}
    out["expected_won_count"] = float(np.sum(p)) if have_p else np.nan
    out["expected_won_amount"] = (float(np.sum(p * basis)) * ratio if value_known
                                  and have_p else np.nan)
    if have_p:
        lo_pb, hi_pb = count_interval(p, 0.0, LEVEL)
        lo_a, hi_a = (value_interval(p, basis * ratio, 0.0, 0.0, LEVEL,
                                     random_state=random_state)
                      if value_known else (np.nan, np.nan))
        lo, hi = _widen(lo_pb, hi_pb, out["expected_won_count"], cv, True)
        lo_a, hi_a = _widen(lo_a, hi_a, out["expected_won_amount"], cv, False)
    else:
        lo = hi = lo_a = hi_a = lo_pb = hi_pb = np.nan
    out.update(low=lo, high=hi, low_amount=lo_a, high_amount=hi_a, low_pb=lo_pb,
               high_pb=hi_pb)
    out["expected_new_won_count"] = new_count
    out["expected_new_won_amount"] = new_amount
    if have_p and np.isfinite(new_count):
        lo_t, hi_t = count_interval(p, new_count, LEVEL)
        lo_t, hi_t = _widen(lo_t, hi_t, out["expected_won_count"] + new_count, cv, True)
    else:
        lo_t = hi_t = np.nan
    out.update(low_total=lo_t, high_total=hi_t)
    out["naive_won_count"] = len(d) * rate if np.isfinite(rate) else np.nan
    out["naive_won_amount"] = (float(np.sum(basis)) * rate if value_known
                               and np.isfinite(rate) else np.nan)
    w = d["weight"].to_numpy(float)
    has_w = np.isfinite(w)
    if len(d) and has_w.mean() >= 0.5:
        out["weighted_won_count"] = float(np.sum(w[has_w]))
        out["weighted_pipeline"] = (float(np.sum(w[has_w] * basis[has_w]))
                                    if np.isfinite(basis[has_w]).all() else np.nan)
    else:
        out["weighted_won_count"] = out["weighted_pipeline"] = (0.0 if len(d) == 0
                                                                else np.nan)
    cat = d["forecast_category"]
    inh = d["in_horizon"].to_numpy(bool)
    if len(d) and cat.notna().any():
        def catsum(names):
            m = cat.isin(names).to_numpy() & inh
            return int(m.sum()), (float(np.sum(basis[m])) if np.isfinite(basis[m]).all()
                                  else np.nan)

        out["commit_count"], out["commit"] = catsum(["commit"])
        _, out["best_case"] = catsum(["commit", "best case"])
        _, out["pipeline"] = catsum(["commit", "best case", "pipeline"])
    else:
        out["commit_count"] = out["commit"] = out["best_case"] = out["pipeline"] = (
            0.0 if len(d) == 0 else np.nan)
    out["amount_imputed"] = int(d["amount_imputed"].sum())
    return out


_PRED = {  # method -> (count column, value column) of _aggregate's output
    "model": ("expected_won_count", "expected_won_amount"),
    "naive": ("naive_won_count", "naive_won_amount"),
    "weighted": ("weighted_won_count", "weighted_pipeline"),
    "category": ("commit_count", "commit"),
}


# --------------------------------------------------------------------------- forecast


def _as_ts(value, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ReportingError(f"{name} {value!r} is not a date; give YYYY-MM-DD") from None
    if ts is pd.NaT or pd.isna(ts):
        raise ReportingError(f"{name} {value!r} is not a date; give YYYY-MM-DD")
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo else ts


def _check_horizon(horizon_days) -> int:
    try:
        h = int(horizon_days)
    except (ValueError, TypeError):
        h = 0
    if h < 1 or h > 3660 or h != horizon_days:
        raise ReportingError(f"horizon_days {horizon_days!r}: give a whole number of days "
                             "from 1 to 3660 (e.g. --horizon-days 90)")
    return h


def _notes(rows: pd.DataFrame, at: pd.Timestamp, end: pd.Timestamp) -> list[str]:
    notes = []
    cur = rows[rows["origin"] == at]
    if len(cur):
        unknown = int((~cur["history_known"]).sum())
        if unknown and at < end:
            notes.append(
                f"no deal history covers {unknown} of the {len(cur)} deals open at "
                f"{at:%Y-%m-%d}: their stage, amount, probability, category and expected "
                "close date then are unknown (reconstructed from creation and close dates "
                "only; the current record would tell the future)")
        imp = int(cur["amount_imputed"].sum())
        if imp:
            notes.append(f"{imp} of the {len(cur)} open deals have no amount known at "
                         f"{at:%Y-%m-%d}: valued at their product's trailing 12-month mean "
                         "won amount")
    return notes


def _quota_for(quotas, by: str | None, group: str, start: pd.Timestamp,
               stop: pd.Timestamp, index=None) -> float:
    """A group's quota for the horizon ``[start, stop)``: from a mapping / Series (group ->
    amount) as given, or from a ``quotas`` table (scope_type, scope, period, amount): the
    months lying inside the horizon (whole), else the quarters; NaN when none. ``index``:
    the table's :class:`reporting.metrics.targets.QuotaIndex`, built once for many
    groups."""
    from .metrics.targets import QuotaIndex

    if quotas is None:
        return np.nan
    if isinstance(quotas, dict | pd.Series):
        v = quotas.get(group, np.nan)
        return float(v) if v is not None and pd.notna(v) else np.nan
    if not isinstance(quotas, pd.DataFrame) or quotas.empty:
        return np.nan
    from .periods import parse_period

    scope_type = {"owner": "rep", "rep": "rep"}.get(by or "", by)
    rows = (index or QuotaIndex(quotas)).rows(scope_type, group)
    got: dict[str, float] = {"month": 0.0, "quarter": 0.0}
    seen = {"month": False, "quarter": False}
    slack = pd.Timedelta(days=3)
    for period, amount in rows:
        try:
            per = parse_period(str(period))
        except ReportingError:
            continue
        if per.kind in got and per.start >= start - slack and per.end <= stop + slack:
            got[per.kind] += float(amount)
            seen[per.kind] = True
    for kind in ("month", "quarter"):
        if seen[kind]:
            return got[kind]
    return np.nan


def forecast(store: str | Path | None, as_of, horizon_days: int = 90, by: str | None = "region",
             region: str | None = None, team: str | None = None, quotas=None,
             model: WinProbability | None = None, train_origins: int = DEFAULT_TRAIN_ORIGINS,
             max_train_rows: int = DEFAULT_MAX_TRAIN_ROWS, evaluate: bool = True,
             random_state: int = 0) -> ForecastResult:
    """Forecast the bookings within ``[as_of, as_of + horizon_days)`` of the deals open at
    ``as_of`` (and the new ones), per group of ``by`` ("rep", "team", "region" or None for
    one group "all"), in the scope ``region`` / ``team``.

    The model is trained on the deals open at the month-ends before ``as_of`` whose horizon
    had ended by then (and by the data end), the latest ``train_origins`` of them, at most
    ``max_train_rows`` rows (seeded sample). ``evaluate``: also fit it without the latest
    training origin and score that origin out of sample (``model_info``'s Brier scores and
    reliability table). ``quotas``: a mapping group -> quota for the horizon, or the quotas
    table (see :func:`_quota_for`). ``.groups`` columns: see the module docstring and
    ``docs/forecast.md``; ``actual_won_count`` / ``actual_won_amount`` (and the new deals')
    when the horizon ended before the data end."""
    from .store import connect

    h = _check_horizon(horizon_days)
    at = _as_ts(as_of, "as_of")
    col = BY.get(by) if by else None
    if by is not None and col is None:
        raise ReportingError(f"by={by!r}: use rep, team or region")
    t0 = time.perf_counter()
    with connect(store, read_only=True) as con:
        end = data_end(con)
        if end is None:
            raise ReportingError("the store holds no opportunities; load some with "
                                 "`crm-report ingest` or `crm-report demo-data`")
        first = con.execute("SELECT MIN(created_at) FROM opportunities").fetchall()[0][0]
        grid = [s for s in _month_starts(pd.Timestamp(first), min(at, end))
                if s + pd.Timedelta(days=h) <= min(at, end)][-(train_origins + 1):]
        rows, trailing, new = origin_rows(con, [*grid, at], h, region, team, by, end)
    t_rows = time.perf_counter() - t0
    info: dict = {"horizon_days": h, "as_of": at.isoformat(), "data_end": end.isoformat()}
    cur = rows[rows["origin"] == at].copy()
    notes = _notes(rows, at, end)
    est, train = _fit(rows, at, h, end, train_origins, max_train_rows, random_state, model)
    stats = getattr(est, "forecast_stats_", None)
    if est is None:
        method = "naive"
        notes.append(f"no month-end before {at:%Y-%m-%d} has a full {h}-day horizon of "
                     "outcomes: the model cannot be trained; the naive forecast is used")
        cur["p_win"] = np.nan
    else:
        method = "model"
        cur["p_win"] = est.predict_proba(cur[[*NUMERIC, *CATEGORICAL]])[:, 1]
        info.update(training_origins=[str(o.date()) for o in sorted(train["origin"].unique())],
                    rows=len(train), features=[*NUMERIC, *CATEGORICAL],
                    base_rate=float(train["won"].mean()),
                    constant=bool(est.constant_), calibrated=est.calibrator_ is not None,
                    **stats)
        if evaluate:
            info.update(_evaluate(rows, at, h, end, train_origins, max_train_rows,
                                  random_state, model))
    info["seconds_rows"] = t_rows
    cur["expected_value"] = cur["p_win"] * cur["amount_basis"]
    n = _new_terms(new)
    n_at = n[n["origin"] == at].set_index("grp")
    tr_all = trailing[(trailing["g_owner"] == 1) & (trailing["g_grp"] == 1)
                      & (trailing["g_product"] == 1)].set_index("origin")
    tr_grp = trailing[trailing["g_grp"] == 0].copy()
    tr_grp["grp"] = tr_grp["grp"].where(tr_grp["grp"].notna(), "(none)")
    tr_grp = tr_grp[tr_grp["origin"] == at].set_index("grp")
    rate_all = (float(tr_all.loc[at, "won"] / tr_all.loc[at, "closed"])
                if at in tr_all.index and tr_all.loc[at, "closed"] else np.nan)
    groups = sorted(set(cur["group"]) | set(n_at.index if col else []) - {None})
    if not col:
        groups = ["all"]
    horizon_end = at + pd.Timedelta(days=h)
    done = horizon_end <= end
    out = []
    for g in groups:
        d = cur[cur["group"] == g]
        rate = (float(tr_grp.loc[g, "won"] / tr_grp.loc[g, "closed"])
                if g in tr_grp.index and tr_grp.loc[g, "closed"] else rate_all)
        nc = float(n_at.loc[g, "expected_new_won_count"]) if g in n_at.index else 0.0
        na = float(n_at.loc[g, "expected_new_won_amount"]) if g in n_at.index else 0.0
        rec = {"group": g, **_aggregate(d, rate, nc, na, random_state, stats)}
        if done:
            rec["actual_won_count"] = int(d["won"].sum())
            rec["actual_won_amount"] = float(d["won_amount"].sum(min_count=0))
            rec["actual_new_won_count"] = (float(n_at.loc[g, "new_won"])
                                           if g in n_at.index else 0.0)
            rec["actual_new_won_amount"] = (float(n_at.loc[g, "new_won_amount"])
                                            if g in n_at.index
                                            and pd.notna(n_at.loc[g, "new_won_amount"])
                                            else 0.0)
        out.append(rec)
    gframe = pd.DataFrame(out)
    total = None
    if col:
        # exactly rounded sums: the total does not depend on the order of the groups
        n_tot = (pd.Series({c: math.fsum(n_at[c].dropna()) for c in
                            ("expected_new_won_count", "expected_new_won_amount", "new_won",
                             "new_won_amount")}) if len(n_at) else None)
        nc = float(n_tot["expected_new_won_count"]) if n_tot is not None else 0.0
        na = float(n_tot["expected_new_won_amount"]) if n_tot is not None else 0.0
        if n_tot is not None and n_at["expected_new_won_amount"].isna().any():
            na = np.nan
        trec = {"group": "all", **_aggregate(cur, rate_all, nc, na, random_state, stats)}
        if done:
            trec["actual_won_count"] = int(cur["won"].sum())
            trec["actual_won_amount"] = float(cur["won_amount"].sum(min_count=0))
            trec["actual_new_won_count"] = float(n_tot["new_won"]) if n_tot is not None else 0.0
            trec["actual_new_won_amount"] = (float(n_tot["new_won_amount"])
                                             if n_tot is not None else 0.0)
        total = pd.DataFrame([trec])
    else:
        total = gframe.copy()
    from .metrics.targets import QuotaIndex

    qi = QuotaIndex(quotas) if isinstance(quotas, pd.DataFrame) and len(quotas) else None
    for frame in (gframe, total):
        if frame is None or frame.empty:
            continue
        frame["quota"] = [(_quota_for(quotas, by, g, at, horizon_end, qi)
                           if g != "all" or not col else np.nan) for g in frame["group"]]
        forecast_value = frame["expected_won_amount"] + frame["expected_new_won_amount"]
        if method == "naive":
            forecast_value = frame["naive_won_amount"] + frame["expected_new_won_amount"]
        frame["attainment"] = forecast_value / frame["quota"]
        frame["coverage"] = _pipeline_in_horizon(cur, frame["group"], col) / frame["quota"]
    deals = cur[["opportunity_id", "owner", "team", "region", "stage", "amount",
                 "expected_close_date", "age_days", "days_since_activity", "pushes",
                 "p_win", "expected_value", "amount_basis", "history_known", "old",
                 "slipping", "inactive"]].sort_values(
        ["expected_value", "opportunity_id"], ascending=[False, True], ignore_index=True)
    info["seconds"] = time.perf_counter() - t0
    return ForecastResult(groups=gframe, deals=deals, method=method, model_info=info,
                          notes=notes, total=total, as_of=at, horizon_days=h)


def _pipeline_in_horizon(cur: pd.DataFrame, groups: pd.Series, col: str | None) -> np.ndarray:
    """Open value (amount basis) expected to close within the horizon, per group."""
    d = cur[cur["in_horizon"]]
    if col:
        s = d.groupby("group")["amount_basis"].sum(min_count=1)
        tot = d["amount_basis"].sum(min_count=1)
        return np.array([tot if g == "all" else s.get(g, 0.0) for g in groups], dtype=float)
    return np.full(len(groups), d["amount_basis"].sum(min_count=1), dtype=float)


def _evaluate(rows: pd.DataFrame, at: pd.Timestamp, h: int, end: pd.Timestamp,
              train_origins: int, max_rows: int, random_state: int, model) -> dict:
    """Out-of-sample calibration of the forecast's model: trained as for the latest
    labelled training origin ``s`` (only origins whose horizon ended by ``s``; at most half
    of ``max_rows`` rows), scored on the deals open at ``s``."""
    hz = pd.Timedelta(days=h)
    lab = sorted(o for o in rows["origin"].unique() if o + hz <= min(at, end))
    if not lab:
        return {}
    s = pd.Timestamp(lab[-1])
    # half the rows of the forecast's own model: this fit only measures the calibration
    est, train = _fit(rows, s, h, end, train_origins, max(1, max_rows // 2), random_state,
                      model)
    if est is None:
        return {}
    test = rows[rows["origin"] == s]
    p = est.predict_proba(test[[*NUMERIC, *CATEGORICAL]])[:, 1]
    return _calibration(test["won"].to_numpy(int), p, np.full(len(test), train["won"].mean()),
                        test["crm_probability"].to_numpy(float), test["weight"].to_numpy(float),
                        label=f"deals open at {s:%Y-%m-%d}, model trained on earlier "
                              "month-ends")


def _calibration(y, p, base, crm, weight, label: str) -> dict:
    return {"calibration_on": label, "calibration_deals": int(len(y)),
            "brier": brier(y, p), "base_rate_brier": brier(y, base),
            "crm_brier": brier(y, weight),
            "crm_deals": int(np.isfinite(weight).sum()),
            "reliability": reliability_table(y, p).to_dict("records")}


# --------------------------------------------------------------------------- backtest


def default_origins(end: pd.Timestamp, first: pd.Timestamp, horizon_days: int,
                    n: int = 12) -> list[pd.Timestamp]:
    """The last ``n`` month-ends (first instants of the next month) whose horizon ends
    before the data end ``end``."""
    hz = pd.Timedelta(days=horizon_days)
    starts = [s for s in _month_starts(first, end) if s + hz <= end]
    return starts[-n:]


def backtest(store: str | Path | None, origins=None, horizon_days: int = 90,
             region: str | None = None, team: str | None = None,
             train_origins: int = DEFAULT_TRAIN_ORIGINS,
             max_train_rows: int = DEFAULT_MAX_TRAIN_ROWS, model: WinProbability | None = None,
             random_state: int = 0) -> BacktestTable:
    """Rolling-origin backtest of every method (:data:`METHODS`).

    ``origins``: a list of instants, a number ``n`` (the last n month-ends with a full
    horizon) or None (12). At each origin ``t`` every method forecasts the bookings of the
    deals open at t within ``[t, t + h)`` from what was known at t (the model trained
    afresh on the month-ends ``s`` with ``s + h <= t``); an origin where no training origin
    has a won deal in its horizon yet is left out (said in the notes). ``table`` columns:
    ``method, mape_count, mape_value, interval_coverage, interval_coverage_value, brier,
    mape_total_count, mape_total_value, origins``; ``chosen``: the lowest ``mape_value``
    (then ``mape_count``; NaN counts as worst). One DuckDB pass computes every origin's
    rows."""
    from .store import connect

    h = _check_horizon(horizon_days)
    hz = pd.Timedelta(days=h)
    with connect(store, read_only=True) as con:
        end = data_end(con)
        if end is None:
            raise ReportingError("the store holds no opportunities; load some with "
                                 "`crm-report ingest` or `crm-report demo-data`")
        first = pd.Timestamp(con.execute(
            "SELECT MIN(created_at) FROM opportunities").fetchall()[0][0])
        if origins is None or isinstance(origins, int):
            n = 12 if origins is None else int(origins)
            if n < 1:
                raise ReportingError(f"origins={origins!r}: give at least 1 origin")
            bt = default_origins(end, first, h, n)
        else:
            bt = sorted({_as_ts(o, "origin") for o in origins})
        if not bt:
            raise ReportingError(
                f"no month-end has a full {h}-day horizon of outcomes before the data end "
                f"({end:%Y-%m-%d}); use a shorter --horizon-days")
        grid = [s for s in _month_starts(first, bt[-1]) if s + hz <= bt[-1]]
        grid = [s for s in grid if s >= min(bt) - pd.DateOffset(months=train_origins) - hz]
        rows, trailing, new = origin_rows(con, sorted(set(grid) | set(bt)), h, region, team,
                                          None, end)
    n = _new_terms(new).set_index("origin")
    tr_all = trailing[(trailing["g_owner"] == 1) & (trailing["g_grp"] == 1)
                      & (trailing["g_product"] == 1)].set_index("origin")
    per, notes, cal = [], [], []
    skipped = []
    for t in bt:
        if t + hz > end:
            skipped.append(f"{t:%Y-%m-%d} (horizon ends after the data end)")
            continue
        est, train = _fit(rows, t, h, end, train_origins, max_train_rows, random_state,
                          model)
        if est is None or train["won"].sum() == 0:
            skipped.append(f"{t:%Y-%m-%d} (no earlier month-end with a won deal in its "
                           "horizon to learn from)")
            continue
        d = rows[rows["origin"] == t].copy()
        d["p_win"] = est.predict_proba(d[[*NUMERIC, *CATEGORICAL]])[:, 1]
        rate = (float(tr_all.loc[t, "won"] / tr_all.loc[t, "closed"])
                if t in tr_all.index and tr_all.loc[t, "closed"] else np.nan)
        nc = float(n.loc[t, "expected_new_won_count"]) if t in n.index else np.nan
        na = float(n.loc[t, "expected_new_won_amount"]) if t in n.index else np.nan
        agg = _aggregate(d, rate, nc, na, random_state, est.forecast_stats_)
        actual_c = int(d["won"].sum())
        actual_v = float(d["won_amount"].sum(min_count=0))
        new_c = float(n.loc[t, "new_won"]) if t in n.index and pd.notna(
            n.loc[t, "new_won"]) else 0.0
        new_v = float(n.loc[t, "new_won_amount"]) if t in n.index and pd.notna(
            n.loc[t, "new_won_amount"]) else 0.0
        y = d["won"].to_numpy(int)
        # the spread chance alone gives the outcome if the probabilities were exact
        pw, bs = d["p_win"].to_numpy(float), d["amount_basis"].to_numpy(float)
        sd_c = float(np.sqrt(np.sum(pw * (1 - pw))))
        sd_v = float(np.sqrt(np.nansum(pw * (1 - pw) * bs * bs)))
        probs = {"model": d["p_win"].to_numpy(float),
                 "naive": np.full(len(d), rate),
                 "weighted": d["weight"].to_numpy(float),
                 "category": np.full(len(d), np.nan)}
        cal.append((y, probs["model"], np.full(len(d), train["won"].mean()),
                    d["weight"].to_numpy(float)))
        for m in METHODS:
            cc, vc = _PRED[m]
            pc, pv = agg[cc], agg[vc]
            rec = {"origin": t, "method": m, "open_count": len(d),
                   "predicted_count": pc, "predicted_value": pv,
                   "actual_count": actual_c, "actual_value": actual_v,
                   "low_pb": agg["low_pb"] if m == "model" else np.nan,
                   "high_pb": agg["high_pb"] if m == "model" else np.nan,
                   "low": agg["low"] if m == "model" else np.nan,
                   "high": agg["high"] if m == "model" else np.nan,
                   "low_amount": agg["low_amount"] if m == "model" else np.nan,
                   "high_amount": agg["high_amount"] if m == "model" else np.nan,
                   "predicted_new_count": nc, "predicted_new_value": na,
                   "actual_new_count": new_c, "actual_new_value": new_v,
                   "brier": brier(y, probs[m]), "deals": len(d),
                   "amount_imputed": agg["amount_imputed"],
                   "training_rows": len(train),
                   "chance_sd_count": sd_c, "chance_sd_value": sd_v}
            per.append(rec)
    if skipped:
        notes.append("origins left out: " + "; ".join(skipped))
    po = pd.DataFrame(per)
    if po.empty:
        raise ReportingError(
            f"no backtest origin could be scored (horizon {h} days, data end "
            f"{end:%Y-%m-%d}): {'; '.join(skipped)}; use a shorter --horizon-days or a "
            "store with a longer history")
    po["ape_count"] = _ape(po["predicted_count"], po["actual_count"])
    po["ape_value"] = _ape(po["predicted_value"], po["actual_value"])
    po["ape_total_count"] = _ape(po["predicted_count"] + po["predicted_new_count"],
                                 po["actual_count"] + po["actual_new_count"])
    po["ape_total_value"] = _ape(po["predicted_value"] + po["predicted_new_value"],
                                 po["actual_value"] + po["actual_new_value"])
    po["inside"] = np.where(po["low"].notna(), (po["actual_count"] >= po["low"])
                            & (po["actual_count"] <= po["high"]), np.nan)
    po["inside_pb"] = np.where(po["low_pb"].notna(), (po["actual_count"] >= po["low_pb"])
                               & (po["actual_count"] <= po["high_pb"]), np.nan)
    po["inside_value"] = np.where(po["low_amount"].notna(),
                                  (po["actual_value"] >= po["low_amount"])
                                  & (po["actual_value"] <= po["high_amount"]), np.nan)
    table = []
    for m in METHODS:
        g = po[po["method"] == m]
        ys = np.concatenate([c[0] for c in cal]) if cal else np.zeros(0)
        table.append({
            "method": m,
            "mape_count": _mean(g["ape_count"]),
            "mape_value": _mean(g["ape_value"]),
            "interval_coverage": _mean(g["inside"]),
            "interval_coverage_value": _mean(g["inside_value"]),
            "interval_coverage_pb": _mean(g["inside_pb"]),
            "brier": _pooled_brier(g, ys, cal, m),
            "mape_total_count": _mean(g["ape_total_count"]),
            "mape_total_value": _mean(g["ape_total_value"]),
            "origins": int(g["ape_count"].notna().sum()),
        })
    tab = pd.DataFrame(table)
    order = tab.assign(_v=tab["mape_value"].fillna(np.inf),
                       _c=tab["mape_count"].fillna(np.inf)).sort_values(["_v", "_c"])
    chosen = str(order["method"].iloc[0])
    if cal:
        y = np.concatenate([c[0] for c in cal])
        calib = _calibration(y, np.concatenate([c[1] for c in cal]),
                             np.concatenate([c[2] for c in cal]),
                             np.full(len(y), np.nan), np.concatenate([c[3] for c in cal]),
                             label=f"deals open at the {len(cal)} backtest origins, each "
                                   "scored by a model trained on earlier origins")
    else:
        calib = {}
    if calib:
        # the MAPE a forecast with exactly right, independent probabilities would still
        # show from chance alone: E|X - EX| ~ sqrt(2 / pi) sd (normal), over the actual
        m = po[(po["method"] == "model") & (po["actual_count"] > 0)]
        k = np.sqrt(2 / np.pi)
        calib["chance_mape_count"] = _mean(k * m["chance_sd_count"] / m["actual_count"])
        calib["chance_mape_value"] = _mean(k * m["chance_sd_value"]
                                           / m["actual_value"].where(m["actual_value"] > 0))
    imputed = int(po.loc[po["method"] == "model", "amount_imputed"].sum())
    if imputed:
        notes.append(f"{imputed} (origin, deal) amounts unknown then were valued at the "
                     "product's trailing mean won amount")
    return BacktestTable(table=tab, per_origin=po, chosen=chosen, calibration=calib,
                         notes=notes, horizon_days=h)


def _pooled_brier(g: pd.DataFrame, ys, cal, m: str) -> float:
    """The Brier score over every (origin, deal) of the backtest (deals weigh equally)."""
    if m == "category" or not cal:
        return np.nan
    if m == "model":
        return brier(ys, np.concatenate([c[1] for c in cal]))
    if m == "weighted":
        return brier(ys, np.concatenate([c[3] for c in cal]))
    # naive: the origin's trailing win rate for every deal
    rates = []
    for c, (_, row) in zip(cal, g.iterrows(), strict=True):
        n = len(c[0])
        r = row["predicted_count"] / row["open_count"] if row["open_count"] else np.nan
        rates.append(np.full(n, r))
    return brier(ys, np.concatenate(rates))


def _ape(pred: pd.Series, actual: pd.Series) -> pd.Series:
    """|pred - actual| / actual; NaN where actual is 0 or either is unknown."""
    a = actual.astype(float)
    return ((pred.astype(float) - a).abs() / a).where(a > 0)


def _mean(s: pd.Series) -> float:
    s = pd.to_numeric(s, errors="coerce").dropna()
    return float(s.mean()) if len(s) else float("nan")
