"""Customer value attributed to the rep who won the account and the manager who keeps it:
was the customer the wrong kind, or was the account run badly?

Every function here works on *every* customer account in scope (an account with an
opportunity of the region / team at any time before the period end and revenue booked
before it), not only on accounts with a recent deal: churned customers are exactly the
accounts without recent deals, so a recent-deals slice hides them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..i18n import N_
from ..periods import Period

DAY = pd.Timedelta(days=1)
YEAR_DAYS = 365

DEFINITIONS: dict[str, str] = {
    "account_value": (
        N_("Revenue per account: revenue booked in the period divided by the customer accounts "
        "that booked any revenue in the period (previous period and last year on the same "
        "basis). Customer accounts in scope: every account with an opportunity of the "
        "region / team created before the period end and revenue booked before it, whether "
        "or not it had a recent deal. Revenue to date per account (labelled 'to date') is "
        "all revenue before the period end divided by those accounts.")
    ),
    "churn": (
        N_("Churn: a customer account at least 365 days old (since its first revenue) with no "
        "revenue in the 365 days before the period end; churn rate = churned / customer "
        "accounts at least 365 days old, over every customer account in scope, per "
        "acquiring rep and for the scope. Expansion per account: expansion revenue / "
        "accounts, per account manager.")
    ),
    "acquirer_value": (
        N_("Acquirer value, normalised for account age: value per account-year = revenue to "
        "date of the rep's accounts / their account-years (years since each account's first "
        "revenue, at least one year per account, so a young account's first deal is not "
        "annualised upwards); first-year value = mean revenue in the first 365 days of the "
        "rep's accounts that are at least 365 days old (the same window for every cohort).")
    ),
}


def account_history(revenue: pd.DataFrame, accounts: pd.DataFrame, until: pd.Timestamp,
                    active_days: int = YEAR_DAYS) -> pd.DataFrame:
    """Per customer account, revenue booked before ``until``: total, by kind, first and
    last date, revenue in its first ``active_days`` days, and whether it is still active
    (revenue in the last ``active_days``) or churned (a customer for at least
    ``active_days`` with no revenue in the last ``active_days``).

    Pass every account in scope: accounts without revenue before ``until`` are not
    customers and are left out. Columns: account_id, acquired_by, account_manager,
    industry, total, new, renewal, expansion, one-off, first, last, tenure_days,
    account_years (max(1, tenure_days / 365)), first_year, mature (tenure >= active_days),
    active, churned."""
    r = revenue[revenue["date"] < until]
    g = r.groupby("account_id")
    kinds = r.pivot_table(index="account_id", columns="kind", values="amount",
                          aggfunc="sum", fill_value=0.0)
    out = pd.DataFrame({"total": g["amount"].sum(), "first": g["date"].min(),
                        "last": g["date"].max()})
    for k in ("new", "renewal", "expansion", "one-off"):
        out[k] = kinds[k] if k in kinds else 0.0
    first = r["account_id"].map(out["first"])
    early = r["date"] < first + pd.Timedelta(days=active_days)
    out["first_year"] = r.loc[early, "amount"].groupby(r.loc[early, "account_id"]).sum()
    out["first_year"] = out["first_year"].fillna(0.0)
    out["tenure_days"] = (until - out["first"]) / DAY
    out["account_years"] = np.maximum(1.0, out["tenure_days"] / YEAR_DAYS)
    out["mature"] = out["tenure_days"] >= active_days
    out["active"] = (until - out["last"]) / DAY <= active_days
    out["churned"] = ~out["active"] & out["mature"]
    a = accounts[["account_id", "acquired_by", "account_manager", "industry"]]
    return a.merge(out, left_on="account_id", right_index=True, how="inner").reset_index(drop=True)


def value_by_person(history: pd.DataFrame, role: str) -> pd.DataFrame:
    """Roll account history up to the acquiring rep (``role="acquired_by"``: acquisition
    quality) or to the account manager (``role="account_manager"``: retention and
    expansion).

    Columns: person, accounts, avg_value (revenue to date per account: grows with account
    age, so not comparable between people on its own), total_value, value_per_account_year
    (total / account-years, see :func:`account_history`), mature_accounts (at least a year
    old), first_year_value (mean revenue in the first year of the mature accounts),
    churn_rate (churned / mature accounts), expansion_per_account, and
    avg_predicted_value when the history carries a model's ``predicted_value``."""
    h = history.dropna(subset=[role])
    g = h.groupby(role)
    mature = h[h["mature"]].groupby(role)
    out = pd.DataFrame({
        "accounts": g.size(),
        "avg_value": g["total"].mean(),
        "total_value": g["total"].sum(),
        "value_per_account_year": g["total"].sum() / g["account_years"].sum(),
        "mature_accounts": mature.size(),
        "first_year_value": mature["first_year"].mean(),
        "churn_rate": mature["churned"].mean(),
        "expansion_per_account": g["expansion"].mean(),
    })
    out["mature_accounts"] = out["mature_accounts"].fillna(0).astype(int)
    if "predicted_value" in h:
        out["avg_predicted_value"] = g["predicted_value"].mean()
    out.index.name = "person"
    return out.reset_index()


def customer_headline(revenue: pd.DataFrame, accounts: pd.DataFrame, period: Period
                      ) -> dict[str, float | int | None]:
    """The customer figures of one period, on every customer account in scope.

    ``avg_account_value`` is revenue booked *in* the period per account that booked any
    (so a period compares with the previous one and last year on the same basis);
    ``value_to_date_per_account`` is revenue before the period end per customer account
    (to date); ``churn_rate`` = churned / customer accounts at least a year old at the
    period end. Counts travel with the figures: ``customers``, ``paying_accounts``,
    ``revenue_in_period``, ``mature_accounts``, ``churned_accounts``."""
    out: dict[str, float | int | None] = {
        "avg_account_value": None, "revenue_in_period": None, "paying_accounts": 0,
        "customers": 0, "value_to_date_per_account": None, "mature_accounts": 0,
        "churned_accounts": 0, "churn_rate": None}
    if revenue is None or accounts is None or revenue.empty or accounts.empty:
        return out
    rev = revenue[revenue["account_id"].isin(accounts["account_id"])]
    inside = rev[period.contains(rev["date"])]
    paying = inside["account_id"].nunique()
    out["paying_accounts"] = int(paying)
    out["revenue_in_period"] = float(inside["amount"].sum())
    out["avg_account_value"] = float(inside["amount"].sum() / paying) if paying else None
    hist = account_history(rev, accounts, period.end)
    out["customers"] = int(len(hist))
    out["value_to_date_per_account"] = float(hist["total"].mean()) if len(hist) else None
    out["mature_accounts"] = int(hist["mature"].sum())
    out["churned_accounts"] = int(hist["churned"].sum())
    out["churn_rate"] = (out["churned_accounts"] / out["mature_accounts"]
                         if out["mature_accounts"] else None)
    return out
