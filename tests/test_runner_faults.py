"""Faults give a clear status, leave no partial output, and a second run finishes the job:
a kernel that dies, a notebook that hangs, WeasyPrint failing, a full disk, a locked store,
a worker killed mid-batch; and bad parameters are clear errors before anything runs."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date

import nbformat
import pytest

from reporting.batch import Job, run_batch
from reporting.exceptions import ParamsError
from reporting.runner import run_report

pytestmark = pytest.mark.slow


def notebook_with(tmp_path, body: str):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('region = "x"\nteam = "all"\nperiod = ""\nstore = ""\n'
                                       'params_dir = ""\nartifacts = ""\nlanguage = "en"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(textwrap.dedent(body))]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / "fault.ipynb"
    nbformat.write(nb, path)
    return str(path)


def no_partial_output(out):
    assert not list(out.rglob("report.pdf")) and not list(out.rglob("report.html"))
    hidden = [p for p in out.rglob(".*") if p.is_dir()]
    assert hidden == [], hidden


def test_kernel_death_is_retried_once_then_reported(demo_store, tmp_path):
    nb = notebook_with(tmp_path, "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    out = tmp_path / "out"
    (r,) = run_batch([Job(region="EMEA", period="2026-09", store=str(demo_store),
                          reports_dir=str(out), notebook=nb)])
    assert r.status == "failed" and r.attempts == 2
    assert "kernel" in r.error.lower() and "died" in r.error.lower()
    assert r.failure_dir.endswith("emea.failed")
    no_partial_output(out)


def test_hanging_notebook_times_out(demo_store, tmp_path):
    nb = notebook_with(tmp_path, "import time\ntime.sleep(600)")
    out = tmp_path / "out"
    t = time.perf_counter()
    (r,) = run_batch([Job(region="EMEA", period="2026-09", store=str(demo_store),
                          reports_dir=str(out), notebook=nb, timeout=3)])
    assert r.status == "timeout" and time.perf_counter() - t < 60
    no_partial_output(out)


@pytest.mark.parametrize("fault", ["weasyprint", "disk full"])
def test_render_faults_leave_nothing_and_a_rerun_succeeds(demo_store, demo_artifacts, tmp_path,
                                                         monkeypatch, fault):
    import reporting.runner as runner

    out = tmp_path / "out"
    if fault == "weasyprint":
        def broken(html, target):
            raise RuntimeError("cairo: out of memory")
        monkeypatch.setattr(runner, "html_to_pdf", broken)
    else:
        real = runner.write_json_atomic

        def full(path, payload):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        monkeypatch.setattr(runner, "write_json_atomic", full)
    (r,) = run_batch([Job(region="EMEA", period="2026-09", store=str(demo_store),
                          reports_dir=str(out), artifacts=str(demo_artifacts))])
    assert r.status == "failed"
    assert ("out of memory" in r.error) if fault == "weasyprint" else ("No space left" in r.error)
    no_partial_output(out)
    monkeypatch.undo()
    if fault == "disk full":
        assert runner.write_json_atomic is real
    (ok,) = run_batch([Job(region="EMEA", period="2026-09", store=str(demo_store),
                           reports_dir=str(out), artifacts=str(demo_artifacts))])
    assert ok.status == "ok" and (out / "2026-09" / "emea" / "report.pdf").exists()
    assert not (out / "2026-09" / "emea.failed").exists()  # the success clears it


def test_locked_store_is_a_clear_status(demo_store, demo_artifacts, tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('locked', flush=True); time.sleep(60)", str(demo_store)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        out = tmp_path / "out"
        (r,) = run_batch([Job(region="EMEA", period="2026-09", store=str(demo_store),
                              reports_dir=str(out))])
        assert r.status == "failed" and "another process" in r.error
        no_partial_output(out)
    finally:
        holder.kill()
        holder.wait()
    (ok,) = run_batch([Job(region="EMEA", period="2026-09", store=str(demo_store),
                           reports_dir=str(out), artifacts=str(demo_artifacts))])
    assert ok.status == "ok"


def test_worker_killed_mid_batch_then_run_due_completes(demo_store, tmp_path):
    import shutil

    import yaml

    from reporting.scheduler import run_due

    from .conftest import PARAMS_DIR

    params = tmp_path / "params"
    shutil.copytree(PARAMS_DIR, params)
    (params / "schedule.yaml").write_text(yaml.safe_dump({"reports": [{
        "name": "monthly-regional", "regions": ["EMEA", "APAC"], "catch_up": 1}]}))
    out = tmp_path / "reports"
    env = {**os.environ, "CRM_REPORT_STORE": str(demo_store)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "reporting.cli", "run-due", "--today", "2026-10-05",
         "--reports", str(out), "--params", str(params), "--workers", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and not list((out / "2026-09").glob(".*/report.ipynb")):
        time.sleep(0.05)
    # kill one pool worker (a child of the run-due process running a report)
    kids = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True)
    pids = [int(p) for p in kids.stdout.split()]
    assert pids, "no worker processes found"
    os.kill(pids[-1], signal.SIGKILL)
    proc.wait(timeout=300)
    assert proc.returncode != 0  # the batch reports the failure
    done = run_due(date(2026, 10, 5), demo_store, out, params, workers=1)
    assert all(r.status == "ok" for r in done.results)
    for region in ("emea", "apac"):
        assert (out / "2026-09" / region / "report.pdf").exists()
    assert not [p for p in (out / "2026-09").iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("kwargs, message", [
    ({"region": "EMEA", "period": "2099-01"}, "future"),
    ({"region": "EMEA", "period": "2026-13"}, "period"),
    ({"region": 'x"); import os; os.system("id', "period": "2026-09"}, "not a valid name"),
    ({"region": "../../etc", "period": "2026-09"}, "not a valid name"),
    ({"region": "EMEA", "period": "2026-09", "language": "de"}, "language"),
])
def test_bad_parameters_are_clear_errors(demo_store, tmp_path, kwargs, message):
    with pytest.raises(ParamsError, match=message):
        run_report(store=demo_store, reports_dir=tmp_path, **kwargs)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("content, message", [
    ("company: [unclosed", "not valid YAML"),
    ("stale_days: many", "stale_days"),
    ("branding: {primary: red}", "colour"),
    ("!!python/object/apply:os.system ['id']", "YAML"),
])
def test_bad_params_files_are_clear_errors(tmp_path, content, message):
    import shutil

    from reporting.params import load_settings

    from .conftest import PARAMS_DIR

    d = tmp_path / "params"
    shutil.copytree(PARAMS_DIR, d)
    (d / "report.yaml").write_text(content)
    with pytest.raises(ParamsError, match=message):
        load_settings(d)
