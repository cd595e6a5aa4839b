"""Win and loss reasons: the top reasons by count and value per group.

Reasons are the CRM's own text (``opportunities.lost_reason``; ``won_reason`` when a source
provides one): untrusted, passed through as plain text (only stripped of surrounding
whitespace; the presentation layer escapes it). An empty or missing reason is "without a
reason", never a reason of its own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..i18n import N_
from ..periods import Period
from .filters import closed_in_period

COLUMNS = ["group", "rank", "reason", "count", "value", "share", "value_share", "closed",
           "without_reason", "share_without_reason"]


def _group(frame: pd.DataFrame, by: str | None) -> pd.Series:
    if by is None:
        return pd.Series("all", index=frame.index, name="group")
    col = "owner" if by == "rep" else by
    return frame[col].fillna("(none)").rename("group")


def reasons(opps: pd.DataFrame, period: Period, status: str = "lost", column: str = "lost_reason",
            by: str | None = None, top: int = 5) -> pd.DataFrame:
    """The ``top`` reasons of the deals ``status`` (won or lost) closed in the period, per
    group (``by``: "rep"/"owner", "team", "region", None). Ranked by count, then value.

    Columns: group, rank, reason, count, value (sum of the amounts, unknown ones left out;
    NaN when none is known), share (of the group's deals of that status), value_share,
    closed (the group's deals of that status), without_reason, share_without_reason. A
    group whose deals all lack a reason has one row with rank and reason empty. Without the
    column at all (the source has no reasons), an empty frame with these columns."""
    if column not in opps:
        return pd.DataFrame(columns=COLUMNS)
    c = opps[closed_in_period(opps, period) & (opps["status"] == status)]
    if c.empty:
        return pd.DataFrame(columns=COLUMNS)
    text = c[column].astype(object).where(c[column].notna(), None)
    text = text.map(lambda s: s.strip() if isinstance(s, str) else s)
    text = text.where(text.map(lambda s: isinstance(s, str) and s != ""), None)
    d = pd.DataFrame({"group": _group(c, by).to_numpy(), "reason": text.to_numpy(),
                      "amount": c["amount"].astype(float).to_numpy()})
    per = d.groupby("group").agg(closed=("reason", "size"),
                                 value_all=("amount", lambda a: a.sum(min_count=1)),
                                 without_reason=("reason", lambda r: int(r.isna().sum())))
    per["share_without_reason"] = per["without_reason"] / per["closed"]
    r = d.dropna(subset=["reason"])
    agg = r.groupby(["group", "reason"]).agg(
        count=("amount", "size"), value=("amount", lambda a: a.sum(min_count=1))).reset_index()
    agg = agg.sort_values(["group", "count", "value", "reason"],
                          ascending=[True, False, False, True], na_position="last")
    agg["rank"] = agg.groupby("group").cumcount() + 1
    agg = agg[agg["rank"] <= top]
    agg = agg.merge(per, left_on="group", right_index=True, how="left")
    agg["share"] = agg["count"] / agg["closed"]
    agg["value_share"] = agg["value"] / agg["value_all"].where(agg["value_all"] > 0)
    empty = per.index.difference(agg["group"].unique())
    if len(empty):
        rest = per.loc[empty].reset_index().assign(rank=np.nan, reason=None, count=0,
                                                   value=np.nan, share=np.nan,
                                                   value_share=np.nan)
        agg = pd.concat([agg, rest], ignore_index=True)
    agg = agg.sort_values(["group", "rank"], na_position="last", ignore_index=True)
    return agg[COLUMNS]


def loss_reasons(opps: pd.DataFrame, period: Period, by: str | None = None,
                 top: int = 5) -> pd.DataFrame:
    """The top loss reasons (``lost_reason``) of the deals lost in the period per group, and
    the share of lost deals without a reason: :func:`reasons` for status lost."""
    return reasons(opps, period, "lost", "lost_reason", by, top)


def win_reasons(opps: pd.DataFrame, period: Period, by: str | None = None,
                top: int = 5) -> pd.DataFrame:
    """The top win reasons of the deals won in the period, from a ``won_reason`` column when
    the frame has one (the canonical schema does not carry it yet: an empty frame)."""
    return reasons(opps, period, "won", "won_reason", by, top)


DEFINITIONS: dict[str, str] = {
    "loss_reasons": (
        N_("Loss reasons: among deals lost in the period, the most frequent reasons recorded in "
        "the CRM, with their count, value (sum of the known amounts) and share of the lost "
        "deals, per team and rep, and the share of lost deals with no reason recorded.")
    ),
}
