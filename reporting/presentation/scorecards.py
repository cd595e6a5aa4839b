"""Rep scorecards: one page per rep with the figures of
:func:`reporting.metrics.scorecard.rep_scorecard` formatted beside the team's median rep.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..metrics.scorecard import OVER_CAPACITY, capacity_flag, rep_scorecard
from .fragments import fmt_money, fmt_num, fmt_pct, show_html

#: findings shown on a rep's page at most: the page stays one A4 page
MAX_FINDINGS = 4

#: the definitions the scorecards use (the methodology appendix prints only these)
SCORECARD_DEFINITIONS = ("win_rate", "cycle_length", "time_to_win", "deal_size", "deal_bands",
                         "open_pipeline", "stale", "bloat", "closed_when_tired",
                         "account_value", "churn", "predicted_clv", "acquirer_value",
                         "ratings")

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
                     "team": fmt[row.kind](row.team), "rating": rating,
                     "flag": ctx.t(row.flag) if row.flag else None})
    return rows


def capacity_line(ctx: ReportContext, r) -> str | None:
    """The line under a rep's name when the rep holds more open deals than their
    capacity: the word, then the two numbers."""
    cap = r.get("capacity")
    if capacity_flag(r.get("open_count"), cap) != OVER_CAPACITY:
        return None
    return ctx.t("{open} open deals for a capacity of {capacity}.").format(
        open=fmt_num(r["open_count"]), capacity=fmt_num(cap))


def show_scorecards(ctx: ReportContext) -> None:
    """One page per rep of the scope (the section heading breaks the page; the findings are
    capped at :data:`MAX_FINDINGS` so a page never runs over): the five metrics against the
    team's median rep, with a line and a word on the load row when the rep is over
    capacity."""
    s = ctx.summary.sort_values(["team", "group"], na_position="last") if "team" in \
        ctx.summary else ctx.summary.sort_values("group")
    by_subject: dict[str, list[str]] = {}
    for f in ctx.a.findings:
        by_subject.setdefault(f.subject, []).append(f.render(ctx.language))
    for _, r in s.iterrows():
        found = by_subject.get(r["group"], [])
        more = len(found) - MAX_FINDINGS
        show_html("scorecard.html.j2", ctx.language, rep=r["group"],
                  team=r.get("team") or ctx.t("no team"), profile=r.get("profile"),
                  period_title=ctx.period_title, rows=scorecard_rows(ctx, r["group"]),
                  findings=found[:MAX_FINDINGS],
                  more_findings=ctx.t("{n} more findings in the monthly report.").format(
                      n=more) if more > 0 else None,
                  capacity=capacity_line(ctx, r))


def show_scorecard_methodology(ctx: ReportContext) -> None:
    """The definitions the scorecards use (not the monthly report's whole appendix)."""
    from .methodology import definitions

    defs = definitions()
    show_html("methodology.html.j2", ctx.language, second_appendix=True,
              definitions=[(k, ctx.t(defs[k])) for k in SCORECARD_DEFINITIONS if k in defs])
