"""The notebooks as an analyst opens them: a project made with ``crm-report init``, each
notebook executed with nbclient from its own folder (as JupyterLab starts the kernel) with
its default parameters, charts shown inline, no error in any cell."""

from __future__ import annotations

from datetime import UTC, datetime

import nbformat
import pytest
from nbclient import NotebookClient

from reporting import project
from reporting.resources import shipped_notebooks

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def analyst_project(tmp_path_factory):
    """A fresh project whose store holds demo data up to today, so that the notebooks'
    default period (the last complete month) has data."""
    from reporting import demo
    from reporting.store import replace_all

    d = tmp_path_factory.mktemp("analyst") / "acme"
    project.init_project(d, company="Acme GmbH", currency="EUR")
    tables = demo.generate(seed=3, scale=0.3, end=datetime.now(UTC).date())
    replace_all(d / "data" / "crm.duckdb", tables)
    return d


@pytest.mark.parametrize("name", shipped_notebooks())
def test_notebook_runs_from_its_own_folder_with_defaults(analyst_project, name, monkeypatch):
    for var in ("MPLBACKEND", "CRM_REPORT_STORE", project.PROJECT_ENV):
        monkeypatch.delenv(var, raising=False)  # nothing but the folder says where things are
    folder = analyst_project / "notebooks"
    nb = nbformat.read(folder / f"{name}.ipynb", as_version=4)
    # explore.ipynb calls the plotting functions directly: its chart shows only because
    # importing reporting.plots no longer forces the non-interactive backend
    nb.cells.append(nbformat.v4.new_code_cell("import matplotlib; matplotlib.get_backend()"))
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    backend = nb.cells.pop().outputs[0]["data"]["text/plain"]
    assert "inline" in backend, backend
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    # charts: PNG outputs (explore.ipynb) or PNG data URIs in the report's HTML fragments
    images = [o for o in outputs if "image/png" in o.get("data", {})] + [
        o for o in outputs if "data:image/png" in str(o.get("data", {}).get("text/html", ""))
        and "figure class=\"chart\"" in str(o.get("data", {}).get("text/html", ""))]
    if name == "rep_scorecard":  # one table page per rep, no charts
        assert sum("<table" in str(o.get("data", {}).get("text/html", "")) for o in outputs) >= 1
    else:
        # the roll-up draws one chart, the trend one figure of six panels
        least = 5 if name == "monthly_sales_report" else 1
        assert len(images) >= least, f"{name}: {len(images)} charts"
    text = "".join(str(o.get("data", {}).get("text/html", "")) + str(o.get("text", ""))
                   for o in outputs)
    if name != "explore":  # the reports use the project's company and currency
        assert "Acme GmbH" in text and ("EUR" in text or "€" in text)

