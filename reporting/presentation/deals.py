"""The deals behind the figures: each finding's deals (and each rep-table row rated bad or
watch) as a short list on page one, an appendix of deal lists (a table each in the PDF, an
expandable ``<details>`` list in the HTML, no JavaScript) and the full lists for
report.xlsx.

A deal list shows the deals as they were at the period end (stage, owner, amount then;
:attr:`reporting.metrics.suite.Analysis.deals_at_end`), falling back to the current row for
a deal created later. Account and deal names are CRM text: they reach HTML only through
the autoescaped fragments.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

import pandas as pd
from markupsafe import Markup, escape

from ..crm_terms import crm_term
from ..i18n import N_, format_date, localize_numbers
from ..insights import deal_list_key
from ..metrics.filters import closed_in_period
from .fragments import fmt_money, fmt_num, fmt_pct, render_fragment, show_fragment, show_html

if TYPE_CHECKING:
    from ..context import ReportContext

#: the columns of a deal list: key, label, format (see ``tables.show_table``)
DEAL_COLUMNS = [
    ("id", N_("Deal"), "text"), ("account", N_("Account"), "text"), ("owner", N_("Owner"), "text"),
    ("stage", N_("Stage"), "text"), ("amount", N_("Amount"), "money"),
    ("age_days", N_("Age (days)"), "int"), ("last_activity", N_("Last activity"), "date"),
]
#: rows of a deal list in the PDF / HTML appendix (report.xlsx holds every deal)
APPENDIX_ROWS = 25
RATED = ("bad", "watch")
#: a word for what each deal list is about (report.xlsx's sheet names)
LIST_NAMES = {"open_count": N_("pipeline"), "median_cycle_days_won": N_("cycle"),
              "median_won_amount": N_("small deals"), "churn_rate": N_("churn"),
              "expansion_per_account": N_("expansion"), "lost_when_tired_share": N_("lost stale"),
              "stage_conversion": N_("funnel"), "quota_attainment": N_("quota"),
              "quarter_pushes_per_deal": N_("slips"), "pushes_per_deal": N_("slips"),
              "velocity_change": N_("velocity"), "win_rate_by_rep": N_("win rate"),
              "tile_attainment": N_("quota"), "tile_win_rate": N_("win rate"),
              "tile_median_cycle_days_won": N_("cycle"), "tile_stale_share": N_("stale"),
              "tile_load": N_("load")}


def deal_list(ctx: ReportContext, ids) -> pd.DataFrame:
    """The deals ``ids`` in the order given: id, account (its name, else its id), owner,
    stage, amount (as at the period end), age_days (days from creation to the period end,
    or to the close for a deal closed before it) and last_activity (the date of the last
    activity the store records). Ids the report's slice does not hold are left out."""
    ids = [str(i) for i in dict.fromkeys(ids)]
    cols = [k for k, _, _ in DEAL_COLUMNS]
    if not ids:
        return pd.DataFrame(columns=cols)
    o = ctx.opps[ctx.opps["opportunity_id"].astype(str).isin(ids)]
    o = o.drop_duplicates("opportunity_id").set_index(o["opportunity_id"].astype(str)[
        ~o["opportunity_id"].duplicated()])
    then = getattr(ctx.a, "deals_at_end", None)
    if then is not None and len(then):
        t = then[then["opportunity_id"].astype(str).isin(ids)].drop_duplicates(
            "opportunity_id")
        t = t.set_index(t["opportunity_id"].astype(str)).reindex(
            columns=["owner", "stage", "amount"])
        o = o.copy()
        has = o.index.isin(t.index)
        for c in ("owner", "stage", "amount"):
            if c in o:
                o.loc[has, c] = t.loc[o.index[has], c].to_numpy()
    o = o.reindex([i for i in ids if i in o.index])
    names = pd.Series(dtype=object)
    acc = ctx.data.accounts
    if acc is not None and len(acc) and "name" in acc:
        names = acc.drop_duplicates("account_id").set_index("account_id")["name"]
    account = o["account_id"] if "account_id" in o else pd.Series(None, index=o.index)
    end = ctx.period.end
    until = o["closed_at"].where(o["closed_at"] < end, end) if "closed_at" in o else end
    last = o["last_activity_at"] if "last_activity_at" in o else pd.Series(pd.NaT,
                                                                           index=o.index)
    out = pd.DataFrame({
        "id": o.index.astype(str),
        "account": _or_none(account.map(names).fillna(account)),
        "owner": o["owner"].to_numpy(dtype=object),
        "stage": (o["stage"] if "stage" in o else pd.Series(None, index=o.index)).to_numpy(
            dtype=object),
        "amount": pd.to_numeric(o["amount"], errors="coerce").to_numpy(dtype=float),
        "age_days": ((until - o["created_at"]) / pd.Timedelta(days=1)).to_numpy(dtype=float),
        "last_activity": pd.to_datetime(last).dt.normalize().to_numpy(),
    })
    return out[cols].reset_index(drop=True)


def _or_none(s: pd.Series) -> list:
    return [None if pd.isna(v) else v for v in s]


def flagged_rows(ctx: ReportContext, key: str = "conversion") -> list[dict[str, Any]]:
    """The rows of a rep table rated bad or watch (the win-rate table's ``rating``), each
    with its deals: the rep's deals lost in the period (behind a low win rate), largest
    first. Keys: subject, rating, anchor, title, label, ids."""
    if key != "conversion" or "rating" not in ctx.summary:
        return []
    from ..insights import ranked_ids

    s = ctx.summary[ctx.summary["rating"].isin(RATED)]
    if s.empty:
        return []
    s = s.sort_values(["rating", "win_rate"] if "win_rate" in s else ["rating"],
                      na_position="last", kind="stable")  # bad before watch
    opps = ctx.opps
    lost = opps[closed_in_period(opps, ctx.period) & opps["status"].eq("lost")]
    out = []
    for _, r in s.iterrows():
        rep = str(r["group"])
        out.append({
            "subject": rep, "rating": r["rating"], "metric": "win_rate_by_rep",
            "anchor": deal_list_key("win_rate_by_rep", rep),
            "title": ctx.t("{rep}: win rate {rate} ({won} won, {lost} lost)").format(
                rep=rep, rate=fmt_pct(r.get("win_rate")), won=fmt_num(r.get("won")),
                lost=fmt_num(r.get("lost"))),
            "label": N_("Deals lost in the period"),
            "ids": ranked_ids(lost[lost["owner"] == rep]),
        })
    return out


#: headline figures whose rating leads to deals: key -> (tile label, which deals)
TILE_DEALS = {
    "attainment": (N_("Bookings"), N_("Open deals due by the end of the period")),
    "win_rate": (N_("Win rate"), N_("Deals lost in the period")),
    "median_cycle_days_won": (N_("Median cycle (won)"),
                              N_("Won deals with a longer cycle than the median")),
    "stale_share": (N_("Stale open deals"), N_("Stale open deals at the period end")),
    "load": (N_("Open deals per rep"), N_("Open deals at the period end")),
}


def tile_anchor(key: str) -> str:
    """The anchor of the deal list behind a headline figure (``win_rate``,
    ``stale_share``, ...: the keys of :data:`TILE_DEALS`)."""
    return deal_list_key("tile", key)


def flagged_tiles(ctx: ReportContext) -> list[dict[str, Any]]:
    """The headline figures rated bad or watch, each with the scope's deals behind it:
    the open deals due in the period (bookings against quota), the deals lost in the
    period (win rate), the won deals slower than the period's median (cycle), the stale
    open deals (stale share), the open deals (load). Same keys as :func:`flagged_rows`."""
    from ..insights import ranked_ids

    opps, p, out = ctx.opps, ctx.period, []
    closed = opps[closed_in_period(opps, p)]
    od = ctx.a.open_deals if isinstance(getattr(ctx.a, "open_deals", None), pd.DataFrame) \
        else pd.DataFrame(columns=["opportunity_id", "amount", "stale"])
    for key, (label, what) in TILE_DEALS.items():
        rating = (getattr(ctx.a, "ratings", None) or {}).get(key)
        if rating not in RATED:
            continue
        if key == "attainment":
            then = getattr(ctx.a, "deals_at_end", None)
            o = then if then is not None and len(then) else opps
            due = o[o["status"].eq("open") & (o["created_at"] < p.end)]
            if "expected_close_date" in due:
                due = due[due["expected_close_date"] < p.end]
            ids = ranked_ids(due)
        elif key == "win_rate":
            ids = ranked_ids(closed[closed["status"].eq("lost")])
        elif key == "median_cycle_days_won":
            won = closed[closed["status"].eq("won")]
            days = (won["closed_at"] - won["created_at"]) / pd.Timedelta(days=1)
            ids = ranked_ids(won[days > days.median()]) if len(won) else ()
        elif key == "stale_share":
            ids = ranked_ids(od[od["stale"].astype(bool)]) if len(od) else ()
        else:
            ids = ranked_ids(od)
        v = ((getattr(ctx.a, "headline", None) or {}).get("current") or {}).get(key)
        shown = (ctx.t("{n} days").format(n=fmt_num(v)) if key == "median_cycle_days_won"
                 else fmt_pct(v))
        out.append({"subject": ctx.t(label), "rating": rating, "metric": f"tile_{key}",
                    "anchor": tile_anchor(key), "title": f"{ctx.t(label)}: {shown}",
                    "label": what, "ids": ids})
    return out


def deal_lists(ctx: ReportContext) -> list[dict[str, Any]]:
    """Every deal list of the report, findings first (in their rank), then the headline
    figures rated bad or watch (:func:`flagged_tiles`), then the flagged rep-table rows:
    anchor (the HTML id), title (the finding in the report's language),
    rating, label (which deals, translated), ids (every deal) and frame
    (:func:`deal_list`)."""
    out, seen = [], set()
    for f in ctx.a.findings:
        if not f.deal_ids or f.key in seen:
            continue
        seen.add(f.key)
        out.append({"anchor": f.key, "metric": f.metric,
                    "title": f.render(ctx.language), "rating": f.rating,
                    "label": ctx.t(f.deals_label), "subject": f.subject,
                    "ids": f.deal_ids, "frame": deal_list(ctx, f.deal_ids)})
    for row in [*flagged_tiles(ctx), *flagged_rows(ctx)]:
        if row["ids"] and row["anchor"] not in seen:
            seen.add(row["anchor"])
            out.append({**row, "label": ctx.t(row["label"]),
                        "frame": deal_list(ctx, row["ids"])})
    return out


def _text(v: Any) -> str:
    """A CRM value as a table shows it: "–" when missing, long text clipped
    (:func:`reporting.textsafe.clipped`; report.xlsx keeps it whole)."""
    from ..textsafe import clipped

    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
        return "–"
    return clipped(str(v))


_REFERENCE = re.compile(r"(&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);)")


def latin_digits(text: str, language: str = "en") -> str:
    """A deal id as the CRM writes it, also in a Persian report (whose fragments turn
    every digit of their text into a Persian one): escaped, with its digits as character
    references, which the Persian digits leave alone. Unchanged in English."""
    if language != "fa" or not re.search(r"\d", text):
        return text
    parts = _REFERENCE.split(str(escape(text)))
    return Markup("".join(p if i % 2 else re.sub(r"\d", lambda m: f"&#{ord(m.group())};", p)
                          for i, p in enumerate(parts)))


def format_deals(ctx: ReportContext, frame: pd.DataFrame) -> list[dict[str, str]]:
    """A deal list's rows as display strings (amount with the currency, dates in the
    report's language and calendar, Persian digits in the figures of a Persian report but
    not in deal ids (:func:`latin_digits`); CRM text as it is: the fragments escape it)."""
    cur, lang = ctx.settings.currency, ctx.language
    rows = []
    for r in frame.to_dict("records"):
        last = r.get("last_activity")
        rows.append({
            "id": latin_digits(_text(r.get("id")), lang), "account": _text(r.get("account")),
            "owner": _text(r.get("owner")), "stage": crm_term(_text(r.get("stage")), lang),
            "amount": localize_numbers(fmt_money(r.get("amount"), cur), lang),
            "age_days": localize_numbers(fmt_num(r.get("age_days")), lang),
            "last_activity": format_date(pd.Timestamp(last).date(), lang,
                                         ctx.settings.calendar)
            if last is not None and pd.notna(last) else "–",
        })
    return rows


def page_one_findings(ctx: ReportContext, limit: int = 3) -> list[dict[str, Any]]:
    """The top findings for page one: text (in the report's language), rating (good,
    watch, bad or None), anchor (the id of its deal list in the appendix; None when it
    has none) and up to three of its deals, largest first, as display strings (id,
    account, owner, stage, amount with the currency, age_days, last_activity)."""
    out = []
    for f in ctx.a.findings[:limit]:
        top = deal_list(ctx, f.deal_ids[:3]) if f.deal_ids else deal_list(ctx, [])
        out.append({"text": f.render(ctx.language), "rating": f.rating,
                    "anchor": f.key if f.deal_ids else None,
                    "deals": format_deals(ctx, top)})
    return out


def row_links_html(ctx: ReportContext, key: str) -> str:
    """Under a rep table: links to the deal lists of its rows rated bad or watch (an HTML
    fragment, empty when no row is flagged)."""
    rows = [r for r in flagged_rows(ctx, key) if r["ids"]]
    return render_fragment("deal_links.html.j2", ctx.language, rows=rows) if rows else ""


def show_row_links(ctx: ReportContext, key: str) -> None:
    """Display :func:`row_links_html`."""
    html = row_links_html(ctx, key)
    if html:
        show_fragment(html)


def show_deal_lists(ctx: ReportContext, limit: int = APPENDIX_ROWS) -> None:
    """The appendix "Deals behind the findings": one list per finding and flagged row,
    at most ``limit`` deals each (largest first; report.xlsx holds them all)."""
    lists = []
    for d in deal_lists(ctx):
        frame = d["frame"]
        lists.append({**d, "rows": format_deals(ctx, frame.head(limit)),
                      "total": len(frame), "more": max(0, len(frame) - limit)})
    cols = [{"label": ctx.t(label), "align": "num" if f in ("money", "int") else ""}
            for _, label, f in DEAL_COLUMNS]
    show_html("deals.html.j2", ctx.language, lists=lists, columns=cols,
              currency=ctx.settings.currency)
