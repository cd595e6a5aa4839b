"""The deals behind the findings: which deals a finding names (hand-computed on small
frames), the deal list of a report, page one's findings and the appendix fragment."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pandas as pd
import pytest

from reporting.insights import DealFrames, Finding, deal_list_key, rep_findings, target_findings
from reporting.periods import parse_period

P = parse_period("2026-10")
END = P.end  # 2026-11-01


def _summary(**over) -> pd.DataFrame:
    """Three reps of one team: A holds 10 open deals against a median of 3."""
    s = pd.DataFrame({
        "group": ["A", "B", "C"], "team": ["T", "T", "T"],
        "open_count": [10, 2, 3], "stale_open_count": [3, 0, 1],
        "stale_unknown_count": [0, 0, 0],
        "won": [1, 1, 1], "lost": [0, 0, 0],
        "median_cycle_days_won": [30.0, 30.0, 30.0],
        "median_won_amount": [100.0, 100.0, 100.0],
    })
    for k, v in over.items():
        s[k] = v
    return s


def _open_deals(stale: list[bool]) -> pd.DataFrame:
    n = len(stale)
    return pd.DataFrame({
        "opportunity_id": [f"A{i}" for i in range(n)] + ["B0", "B1"],
        "owner": ["A"] * n + ["B", "B"],
        "amount": [float(10 * (i % 4) + i) for i in range(n)] + [999.0, 5.0],
        "stale": stale + [True, False],
    })


def _frames(open_deals=None, opps=None) -> DealFrames:
    opps = opps if opps is not None else pd.DataFrame(columns=[
        "opportunity_id", "owner", "status", "created_at", "closed_at", "amount"])
    return DealFrames(opps=opps, period=P, open_deals=open_deals)


def test_bloated_pipeline_names_the_reps_stale_open_deals_largest_first():
    # A's deals A0..A9, amounts 0, 11, 22, 33, 4, 15, 26, 37, 8, 19; stale: A1, A4, A7
    stale = [i in (1, 4, 7) for i in range(10)]
    (f,) = rep_findings(_summary(), deals=_frames(_open_deals(stale)))
    assert f.metric == "open_count" and f.subject == "A"
    assert f.deal_ids == ("A7", "A1", "A4")  # 37, 11, 4: B's stale deal is not A's
    assert f.deals_label == "Stale open deals at the period end"


def test_bloated_pipeline_without_stale_deals_names_every_open_deal():
    (f,) = rep_findings(_summary(stale_open_count=[0, 0, 0]),
                        deals=_frames(_open_deals([False] * 10)))
    assert f.deal_ids == ("A7", "A3", "A6", "A2", "A9", "A5", "A1", "A8", "A4", "A0")
    assert f.deals_label == "Open deals at the period end"


def test_without_frames_findings_carry_no_deals():
    (f,) = rep_findings(_summary())
    assert f.deal_ids == () and f.deals_label == ""


def test_small_deals_finding_names_the_won_deals_below_the_team_median():
    s = _summary(open_count=[1, 1, 1], stale_open_count=[0, 0, 0], won=[4, 4, 4],
                 median_won_amount=[40.0, 100.0, 120.0])
    t = pd.Timestamp("2026-10-10")
    opps = pd.DataFrame({
        "opportunity_id": ["w1", "w2", "w3", "w4", "old", "lost", "other"],
        "owner": ["A", "A", "A", "A", "A", "A", "B"],
        "status": ["won", "won", "won", "won", "won", "lost", "won"],
        "created_at": [t - pd.Timedelta(days=5)] * 7,
        "closed_at": [t, t, t, t, pd.Timestamp("2026-09-30"), t, t],
        "amount": [30.0, 50.0, 99.0, 150.0, 10.0, 10.0, 1.0],
    })
    (f,) = [f for f in rep_findings(s, deals=_frames(opps=opps))
            if f.metric == "median_won_amount"]
    # won in October below the team median of 100: 99, 50, 30 (not September's, not lost)
    assert f.subject == "A" and f.deal_ids == ("w3", "w2", "w1")


def test_quota_finding_names_the_open_deals_due_in_the_period():
    t = pd.Timestamp("2026-10-05")
    then = pd.DataFrame({
        "opportunity_id": ["due", "late", "won", "b"],
        "owner": ["A", "A", "A", "B"], "status": ["open", "open", "won", "open"],
        "created_at": [t] * 4, "closed_at": [pd.NaT, pd.NaT, t, pd.NaT],
        "amount": [5.0, 50.0, 1.0, 9.0],
        "expected_close_date": [pd.Timestamp("2026-10-20"), pd.Timestamp("2026-12-01"),
                                pd.NaT, pd.Timestamp("2026-10-20")],
    })
    att = pd.DataFrame({
        "group": ["A"], "won_value": [1.0], "quota": [100.0], "attainment": [0.01],
        "pace": [0.01], "pacing_method": ["linear"], "remaining": [99.0],
        "pipeline": [5.0], "coverage": [0.05], "coverage_note": [None],
        "expected_share": [1.0], "expected_to_date": [100.0], "typical_won": [10.0],
        "deals_short": [9.9]})
    att.attrs.update(period="2026-10", as_of=END)
    (f,) = target_findings(att, deals=DealFrames(opps=then, period=P, then=then))
    assert f.deal_ids == ("due",)
    assert f.rating == "bad"


@pytest.mark.parametrize("subject", ["Marco Bellini", "<script>alert(1)</script>",
                                     "Tomás \u202e Aguirre", ""])
def test_key_is_an_ascii_anchor_and_stable(subject):
    key = deal_list_key("open_count", subject)
    assert re.fullmatch(r"deals-open-count-[0-9a-f]{10}", key)
    assert key == deal_list_key("open_count", subject)
    assert key != deal_list_key("median_won_amount", subject)
    f = Finding("{rep}", {"rep": subject}, "open_count", subject, 1.0, 1.0, 1.0)
    assert f.key == key


# --------------------------------------------------------------------------- deal lists


def _ctx(findings=(), language="en"):
    from reporting.i18n import tr

    created = pd.Timestamp("2026-09-01")
    opps = pd.DataFrame({
        "opportunity_id": ["D1", "D2", "D3"],
        "account_id": ["ACC-1", "ACC-2", None],
        "owner": ["now-owner", "B", "C"],
        "stage": ["Won later", "Discovery", "Closed Won"],
        "status": ["won", "open", "won"],
        "created_at": [created, created, created],
        "closed_at": [pd.Timestamp("2026-11-15"), pd.NaT, pd.Timestamp("2026-10-11")],
        "amount": [1000.0, None, 250.0],
        "last_activity_at": [pd.Timestamp("2026-10-30 15:00"), pd.NaT,
                             pd.Timestamp("2026-10-11 09:00")],
    })
    then = opps.iloc[:2].copy()  # D1 as it was at the period end: open, A's, 800
    then.loc[0, ["owner", "stage", "status", "amount"]] = ["A", "Proposal", "open", 800.0]
    accounts = pd.DataFrame({"account_id": ["ACC-1"], "name": ["<b>Acme</b> & Co"]})
    return SimpleNamespace(
        opps=opps, period=P, language=language,
        settings=SimpleNamespace(currency="EUR", calendar="gregorian"),
        data=SimpleNamespace(accounts=accounts),
        a=SimpleNamespace(deals_at_end=then, findings=list(findings)),
        summary=pd.DataFrame({"group": [], "rating": []}),
        t=lambda text: tr(text, language))


def test_deal_list_shows_the_deals_as_at_the_period_end_in_the_order_given():
    from reporting.presentation.deals import deal_list

    d = deal_list(_ctx(), ["D3", "nope", "D1", "D2", "D1"])
    assert list(d.columns) == ["id", "account", "owner", "stage", "amount", "age_days",
                               "last_activity"]
    assert d["id"].tolist() == ["D3", "D1", "D2"]  # unknown ids left out, no repeats
    d1 = d.set_index("id").loc["D1"]
    assert (d1["owner"], d1["stage"], d1["amount"]) == ("A", "Proposal", 800.0)
    assert d1["account"] == "<b>Acme</b> & Co"  # raw: the fragments escape it
    assert d1["age_days"] == 61  # created 1 September, open at the end (1 November)
    assert d1["last_activity"] == pd.Timestamp("2026-10-30")
    d3 = d.set_index("id").loc["D3"]
    assert d3["age_days"] == 40 and d3["account"] is None  # closed 11 October
    assert pd.isna(d.set_index("id").loc["D2", "amount"])


def test_a_deal_closed_in_the_period_keeps_its_amount_without_a_history():
    """Without a deal history the state at the period end does not know the amount of a
    deal closed before it (state_at's rule); the list shows the amount it closed with, as
    the deal-size figures count it. A deal open at the end never borrows its later amount."""
    from reporting.presentation.deals import deal_list

    ctx = _ctx()
    won = {"opportunity_id": "D4", "account_id": None, "owner": "B", "stage": "Closed Won",
           "status": "won", "created_at": pd.Timestamp("2026-09-01"),
           "closed_at": pd.Timestamp("2026-10-20"), "amount": 500.0,
           "last_activity_at": pd.NaT}
    later = {**won, "opportunity_id": "D5", "closed_at": pd.Timestamp("2026-11-20"),
             "amount": 700.0}
    ctx.opps = pd.concat([ctx.opps, pd.DataFrame([won, later])], ignore_index=True)
    unknown = pd.DataFrame([{**won, "amount": float("nan")},
                            {**later, "status": "open", "stage": "Proposal",
                             "amount": float("nan"), "closed_at": pd.NaT}])
    ctx.a.deals_at_end = pd.concat([ctx.a.deals_at_end, unknown], ignore_index=True)
    d = deal_list(ctx, ["D4", "D5", "D1"]).set_index("id")
    assert d.loc["D4", "amount"] == 500.0  # closed 20 October with 500
    assert pd.isna(d.loc["D5", "amount"])  # open on 1 November; its 700 came later
    assert d.loc["D1", "amount"] == 800.0  # known then: the amount then


def _finding(ids, metric="open_count", subject="A"):
    return Finding("{rep} holds deals.", {"rep": subject}, metric, subject, 1.0, 1.0, 1.0,
                   tuple(ids), "Stale open deals at the period end")


def test_page_one_findings_shape():
    from reporting.presentation.deals import page_one_findings

    ctx = _ctx([_finding(["D1", "D2", "D3"]), _finding([], "velocity_change", "all"),
                _finding(["D3"], "churn_rate", "B"), _finding(["D2"], "x", "C")])
    out = page_one_findings(ctx)
    assert len(out) == 3
    assert [o["rating"] for o in out] == ["watch", "bad", "bad"]
    assert out[0]["text"] == "A holds deals." and out[0]["anchor"] == ctx.a.findings[0].key
    assert out[1]["anchor"] is None and out[1]["deals"] == []
    first = out[0]["deals"][0]
    assert set(first) == {"id", "account", "owner", "stage", "amount", "age_days",
                          "last_activity"}
    assert (first["id"], first["amount"], first["last_activity"]) == (
        "D1", "€800", "2026-10-30")
    assert out[0]["deals"][1]["amount"] == "–" and out[0]["deals"][2]["account"] == "–"


def test_page_one_findings_in_persian_use_persian_digits():
    from reporting.presentation.deals import page_one_findings

    (o,) = page_one_findings(_ctx([_finding(["D1"])], language="fa"), limit=1)
    d = o["deals"][0]
    assert "۸۰۰" in d["amount"] and d["age_days"] == "۶۱"
    from reporting.i18n import localize_html

    assert localize_html(f"<td>{d['id']}</td>", "fa") == "<td>D&#49;</td>"  # reads D1


def test_latin_digits_escapes_first():
    from reporting.presentation.deals import latin_digits

    assert latin_digits("<b>7</b>'", "fa") == "&lt;b&gt;&#55;&lt;/b&gt;&#39;"
    assert latin_digits("OPP-7", "en") == "OPP-7"


def test_appendix_escapes_crm_text_caps_long_lists_and_has_anchors(monkeypatch):
    from reporting.presentation import deals
    from reporting.presentation.fragments import render_fragment

    shown = {}
    monkeypatch.setattr(deals, "show_html", lambda t, lang, **v: shown.update(
        html=render_fragment(t, lang, **v)))
    ctx = _ctx([_finding(["D1", "D2", "D3"]), _finding(["D3"], "churn_rate", "<i>B</i>")])
    deals.show_deal_lists(ctx, limit=2)
    html = shown["html"]
    assert html.count('<details class="deal-list"') == 2 and "<summary>" in html
    assert f'id="{ctx.a.findings[0].key}"' in html and 'id="deals"' in html
    assert "&lt;b&gt;Acme&lt;/b&gt; &amp; Co" in html and "<b>Acme" not in html
    assert "<i>B</i>" not in html
    assert "and 1 more; all in report.xlsx" in html  # 3 deals, 2 shown
    assert "<script" not in html


def test_rep_rows_rated_bad_or_watch_lead_to_their_closed_deals_lost_first():
    from reporting.presentation.deals import deal_lists, flagged_rows

    ctx = _ctx()
    t = pd.Timestamp("2026-10-10")
    ctx.opps = pd.concat([ctx.opps, pd.DataFrame({
        "opportunity_id": ["L1", "L2", "L3", "W1"], "account_id": [None] * 4,
        "owner": ["C", "C", "B", "C"], "stage": ["Closed Lost"] * 3 + ["Closed Won"],
        "status": ["lost", "lost", "lost", "won"], "created_at": [t] * 4,
        "closed_at": [t] * 4, "amount": [10.0, 20.0, 30.0, 40.0],
        "last_activity_at": [t] * 4})], ignore_index=True)
    ctx.summary = pd.DataFrame({"group": ["B", "C", "D"], "rating": ["good", "bad", "watch"],
                                "win_rate": [0.9, 0.1, 0.4], "won": [9, 1, 4],
                                "lost": [1, 2, 6]})
    rows = flagged_rows(ctx)
    assert [(r["subject"], r["rating"]) for r in rows] == [("C", "bad"), ("D", "watch")]
    # C's deals closed in October: lost 20, 10 first, then won 250 (D3), 40
    assert rows[0]["ids"] == ("L2", "L1", "D3", "W1") and rows[1]["ids"] == ()
    assert rows[0]["title"] == "C: win rate 10% (1 won, 2 lost)"
    # D closed nothing in the period: no list; B's (not flagged) is on a screen only
    lists = [d for d in deal_lists(ctx) if d.get("table") == "conversion"]
    assert [(d["subject"], d["print"]) for d in lists] == [("C", True), ("B", False)]
    assert lists[0]["anchor"] == rows[0]["anchor"]
    assert lists[0]["frame"]["id"].tolist() == ["L2", "L1", "D3", "W1"]
    assert lists[1]["frame"]["id"].tolist() == ["L3"]


def test_headline_figures_rated_bad_or_watch_lead_to_their_deals():
    from reporting.presentation.deals import flagged_tiles, tile_anchor

    ctx = _ctx()
    t = pd.Timestamp("2026-10-10")
    ctx.opps = pd.concat([ctx.opps, pd.DataFrame({
        "opportunity_id": ["L1", "L2"], "account_id": [None] * 2, "owner": ["C", "B"],
        "stage": ["Closed Lost"] * 2, "status": ["lost"] * 2, "created_at": [t] * 2,
        "closed_at": [t] * 2, "amount": [10.0, 20.0], "last_activity_at": [t] * 2})],
        ignore_index=True)
    ctx.a.ratings = {"win_rate": "bad", "stale_share": "watch", "load": "good",
                     "lead_conversion": "bad"}
    ctx.a.headline = {"current": {"win_rate": 0.125, "stale_share": 0.5}}
    ctx.a.open_deals = pd.DataFrame({"opportunity_id": ["D1", "D2"], "amount": [800.0, None],
                                     "stale": [False, True]})
    rows = flagged_tiles(ctx)
    assert [(r["metric"], r["rating"], r["ids"]) for r in rows] == [
        ("tile_win_rate", "bad", ("L2", "L1")), ("tile_stale_share", "watch", ("D2",))]
    assert rows[0]["title"] == "Win rate: 12%" and rows[0]["anchor"] == tile_anchor("win_rate")


def test_tables_shown_without_their_context_go_to_the_report_built_last(monkeypatch):
    from reporting.context import ReportContext, active
    from reporting.presentation import tables

    monkeypatch.setattr(tables.fragments, "show_fragment", lambda *a, **k: None)
    ctx = ReportContext(region="EMEA", team="all", period=P, settings=None, data=None, a=None)
    assert active() is ctx
    frame = pd.DataFrame({"group": ["A", "B"], "won": [1, 2], "other": [0, 0]})
    cols = [("group", "Rep", "text"), ("won", "Won", "int")]
    tables.show_table(frame, cols, "Bookings against quota in 2026-10 by rep, lowest first",
                      limit=1)
    tables.show_table(frame, cols, "Open deals due to close by the end of the quarter, "
                      "largest first")
    tables.show_table(frame, cols, "Persian only", language="fa")  # another report's
    tables.show_table(frame, cols, "Named", ctx=ctx, sheet="Quota attainment")
    assert [t["sheet"] for t in ctx.tables] == [
        "Quota attainment", "Open deals due to close by the", "Quota attainment"]
    assert ctx.tables[0]["frame"].to_dict("list") == {"group": ["A", "B"], "won": [1, 2]}
    assert ctx.tables[0]["columns"] == [("group", "Rep", "text"), ("won", "Won", "int")]


def test_a_crm_name_of_thousands_of_characters_is_clipped_where_it_is_shown():
    """A fuzzed export held a 20,000-character account name: in a deal table it made the
    PDF layout run into the render timeout. Tables, deal lists and findings show 60
    characters at most; the deal list itself (and so report.xlsx) keeps the whole name."""
    from reporting.presentation.deals import deal_list, format_deals
    from reporting.presentation.tables import table_html

    ctx = _ctx()
    ctx.data.accounts.loc[0, "name"] = "x" * 20_000
    d = deal_list(ctx, ["D1"])
    assert len(d.loc[0, "account"]) == 20_000
    (row,) = format_deals(ctx, d)
    assert row["account"] == "x" * 59 + "…"
    html = table_html(pd.DataFrame({"group": ["y" * 5_000]}), [("group", "Rep", "text")])
    assert "y" * 60 not in html and "y" * 59 + "…" in html
    f = Finding("{rep} holds deals.", {"rep": "z" * 1_000}, "open_count", "z", 1, 1, 1)
    assert f.render("en") == "z" * 59 + "… holds deals."
