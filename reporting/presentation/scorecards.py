"""Rep scorecards: one page per rep with the figures of
:func:`reporting.metrics.scorecard.rep_scorecard` formatted beside the team's median rep.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..crm_terms import crm_term
from ..i18n import N_
from ..metrics.scorecard import OVER_CAPACITY, capacity_flag, rep_scorecard, team_overview
from .fragments import fmt_money, fmt_num, fmt_pct, show_html
from .sections import masthead

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
        rating = row.rating if isinstance(row.rating, str) else None  # NaN: not rated
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


def rep_anchor(rep: str) -> str:
    """The id of a rep's scorecard page (ASCII whatever the name holds): ``rep-`` and 10
    hex digits of the name's SHA-1."""
    return "rep-" + hashlib.sha1(str(rep).encode(), usedforsecurity=False).hexdigest()[:10]


#: the overview's columns in report.xlsx (key, label, format)
OVERVIEW_SHEET = [
    ("group", N_("Rep"), "text"), ("team", N_("Team"), "text"), ("won", N_("Won"), "int"),
    ("win_rate", N_("Win rate"), "pct"), ("win_rate_rating", N_("Rating"), "text"),
    ("median_cycle_days_won", N_("Median cycle of won deals (days)"), "int"),
    ("avg_won_amount", N_("Average won deal"), "money"), ("open_count", N_("Open"), "int"),
    ("capacity", N_("Capacity"), "int"), ("load", N_("Load"), "pct"),
    ("bad", N_("Figures rated bad"), "int"), ("watch", N_("Figures rated watch"), "int")]


def overview_rows(ctx: ReportContext) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """The overview (:func:`reporting.metrics.scorecard.team_overview`) and its rows
    formatted in the report's language, each with the anchor of the rep's page."""
    cur = ctx.settings.currency
    frame = team_overview(ctx.summary, ctx.a.band_mix, ctx.a.acquirers, ctx.a.managers,
                          ctx.settings)
    rows = []
    for _, r in frame.iterrows():
        load = (ctx.t("{open} of {capacity}").format(open=fmt_num(r["open_count"]),
                                                     capacity=fmt_num(r["capacity"]))
                if pd.notna(r["load"]) else fmt_num(r["open_count"]))
        rows.append({"rep": r["group"], "anchor": rep_anchor(r["group"]),
                     "team": r["team"] if isinstance(r["team"], str) and r["team"]
                     else ctx.t("no team"), "won": fmt_num(r["won"]),
                     "win_rate": fmt_pct(r["win_rate"]), "rating": r["win_rate_rating"],
                     "cycle": fmt_num(r["median_cycle_days_won"]),
                     "deal": fmt_money(r["avg_won_amount"], cur), "load": load,
                     "over": bool(r["over_capacity"]), "bad": int(r["bad"]),
                     "watch": int(r["watch"]),
                     "bad_text": ctx.t("{n} bad").format(n=fmt_num(r["bad"])),
                     "watch_text": ctx.t("{n} watch").format(n=fmt_num(r["watch"]))})
    return frame, rows


def show_overview(ctx: ReportContext, title: str | None = None) -> None:
    """The scorecards' first page: the header (:func:`reporting.presentation.sections.
    masthead`) and the team at a glance, a row per rep (the rep to look at first at the
    top of each team), each name linking to the rep's page; report.xlsx gets the table."""
    from .tables import register_table

    frame, rows = overview_rows(ctx)
    register_table(ctx, frame, OVERVIEW_SHEET, N_("The team at a glance"),
                   N_("Reps at a glance"))
    show_html("scorecard_overview.html.j2", ctx.language, head=masthead(ctx, title),
              rows=rows, period_title=ctx.period_title)


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
                  anchor=rep_anchor(r["group"]),
                  team=r.get("team") if isinstance(r.get("team"), str) and r.get("team")
                  else ctx.t("no team"),
                  profile=crm_term(r.get("profile"), ctx.language)
                  if isinstance(r.get("profile"), str) else None,
                  period_title=ctx.period_title, rows=scorecard_rows(ctx, r["group"]),
                  findings=found[:MAX_FINDINGS],
                  more_findings=ctx.t("{n} more findings in the monthly report.").format(
                      n=more) if more > 0 else None,
                  capacity=capacity_line(ctx, r))


def show_scorecard_methodology(ctx: ReportContext) -> None:
    """The definitions the scorecards use (not the monthly report's whole appendix)."""
    from .methodology import definitions, named

    defs = definitions()
    show_html("methodology.html.j2", ctx.language, second_appendix=True,
              definitions=[named(k, ctx.t(defs[k]), ctx.language)
                           for k in SCORECARD_DEFINITIONS if k in defs])
