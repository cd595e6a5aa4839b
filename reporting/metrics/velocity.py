"""Sales velocity and the decomposition of its change into its four factors.

**Sales velocity** (revenue per day) of a group in a period = open deals x win rate x average
won deal / cycle days, with

- ``open_deals``: deals open at the period start (created before it, not closed before it);
- ``win_rate``: won / (won + lost) of the deals closed in the period;
- ``avg_won``: the mean amount of the deals won in the period (unknown amounts left out);
- ``cycle_days``: the **mean** days from creation to the win of the deals won in the period
  (the mean, not the median, so that velocity is the classic average-based formula).

Velocity is 0 when nothing was won (win rate 0) and not computable (NaN) when a factor it
needs is (no deal closed, no amount known).

**Change** from the previous period (``Period.previous()``), decomposed with the additive
LMDI (logarithmic mean Divisia index, Ang 2004): with ``L(a, b) = (a - b) / (ln a - ln b)``
(``L(a, a) = a``), the effect of factor x is ``L(V1, V0) * ln(x1 / x0)`` (the cycle's with a
minus sign, as it divides). Because ``ln V = ln open + ln win_rate + ln avg_won - ln cycle``,
the four effects sum exactly to ``V1 - V0``. The logarithm needs every factor positive in both
periods: where one is 0 or not computable the change is given but not decomposed, and ``note``
says which factor and period.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..exceptions import ParamsError
from ..i18n import N_, N_p
from ..periods import Period
from .filters import closed_in_period, open_at

FACTORS = ("open_deals", "win_rate", "avg_won", "cycle_days")
FACTOR_LABELS = {"open_deals": N_("open deals"), "win_rate": N_("win rate"),
                 "avg_won": N_("average won deal"), "cycle_days": N_("cycle days")}
#: the factor as the finding's ``{factor}`` parameter (insights.movement_findings): a noun
#: phrase of its own in Persian ("the number of open deals")
_FACTOR_WORDS = (N_p("factor", "open deals"), N_p("factor", "win rate"),
                 N_p("factor", "average won deal"), N_p("factor", "cycle days"))
DAY = pd.Timedelta(days=1)


def _group(frame: pd.DataFrame, by: str | None) -> pd.Series:
    if by is None:
        return pd.Series("all", index=frame.index, name="group")
    col = "owner" if by == "rep" else by
    if col not in frame:
        raise ParamsError(f"parameter by={by!r}: the opportunities have no column {col!r}; "
                          "use 'rep', 'team', 'region' or None")
    return frame[col].fillna("(none)").rename("group")


def velocity(opps: pd.DataFrame, period: Period, by: str | None = None) -> pd.DataFrame:
    """Sales velocity per group (module docstring). ``by``: "rep" (or "owner"), "team",
    "region", None (one row ``all``). Columns: group, open_deals, won, closed, win_rate,
    avg_won, cycle_days, velocity."""
    op = opps[open_at(opps, period.start)]
    c = opps[closed_in_period(opps, period)]
    w = c[c["status"] == "won"]
    cycle = (w["closed_at"] - w["created_at"]) / DAY
    out = pd.DataFrame({
        "open_deals": op.groupby(_group(op, by)).size(),
        "won": (c["status"] == "won").groupby(_group(c, by)).sum(),
        "closed": c.groupby(_group(c, by)).size(),
        "avg_won": w["amount"].groupby(_group(w, by)).mean(),
        "cycle_days": cycle.groupby(_group(w, by)).mean(),
    })
    if by is None and out.empty:
        out = pd.DataFrame(np.nan, index=["all"], columns=out.columns)
    out.index.name = "group"
    out["open_deals"] = out["open_deals"].fillna(0).astype(int)
    out["won"] = out["won"].fillna(0).astype(int)
    out["closed"] = out["closed"].fillna(0).astype(int)
    out["win_rate"] = out["won"] / out["closed"].where(out["closed"] > 0)
    out["avg_won"] = out["avg_won"].astype(float)
    out["cycle_days"] = out["cycle_days"].astype(float)
    v = (out["open_deals"] * out["win_rate"] * out["avg_won"]
         / out["cycle_days"].where(out["cycle_days"] > 0))
    out["velocity"] = v.where(~out["win_rate"].eq(0), 0.0)
    out = out.reset_index()
    return out[["group", "open_deals", "won", "closed", "win_rate", "avg_won", "cycle_days",
                "velocity"]]


def log_mean(a: float, b: float) -> float:
    """The logarithmic mean L(a, b) = (a - b) / (ln a - ln b), L(a, a) = a (a, b > 0)."""
    if a == b:
        return float(a)
    r = (a - b) / b
    # ln(a / b): log1p is accurate when a and b are close, the plain logs otherwise
    ln = math.log1p(r) if abs(r) < 0.5 else math.log(a) - math.log(b)
    if ln == 0.0:  # a and b differ in the last bits only
        return (a + b) / 2.0
    return (a - b) / ln


def lmdi(prev: dict[str, float], cur: dict[str, float]) -> dict[str, float]:
    """The additive LMDI effects of the four factors on velocity = open x win_rate x avg_won /
    cycle, from ``prev`` to ``cur`` (every factor positive); they sum to V1 - V0."""
    v0 = prev["open_deals"] * prev["win_rate"] * prev["avg_won"] / prev["cycle_days"]
    v1 = cur["open_deals"] * cur["win_rate"] * cur["avg_won"] / cur["cycle_days"]
    lm = log_mean(v1, v0)
    sign = {"open_deals": 1.0, "win_rate": 1.0, "avg_won": 1.0, "cycle_days": -1.0}
    return {f: sign[f] * lm * math.log(cur[f] / prev[f]) for f in FACTORS}


def _why_not(row: pd.Series, prev_label: str, cur_label: str) -> str | None:
    for f in FACTORS:
        for side, label in (("_prev", prev_label), ("", cur_label)):
            x = row[f + side]
            if pd.isna(x):
                return f"not decomposable: {FACTOR_LABELS[f]} not computable in {label}"
            if x <= 0:
                return f"not decomposable: {FACTOR_LABELS[f]} is 0 in {label}"
    return None


def velocity_change(opps: pd.DataFrame, period: Period, by: str | None = None) -> pd.DataFrame:
    """Velocity in the previous period and this one per group, the change, and its LMDI
    decomposition into the four factors (module docstring). Columns: group, velocity_prev,
    velocity, change, open_deals_effect, win_rate_effect, avg_won_effect, cycle_effect,
    main_factor (the factor with the largest absolute effect), note (why a row is not
    decomposed; None otherwise), and each factor in both periods (``<factor>_prev``,
    ``<factor>``)."""
    prev = period.previous()
    v0 = velocity(opps, prev, by).set_index("group")
    v1 = velocity(opps, period, by).set_index("group")
    groups = sorted(set(v0.index) | set(v1.index), key=str)
    v0 = v0.reindex(groups)
    v1 = v1.reindex(groups)
    v0["open_deals"] = v0["open_deals"].fillna(0)
    v1["open_deals"] = v1["open_deals"].fillna(0)
    out = pd.DataFrame(index=pd.Index(groups, name="group"))
    out["velocity_prev"] = v0["velocity"].astype(float)
    out["velocity"] = v1["velocity"].astype(float)
    out["change"] = out["velocity"] - out["velocity_prev"]
    for f in FACTORS:
        out[f + "_prev"] = v0[f].astype(float)
        out[f] = v1[f].astype(float)
    effects = {f: [] for f in FACTORS}
    notes, main = [], []
    for _g, r in out.iterrows():
        why = _why_not(r, prev.label, period.label)
        if why is None:
            e = lmdi({f: r[f + "_prev"] for f in FACTORS}, {f: r[f] for f in FACTORS})
            for f in FACTORS:
                effects[f].append(e[f])
            main.append(FACTOR_LABELS[max(FACTORS, key=lambda f: abs(e[f]))])
        else:
            for f in FACTORS:
                effects[f].append(np.nan)
            main.append(None)
        notes.append(why)
    out["open_deals_effect"] = effects["open_deals"]
    out["win_rate_effect"] = effects["win_rate"]
    out["avg_won_effect"] = effects["avg_won"]
    out["cycle_effect"] = effects["cycle_days"]
    out["main_factor"] = main
    out["note"] = notes
    out = out.reset_index()
    head = ["group", "velocity_prev", "velocity", "change", "open_deals_effect",
            "win_rate_effect", "avg_won_effect", "cycle_effect", "main_factor", "note"]
    return out[head + [c for c in out.columns if c not in head]]


DEFINITIONS: dict[str, str] = {
    "sales_velocity": (
        N_("Sales velocity (revenue per day): open deals at the period start x win rate (won / "
        "closed in the period) x average won deal (mean amount won in the period) / cycle days "
        "(mean days from creation to win of the deals won in the period). Its change from the "
        "previous period is split into the four factors with the logarithmic mean Divisia "
        "index: each factor's effect = L(V1, V0) x ln(factor now / factor before), with "
        "L(a, b) = (a - b) / (ln a - ln b), the cycle's with a minus sign; the four effects add "
        "up exactly to the change. Where a factor is 0 or not computable in either period "
        "the change is shown without a split.")
    ),
}
