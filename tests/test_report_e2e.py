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
                  "Appendix A: Data quality", "Appendix B: Methodology"):
        assert title in text, title
    assert re.search(rf"Page 2 of {report.pages}", text)


def test_metrics_json_matches_engine(report, demo_store):
    from reporting import metrics
    from reporting.periods import parse_period
    from reporting.store import load

    p = parse_period("2026-09")
    data = load(demo_store, region="EMEA", until=p.end)
    h = metrics.headline(data.opportunities, p, data.reps)
    m = json.loads((report.output_dir / "metrics.json").read_text())
    assert m["headline"]["won"]["value"] == h["won"]
    assert m["headline"]["open_count"]["value"] == h["open_count"]
    assert m["headline"]["win_rate"]["unit"] == "ratio"
    assert m["headline"]["win_rate"]["definition"] == "win_rate"


def test_html_is_self_contained_without_code(report):
    html = report.html.read_text()
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)=["']?(https?:|//|file:)""", html)
    assert "rp.show" not in html and "import " not in html  # no code cells


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
    assert "javascript:" not in html.replace("javascript:alert(1)&quot;", "")
    assert re.search(r"&lt;img src=(&quot;|\")file:///etc/passwd(&quot;|\")&gt;", html)  # shown as text
    text = pdf_text(res.pdf)
    assert "root:" not in text
    assert list((tmp_path / "out").rglob("*")) and all(
        p.resolve().is_relative_to((tmp_path / "out").resolve())
        for p in (tmp_path / "out").rglob("*"))
