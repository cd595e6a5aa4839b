"""Rep scorecards: one page per rep with the figures of
:func:`reporting.metrics.scorecard.rep_scorecard` formatted beside the team's median rep.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..metrics.scorecard import rep_scorecard
from .fragments import fmt_money, fmt_num, fmt_pct, show_html

if TYPE_CHECKING:
    from ..context import ReportContext


def scorecard_rows(ctx: ReportContext, rep: str) -> list[dict[str, Any]]:
    """The five metrics for one rep against the median rep of the rep's team
    (:func:`reporting.metrics.scorecard.rep_scorecard`), formatted and in the report's
    language."""
    cur = ctx.settings.currency
    fmt = {"num": fmt_num, "num1": lambda v: fmt_num(v, 1), "pct": fmt_pct,
           "money": lambda v: fmt_money(v, cur)}
    rows: list[dict[str, Any]] = []
    for row in rep_scorecard(ctx.summary, ctx.a.band_mix, ctx.a.acquirers, ctx.a.managers,
                             ctx.settings, rep):
        rating = row.rating
        if row.target is not None:
            rating = ctx.t("target {share}").format(share=fmt_pct(row.target))
        rows.append({"label": ctx.t(row.label), "rep": fmt[row.kind](row.rep),
                     "team": fmt[row.kind](row.team), "rating": rating})
    return rows


def show_scorecards(ctx: ReportContext) -> None:
    """One page per rep of the scope: the five metrics against the team's median rep."""
    s = ctx.summary.sort_values(["team", "group"], na_position="last") if "team" in \
        ctx.summary else ctx.summary.sort_values("group")
    by_subject: dict[str, list[str]] = {}
    for f in ctx.a.findings:
        by_subject.setdefault(f.subject, []).append(f.render(ctx.language))
    for _, r in s.iterrows():
        show_html("scorecard.html.j2", ctx.language, rep=r["group"],
                  team=r.get("team") or ctx.t("no team"), profile=r.get("profile"),
                  period_title=ctx.period_title, rows=scorecard_rows(ctx, r["group"]),
                  findings=by_subject.get(r["group"], []))
