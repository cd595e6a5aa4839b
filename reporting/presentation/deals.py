"""The deals behind the figures: each finding's deals (and each rep-table row rated bad or
watch) as a short list on page one, an appendix of deal lists (a table each in the PDF, an
expandable ``<details>`` list in the HTML, no JavaScript) and the full lists for
report.xlsx.

A deal list shows the deals as they were at the period end (stage, owner, amount then;
:attr:`reporting.metrics.suite.Analysis.deals_at_end`), falling back to the current row for
a deal created later, and to the amount a deal closed with when it closed before the end
and the state then does not know it (no deal history). Account and deal names are CRM text: they reach HTML only through
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
    table = _deal_table(ctx)
    return table.reindex([i for i in ids if i in table.index]).reset_index(drop=True)


def _deal_table(ctx: ReportContext) -> pd.DataFrame:
    """:func:`deal_list`'s row of every deal of the slice, indexed by id; made once per
    context and frames (a report shows dozens of lists)."""
    acc = getattr(ctx.data, "accounts", None)
    then = getattr(ctx.a, "deals_at_end", None)
    key = (id(ctx.opps), id(then), id(acc), ctx.period)
    cached = getattr(ctx, "_deal_table", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    table = _all_deals(ctx, ctx.opps, then, acc)
    try:
        ctx._deal_table = (key, table)
    except AttributeError:
        pass
    return table


def _all_deals(ctx: ReportContext, opps: pd.DataFrame, then, acc) -> pd.DataFrame:
    cols = [k for k, _, _ in DEAL_COLUMNS]
    o = opps[~opps["opportunity_id"].astype(str).duplicated()]
    o = o.set_index(o["opportunity_id"].astype(str))
    if then is not None and len(then):
        t = then.drop_duplicates("opportunity_id")
        t = t.set_index(t["opportunity_id"].astype(str)).reindex(
            columns=["owner", "stage", "amount"])
        o = o.copy()
        has = o.index.isin(t.index)
        current = o["amount"].copy() if "amount" in o else None
        for c in ("owner", "stage", "amount"):
            if c in o:
                o.loc[has, c] = t.loc[o.index[has], c].to_numpy()
        if current is not None and "closed_at" in o:
            # a deal closed before the period end keeps the amount it closed with when the
            # state then does not know it (no deal history: the deal-size figures count it
            # so); a deal open then never borrows its later amount
            before = (o["closed_at"] < ctx.period.end) & o["amount"].isna()
            o.loc[before, "amount"] = current[before]
    names = pd.Series(dtype=object)
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
    }, index=o.index)
    return out[cols]


def _or_none(s: pd.Series) -> list:
    return [None if pd.isna(v) else v for v in s]


#: the rep tables whose rows lead to their deals (``tables.REP_TABLES`` and
#: ``tables.PERSON_TABLES``): key -> (the metric of the lists' anchors, which deals)
ROW_LISTS = {
    "conversion": ("win_rate_by_rep", N_("Deals closed in the period, lost first")),
    "cycle": ("cycle_by_rep", N_("Deals won in the period, longest cycle (age) first")),
    "deal_size": ("deal_size_by_rep", N_("Deals won in the period, largest first")),
    "pipeline": ("pipeline_by_rep", N_("Open deals at the period end, stale first")),
    "acquirers": ("value_by_acquirer", N_("Won deals with the accounts they acquired")),
    "managers": ("value_by_manager", N_("Won deals with the accounts they manage")),
}
#: a row list's own column beside the deal columns (key, label, format)
#: (a won deal's age is its cycle: the cycle lists need no column of their own)
ROW_EXTRA = {"deal_size": ("band", N_("Size band"), "text"),
             "pipeline": ("stale", N_("Stale"), "text")}
#: fewest won (cycle, deal size) deals before a rep's figure is rated: as many as
#: :func:`reporting.insights.rep_findings` asks of a rep before judging it
MIN_ROW_DEALS = 3
#: deals of a finding's or flagged figure's list the PDF shows, and of a flagged
#: rep-table row's (the HTML shows :data:`APPENDIX_ROWS`, report.xlsx all)
PRINT_ROWS, ROW_PRINT_ROWS = 10, 5
#: a rep table's flagged rows whose deal lists the PDF prints (worst first, then the most
#: deals behind the row: :func:`_place_lists`), and whose lists the HTML holds beside
#: those of the rows the table shows; every row's deals are in report.xlsx ("Deals by
#: rep"). A region of 550 reps printed 738 row lists (203 pages) without a bound.
PRINT_ROW_LISTS, SCREEN_ROW_LISTS = 6, 25
_WORSE = {"bad": 2, "watch": 1, "good": 0, None: -1}


def row_thresholds(ctx: ReportContext) -> dict[str, dict]:
    """Each business profile's thresholds for the reps of that profile (the baselines of
    baselines.yaml, trailing ones resolved on the profile's reps' deals, as the win-rate
    rating of :func:`reporting.metrics.suite.analyse` does). Computed once per context."""
    from ..metrics.ratings import profile_thresholds

    cached = getattr(ctx, "_row_thresholds", None)
    if cached is not None:
        return cached
    s, out = ctx.summary, {}
    if "profile" in s and ctx.settings is not None and hasattr(ctx.settings, "thresholds"):
        for prof, rows in s.groupby("profile"):
            mine = ctx.opps[ctx.opps["owner"].isin(rows["group"])]
            out[str(prof)] = profile_thresholds(ctx.settings, str(prof), mine, ctx.period)
    try:
        ctx._row_thresholds = out
    except AttributeError:  # a context that takes no attribute
        pass
    return out


def _own_thresholds(ctx: ReportContext, row) -> dict:
    """A rep's thresholds with the trailing baselines resolved on the rep's own deals of
    the 12 months before the period: the deal-size baseline is "against its own last 12
    months" (baselines.yaml), and a rep's own is its own, not its profile's (an inside
    rep's deals against a profile's mid-market ones would always be small)."""
    from ..metrics.ratings import profile_thresholds

    if ctx.settings is None or not hasattr(ctx.settings, "thresholds"):
        return {}
    mine = ctx.opps[ctx.opps["owner"] == row.get("group")]
    return profile_thresholds(ctx.settings, str(row.get("profile", "default")), mine,
                              ctx.period)


def _rate(ths: dict, row, metric: str, column: str | None = None) -> str | None:
    th = ths.get(str(row.get("profile", "default")), {}).get(metric)
    v = row.get(column or metric)
    return th.rate(float(v)) if th is not None and v is not None and pd.notna(v) else None


def row_rating(ctx: ReportContext, key: str, row) -> str | None:
    """A rep-table row's flag, from a rule the report already has: the win-rate rating
    (``conversion``); the rep's median won cycle (``cycle``) and average won deal
    (``deal_size``, against the profile's last 12 months) rated against the baselines of
    the rep's business profile once the rep won :data:`MIN_ROW_DEALS` deals; the worse of
    load and stale share against those baselines (``pipeline``); for the customer-value
    tables, the rating of a finding about the person (churn of the accounts they
    acquired, expansion of the accounts they manage)."""
    if key == "conversion":
        r = row.get("rating")
        return r if r in ("good", "watch", "bad") else None
    if key in ("acquirers", "managers"):
        metric = "churn_rate" if key == "acquirers" else "expansion_per_account"
        rs = [f.rating for f in ctx.a.findings
              if f.metric == metric and f.subject == str(row.get("person"))]
        return max(rs, key=lambda r: _WORSE.get(r, -1)) if rs else None
    ths = row_thresholds(ctx)
    if key in ("cycle", "deal_size"):
        if not row.get("won", 0) >= MIN_ROW_DEALS:
            return None
        if key == "cycle":
            return _rate(ths, row, "median_cycle_days_won")
        return _rate({str(row.get("profile", "default")): _own_thresholds(ctx, row)}, row,
                     "avg_won_amount")
    if key == "pipeline":
        rs = [_rate(ths, row, "load"), _rate(ths, row, "stale_share")]
        return max(rs, key=lambda r: _WORSE.get(r, -1))
    return None


def _row_title(ctx: ReportContext, key: str, row) -> str:
    from ..textsafe import clipped

    who = clipped(str(row.get("person") if key in ("acquirers", "managers")
                      else row.get("group")))
    g = row.get
    if key == "conversion":
        return ctx.t("{rep}: win rate {rate} ({won} won, {lost} lost)").format(
            rep=who, rate=fmt_pct(g("win_rate")), won=fmt_num(g("won")), lost=fmt_num(g("lost")))
    if key == "cycle":
        return ctx.t("{rep}: median cycle {days} days ({won} won)").format(
            rep=who, days=fmt_num(g("median_cycle_days_won")), won=fmt_num(g("won")))
    if key == "deal_size":
        return ctx.t("{rep}: average won deal {amount} ({won} won)").format(
            rep=who, amount=fmt_money(g("avg_won_amount"), ctx.settings.currency),
            won=fmt_num(g("won")))
    if key == "pipeline":
        return ctx.t("{rep}: {n} open deals, {stale} stale ({share}), load {load}").format(
            rep=who, n=fmt_num(g("open_count")), stale=fmt_num(g("stale_open_count")),
            share=fmt_pct(g("stale_share")), load=fmt_pct(g("load")))
    return ctx.t("{rep}: {n} accounts, {value} per account-year").format(
        rep=who, n=fmt_num(g("accounts")),
        value=fmt_money(g("value_per_account_year"), ctx.settings.currency))


def _row_source(ctx: ReportContext, key: str) -> pd.DataFrame:
    """The deals a table's rows draw on, with the column ``_who`` naming the row each
    belongs to: closed in the period (win rate, by owner), won in the period (cycle, deal
    size), open at the period end (pipeline, by the owner then), won by the period end
    with an account the person acquired or manages (customer value)."""
    opps, p = ctx.opps, ctx.period
    if key in ("conversion", "cycle", "deal_size"):
        closed = opps[closed_in_period(opps, p)]
        if key != "conversion":
            closed = closed[closed["status"].eq("won")]
        return closed.assign(_who=closed["owner"].astype(str))
    if key == "pipeline":
        od = getattr(ctx.a, "open_deals", None)
        if not isinstance(od, pd.DataFrame) or not len(od):
            return pd.DataFrame(columns=["opportunity_id", "amount", "_who"])
        return od.assign(_who=od["owner"].astype(str))
    role = "acquired_by" if key == "acquirers" else "account_manager"
    acc = getattr(ctx.a, "accounts", None)
    if (not isinstance(acc, pd.DataFrame) or not len(acc) or role not in acc
            or "account_id" not in opps):
        return pd.DataFrame(columns=["opportunity_id", "amount", "_who"])
    who = acc.drop_duplicates("account_id").set_index("account_id")[role]
    # won by the period end: a deal won after it was still open in the report's period
    won = opps[opps["status"].eq("won") & (opps["closed_at"] < ctx.period.end)]
    return won.assign(_who=won["account_id"].map(who)).dropna(subset=["_who"]).astype(
        {"_who": str})


def _row_deals(ctx: ReportContext, key: str, mine: pd.DataFrame
               ) -> tuple[tuple[str, ...], dict]:
    """The ids of a row's deals (``mine``: its part of :func:`_row_source`) in the order
    shown, and its extra column's value per id (:data:`ROW_EXTRA`)."""
    from ..insights import ranked_ids

    if key == "conversion":
        lost = mine["status"].eq("lost")
        return ranked_ids(mine[lost]) + ranked_ids(mine[~lost]), {}
    if key == "cycle":
        days = (mine["closed_at"] - mine["created_at"]) / pd.Timedelta(days=1)
        order = mine.assign(_d=days).sort_values(
            ["_d", "opportunity_id"], ascending=[False, True], na_position="last",
            kind="stable")
        return tuple(dict.fromkeys(str(i) for i in order["opportunity_id"])), {}
    if key == "deal_size":
        bands = getattr(ctx.a, "bands", None)
        band = (bands.reindex(mine.index) if isinstance(bands, pd.Series)
                else pd.Series(None, index=mine.index, dtype=object))
        return ranked_ids(mine), {str(i): None if pd.isna(b) else ctx.t(str(b))
                                  for i, b in zip(mine["opportunity_id"], band, strict=True)}
    if key == "pipeline":
        stale = (mine["stale"].astype(bool) if "stale" in mine
                 else pd.Series(False, index=mine.index))
        ids = ranked_ids(mine[stale]) + ranked_ids(mine[~stale])
        return ids, {str(i): ctx.t("stale") if st else None
                     for i, st in zip(mine["opportunity_id"], stale, strict=True)}
    return ranked_ids(mine), {}


def rep_rows(ctx: ReportContext, key: str) -> list[dict[str, Any]]:
    """Every row of a rep table (``conversion``, ``cycle``, ``deal_size``, ``pipeline``,
    ``acquirers``, ``managers``) with the deals behind its figure: the rep's deals closed
    in the period, lost first (win rate); won in the period, longest cycle first (the
    age of a won deal is its cycle: cycle); won in the period, largest first, with the
    size band (deal size); open at the period end, stale first (pipeline); the deals won
    by the period end with the accounts the person acquired or manages (customer value).
    Each largest first
    within its part.
    Keys: subject, rating (:func:`row_rating`: bad, watch, good or None), metric, table,
    anchor, title, label, ids, extra (a column beside the deal columns, or None), values
    (the extra column's value per id) and finding (the anchor of a finding's list about
    the same rep and figure, which the PDF shows instead: :data:`ROW_FINDINGS`)."""
    if key not in ROW_LISTS:
        return []
    cache = getattr(ctx, "_rep_rows", None)
    if cache is None:
        cache = {}
        try:
            ctx._rep_rows = cache
        except AttributeError:
            pass
    if key not in cache:
        cache[key] = _rep_rows(ctx, key)
    return cache[key]


#: the findings about a rep that are about a rep table's figure (their deal list is the
#: PDF's list of that row: the same deals, or the flagged part of them)
ROW_FINDINGS = {"pipeline": ("open_count",), "cycle": ("median_cycle_days_won",),
                "deal_size": ("median_won_amount",), "acquirers": ("churn_rate",),
                "managers": ("expansion_per_account",)}


def _rep_rows(ctx: ReportContext, key: str) -> list[dict[str, Any]]:
    frame = (getattr(ctx.a, key, None) if key in ("acquirers", "managers")
             else ctx.summary)
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        return []
    metric, label = ROW_LISTS[key]
    col = "person" if key in ("acquirers", "managers") else "group"
    about = {f.subject: f.key for f in ctx.a.findings
             if f.metric in ROW_FINDINGS.get(key, ()) and f.deal_ids}
    src = _row_source(ctx, key)
    parts = dict(iter(src.groupby("_who", sort=False))) if len(src) else {}
    out = []
    for _, r in frame.iterrows():
        who = str(r[col])
        ids, values = _row_deals(ctx, key, parts.get(who, src.iloc[:0]))
        out.append({"subject": who, "rating": row_rating(ctx, key, r), "metric": metric,
                    "table": key, "anchor": deal_list_key(metric, who),
                    "title": _row_title(ctx, key, r), "label": label, "ids": ids,
                    "extra": ROW_EXTRA.get(key), "values": values,
                    "finding": about.get(who)})
    _place_lists(ctx, key, out)
    return out


def _place_lists(ctx: ReportContext, key: str, rows: list[dict[str, Any]]) -> None:
    """Mark where each row's deal list appears (keys ``screen`` and ``print``), so the
    appendix stays a few pages whatever the head count: on a screen, the lists of the rows
    the table shows (its first rows, :func:`reporting.presentation.tables.table_frame`)
    and of its first :data:`SCREEN_ROW_LISTS` flagged rows; in the PDF, the lists of its
    first :data:`PRINT_ROW_LISTS` flagged rows that no finding stands in for. Flagged rows
    rank worst first, then by the number of deals behind them (the most at stake), then
    by name. A row without deals has no list."""
    from .tables import PERSON_TABLE_ROWS, PERSON_TABLES, REP_TABLE_ROWS, table_frame

    n = PERSON_TABLE_ROWS if key in PERSON_TABLES else REP_TABLE_ROWS
    col = "person" if key in PERSON_TABLES else "group"
    order = table_frame(ctx, key)
    place = ({v: i for i, v in reversed(list(enumerate(order[col].astype(str))))}
             if col in order else {})
    shown = {w for w, i in place.items() if i < n}
    flagged = sorted((r for r in rows if r["rating"] in RATED and r["ids"]), key=_flag_rank)
    rank = {id(r): i for i, r in enumerate(flagged)}
    printable = [r for r in flagged if not r["finding"]][:PRINT_ROW_LISTS]
    printed = {id(r) for r in printable}
    for r in rows:
        # the appendix's order: flagged rows by rank, then the others as the table shows them
        r["order"] = (0, rank[id(r)]) if id(r) in rank else (1, place.get(r["subject"], 0))
        r["print"] = id(r) in printed
        r["screen"] = bool(r["ids"]) and (r["subject"] in shown or r["print"]
                                          or rank.get(id(r), SCREEN_ROW_LISTS)
                                          < SCREEN_ROW_LISTS)


def flagged_rows(ctx: ReportContext, key: str = "conversion") -> list[dict[str, Any]]:
    """The rows of a rep table flagged bad or watch (:func:`row_rating`), worst first,
    then the most deals behind them (:func:`_place_lists`), each with its deals
    (:func:`rep_rows`)."""
    rows = [r for r in rep_rows(ctx, key) if r["rating"] in RATED]
    return sorted(rows, key=_flag_rank)


def _flag_rank(r: dict[str, Any]) -> tuple:
    """A flagged row's rank: worst first, then the most deals behind it, then by name."""
    return -_WORSE[r["rating"]], -len(r["ids"]), r["subject"]


def _print_anchor(r: dict[str, Any]) -> str | None:
    """Where a rep-table row leads in the PDF: the list of the finding about the same
    rep and figure, else the row's own printed list, else nowhere (None)."""
    return r["finding"] or (r["anchor"] if r["print"] else None)


def _screen_anchor(r: dict[str, Any]) -> str | None:
    """Where a rep-table row leads on a screen: its own list where the HTML holds one,
    else where it leads in the PDF (a finding's list is on the screen too)."""
    return r["anchor"] if r["screen"] else _print_anchor(r)


def row_links(ctx: ReportContext, key: str) -> dict[str, tuple[str | None, str | None]]:
    """For each row's name in a rep table: the anchor of its deal list on a screen (every
    row with deals) and in the PDF (a flagged row's only: the other lists are left out of
    print), None where there is none."""
    out = {}
    for r in rep_rows(ctx, key):
        printed, screen = _print_anchor(r), _screen_anchor(r)
        if screen or printed:
            out[r["subject"]] = (screen, printed)
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


def _shown(ctx: ReportContext) -> list[str]:
    """The rep tables (keys of :data:`ROW_LISTS`) the report showed (``ctx.tables``): a
    scorecard's report.xlsx holds no list of a table it does not show. Every one for a
    context that keeps no tables."""
    from .tables import REP_SHEETS

    shown = getattr(ctx, "tables", None)
    if shown is None:
        return list(ROW_LISTS)
    sheets = {t["sheet"] for t in shown}
    return [k for k in ROW_LISTS if ctx.t(REP_SHEETS[k]) in sheets]


def deal_lists(ctx: ReportContext, rows: bool = True) -> list[dict[str, Any]]:
    """Every deal list of the report, findings first (in their rank), then the headline
    figures rated bad or watch (:func:`flagged_tiles`), then (with ``rows``) the row
    lists of the rep tables the report showed (:func:`rep_rows`, table by table,
    flagged rows first): those placed on a screen or in print (:func:`_place_lists`;
    report.xlsx has every row's, :func:`_rows_sheet`). Keys: anchor
    (the HTML id), kind (``finding``, ``tile`` or ``row``), print (whether the PDF shows
    it: every finding and flagged figure, and the first flagged rows of each table),
    screen (a row's list is in the HTML), title (the finding in
    the report's language), rating, label (which deals, translated), ids (every deal) and
    frame (:func:`deal_list`, with the row list's extra column)."""
    out, seen = [], set()
    for f in ctx.a.findings:
        if not f.deal_ids or f.key in seen:
            continue
        seen.add(f.key)
        out.append({"anchor": f.key, "metric": f.metric, "kind": "finding", "print": True,
                    "title": f.render(ctx.language), "rating": f.rating,
                    "label": ctx.t(f.deals_label), "subject": f.subject,
                    "ids": f.deal_ids, "frame": deal_list(ctx, f.deal_ids), "extra": None})
    for row in flagged_tiles(ctx):
        if row["ids"] and row["anchor"] not in seen:
            seen.add(row["anchor"])
            out.append({**row, "kind": "tile", "print": True, "label": ctx.t(row["label"]),
                        "frame": deal_list(ctx, row["ids"]), "extra": None})
    for key in _shown(ctx) if rows else ():
        for row in sorted(rep_rows(ctx, key), key=lambda r: r["order"]):
            if not row["ids"] or row["anchor"] in seen:
                continue
            if not (row["screen"] or row["print"]):
                continue
            seen.add(row["anchor"])
            frame = deal_list(ctx, row["ids"])
            if row["extra"]:
                frame[row["extra"][0]] = frame["id"].map(row["values"])
            out.append({**row, "kind": "row", "label": ctx.t(row["label"]), "frame": frame})
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


def format_deals(ctx: ReportContext, frame: pd.DataFrame,
                 extra: tuple[str, str, str] | None = None) -> list[dict[str, str]]:
    """A deal list's rows as display strings (amount with the currency, dates in the
    report's language and calendar, Persian digits in the figures of a Persian report but
    not in deal ids (:func:`latin_digits`); CRM text as it is: the fragments escape it).
    With ``extra`` (a row list's own column, :data:`ROW_EXTRA`), its value as ``extra``."""
    cur, lang = ctx.settings.currency, ctx.language
    rows = []
    for r in frame.to_dict("records"):
        last = r.get("last_activity")
        row = {
            "id": latin_digits(_text(r.get("id")), lang), "account": _text(r.get("account")),
            "owner": _text(r.get("owner")), "stage": crm_term(_text(r.get("stage")), lang),
            "amount": localize_numbers(fmt_money(r.get("amount"), cur), lang),
            "age_days": localize_numbers(fmt_num(r.get("age_days")), lang),
            "last_activity": format_date(pd.Timestamp(last).date(), lang,
                                         ctx.settings.calendar)
            if last is not None and pd.notna(last) else "–",
        }
        if extra:
            v = r.get(extra[0])
            row["extra"] = (localize_numbers(fmt_num(v), lang) if extra[2] == "int"
                            else _text(v))
        rows.append(row)
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
    """Under a rep table: links to the deal lists of its rows flagged bad or watch (an
    HTML fragment, empty when no row is flagged), worst first: on a screen to the lists
    the HTML holds, in the PDF to the printed ones (the finding's list where a finding
    about the rep's figure stands in for the row's), each with a count of the flagged
    rows whose lists are elsewhere (:func:`_place_lists`)."""
    from ..textsafe import clipped

    rows = [r for r in flagged_rows(ctx, key) if r["ids"]]
    if not rows:
        return ""
    screen = [{"anchor": _screen_anchor(r), "rating": r["rating"],
               "name": clipped(r["subject"])} for r in rows if _screen_anchor(r)]
    printed = [{"anchor": _print_anchor(r), "rating": r["rating"],
                "name": clipped(r["subject"])} for r in rows if _print_anchor(r)]
    return render_fragment("deal_links.html.j2", ctx.language, screen=screen,
                           printed=printed, more_screen=len(rows) - len(screen),
                           more_print=len(rows) - len(printed))


def show_row_links(ctx: ReportContext, key: str) -> None:
    """Display :func:`row_links_html`."""
    html = row_links_html(ctx, key)
    if html:
        show_fragment(html)


def show_deal_lists(ctx: ReportContext, limit: int = APPENDIX_ROWS,
                    print_limit: int = PRINT_ROWS, row_limit: int = ROW_PRINT_ROWS) -> None:
    """The appendix "Deals behind the findings": one list per finding, flagged figure and
    flagged rep-table row (in the PDF, its first ``print_limit`` deals, ``row_limit`` for
    a row), then, on a screen
    only, every other rep-table row's list under its table's caption; at most ``limit``
    deals each on a screen (report.xlsx holds them all)."""
    from .tables import PERSON_TABLES, REP_TABLES

    printed, groups = [], {}
    cols = [{"label": ctx.t(label), "align": "num" if f in ("money", "int") else ""}
            for _, label, f in DEAL_COLUMNS]
    for d in deal_lists(ctx):
        frame = d["frame"]
        rows = format_deals(ctx, frame.head(limit), d.get("extra"))
        cut = row_limit if d["kind"] == "row" else print_limit
        for i, r in enumerate(rows):
            r["screen_only"] = i >= cut
        extra = d.get("extra")
        item = {**d, "rows": rows, "total": len(frame), "more": max(0, len(frame) - limit),
                "more_print": max(0, len(frame) - cut),
                "extra_column": {"label": ctx.t(extra[1]),
                                 "align": "num" if extra[2] == "int" else ""}
                if extra else None}
        if d["print"]:
            printed.append(item)
        else:
            groups.setdefault(d["table"], []).append(item)
    captions = {k: v[0] for k, v in {**REP_TABLES, **PERSON_TABLES}.items()}
    show_html("deals.html.j2", ctx.language, lists=printed, columns=cols,
              groups=[{"caption": ctx.t(captions[k]), "lists": v} for k, v in groups.items()],
              print_limit=print_limit, row_limit=row_limit, print_rows=PRINT_ROW_LISTS,
              currency=ctx.settings.currency)


def sheet_title(head: str, who: str, limit: int = 31) -> str:
    """A deal list's sheet name: ``head`` ("Deals 2 lost stale") and the person, whose
    first names become initials, then only the surname, when the whole does not fit the
    ``limit`` (Excel's 31 characters): "Deals 2 lost stale M. Bellini"."""
    name = f"{head} {who}".strip()
    parts = who.split()
    if len(name) > limit and len(parts) > 1:
        for short in (" ".join([w[0] + "." for w in parts[:-1]] + parts[-1:]), parts[-1]):
            name = f"{head} {short}"
            if len(name) <= limit:
                break
    return name if len(name) <= limit else name[:limit].rstrip()


def _rows_sheet(ctx: ReportContext, captions: dict[str, str]) -> pd.DataFrame:
    """Every rep-table row's deals in one frame, table by table and in each table's row
    order (flagged rows first, :func:`_place_lists`), each row's deals in the order its
    list shows them: the table's caption, the rep, the row's flag, :func:`deal_list`'s
    columns and the row lists' own columns (:data:`ROW_EXTRA`). One lookup of every deal
    instead of a frame per row (a region of 550 reps has ~3,200 row lists)."""
    table = _deal_table(ctx)
    ids, label, rep, flag, extras = [], [], [], [], {k: [] for k, _, _ in ROW_EXTRA.values()}
    seen = set()
    for key in _shown(ctx):
        for row in sorted(rep_rows(ctx, key), key=lambda r: r["order"]):
            if not row["ids"] or row["anchor"] in seen:
                continue
            seen.add(row["anchor"])
            mine = [i for i in (str(i) for i in dict.fromkeys(row["ids"]))
                    if i in table.index]
            ids += mine
            label += [ctx.t(captions[row["table"]])] * len(mine)
            rep += [row["subject"]] * len(mine)
            flag += [ctx.t(row["rating"]) if row["rating"] in RATED else None] * len(mine)
            own = row["extra"][0] if row["extra"] else None
            for k, values in extras.items():
                values += ([row["values"].get(i) for i in mine] if k == own
                           else [None] * len(mine))
    out = table.reindex(ids).reset_index(drop=True)
    return out.assign(table=label, rep=rep, flag=flag, **extras)


def deal_sheets(ctx: ReportContext, cells) -> list[dict[str, Any]]:
    """report.xlsx's deal sheets: one per finding and flagged headline figure (every
    deal), then "Deals by rep", every rep-table row's deals in one sheet with the table,
    the rep and the row's flag in the first columns (the sheet has an autofilter) and the
    row lists' own columns (cycle, size band, stale) at the end. ``cells`` turns a frame
    into JSON rows (``payload._cells``)."""
    cur = ctx.settings.currency
    deal_cols = [(k, ctx.t(label) + (f" ({cur})" if f == "money" and cur else ""), f)
                 for k, label, f in DEAL_COLUMNS]
    sheets = []
    lists = deal_lists(ctx, rows=False)
    for i, d in enumerate(lists, start=1):
        what = ctx.t(LIST_NAMES.get(d.get("metric", ""), "deals"))
        who = "" if d["subject"] in ("all", "") or d.get("metric", "").startswith("tile_") \
            else d["subject"]
        sheets.append({"sheet": sheet_title(f"{ctx.t('Deals')} {i} {what}", who),
                       "caption": f"{d['title']} ({d['label']})",
                       "columns": [list(c) for c in deal_cols],
                       "rows": cells(d["frame"], deal_cols)})
    from .tables import PERSON_TABLES, REP_TABLES

    captions = {k: v[0] for k, v in {**REP_TABLES, **PERSON_TABLES}.items()}
    frame = _rows_sheet(ctx, captions)
    if len(frame):
        extra = [(k, ctx.t(label), f) for k, label, f in ROW_EXTRA.values()]
        cols = [("table", ctx.t("Table"), "text"), ("rep", ctx.t("Rep"), "text"),
                ("flag", ctx.t("Flag"), "text"), *deal_cols, *extra]
        frame = frame.reindex(columns=[k for k, _, _ in cols])
        sheets.append({"sheet": ctx.t("Deals by rep"),
                       "caption": ctx.t("The deals behind every rep-table row: each rep's "
                                        "deals for each table (filter by table or rep)"),
                       "columns": [list(c) for c in cols], "rows": cells(frame, cols)})
    return sheets
