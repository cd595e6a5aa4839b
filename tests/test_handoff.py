"""The shared artifacts are computed while the reports' kernels start (issue 17): a kernel
waits for the file where it reads it, and gets a clear error, never a stale or half-written
file, when the producer fails, dies or is late (reporting.handoff)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from reporting import batch, handoff, runs
from reporting.context import read_artifacts
from reporting.handoff import HandoffError, mark_done, mark_failed, mark_pending, wait_ready
from reporting.periods import parse_period
from reporting.runs import Executor, ReportSpec, RunRequest

FIXED_BACKTEST = {"chosen": "naive", "horizon_days": 30, "origins": [], "table": [],
                  "calibration": {}, "reliability": [], "notes": ["stand-in"]}
OCT = parse_period("2026-10")


def test_a_file_nobody_produces_is_returned_at_once(tmp_path):
    target = tmp_path / "artifacts.json"
    assert wait_ready(target, timeout=0) == target  # absent: the caller's read says so
    target.write_text("{}")
    assert wait_ready(target, timeout=0) == target


def test_the_reader_waits_for_the_producer_and_reads_the_new_file(tmp_path):
    target = tmp_path / "artifacts.json"
    target.write_text('{"n": 1}')
    mark_pending(target)
    release = threading.Event()

    def produce():
        release.wait(10)
        tmp = tmp_path / "new.tmp"
        tmp.write_text('{"n": 2}')
        tmp.replace(target)
        mark_done(target)

    t = threading.Thread(target=produce)
    t.start()
    got = {}
    reader = threading.Thread(target=lambda: got.update(
        json.loads(wait_ready(target, timeout=30, poll=0.01).read_text())))
    reader.start()
    reader.join(0.3)
    assert reader.is_alive() and not got  # still waiting: the old file is not taken
    release.set()
    reader.join(30)
    t.join()
    assert got == {"n": 2}
    assert not handoff.pending_path(target).exists()


def test_a_failed_producer_stops_the_reader_with_its_message(tmp_path):
    target = tmp_path / "artifacts.json"
    mark_pending(target)
    mark_failed(target, "ValueError: no revenue table")
    with pytest.raises(HandoffError, match="computing it failed: ValueError: no revenue table"):
        wait_ready(target, timeout=30)
    mark_pending(target)  # the next run starts afresh: the old failure is gone
    mark_done(target)
    assert wait_ready(target, timeout=0) == target


def test_a_late_producer_is_a_timeout_naming_the_file(tmp_path):
    target = tmp_path / "artifacts.json"
    mark_pending(target)
    with pytest.raises(HandoffError, match=r"artifacts\.json: still being computed after 0\.1 s"):
        wait_ready(target, timeout=0.1, poll=0.01)


def test_the_timeout_comes_from_the_environment(tmp_path, monkeypatch):
    target = tmp_path / "artifacts.json"
    mark_pending(target)
    monkeypatch.setenv(handoff.WAIT_ENV, "0.05")
    with pytest.raises(HandoffError, match="after 0.05 s"):
        wait_ready(target, poll=0.01)


def test_a_killed_producer_is_an_error_not_a_wait(tmp_path):
    target = tmp_path / "artifacts.json"
    code = ("import sys, time; from pathlib import Path; from reporting.handoff import "
            "mark_pending; mark_pending(Path(sys.argv[1])); print('ready', flush=True); "
            "time.sleep(600)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(target)],
                            stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[1])
    try:
        assert proc.stdout.readline().strip() == "ready"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    assert handoff.pending_path(target).exists()  # killed: nobody cleared the mark
    with pytest.raises(HandoffError, match=rf"process {proc.pid}\) ended without finishing"):
        wait_ready(target, timeout=600)  # not a wait of 600 s: the producer is gone


# ------------------------------------------------------------- the artifacts in the background


@pytest.fixture
def slow_backtest(monkeypatch):
    """A stand-in backtest that returns when the test says so (``release``), or raises
    (``fail``)."""
    state = {"release": threading.Event(), "fail": None}

    def backtest(*_a, **_k):
        state["release"].wait(30)
        if state["fail"]:
            raise state["fail"]
        return FIXED_BACKTEST

    monkeypatch.setattr(batch, "forecast_backtest", backtest)
    return state


def test_background_artifacts_are_waited_for_by_their_reader(demo_store, tmp_path,
                                                             slow_backtest):
    target = tmp_path / "_run" / "artifacts.json"
    target.parent.mkdir()
    target.write_text('{"fingerprint": "stale", "band_edges": [], "band_reference": {}, '
                      '"band_drift": {}}')
    art = batch.start_shared_artifacts(demo_store, OCT, None, target,
                                       reference=tmp_path / "bands.json")
    assert isinstance(art, batch.PendingArtifacts)
    assert not target.exists()  # the stale file is gone before anyone is told the path
    got = {}
    reader = threading.Thread(target=lambda: got.update(read_artifacts(str(target))))
    reader.start()
    reader.join(0.3)
    assert reader.is_alive() and not got
    slow_backtest["release"].set()
    reader.join(60)
    done = art.wait()
    assert got["fingerprint"] == done.fingerprint == art.fingerprint
    assert done.fingerprint not in (None, "stale")
    assert got["backtest"] == FIXED_BACKTEST and not done.reused
    # the same again: reused at once, nothing pending
    again = batch.start_shared_artifacts(demo_store, OCT, None, target,
                                         reference=tmp_path / "bands.json")
    assert isinstance(again, batch.Artifacts) and again.reused
    assert again.fingerprint == done.fingerprint


def test_a_failing_background_step_reaches_reader_and_caller(demo_store, tmp_path,
                                                             slow_backtest):
    target = tmp_path / "_run" / "artifacts.json"
    slow_backtest["fail"] = RuntimeError("backtest broke")
    slow_backtest["release"].set()
    art = batch.start_shared_artifacts(demo_store, OCT, None, target,
                                       reference=tmp_path / "bands.json")
    with pytest.raises(HandoffError, match="computing it failed: RuntimeError: backtest broke"):
        read_artifacts(str(target))
    with pytest.raises(RuntimeError, match="backtest broke"):
        art.wait()
    # the bands and the CLV model were written before the backtest broke: a reader of
    # those alone gets them; the backtest's reader got the failure
    assert "backtest" not in read_artifacts(str(target), backtest=False)
    assert not batch.backtest_path(target).exists()


def test_execute_starts_the_reports_while_the_artifacts_are_computed(demo_store, tmp_path,
                                                                     slow_backtest,
                                                                     monkeypatch):
    """``run`` hands the jobs the pending path before the backtest ends; what a job reads
    there is the finished file; the outcome says they were computed."""
    seen = []

    def fake_batch(jobs, *_a, **_k):
        path = Path(jobs[0].artifacts)
        seen.append(handoff.pending_path(path).exists())  # the work is still going on
        # not known yet: the runner takes it from the file when it writes the manifest
        seen.append(jobs[0].manifest["artifacts_fingerprint"])
        slow_backtest["release"].set()
        seen.append(read_artifacts(str(path))["fingerprint"])
        return []

    monkeypatch.setattr(runs, "run_batch", fake_batch)
    request = RunRequest(reports=(ReportSpec(periods=("2026-10",), regions=("EMEA",)),),
                         store=demo_store, reports_dir=tmp_path / "reports",
                         executor=Executor("local", 1))
    art = runs.execute(request).artifacts["2026-10"]
    assert seen == [True, None, art.fingerprint] and art.status == "computed"


def test_execute_raises_what_the_background_step_raised(demo_store, tmp_path, slow_backtest,
                                                        monkeypatch):
    slow_backtest["fail"] = RuntimeError("backtest broke")
    errors = []

    def fake_batch(jobs, *_a, **_k):
        slow_backtest["release"].set()
        try:
            read_artifacts(jobs[0].artifacts)
        except HandoffError as exc:
            errors.append(str(exc))
        return []

    monkeypatch.setattr(runs, "run_batch", fake_batch)
    request = RunRequest(reports=(ReportSpec(periods=("2026-10",), regions=("EMEA",)),),
                         store=demo_store, reports_dir=tmp_path / "reports",
                         executor=Executor("local", 1))
    with pytest.raises(RuntimeError, match="backtest broke"):
        runs.execute(request)
    assert len(errors) == 1 and "RuntimeError: backtest broke" in errors[0]


# ------------------------------------------------------------- no fork beside a producer thread


def test_settle_waits_for_the_producer_threads(tmp_path):
    release = threading.Event()
    producer = handoff.start_producer(lambda: release.wait(30), "test-producer")
    settler = threading.Thread(target=handoff.settle)
    settler.start()
    settler.join(0.3)
    assert settler.is_alive()  # the producer still works: no fork yet
    release.set()
    settler.join(30)
    assert not settler.is_alive() and not producer.is_alive()
    handoff.settle()  # nothing left: returns at once


def test_the_render_child_is_forked_only_after_the_producers_ended(tmp_path, monkeypatch):
    """A report that does not read the artifacts (a trend) may finish before they do: its
    render child is forked only once the producer thread has ended."""
    from reporting.render import render_report

    from .test_redteam_runs import tiny_notebook

    order = []
    release = threading.Event()

    def work():
        release.wait(30)
        order.append("producer done")

    handoff.start_producer(work, "test-producer")
    real_fork = os.fork

    def fork():
        order.append("fork")
        return real_fork()

    monkeypatch.setattr(os, "fork", fork)
    threading.Timer(0.2, release.set).start()
    pages, _ = render_report(tiny_notebook(), "t", None, "en", tmp_path, timeout=60)
    assert pages == 1 and order == ["producer done", "fork"]
