"""References a run learns once and every report of it uses.

* Predicted customer lifetime value: the model that backtests best on the data at hand,
  refitted on everything up to the period end, discounted over a stated horizon
  (:func:`clv_reference`).
* Deal-size band references, tied to the store, the profile set and the window they were
  learned on (:func:`select_reference`, :func:`learn_reference`, :func:`band_drift`); the
  file I/O around them is in :mod:`reporting.batch`.

Used once per run (saved as a run artifact) or, in a notebook run alone, on the slice.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from ..i18n import N_
from ..periods import Period


# The CLV model choice needs scipy and scikit-learn (``.backtest``); the band references,
# which every run reads, do not: the backtest is imported when a CLV reference is computed.
def choose_model(*args, **kwargs):
    from .backtest import choose_model as f

    return f(*args, **kwargs)


def fit_predict(*args, **kwargs):
    from .backtest import fit_predict as f

    return f(*args, **kwargs)


def discounted_value(*args, **kwargs):
    from .backtest import discounted_value as f

    return f(*args, **kwargs)


def _canonical(*args, **kwargs):
    from .backtest import _canonical as f

    return f(*args, **kwargs)


def _criterion() -> str:
    from .backtest import CRITERION

    return CRITERION


MONTH_DAYS = 30.4375


def clv_reference(revenue: pd.DataFrame, period_end: pd.Timestamp, holdout_months: int = 6,
                  horizon_months: int = 12, discount_rate: float = 0.10,
                  time_unit: str = "week") -> tuple[pd.Series | None, dict]:
    """See :func:`_clv_reference`; runs with one BLAS / OpenMP thread: these fits are small,
    and threads fighting other reports for 2 cores made them 10x slower here."""
    with threadpool_limits(limits=1):
        return _clv_reference(revenue, period_end, holdout_months, horizon_months,
                              discount_rate, time_unit)


def _account_codes(rev: pd.DataFrame) -> tuple[pd.DataFrame, pd.Index | None]:
    """The lines with integer codes for their account ids, and the ids (code -> id). The
    candidates group the lines by account dozens of times: on codes rather than id
    strings (sorting and hashing 825k of them took ~5 of the 18 s at 1M opportunities).
    The codes follow the ids' sorted order, so every group comes in the same order and
    every figure is the same to the last bit (a test compares the two). With a line
    without an account, the lines as they are and None."""
    codes, ids = pd.factorize(rev["account_id"], sort=True)
    if not (codes >= 0).all():
        return rev, None
    return rev.assign(account_id=codes), pd.Index(ids)  # the ids' own dtype


def _clv_reference(revenue: pd.DataFrame, period_end: pd.Timestamp, holdout_months: int,
                   horizon_months: int, discount_rate: float, time_unit: str
                   ) -> tuple[pd.Series | None, dict]:
    """Choose a CLV model by backtest and predict each account's lifetime value: revenue
    expected over the ``horizon_months`` months after ``period_end``, discounted month by
    month at ``discount_rate`` a year (:func:`reporting.models.backtest.discounted_value`).

    The backtest calibrates on revenue before ``period_end - holdout_months`` and predicts
    the last ``holdout_months``; the winner (lowest |aggregate error| + (1 - Spearman)) is
    refitted on all revenue before ``period_end``. Returns the predictions (indexed by
    account_id; None when no model could be fitted) and a summary with the model, its
    backtest figures against the naive baseline (on undiscounted holdout revenue, which is
    what happened), the horizon and discount rate, and every candidate's score or error.
    """
    horizon_days = round(horizon_months * MONTH_DAYS)
    before = revenue["date"] < period_end
    rev = revenue[before & (revenue["amount"] > 0)]
    holdout_start = period_end - pd.DateOffset(months=holdout_months)
    summary: dict = {"horizon_days": horizon_days, "horizon_months": horizon_months,
                     "discount_rate": discount_rate, "discounted": True,
                     "holdout_months": holdout_months,
                     "criterion": _criterion(), "transactions": int(len(rev)),
                     # credits, refunds and zero lines are not purchases: left out, counted
                     "excluded_lines": int((before & ~(revenue["amount"] > 0)).sum()),
                     "accounts": int(rev["account_id"].nunique())}
    if rev.empty or (rev["date"] < holdout_start).sum() == 0:
        summary["error"] = "no revenue before the backtest window"
        return None, summary
    rev, ids = _account_codes(rev)
    try:
        _, results = choose_model(
            rev, "account_id", "date", "amount",
            calibration_end=holdout_start - pd.Timedelta(days=1),
            holdout_end=period_end - pd.Timedelta(days=1), time_unit=time_unit,
            candidates=("bgnbd", "gamma-gamma", "segments", "regressor", "sbg"))
    except ValueError as exc:
        summary["error"] = str(exc)
        return None, summary
    summary["candidates"] = {k: (v.to_dict()["score"] if not isinstance(v, str) else v)
                             for k, v in results.items()}
    tx = _canonical(rev, "account_id", "date", "amount")
    ranked = sorted((k for k, v in results.items() if not isinstance(v, str)),
                    key=lambda k: results[k].score)
    refit_errors = {}
    for name in ranked:  # the best that also fits on the full history
        try:
            pred, info = fit_predict(tx, period_end - pd.Timedelta(days=1), horizon_days,
                                     name, time_unit)
        except ValueError as exc:
            refit_errors[name] = str(exc)
            continue
        pred = discounted_value(pred, info, horizon_months, discount_rate, time_unit)
        summary["model"] = name
        if "spend_model" in info:
            summary["spend_model"] = info["spend_model"]
        summary["backtest"] = results[name].to_dict()
        summary["params"] = {k: float(v) for k, v in info.get("params", {}).items()}
        if refit_errors:
            summary["refit_errors"] = refit_errors
        if ids is not None:
            pred.index = ids.take(pred.index.to_numpy()).rename(pred.index.name)
        return pred.rename("predicted_value"), summary
    summary["error"] = "no model could be refitted on the full history: " + "; ".join(
        f"{k}: {v}" for k, v in refit_errors.items())
    return None, summary


# --------------------------------------------------------------------------- band reference
#
# A deal-size band reference is tied to where it was learned: the store (its resolved path
# and a stable id), the profile set (report.yaml's team pattern -> profile mapping) and
# the window of won deals it was learned on. A period uses the newest reference of its
# store and profile set whose window ended by the period end (never edges learned on
# later deals), and a fresh one is learned when there is none. Drift (PSI) is judged only
# against a baseline that does not contain the period, and only on enough deals.

REFERENCE_VERSION = 2
REFERENCE_MONTHS = 12
MIN_DRIFT_DEALS = 30
TOO_FEW_DEALS = N_("too few deals")

DEFINITIONS: dict[str, str] = {
    "band_reference": (
        N_("Band reference: band edges learned on the won deals of the 12 months before a "
        "period end, kept per store (resolved path and a stable id: the store's first "
        "ingest batch) and per profile set (report.yaml profiles). A report uses the newest "
        "reference of its store and profile set whose window ended by the period end, so a "
        "deal keeps its band from month to month and no edges learned on later deals are "
        "applied; without one, a reference is learned for the period. Zero-amount wins count "
        "as won deals in the smallest band, as they count in the average deal size.")
    ),
    "band_drift": (
        N_("Band drift: population stability index PSI = sum over bands of (c - r) ln(c / r) "
        "between the period's won deals (c, shares floored at 0.0001) and a baseline that "
        "does not contain the period (r): the reference window when it ended by the period "
        "start, otherwise the 12 months before the period start under the same edges. "
        "Below 30 won deals in the period or in the baseline it says 'too few deals'. "
        "Under 0.1 stable, 0.1-0.25 some drift, above 0.25 refresh the reference.")
    ),
}


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()
                          ).hexdigest()[:16]


def band_key(store_path: str, store_id: str, profiles: dict[str, str],
             n_bands: int = 3, method: str = "kmeans") -> dict:
    """What a band reference is tied to: the store (resolved path and stable id) and the
    profile set (the ordered team-pattern -> profile mapping), plus how bands are learned."""
    return {"store_path": str(store_path), "store_id": str(store_id),
            "profiles": _digest(list(profiles.items())),
            "profile_names": sorted(set(profiles.values())),
            "bands": {"n_bands": n_bands, "method": method}}


def _same_key(ref: dict, key: dict) -> bool:
    k = ref.get("key") or {}
    return all(k.get(f) == key[f] for f in ("store_path", "store_id", "profiles", "bands"))


def select_reference(references: list[dict], key: dict, period: Period) -> dict | None:
    """The newest reference of ``key`` whose window ended by ``period.end`` (None when
    there is none): edges learned on deals after the period are never applied."""
    ok = [r for r in references
          if _same_key(r, key) and pd.Timestamp(r["window_end"]) <= period.end]
    return max(ok, key=lambda r: pd.Timestamp(r["window_end"])) if ok else None


def band_shares(amounts: pd.Series, edges: list[float]) -> list[float]:
    """Share of the won deals in each band under ``edges``; a zero amount is in the
    smallest band (missing and negative amounts are left out)."""
    a = pd.to_numeric(amounts, errors="coerce").to_numpy(dtype=float)
    a = a[np.isfinite(a) & (a >= 0)]
    counts = np.bincount(np.searchsorted(np.asarray(edges, dtype=float), a, side="right"),
                         minlength=len(edges) + 1)
    return [float(x) for x in counts / max(1, a.size)]


def _known_amounts(amounts: pd.Series) -> int:
    a = pd.to_numeric(amounts, errors="coerce")
    return int((a.notna() & (a >= 0)).sum())


def learn_reference(won: pd.DataFrame, profiles: pd.Series, period: Period, key: dict,
                    learn) -> dict:
    """A reference learned on the won deals (``team``, ``amount``, ``closed_at``) of the
    ``REFERENCE_MONTHS`` months before ``period.end``; ``profiles`` is each row's profile and
    ``learn(won, period, profiles)`` returns ``(edges, notes)`` per profile."""
    start = period.end - pd.DateOffset(months=REFERENCE_MONTHS)
    inside = (won["closed_at"] >= start) & (won["closed_at"] < period.end)
    w, prof = won[inside], profiles[inside]
    edges, notes = learn(w, period, prof)
    shares = {p: band_shares(w.loc[prof == p, "amount"], e) for p, e in edges.items()}
    deals = {p: _known_amounts(w.loc[prof == p, "amount"]) for p in edges}
    return {"learned_on": period.label, "key": key,
            "window": f"won deals closed {start.date()} to "
                      f"{(period.end - pd.Timedelta(days=1)).date()}",
            "window_start": start.isoformat(), "window_end": period.end.isoformat(),
            "edges": edges, "shares": shares, "deals": deals, "notes": notes,
            "created_at": pd.Timestamp.now("UTC").isoformat(timespec="seconds")}


def psi(current: list[float], baseline: list[float]) -> float:
    """Population stability index of two share vectors (shares floored at 1e-4)."""
    c = np.maximum(np.asarray(current, dtype=float), 1e-4)
    r = np.maximum(np.asarray(baseline, dtype=float), 1e-4)
    return float(np.sum((c - r) * np.log(c / r)))


def verdict(value: float) -> str:
    return N_("stable") if value < 0.1 else N_("some drift") if value <= 0.25 else \
        N_("refresh the reference")


def band_drift(ref: dict, won: pd.DataFrame, profiles: pd.Series, period: Period,
               min_deals: int = MIN_DRIFT_DEALS) -> dict[str, dict]:
    """PSI of the period's won deals across the reference's bands, per profile, against a
    baseline that does not contain the period: the reference's own window when it ended by
    ``period.start``, else the won deals of the 12 months before ``period.start`` under
    the same edges. ``won`` holds won deals (``amount``, ``closed_at``) covering both; with
    fewer than ``min_deals`` in the period or the baseline the verdict is 'too few deals'
    and ``psi`` is None."""
    own = pd.Timestamp(ref["window_end"]) <= period.start
    b_start = period.start - pd.DateOffset(months=REFERENCE_MONTHS)
    in_period = period.contains(won["closed_at"])
    in_base = (won["closed_at"] >= b_start) & (won["closed_at"] < period.start)
    out: dict[str, dict] = {}
    for prof, e in ref["edges"].items():
        mine = profiles == prof
        cur = won.loc[in_period & mine, "amount"]
        n = _known_amounts(cur)
        if n == 0:
            continue
        if own:
            base, n_base = ref["shares"][prof], int(ref.get("deals", {}).get(prof, min_deals))
            label = f"the reference window ({ref['window']})"
        else:
            amounts = won.loc[in_base & mine, "amount"]
            base, n_base = band_shares(amounts, e), _known_amounts(amounts)
            label = (f"the 12 months before the period ({b_start.date()} to "
                     f"{(period.start - pd.Timedelta(days=1)).date()})")
        row = {"deals": n, "baseline_deals": n_base, "baseline": label,
               "min_deals": min_deals}
        if n < min_deals or n_base < min_deals:
            row.update(psi=None, verdict=TOO_FEW_DEALS)
        else:
            v = psi(band_shares(cur, e), base)
            row.update(psi=v, verdict=verdict(v))
        out[prof] = row
    return out
