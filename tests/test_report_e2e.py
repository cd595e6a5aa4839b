"""End to end: demo store -> papermill -> HTML -> PDF, checked by the PDF's text."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from pypdf import PdfReader

from reporting.runner import run_report

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report(demo_store, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    return run_report("EMEA", "2026-09", store=demo_store, reports_dir=out)


def pdf_text(path) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(path).pages)


def test_outputs_exist(report):
    d = report.output_dir
    assert d.name == "emea" and d.parent.name == "2026-09"
    for f in ("report.ipynb", "report.html", "report.pdf", "metrics.json"):
        assert (d / f).stat().st_size > 0, f
    assert report.pages >= 6
    assert not [p for p in d.parent.iterdir() if p.name.startswith(".")], "temp dir left"


def test_pdf_text_has_scope_period_and_headline_figures(report):
    text = pdf_text(report.pdf)
    m = json.loads((report.output_dir / "metrics.json").read_text())
    h = m["headline"]
    assert "EMEA" in text and "September 2026" in text
    assert f"{h['win_rate']['value']:.0%}" in text
    assert f"{h['median_cycle_days_won']['value']:,.0f} days" in text
    assert f"{h['open_per_rep']['value']:,.1f}" in text
    for title in ("Executive summary", "1. Conversion", "2. Sales cycle length",
                  "3. Deal size", "4. Customer lifetime value", "5. Open opportunities",
                  "Appendix A: Data quality", "Appendix B: Deals behind the findings",
                  "Appendix C: Methodology"):
        assert title in text, title
    assert re.search(rf"Page 2 of {report.pages}", text)


def test_page_one_is_the_month_and_the_body_is_at_most_ten_pages(report):
    """Issue 16: page one holds the header (company, title, scope, period, as-of date),
    the rated tiles, the five verdicts and the top findings; no cover page before it; the
    body (page one to the first appendix) stays within ten pages."""
    pages = [p.extract_text() for p in PdfReader(report.pdf).pages]
    one = " ".join(pages[0].split())  # lines joined: a label may wrap
    for text in ("Acme Analytics", "Monthly Sales Report", "EMEA · September 2026",
                 "Data as of", "Executive summary", "BOOKINGS", "deals won",
                 "OPEN PIPELINE VALUE",
                 "The five metrics", "Conversion", "Sales cycle", "Deal size", "Customer value",
                 "Open opportunities", "Top findings", "Page 1 of"):
        assert text in one, text
    assert re.search(r"\b(GOOD|WATCH|BAD)\b", one)  # ratings as words, not colour alone
    assert "1. Conversion" not in one
    first_appendix = next(i for i, t in enumerate(pages) if "Appendix A: Data quality" in t)
    assert first_appendix - 1 <= 10, f"body of {first_appendix - 1} pages"


#: model names, statistics and command-line flags: the methodology appendix's words
JARGON = ("KMeans", "k-means", "PSI", "BG/NBD", "Pareto/NBD", "Gamma-Gamma", "Spearman",
          "Aalen", "Johansen", "isotonic", "HistGradientBoosting", "gradient-boosted",
          "MAPE", "Brier", "Wilson", "LMDI", "RFM", "logistic", "backtest", "p-value")


def test_body_speaks_plainly(report):
    """Issue 16: no model name, statistic or command-line flag in the report before the
    methodology appendix (they are explained there)."""
    import html as htmllib

    page = report.html.read_text()
    cut = page.index("Appendix C: Methodology")
    body = re.sub(r"<style>.*?</style>", "", page[:cut], flags=re.S)
    text = htmllib.unescape(re.sub(r"<[^>]+>", " ", body))
    found = sorted({w for w in JARGON if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])",
                                                    text, flags=re.I)})
    flags = re.findall(r"(?<!\w)--[a-z][a-z-]+", text)
    assert found == [] and flags == []
    methodology = htmllib.unescape(re.sub(r"<[^>]+>", " ", page[cut:]))
    assert "KMeans" in methodology and "Aalen-Johansen" in methodology


# EMEA, September 2026, computed in SQL on the store from the definitions in the methodology
# appendix (reporting.metrics.DEFINITIONS), not with the metrics code.
_CLOSED = """
  SELECT count(*) FILTER (status = 'won'), count(*) FILTER (status = 'lost'),
         median(epoch(closed_at - created_at) / 86400) FILTER (status = 'won'),
         sum(amount) FILTER (status = 'won'), avg(amount) FILTER (status = 'won'),
         median(amount) FILTER (status = 'won')
  FROM opportunities WHERE region = 'EMEA' AND status IN ('won', 'lost')
   AND closed_at >= '2026-09-01' AND closed_at < '2026-10-01'"""
# open at the period end: created before it, not closed before it; an amount counts only
# while the deal is still open (closed since: its amount then is unknown)
# open at the period end as the deal history then says (the demo has a version for every
# deal from its creation): the version in force just before 2026-10-01 is open
_OPEN = """
  WITH o AS (SELECT h.* FROM opportunity_history h
             SEMI JOIN (SELECT opportunity_id FROM opportunities WHERE region = 'EMEA') r
                  USING (opportunity_id)
             WHERE h.valid_from < '2026-10-01'
               AND (h.valid_to IS NULL OR h.valid_to >= '2026-10-01') AND h.status = 'open'),
       per_rep AS (SELECT owner, count(*) AS n FROM o GROUP BY owner)
  SELECT (SELECT count(*) FROM o), (SELECT count(*) FROM per_rep),
         (SELECT sum(amount) FILTER (status = 'open') FROM o),
         (SELECT count(*) FILTER (status <> 'open' OR amount IS NULL) FROM o),
         (SELECT sum(n) / sum(capacity) FROM per_rep JOIN reps ON rep_id = owner
          WHERE capacity > 0)"""
# revenue booked in the period by the accounts of the region's deals
_REVENUE = """
  SELECT sum(amount), count(DISTINCT account_id) FROM revenue
  WHERE date >= '2026-09-01' AND date < '2026-10-01' AND account_id IN
    (SELECT account_id FROM opportunities WHERE region = 'EMEA' AND created_at < '2026-10-01')"""


def test_metrics_json_matches_an_independent_sql_computation(report, demo_store):
    import duckdb

    m = json.loads((report.output_dir / "metrics.json").read_text())
    got = {k: v["value"] for k, v in m["headline"].items()}
    with duckdb.connect(str(demo_store), read_only=True) as con:
        won, lost, cycle, won_sum, won_avg, won_median = con.execute(_CLOSED).fetchone()
        n_open, owners, open_value, unknown, load = con.execute(_OPEN).fetchone()
        revenue, paying = con.execute(_REVENUE).fetchone()
    n, z = won + lost, 1.959963984540054  # the 97.5% quantile of the standard normal
    rate = won / n
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)  # Wilson score interval
    half = z * (rate * (1 - rate) / n + z * z / (4 * n * n)) ** 0.5 / (1 + z * z / n)
    want = {
        "won": won, "lost": lost, "win_rate": rate,
        "win_rate_ci_low": centre - half, "win_rate_ci_high": centre + half,
        "median_cycle_days_won": cycle, "won_amount": won_sum, "avg_won_amount": won_avg,
        "median_won_amount": won_median, "open_count": n_open,
        "open_amount_unknown_count": unknown, "open_per_rep": n_open / owners,
        "open_amount": open_value if unknown <= n_open / 2 else None, "load": load,
        "revenue_in_period": revenue, "paying_accounts": paying,
        "avg_account_value": revenue / paying,
    }
    assert won >= 5 and lost >= 5 and n_open >= 10  # not trivial
    assert unknown == 0  # every open deal's amount then is known from its versions
    assert {k: got[k] for k in want} == pytest.approx(want, rel=1e-6)
    assert m["period_start"] == "2026-09-01" and m["period_end"] == "2026-09-30"
    assert (m["headline"]["win_rate"]["unit"], m["headline"]["win_rate"]["definition"]) == (
        "ratio", "win_rate")
    assert m["headline"]["avg_won_amount"]["unit"] == m["currency"] == "USD"


def test_html_is_self_contained_without_code(report):
    html = report.html.read_text()
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)=["']?(https?:|//|file:)""", html)
    assert "rp.show" not in html and "import " not in html  # no code cells


def test_deal_lists_and_workbook(report):
    """Each finding's deals and each rep-table row's: an expandable list in the HTML
    (anchored, no script; every #link has its target) and report.xlsx beside the PDF, with
    every table of the report, a sheet per finding's list and one of every row's deals."""
    openpyxl = pytest.importorskip("openpyxl")
    d = report.output_dir
    html = report.html.read_text()
    assert '<section class="deal-appendix" id="deals">' in html
    lists = re.findall(r'<details class="deal-list( screen-only)?">\s*<summary>.*?</summary>'
                       r'<span class="deal-anchor" id="(deals-[a-z0-9-]+)"></span>', html, re.S)
    anchors = [a for _, a in lists]
    assert anchors and len(anchors) == len(set(anchors))
    assert html.count("<summary>") >= len(anchors)
    ids = set(re.findall(r'\bid="([^"]+)"', html))
    hrefs = set(re.findall(r'href="#([^"]+)"', html))
    assert hrefs and hrefs <= ids  # no dangling link
    assert len(re.findall(r'class="row-link', html)) >= 4  # rep names lead to their deals
    manifest = json.loads((d / "manifest.json").read_text())
    assert "report.xlsx" in manifest["outputs"]
    wb = openpyxl.load_workbook(d / "report.xlsx")
    names = wb.sheetnames
    assert names[0] == "Contents" and len(names) == len({n.casefold() for n in names})
    for sheet in ("Win rate by rep", "Cycle by rep", "Deal size by rep", "Pipeline by rep",
                  "Deals by rep"):
        assert sheet in names, sheet
    deal_sheets = [n for n in names if re.match(r"Deals \d+ ", n)]
    assert deal_sheets and all(len(n) <= 31 for n in deal_sheets)
    ws = wb[deal_sheets[0]]
    assert ws.freeze_panes == "A2"
    assert [c.value for c in ws[1]] == ["Deal", "Account", "Owner", "Stage", "Amount (USD)",
                                        "Age (days)", "Last activity"]
    assert ws["E2"].number_format == "[$USD] #,##0" and ws["G2"].number_format == "yyyy-mm-dd"
    by_rep = wb["Deals by rep"]
    assert by_rep.freeze_panes == "A2" and by_rep.auto_filter.ref
    assert [c.value for c in by_rep[1]][:4] == ["Table", "Rep", "Flag", "Deal"]
    assert by_rep.max_row > len(anchors)
    rates = wb["Win rate by rep"]
    assert rates["D1"].value == "Win rate" and rates["D2"].number_format == "0%"


def test_the_pdf_appendix_keeps_the_flagged_lists_within_its_pages(report):
    """The PDF's appendix B holds the findings', flagged figures' and flagged rows' lists
    (their first deals), not every row's: those are in the HTML and report.xlsx. Before
    the row lists it took 8 pages of the EMEA demo (November 2026), 7 after."""
    pages = [p.extract_text() for p in PdfReader(report.pdf).pages]
    first = next(i for i, t in enumerate(pages) if "Appendix B: Deals behind" in t)
    last = next(i for i, t in enumerate(pages) if "Appendix C" in t)
    assert 1 <= last - first <= 8
    text = "\n".join(pages[first:last])
    assert "The deals of the reps each table shows, table by table" not in text  # the screen's part
    assert "in the HTML report" in text  # says where the rest is
    assert "The deals of the reps each table shows, table by table" in report.html.read_text()


def test_pdf_page_is_not_blank(report, tmp_path):
    subprocess.run(["pdftoppm", "-png", "-r", "30", "-f", "2", "-l", "2", str(report.pdf),
                    str(tmp_path / "p")], check=True)
    (png,) = tmp_path.glob("p*.png")
    from matplotlib.image import imread

    img = imread(png)
    assert img[..., :3].std() > 0.05  # a white page has std 0


def test_failing_notebook_is_a_clear_error_and_leaves_nothing(demo_store, tmp_path):
    import nbformat

    from reporting.exceptions import RenderError

    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('region = "x"\nteam = "all"\nperiod = "2026-09"\n'
                                       'store = ""\nparams_dir = ""')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("raise ValueError('planted failure')")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(RenderError, match="planted failure") as e:
        run_report("EMEA", "2026-09", store=demo_store, reports_dir=tmp_path / "out",
                   notebook=path)
    assert list((tmp_path / "out").rglob("*.pdf")) == []
    # only the failure folder: the executed notebook up to the failing cell + traceback
    assert [p.name for p in (tmp_path / "out" / "2026-09").iterdir()] == ["emea.failed"]
    assert e.value.failure_dir.name == "emea.failed"
    assert "planted failure" in (e.value.failure_dir / "error.txt").read_text()
    executed = nbformat.read(e.value.failure_dir / "report.ipynb", as_version=4)
    assert executed.cells[-1].outputs[0]["ename"] == "ValueError"


def test_hostile_region_names_are_rejected(demo_store, tmp_path):
    from reporting.exceptions import ParamsError

    for bad in ("../etc", 'x"); import os; os.system("id', "/abs", "a\x00b"):
        with pytest.raises(ParamsError):
            run_report(bad, "2026-09", store=demo_store, reports_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_opportunities_only_export_still_reports(tmp_path):
    """Maven has no revenue, stage history or leads: the report says what needs more data."""
    from reporting.ingest import ingest_paths

    from .conftest import shared

    store = tmp_path / "m.duckdb"
    ingest_paths([shared("maven_crm")], "maven", store)
    res = run_report("West", "2017-09", store=store, reports_dir=tmp_path / "out")
    text = pdf_text(res.pdf)
    assert "West" in text and "September 2017" in text
    assert "needs the revenue and accounts tables" in text
    # the 500 Prospecting deals without an engage date are kept, and the appendix says so
    assert "Rows kept with a data-quality note" in text and "created_at" in text
    assert json.loads((res.output_dir / "metrics.json").read_text())["headline"]["won"]["value"] > 0


HOSTILE = [
    '<img src="file:///etc/passwd">',
    "<script>alert(1)</script>",
    '<a href="javascript:alert(1)">x</a>',
    "<style>@import url(http://127.0.0.1:9/x.css)</style>",
    "\u202eevil\u200b name",
    "x" * 3000,
    '=HYPERLINK("http://127.0.0.1:9/","open")',
]


def test_hostile_crm_text_renders_as_text(demo_tables, tmp_path):
    """Rep, team, account and deal names written by outsiders end up as plain text."""
    from reporting.store import replace_all

    t = {k: v.copy() for k, v in demo_tables.items()}
    opps = t["opportunities"]
    emea = opps.index[opps["region"] == "EMEA"]
    victim = opps.loc[emea[0], "owner"]
    evil_rep = HOSTILE[0]
    for name in ("opportunities",):
        t[name]["owner"] = t[name]["owner"].replace(victim, evil_rep)
    t["reps"]["rep_id"] = t["reps"]["rep_id"].replace(victim, evil_rep)
    t["opportunities"]["name"] = [HOSTILE[i % len(HOSTILE)] for i in range(len(opps))]
    t["accounts"]["name"] = [HOSTILE[i % len(HOSTILE)] for i in range(len(t["accounts"]))]
    t["opportunities"].loc[emea[:50], "source"] = HOSTILE[1]
    store = tmp_path / "evil.duckdb"
    replace_all(store, t)
    res = run_report("EMEA", "2026-09", store=store, reports_dir=tmp_path / "out")
    html = res.html.read_text()
    assert "<script" not in html.lower() and "<img src=\"file" not in html
    # only inside escaped text (the deal lists show account names: &#34; is Jinja's quote)
    assert "javascript:" not in re.sub(r"&lt;a href=(&quot;|&#34;|\")javascript:", "", html)
    assert not re.search(r"<a\b[^>]*javascript:", html, re.IGNORECASE)
    assert re.search(r"&lt;img src=(&quot;|\")file:///etc/passwd(&quot;|\")&gt;", html)  # shown as text
    text = pdf_text(res.pdf)
    assert "root:" not in text
    import openpyxl  # report.xlsx: CRM text is text, never a formula

    wb = openpyxl.load_workbook(res.output_dir / "report.xlsx")
    assert not [c.coordinate for ws in wb.worksheets for row in ws.iter_rows() for c in row
                if c.data_type == "f"]
    assert list((tmp_path / "out").rglob("*")) and all(
        p.resolve().is_relative_to((tmp_path / "out").resolve())
        for p in (tmp_path / "out").rglob("*"))
