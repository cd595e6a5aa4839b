"""Customer value attributed to the rep who won the account and the manager who keeps it:
was the customer the wrong kind, or was the account run badly?"""

from __future__ import annotations

import pandas as pd

DAY = pd.Timedelta(days=1)


def account_history(revenue: pd.DataFrame, accounts: pd.DataFrame, until: pd.Timestamp,
                    active_days: int = 365) -> pd.DataFrame:
    """Per account, revenue booked before ``until``: total, by kind, first and last date,
    and whether it is still active (revenue in the last ``active_days``) or churned (a
    customer for at least ``active_days`` with no revenue in the last ``active_days``).
    Columns: account_id, acquired_by, account_manager, industry, total, new, renewal,
    expansion, one-off, first, last, tenure_days, active, churned."""
    r = revenue[revenue["date"] < until]
    g = r.groupby("account_id")
    kinds = r.pivot_table(index="account_id", columns="kind", values="amount",
                          aggfunc="sum", fill_value=0.0)
    out = pd.DataFrame({"total": g["amount"].sum(), "first": g["date"].min(),
                        "last": g["date"].max()})
    for k in ("new", "renewal", "expansion", "one-off"):
        out[k] = kinds[k] if k in kinds else 0.0
    out["tenure_days"] = (until - out["first"]) / DAY
    out["active"] = (until - out["last"]) / DAY <= active_days
    out["churned"] = ~out["active"] & (out["tenure_days"] >= active_days)
    a = accounts[["account_id", "acquired_by", "account_manager", "industry"]]
    return a.merge(out, left_on="account_id", right_index=True, how="inner").reset_index(drop=True)


def value_by_person(history: pd.DataFrame, role: str) -> pd.DataFrame:
    """Roll account history up to the acquiring rep (``role="acquired_by"``: acquisition
    quality) or to the account manager (``role="account_manager"``: retention and
    expansion). Columns: person, accounts, avg_value, total_value, churn_rate (churned /
    accounts at least a year old), expansion_per_account, and avg_predicted_value when the
    history carries a model's ``predicted_value`` per account."""
    h = history.dropna(subset=[role])
    old = h["tenure_days"] >= 365
    g = h.groupby(role)
    out = pd.DataFrame({
        "accounts": g.size(),
        "avg_value": g["total"].mean(),
        "total_value": g["total"].sum(),
        "churn_rate": h["churned"].groupby(h[role]).sum() / old.groupby(h[role]).sum().where(
            lambda s: s > 0),
        "expansion_per_account": g["expansion"].mean(),
    })
    if "predicted_value" in h:
        out["avg_predicted_value"] = g["predicted_value"].mean()
    out.index.name = "person"
    return out.reset_index()
