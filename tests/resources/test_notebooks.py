"""Every notebook runs top to bottom with papermill on small demo data, with other
parameters than its defaults (slow); committed notebooks carry no outputs (fast)."""

from __future__ import annotations

import io
import json

import duckdb
import nbformat
import papermill as pm
import pytest
from pypdf import PdfReader

from reporting.runner import NOTEBOOKS, run_report


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.stem)
def test_committed_notebooks_have_one_parameters_cell_and_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    for line in tagged[0].source.splitlines():
        assert ": " in line and "#" in line, f"annotate and comment every parameter: {line}"
    for c in nb.cells:
        if c.cell_type == "code":
            assert c.outputs == [] and c.execution_count is None


@pytest.mark.slow
def test_rep_scorecard_one_page_per_rep(demo_store, tmp_path):
    res = run_report("EMEA", "2026-09", team="EMEA Inside", store=demo_store,
                     reports_dir=tmp_path, notebook=NOTEBOOKS / "rep_scorecard.ipynb")
    m = json.loads((res.output_dir / "metrics.json").read_text())
    reps = [r["group"] for r in m["by_rep"]]
    text = [p.extract_text() for p in PdfReader(res.pdf).pages]
    for rep in reps:  # each rep opens a page of their own
        assert any(page.lstrip().splitlines()[2:4] and rep in page.splitlines()[:4]
                   for page in text), rep
    assert "Rep scorecards" in text[0] and "EMEA / EMEA Inside" in text[0]
    assert "Team median" in text[1] and "Win rate" in text[1]


# Appended to a copy of explore.ipynb: what each of its cells displayed (IPython's Out,
# keyed by the cell's first line), as JSON on stdout.
_PROBE = """\
import json as _json
print(_json.dumps({In[i].splitlines()[0]: o.to_json(orient="split", date_format="iso")
                   for i, o in Out.items() if isinstance(o, pd.DataFrame)}))"""


@pytest.mark.slow
def test_explore_runs_with_other_parameters(demo_store, tmp_path):
    """APAC and 2026-Q3 reach every cell: the tables shown are APAC's reps and APAC's deals
    closed in July-September 2026, as counted by SQL on the store."""
    import pandas as pd

    nb = nbformat.read(NOTEBOOKS / "explore.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(_PROBE))
    src = tmp_path / "explore_probe.ipynb"
    nbformat.write(nb, src)
    out = pm.execute_notebook(str(src), str(tmp_path / "explore.ipynb"),
                              parameters={"region": "APAC", "period": "2026-Q3",
                                          "store": str(demo_store)},
                              kernel_name="python3", progress_bar=False)
    (probe,) = [o for o in out.cells[-1].outputs if o.get("name") == "stdout"]
    shown = {k: pd.read_json(io.StringIO(v), orient="split")
             for k, v in json.loads(probe["text"]).items()}
    with duckdb.connect(str(demo_store), read_only=True) as con:
        apac_reps = {r for (r,) in con.execute(
            "SELECT rep_id FROM reps WHERE region = 'APAC'").fetchall()}
        won, lost = con.execute(
            "SELECT count(*) FILTER (status = 'won'), count(*) FILTER (status = 'lost') "
            "FROM opportunities WHERE region = 'APAC' AND closed_at >= '2026-07-01' "
            "AND closed_at < '2026-10-01'").fetchone()
        (open_at_end,) = con.execute(
            "SELECT count(*) FROM opportunities WHERE region = 'APAC' AND created_at < "
            "'2026-10-01' AND (closed_at IS NULL OR closed_at >= '2026-10-01')").fetchone()
    assert won > 0 and lost > 0 and len(apac_reps) >= 9
    reps = shown['metrics.rep_summary(opps, p, data.reps).sort_values("won", ascending=False).head(10)']
    assert set(reps["group"]) == apac_reps and reps["team"].str.startswith("APAC ").all()
    assert reps["won"].sum() == won and reps["lost"].sum() == lost
    by_source = shown['metrics.win_rate(opps, p, "source")']
    assert (by_source["won"].sum(), by_source["lost"].sum()) == (won, lost)
    cohorts = shown["conversion.cohort_win_rate(opps, p.end).tail(6)"]
    assert pd.to_datetime(cohorts["cohort"]).max() == pd.Timestamp("2026-09-01")  # Q3's end
    health = shown["deals = pipeline.open_deals(opps, p.end, data.stage_history, "
                   "settings.stale_days)"]
    assert set(health["group"]) <= apac_reps and health["open"].sum() == open_at_end > 0
