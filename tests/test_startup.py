"""What the CLI's start-up imports (issue 17): ``crm-report run`` and every other command
start without the model stack (scipy, scikit-learn), the plotting stack (matplotlib,
seaborn) and the renderers (nbconvert, WeasyPrint, imported when a report is rendered);
the models still resolve by name."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("scipy", "sklearn", "matplotlib", "seaborn", "nbconvert", "weasyprint")


def test_the_run_path_starts_without_the_heavy_libraries():
    code = ("import json, sys\n"
            "import reporting.cli, reporting.runs, reporting.batch, reporting.runner\n"
            f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_the_models_package_resolves_its_names():
    import importlib

    import reporting.models as models

    importlib.import_module("reporting.models.backtest")  # the submodule, loaded
    from reporting.models import DealSizeBander, backtest, choose_model, clv

    assert callable(backtest) and callable(clv) and callable(choose_model)
    assert models.backtest is backtest and models.clv is clv  # functions, not submodules
    assert DealSizeBander.__module__ == "reporting.models.bands"
    assert "rfm_summary" in dir(models)


def test_a_batch_worker_starts_without_the_store_stack():
    """A pool worker unpickles ``batch.run_job`` and runs ``runner.run_report``: neither
    needs DuckDB or pandera (the kernels load the store), and the default store path is
    still the store module's."""
    code = ("import json, sys\n"
            "import reporting.batch, reporting.runner\n"
            "print(json.dumps([m for m in ('duckdb', 'pandera') if m in sys.modules]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
    from reporting import runner, store

    assert runner.default_store_path() == store.default_store_path()
