"""Every rep-table row leads to its deals (issue 16, requirement 3): which deals each row
of the win-rate, cycle, deal-size, pipeline and customer-value tables links to (hand-
computed on a small fixture), the flags from the baselines, the links of the HTML (no
dangling one, on a screen or in the PDF) and the "Deals by rep" sheet of report.xlsx."""

from __future__ import annotations

import logging
import re
from types import SimpleNamespace

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reporting.insights import Finding, deal_list_key
from reporting.params import Threshold
from reporting.periods import parse_period

P = parse_period("2026-10")  # October 2026; the period ends 1 November
T = pd.Timestamp


def _opps() -> pd.DataFrame:
    rows = [  # id, owner, status, created, closed, amount, account
        ("L1", "C", "lost", "2026-09-01", "2026-10-10", 10.0, "ACC-1"),
        ("L2", "C", "lost", "2026-09-01", "2026-10-12", 20.0, None),
        ("W1", "C", "won", "2026-09-10", "2026-10-10", 40.0, "ACC-1"),   # cycle 30
        ("W2", "C", "won", "2026-08-01", "2026-10-20", 100.0, "ACC-1"),  # cycle 80
        ("W3", "C", "won", "2026-10-01", "2026-10-11", 5.0, None),       # cycle 10
        ("OLD", "C", "won", "2026-08-01", "2026-09-15", 999.0, "ACC-1"),  # September
        ("W4", "D", "won", "2026-10-01", "2026-10-05", 70.0, "ACC-2"),
        ("O1", "C", "open", "2026-09-01", None, 5.0, None),
        ("O2", "C", "open", "2026-09-01", None, 50.0, None),
        ("O3", "C", "open", "2026-09-01", None, 30.0, None),
        ("O4", "D", "open", "2026-09-01", None, 9.0, None),
    ]
    o = pd.DataFrame(rows, columns=["opportunity_id", "owner", "status", "created_at",
                                    "closed_at", "amount", "account_id"])
    o["created_at"] = pd.to_datetime(o["created_at"])
    o["closed_at"] = pd.to_datetime(o["closed_at"])
    o["stage"] = o["status"].map({"won": "Closed Won", "lost": "Closed Lost",
                                  "open": "Proposal"})
    o["last_activity_at"] = o["closed_at"].fillna(T("2026-10-30"))
    return o


VELOCITY = {
    "median_cycle_days_won": Threshold(good=30, bad=50, higher_is_better=False),
    "avg_won_amount": Threshold(good=50, bad=40),
    "load": Threshold(good=0.9, bad=1.2, higher_is_better=False),
    "stale_share": Threshold(good=0.15, bad=0.30, higher_is_better=False),
}


def _ctx(findings=(), rep="C", language="en"):
    from reporting.i18n import tr

    opps = _opps()
    opps.loc[opps["owner"] == "C", "owner"] = rep
    summary = pd.DataFrame({
        "group": [rep, "D"], "profile": ["velocity", "velocity"], "team": ["T", "T"],
        "won": [3, 1], "lost": [2, 0], "win_rate": [0.6, 1.0], "rating": ["bad", "good"],
        "created": [5, 2],
        "median_cycle_days_won": [55.0, 4.0],  # C: bad (above 50); D: one win, not rated
        "mean_cycle_days_won": [40.0, 4.0], "median_cycle_days_lost": [40.0, None],
        "median_days_to_win": [40.0, 4.0],
        "avg_won_amount": [145 / 3, 70.0],  # C: watch (40..50); D: one win, not rated
        "median_won_amount": [40.0, 70.0],
        "open_count": [3, 1], "stale_open_count": [2, 0], "open_amount": [85.0, 9.0],
        "open_amount_unknown": [0, 0], "capacity": [4, 2],
        "load": [0.75, 0.5], "stale_share": [2 / 3, 0.0],  # C: bad by its stale share
        "bloat_months": [1.0, 1.0], "lost_when_tired_share": [0.0, 0.0],
    })
    open_deals = pd.DataFrame({"opportunity_id": ["O1", "O2", "O3", "O4"],
                               "owner": [rep, rep, rep, "D"], "amount": [5.0, 50.0, 30.0, 9.0],
                               "stale": [True, False, True, False]})
    accounts = pd.DataFrame({"account_id": ["ACC-1", "ACC-2"], "name": ["Acme", "Bolt"],
                             "acquired_by": [rep, "D"], "account_manager": ["D", rep]})
    people = pd.DataFrame({"person": [rep, "D"], "accounts": [1, 1],
                           "value_per_account_year": [10.0, 20.0],
                           "first_year_value": [1.0, 2.0], "avg_predicted_value": [1.0, 2.0],
                           "churn_rate": [0.5, 0.0], "total_value": [10.0, 20.0],
                           "expansion_per_account": [0.0, 0.0]})
    return SimpleNamespace(
        opps=opps, period=P, language=language, summary=summary,
        settings=SimpleNamespace(currency="EUR", calendar="gregorian",
                                 thresholds=lambda profile: dict(VELOCITY)),
        data=SimpleNamespace(accounts=accounts),
        a=SimpleNamespace(deals_at_end=pd.DataFrame(), findings=list(findings),
                          open_deals=open_deals, accounts=accounts, acquirers=people,
                          managers=people.copy(), ratings={}, headline={},
                          bands=pd.Series(["small", "small", "medium", "large", "small",
                                           "large", "medium"] + [None] * 4)),
        t=lambda text: tr(text, language))


def _rows(ctx, key):
    from reporting.presentation.deals import rep_rows

    return {r["subject"]: r for r in rep_rows(ctx, key)}


def test_each_rep_table_row_leads_to_the_deals_behind_its_figure():
    from reporting.presentation.deals import deal_list

    ctx = _ctx()
    conv, cyc, size, pipe = (_rows(ctx, k) for k in ("conversion", "cycle", "deal_size",
                                                      "pipeline"))
    # win rate: C's deals closed in October, lost first (20, 10), then won (100, 40, 5);
    # September's win is not October's
    assert conv["C"]["ids"] == ("L2", "L1", "W2", "W1", "W3")
    assert conv["D"]["ids"] == ("W4",)
    # cycle: C's October wins, longest cycle first (80, 30, 10 days: their age)
    assert cyc["C"]["ids"] == ("W2", "W1", "W3")
    # deal size: C's October wins, largest first, with their size band
    assert size["C"]["ids"] == ("W2", "W1", "W3")
    assert size["C"]["values"] == {"W2": "large", "W1": "medium", "W3": "small"}
    # pipeline: C's open deals at the period end, stale first (30, 5), then 50
    assert pipe["C"]["ids"] == ("O3", "O1", "O2")
    assert pipe["C"]["values"] == {"O3": "stale", "O1": "stale", "O2": None}
    assert pipe["D"]["ids"] == ("O4",)
    # customer value: the won deals with the accounts they acquired (C: ACC-1, any
    # period, not the lost L1) or manage (C: ACC-2)
    assert _rows(ctx, "acquirers")["C"]["ids"] == ("OLD", "W2", "W1")
    # a deal won after the period end was open in it: not among the accounts' won deals
    later = ctx.opps.iloc[[0]].assign(opportunity_id="NOV", status="won",
                                      closed_at=T("2026-11-03"), account_id="ACC-1")
    ctx2 = _ctx()
    ctx2.opps = pd.concat([ctx2.opps, later], ignore_index=True)
    assert "NOV" not in _rows(ctx2, "acquirers")["C"]["ids"]
    assert _rows(ctx, "managers")["C"]["ids"] == ("W4",)
    assert _rows(ctx, "managers")["D"]["ids"] == ("OLD", "W2", "W1")
    assert cyc["C"]["anchor"] == deal_list_key("cycle_by_rep", "C")
    assert deal_list(ctx, cyc["C"]["ids"])["age_days"].tolist() == [80, 30, 10]


def test_rows_are_flagged_against_the_baselines_of_the_reps_profile():
    ctx = _ctx()
    rating = {k: {s: r["rating"] for s, r in _rows(ctx, k).items()}
              for k in ("conversion", "cycle", "deal_size", "pipeline", "acquirers")}
    assert rating["conversion"] == {"C": "bad", "D": "good"}  # the win-rate table's own
    # 55 days is above the bad line of 50; D won once: fewer than 3 wins, not rated
    assert rating["cycle"] == {"C": "bad", "D": None}
    assert rating["deal_size"] == {"C": "watch", "D": None}  # 48.3 between 40 and 50
    # load 75% is good, but 2 of 3 open deals stale (67% > 30%): the worse of the two
    assert rating["pipeline"] == {"C": "bad", "D": "good"}
    assert rating["acquirers"] == {"C": None, "D": None}  # no finding names them
    titles = {k: _rows(ctx, k)["C"]["title"] for k in ("cycle", "deal_size", "pipeline")}
    assert titles == {"cycle": "C: median cycle 55 days (3 won)",
                      "deal_size": "C: average won deal €48 (3 won)",
                      "pipeline": "C: 3 open deals, 2 stale (67%), load 75%"}


def test_a_trailing_deal_size_baseline_is_the_reps_own_last_12_months():
    from reporting.params import Trailing
    from reporting.presentation.deals import rep_rows

    ctx = _ctx()
    ths = {**VELOCITY, "avg_won_amount": Threshold(trailing=Trailing(good=1.0, bad=0.8))}
    ctx.settings.thresholds = lambda profile: dict(ths)
    year = [(f"Y{i}", "C", "won", T("2026-01-01"), T("2026-03-01"), 100.0, None)
            for i in range(10)]  # C won 10 deals of 100 in the 12 months before
    extra = pd.DataFrame(year, columns=["opportunity_id", "owner", "status", "created_at",
                                        "closed_at", "amount", "account_id"])
    ctx.opps = pd.concat([ctx.opps, extra], ignore_index=True)
    (c, d) = rep_rows(ctx, "deal_size")
    assert c["rating"] == "bad"  # 48.3 against 80% of its own 100
    assert d["rating"] is None  # one win


def test_a_finding_about_the_same_figure_stands_in_for_the_row_in_the_pdf():
    from reporting.presentation.deals import deal_lists, row_links

    f = Finding("{rep} holds stale deals.", {"rep": "C"}, "open_count", "C", 1.0, 1.0, 1.0,
                ("O3", "O1"), "Stale open deals at the period end")
    churn = Finding("{rep}'s customers churn.", {"rep": "D"}, "churn_rate", "D", 1.0, 1.0,
                    1.0, ("W4",), "Won deals with the customers who stopped buying")
    ctx = _ctx([f, churn])
    links = row_links(ctx, "pipeline")
    # on a screen C's name opens C's pipeline list; in the PDF the finding's
    assert links["C"] == (deal_list_key("pipeline_by_rep", "C"), f.key)
    from reporting.presentation.tables import _linked

    assert _linked("C", links["C"]) == (
        f'<a class="row-link flagged screen-only" href="#{links["C"][0]}">C</a>'
        f'<a class="row-link flagged print-only" href="#{f.key}">C</a>')
    assert links["D"] == (deal_list_key("pipeline_by_rep", "D"), None)  # good: no PDF list
    assert row_links(ctx, "acquirers")["D"] == (deal_list_key("value_by_acquirer", "D"),
                                                churn.key)
    shown = {(d["kind"], d.get("table"), d["subject"]): d["print"] for d in deal_lists(ctx)}
    assert shown[("finding", None, "C")] and not shown[("row", "pipeline", "C")]
    assert shown[("row", "cycle", "C")] and shown[("row", "conversion", "C")]
    assert not shown[("row", "conversion", "D")]


def _page(ctx, monkeypatch) -> str:
    """The rep tables, the person tables and the appendix of ``ctx`` as one HTML page."""
    from reporting.presentation import deals, tables
    from reporting.presentation.fragments import render_fragment

    shown = []
    monkeypatch.setattr(deals, "show_html", lambda t, lang, **v: shown.append(
        render_fragment(t, lang, **v)))
    parts = [tables.rep_table(ctx, k) for k in tables.REP_TABLES]
    parts += [tables.person_table(ctx, k) for k in tables.PERSON_TABLES]
    deals.show_deal_lists(ctx, limit=2, print_limit=1, row_limit=1)
    return "\n".join(parts + shown)


HOSTILE_REP = '=HYPERLINK("http://x")<b>"&</b>' + "y" * 100


@pytest.mark.parametrize("rep", ["C", HOSTILE_REP])
def test_every_link_has_its_target_and_crm_text_stays_text(rep, monkeypatch):
    f = Finding("{rep} holds stale deals.", {"rep": rep}, "open_count", rep, 1.0, 1.0, 1.0,
                ("O3", "O1"), "Stale open deals at the period end")
    html = _page(_ctx([f], rep=rep), monkeypatch)
    ids = re.findall(r'\bid="([^"]+)"', html)
    hrefs = re.findall(r'href="#([^"]+)"', html)
    assert len(ids) == len(set(ids))
    assert hrefs and set(hrefs) <= set(ids)  # no dangling link
    for k in ("win_rate_by_rep", "cycle_by_rep", "deal_size_by_rep", "pipeline_by_rep",
              "value_by_acquirer", "value_by_manager"):
        assert f'href="#{deal_list_key(k, rep)}"' in html, k  # every table links the rep
    assert "<b>" not in html and "y" * 60 not in html  # escaped, clipped
    assert all(re.fullmatch(r"deals-[a-z0-9-]+", h) for h in hrefs)


def _lists(html: str, cls: str) -> list[str]:
    """The anchors of the deal lists of class ``cls``: inside each list, after its summary
    (a browser opens the list a link leads to)."""
    return re.findall(rf'<details class="{cls}">\s*<summary>.*?</summary>'
                      r'<span class="deal-anchor" id="([^"]+)"></span>', html, re.S)


def test_in_print_only_flagged_lists_and_their_first_deals(monkeypatch):
    html = _page(_ctx(), monkeypatch)
    printed = _lists(html, "deal-list")
    screen = _lists(html, "deal-list screen-only")
    # C: win rate bad, cycle bad, deal size watch, pipeline bad; D is flagged nowhere
    assert printed == [deal_list_key(k, "C") for k in ("win_rate_by_rep", "cycle_by_rep",
                                                      "deal_size_by_rep", "pipeline_by_rep")]
    assert deal_list_key("win_rate_by_rep", "D") in screen
    assert deal_list_key("value_by_acquirer", "C") in screen
    # D's name is a link on a screen, plain text in the PDF
    d = deal_list_key("cycle_by_rep", "D")
    assert (f'<a class="row-link screen-only" href="#{d}">D</a>'
            '<span class="print-only">D</span>') in html
    assert f'<a class="row-link flagged" href="#{deal_list_key("cycle_by_rep", "C")}">C</a>' \
        in html
    assert 'class="screen-only"><td class="id">' in html  # the 2nd deal: screen only
    assert "and 3 more; all in report.xlsx" in html  # win rate: 5 deals, 2 on a screen
    assert "and 4 more in the HTML report; all in report.xlsx" in html  # 1 in the PDF


def test_the_pdf_has_no_dangling_link(monkeypatch, caplog):
    """WeasyPrint lays the page out for print (the lists of rows without a flag are not
    there): every link of the PDF still has its anchor."""
    from weasyprint import HTML

    from reporting.render import ASSETS

    f = Finding("{rep} holds stale deals.", {"rep": "C"}, "open_count", "C", 1.0, 1.0, 1.0,
                ("O3", "O1"), "Stale open deals at the period end")
    body = _page(_ctx([f]), monkeypatch)
    css = (ASSETS / "report.css").read_text()
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        doc = HTML(string=f"<html><head><style>{css}</style></head><body>{body}</body></html>"
                   ).render()
    assert not [r for r in caplog.records if "anchor" in r.getMessage()]
    links = [t for page in doc.pages for (kind, t, *_) in page.links if kind == "internal"]
    anchors = {a for page in doc.pages for a in page.anchors}
    assert links and set(links) <= anchors
    text = " ".join(b.text for page in doc.pages for b in _boxes(page._page_box)
                    if hasattr(b, "text"))
    assert "Bolt" not in text  # D's managed account: a screen-only list


def _boxes(box):
    yield box
    for child in getattr(box, "children", []):
        yield from _boxes(child)


def test_deals_by_rep_sheet(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    from reporting.presentation.deals import deal_sheets
    from reporting.presentation.payload import _cells
    from reporting.presentation.tables import PERSON_TABLES, REP_TABLES, person_table, rep_table
    from reporting.workbook import sheets_from_payload, write_workbook

    ctx = _ctx(rep=HOSTILE_REP)
    ctx.tables = []  # a report that showed no rep table: no row lists
    assert [s["sheet"] for s in deal_sheets(ctx, _cells)] == []
    for k in REP_TABLES:
        rep_table(ctx, k)
    for k in PERSON_TABLES:
        person_table(ctx, k)
    sheets = deal_sheets(ctx, _cells)
    (by_rep,) = [s for s in sheets if s["sheet"] == "Deals by rep"]
    assert [c[1] for c in by_rep["columns"]] == [
        "Table", "Rep", "Flag", "Deal", "Account", "Owner", "Stage", "Amount (EUR)",
        "Age (days)", "Last activity", "Size band", "Stale"]
    # win rate 5 + 1, cycle 3 + 1, deal size 3 + 1, pipeline 3 + 1, acquirers 3 + 1,
    # managers 1 + 3
    assert len(by_rep["rows"]) == 6 + 4 + 4 + 4 + 4 + 4
    first = by_rep["rows"][0]
    assert first[:4] == ["Win rate by rep", HOSTILE_REP, "bad", "L2"]
    path = tmp_path / "r.xlsx"
    write_workbook(path, sheets_from_payload({"sheets": sheets}), currency="EUR")
    ws = openpyxl.load_workbook(path)["Deals by rep"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:L27"
    rep = ws["B2"]
    assert rep.value == HOSTILE_REP and rep.data_type == "s" and rep.quotePrefix
    assert ws["H2"].number_format == "[$EUR] #,##0" and ws["J2"].number_format == "yyyy-mm-dd"


def test_sheet_names_of_deal_lists_stay_readable():
    from reporting.presentation.deals import sheet_title

    assert sheet_title("Deals 2 lost stale", "Marco Bellini") == "Deals 2 lost stale M. Bellini"
    assert sheet_title("Deals 14 win rate", "Valentina Gómez") == "Deals 14 win rate V. Gómez"
    assert sheet_title("Deals 3 pipeline", "Marco Bellini") == "Deals 3 pipeline Marco Bellini"
    assert sheet_title("Deals 12 churn", "Ana María de la Fuente Rodríguez") == \
        "Deals 12 churn Rodríguez"
    assert len(sheet_title("Deals 1 x", "y" * 50)) == 31


def _crowd(n: int = 40):
    """``n`` reps R00..R{n-1} rated on win rate: R00-R29 bad, the rest watch; rep i lost
    i + 1 deals and won one in October (so the most deals at stake are the last reps')."""
    from reporting.i18n import tr

    reps = [f"R{i:02d}" for i in range(n)]
    rows = []
    for i, rep in enumerate(reps):
        rows += [(f"{rep}-L{j}", rep, "lost", "2026-09-01", "2026-10-10", 10.0 + j)
                 for j in range(i + 1)]
        rows.append((f"{rep}-W", rep, "won", "2026-09-01", "2026-10-11", 50.0))
    o = pd.DataFrame(rows, columns=["opportunity_id", "owner", "status", "created_at",
                                    "closed_at", "amount"])
    o["created_at"], o["closed_at"] = pd.to_datetime(o["created_at"]), pd.to_datetime(
        o["closed_at"])
    o["stage"] = o["status"].map({"won": "Closed Won", "lost": "Closed Lost"})
    o["account_id"], o["last_activity_at"] = None, o["closed_at"]
    won, lost = [1] * n, [i + 1 for i in range(n)]
    summary = pd.DataFrame({
        "group": reps, "profile": "velocity", "team": "T", "won": won, "lost": lost,
        "win_rate": [1 / (2 + i) for i in range(n)],
        "rating": ["bad" if i < 30 else "watch" for i in range(n)], "created": lost})
    ctx = SimpleNamespace(
        opps=o, period=P, language="en", summary=summary,
        settings=SimpleNamespace(currency="EUR", calendar="gregorian",
                                 thresholds=lambda profile: dict(VELOCITY)),
        data=SimpleNamespace(accounts=pd.DataFrame()),
        a=SimpleNamespace(deals_at_end=pd.DataFrame(), findings=[], open_deals=pd.DataFrame(),
                          accounts=pd.DataFrame(), acquirers=pd.DataFrame(),
                          managers=pd.DataFrame(), ratings={}, headline={}, bands=None),
        t=lambda text: tr(text, "en"))
    return ctx, reps


def test_a_large_head_count_prints_a_few_row_lists_and_keeps_every_row_in_the_workbook(
        monkeypatch):
    from reporting.presentation import deals, tables
    from reporting.presentation.fragments import render_fragment
    from reporting.presentation.payload import _cells

    ctx, reps = _crowd(40)
    ctx.tables = []
    shown = []
    monkeypatch.setattr(deals, "show_html", lambda t, lang, **v: shown.append(
        render_fragment(t, lang, **v)))
    table = tables.rep_table(ctx, "conversion")
    deals.show_deal_lists(ctx)
    html = table + "\n".join(shown)
    key = lambda rep: deal_list_key("win_rate_by_rep", rep)  # noqa: E731
    # in print: the worst first, then the most deals at stake: the bad reps R29, R28, ...
    printed = _lists(html, "deal-list")
    assert printed == [key(f"R{i:02d}") for i in range(29, 29 - deals.PRINT_ROW_LISTS, -1)]
    # on a screen: the table's 15 rows (highest win rate first: R00..R14) and the first 25
    # flagged rows (R29..R05), nothing else
    screen = set(_lists(html, "deal-list screen-only")) | set(printed)
    assert screen == {key(f"R{i:02d}") for i in range(30)}
    ids = set(re.findall(r'\bid="([^"]+)"', html))
    assert set(re.findall(r'href="#([^"]+)"', html)) <= ids  # no dangling link
    # under the table: 30 links on a screen and "and 10 more"; 6 in print, "and 34 more"
    assert "and 10 more; every rep&#39;s deals are in report.xlsx" in html
    assert "and 34 more in the HTML report and report.xlsx" in html
    # R35 (watch, 36 lost) has no list in the report, but its deals are in report.xlsx
    assert key("R35") not in ids and "R35" not in re.sub(r"<table.*?</table>", "", html,
                                                         flags=re.S)
    (by_rep,) = [s for s in deals.deal_sheets(ctx, _cells) if s["sheet"] == "Deals by rep"]
    assert len(by_rep["rows"]) == len(ctx.opps)
    assert {r[1] for r in by_rep["rows"]} == set(reps)


def _cells_one_by_one(frame, columns):
    """The JSON cells as :func:`reporting.presentation.payload._cell` makes each one."""
    from reporting.presentation.payload import _cell

    return [[_cell(v) for v in rec]
            for rec in frame[[k for k, _, _ in columns]].itertuples(index=False, name=None)]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(
    st.one_of(st.none(), st.text(max_size=4)),
    st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    st.integers(-10, 10),
    st.booleans(),
    st.one_of(st.none(), st.datetimes(min_value=pd.Timestamp("1990-01-01").to_pydatetime(),
                                      max_value=pd.Timestamp("2090-01-01").to_pydatetime())),
    st.one_of(st.none(), st.text(max_size=2), st.integers(0, 3), st.floats(allow_nan=True))),
    max_size=30))
def test_cells_a_column_at_a_time_are_the_cells_one_by_one(rows):
    from reporting.presentation.payload import _cells

    frame = pd.DataFrame(rows, columns=["text", "num", "int", "flag", "when", "mixed"])
    if len(frame):
        frame["when"] = pd.to_datetime(frame["when"]).astype("datetime64[us]")
        frame["int"] = frame["int"].astype("int64")
        frame["flag"] = frame["flag"].astype(bool)
        frame["text"] = frame["text"].astype(object)
    frame["nullable"] = pd.array([None if i % 3 else i for i in range(len(frame))],
                                 dtype="Int64")
    columns = [(c, c, "text") for c in frame.columns]
    assert _cells(frame, columns) == _cells_one_by_one(frame, columns)


def test_a_findings_customer_deals_are_won_by_the_period_end():
    """The deals behind a customer-value finding are the won deals with the person's
    accounts as the period saw them: one won after the period end was still open then."""
    from reporting.insights import DealFrames, account_deals

    o = _opps()
    later = o.iloc[[0]].assign(opportunity_id="NOV", status="won",
                               closed_at=T("2026-11-03"), account_id="ACC-1")
    o = pd.concat([o, later], ignore_index=True)
    acc = pd.DataFrame({"account_id": ["ACC-1"], "acquired_by": ["C"],
                        "account_manager": ["D"]})
    got = account_deals(DealFrames(opps=o, period=P, accounts=acc), "acquired_by", "C")
    assert sorted(got["opportunity_id"]) == ["OLD", "W1", "W2"]
