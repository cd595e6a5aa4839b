"""Shared artifacts are reused when nothing they depend on changed (issue 17, requirement 2):
a second build of the same period with the same store, params and code reuses
``artifacts.json`` / ``clv.parquet`` instead of choosing and fitting the CLV model again;
any change, ``--refresh-bands`` or a damaged file computes them again (never a crash)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from reporting import batch
from reporting.batch import shared_artifacts
from reporting.models import reference
from reporting.periods import parse_period

from .conftest import PARAMS_DIR

OCT = parse_period("2026-10")


class Refit(AssertionError):
    pass


def _no_refit(*_a, **_k):
    raise Refit("the CLV model was chosen by backtest again")


#: what the stand-in backtest returns (see :func:`_fixed_backtest`)
FIXED_BACKTEST = {"chosen": "naive", "horizon_days": 30, "origins": [], "table": [],
                  "calibration": {}, "reliability": [], "notes": ["stand-in"]}


@pytest.fixture(autouse=True)
def _fixed_backtest(request, monkeypatch):
    """The cache's rules do not depend on what the forecast backtest finds, so a fixed
    result stands in for it here (each real one costs seconds; the backtest itself is
    tested in tests/test_forecast*.py and, inside the shared artifacts, in
    tests/test_forward_report.py). The end-to-end report test keeps the real one."""
    if request.node.get_closest_marker("slow") is None:
        monkeypatch.setattr(batch, "forecast_backtest", lambda *_a, **_k: FIXED_BACKTEST)


@pytest.fixture
def store(demo_store, tmp_path) -> Path:
    """A private copy of the demo store (some tests edit it)."""
    p = tmp_path / "crm.duckdb"
    shutil.copy(demo_store, p)
    return p


def _build(store, tmp_path, period=OCT, params=None, refresh=False, target=None):
    reports = tmp_path / "reports"
    return shared_artifacts(store, period, params,
                            target or reports / "2026-10" / "_run" / "artifacts.json",
                            refresh, reports / "_reference" / "bands.json")


def test_second_build_with_nothing_changed_reuses(store, tmp_path, monkeypatch):
    first = _build(store, tmp_path)
    assert first.status == "computed" and not first.reused
    saved = first.path.read_bytes()
    clv = first.path.with_name("clv.parquet").read_bytes()
    assert json.loads(saved)["fingerprint"] == first.fingerprint
    assert json.loads(saved)["clv"]["file"] == "clv.parquet"  # the demo has revenue
    # the backtest in a file of its own (written last), read back with the rest
    assert json.loads(saved)["backtest_file"] == "artifacts.backtest.json"
    from reporting.context import read_artifacts

    assert read_artifacts(first.path)["backtest"] == FIXED_BACKTEST
    assert "backtest" not in read_artifacts(first.path, backtest=False)
    bt_saved = batch.backtest_path(first.path).read_bytes()
    monkeypatch.setattr(reference, "choose_model", _no_refit)
    monkeypatch.setattr(batch, "learn_reference", _no_refit)
    monkeypatch.setattr(batch, "forecast_backtest", _no_refit)  # nor backtested again
    second = _build(store, tmp_path)
    assert second.reused and second.status == "reused"
    assert second.fingerprint == first.fingerprint and second.path == first.path
    # untouched, byte for byte
    assert first.path.read_bytes() == saved
    assert first.path.with_name("clv.parquet").read_bytes() == clv
    assert batch.backtest_path(first.path).read_bytes() == bt_saved
    # the plain wrapper the notebooks' callers use reuses too
    assert batch.build_artifacts(store, OCT, None, first.path, False,
                                 tmp_path / "reports" / "_reference" / "bands.json") == first.path


def test_an_edited_revenue_row_recomputes(store, tmp_path):
    """One revenue amount changed in place: same row counts, same ingest log (which the
    store's data fingerprint alone would not see), still a new fingerprint."""
    first = _build(store, tmp_path)
    with duckdb.connect(str(store)) as con:
        n = con.execute("SELECT COUNT(*) FROM revenue").fetchone()[0]
        con.execute("UPDATE revenue SET amount = amount + 1 WHERE rowid = "
                    "(SELECT MIN(rowid) FROM revenue WHERE date < DATE '2026-11-01')")
        assert con.execute("SELECT COUNT(*) FROM revenue").fetchone()[0] == n
    second = _build(store, tmp_path)
    assert not second.reused and second.fingerprint != first.fingerprint
    assert json.loads(second.path.read_text())["fingerprint"] == second.fingerprint


def test_a_replaced_store_recomputes(store, tmp_path, demo_tables):
    """The store rebuilt with one opportunity row fewer (a new ingest log, a new id)."""
    from reporting.store import replace_all

    first = _build(store, tmp_path)
    tables = dict(demo_tables)
    tables["opportunities"] = demo_tables["opportunities"].iloc[1:]
    replace_all(store, tables)
    assert not _build(store, tmp_path).reused
    assert _build(store, tmp_path).fingerprint != first.fingerprint


def test_changed_params_recompute(store, tmp_path):
    params = tmp_path / "params"
    shutil.copytree(PARAMS_DIR, params)
    first = _build(store, tmp_path, params=params)
    assert _build(store, tmp_path, params=params).reused
    cfg = yaml.safe_load((params / "report.yaml").read_text())
    assert cfg["clv"]["discount_rate"] != 0.25
    cfg["clv"]["discount_rate"] = 0.25
    (params / "report.yaml").write_text(yaml.safe_dump(cfg))
    second = _build(store, tmp_path, params=params)
    assert not second.reused and second.fingerprint != first.fingerprint
    assert json.loads(second.path.read_text())["clv"]["discount_rate"] == 0.25


def test_a_new_code_version_recomputes(store, tmp_path, monkeypatch):
    """The code (package, shipped notebooks and params) is part of the fingerprint: an
    upgrade computes the artifacts again, and so does going back to the earlier code
    (the file then holds the other version's), with the earlier fingerprint."""
    from reporting import schedule

    first = _build(store, tmp_path)
    real = schedule.code_version
    monkeypatch.setattr(schedule, "code_version", lambda *a, **k: "another-version")
    second = _build(store, tmp_path)
    assert not second.reused and second.fingerprint != first.fingerprint
    assert _build(store, tmp_path).reused
    monkeypatch.setattr(schedule, "code_version", real)
    third = _build(store, tmp_path)
    assert not third.reused and third.fingerprint == first.fingerprint


def test_a_second_cli_run_reuses_and_says_so(demo_store, tmp_path, monkeypatch):
    """``crm-report run``'s path (runs.execute): the second run of a period computes
    nothing (the CLV choice and the forecast backtest are not called) and reports the
    artifacts as reused; the reports themselves are stubbed (run_batch)."""
    from reporting import runs
    from reporting.runs import Executor, ReportSpec, RunRequest

    calls = {"backtest": 0, "clv": 0}

    def counting_backtest(*_a, **_k):
        calls["backtest"] += 1
        return FIXED_BACKTEST

    real_choose = reference.choose_model

    def counting_choose(*a, **k):
        calls["clv"] += 1
        return real_choose(*a, **k)

    monkeypatch.setattr(batch, "forecast_backtest", counting_backtest)
    monkeypatch.setattr(reference, "choose_model", counting_choose)
    monkeypatch.setattr(runs, "run_batch", lambda jobs, *a, **k: [])
    request = RunRequest(reports=(ReportSpec(periods=("2026-10",), regions=("EMEA",)),),
                         store=demo_store, reports_dir=tmp_path / "reports",
                         executor=Executor("local", 1))
    first = runs.execute(request).artifacts["2026-10"]
    assert first.status == "computed" and calls == {"backtest": 1, "clv": 1}
    second = runs.execute(request).artifacts["2026-10"]
    assert second.status == "reused" and second.fingerprint == first.fingerprint
    assert calls == {"backtest": 1, "clv": 1}  # nothing computed again


def test_another_period_in_the_same_file_recomputes(store, tmp_path):
    target = tmp_path / "art" / "artifacts.json"
    first = _build(store, tmp_path, target=target)
    second = _build(store, tmp_path, period=parse_period("2026-09"), target=target)
    assert not second.reused and second.fingerprint != first.fingerprint
    assert json.loads(target.read_text())["period"] == "2026-09"


def test_refresh_bands_always_recomputes(store, tmp_path):
    _build(store, tmp_path)
    fresh = _build(store, tmp_path, refresh=True)
    assert not fresh.reused
    # the refreshed reference is the one the next plain run uses: it reuses
    again = _build(store, tmp_path)
    assert again.reused and again.fingerprint == fresh.fingerprint


def test_a_new_band_reference_recomputes(store, tmp_path):
    """The band reference is kept between runs: a deleted reference file is learned again
    and the artifacts rebuilt; so is one whose chosen reference changed."""
    first = _build(store, tmp_path)
    (tmp_path / "reports" / "_reference" / "bands.json").unlink()
    assert not _build(store, tmp_path).reused
    refs = tmp_path / "reports" / "_reference" / "bands.json"
    data = json.loads(refs.read_text())
    data["references"][0]["edges"] = {k: [1.0, 2.0] for k in data["references"][0]["edges"]}
    refs.write_text(json.dumps(data))
    second = _build(store, tmp_path)
    assert not second.reused and second.fingerprint != first.fingerprint
    assert set(map(tuple, json.loads(second.path.read_text())["band_edges"].values())) \
        == {(1.0, 2.0)}


@pytest.mark.parametrize("damage", ["delete clv", "corrupt clv", "truncate json",
                                    "empty json", "json not an object", "delete json",
                                    "no fingerprint"])
def test_a_damaged_or_partial_cache_recomputes(store, tmp_path, damage):
    first = _build(store, tmp_path)
    clv, art = first.path.with_name("clv.parquet"), first.path
    text = art.read_text()
    if damage == "delete clv":
        clv.unlink()
    elif damage == "corrupt clv":
        clv.write_bytes(clv.read_bytes()[:-10] + b"0123456789")
    elif damage == "truncate json":
        art.write_text(text[: len(text) // 2])
    elif damage == "empty json":
        art.write_bytes(b"")
    elif damage == "json not an object":
        art.write_text("[1, 2]")
    elif damage == "delete json":
        art.unlink()
    else:
        art.write_text(json.dumps({k: v for k, v in json.loads(text).items()
                                   if k != "fingerprint"}))
    second = _build(store, tmp_path)
    assert not second.reused and second.fingerprint == first.fingerprint
    assert json.loads(art.read_text()) == json.loads(text)  # rebuilt, readable, complete
    assert clv.exists()
    assert _build(store, tmp_path).reused


def test_a_json_pointing_outside_its_folder_is_not_reused(store, tmp_path):
    first = _build(store, tmp_path)
    data = json.loads(first.path.read_text())
    data["clv"]["file"] = "../../elsewhere.parquet"
    first.path.write_text(json.dumps(data))
    assert not _build(store, tmp_path).reused
    assert json.loads(first.path.read_text())["clv"]["file"] == "clv.parquet"


def test_clv_parquet_is_in_place_before_the_json_names_it(store, tmp_path, monkeypatch):
    """The write order that keeps a concurrent run from reading a JSON whose parquet is not
    there yet: the parquet's rename happens before the JSON's."""
    import os

    order: list[str] = []
    real = os.replace

    def spy(src, dst):
        order.append(Path(dst).name)
        return real(src, dst)

    monkeypatch.setattr(batch.os, "replace", spy)
    _build(store, tmp_path)
    # artifacts.json goes through runner.write_json_atomic (the same os.replace), then the
    # backtest that it names (readers of the backtest wait on its own pending mark)
    assert order[-2:] == ["artifacts.json", "artifacts.backtest.json"]
    assert order.index("clv.parquet") < order.index("artifacts.json")


@pytest.mark.slow
def test_reused_artifacts_give_the_same_report(demo_store, tmp_path):
    """Two ``crm-report run`` of one region and period: the second reuses the artifacts
    (says so), writes their fingerprint into the manifest, and its figures are the same."""
    from typer.testing import CliRunner

    from reporting.cli import app

    runner = CliRunner()
    reports = tmp_path / "reports"
    args = ["run", "--period", "2026-10", "--region", "EMEA", "--store", str(demo_store),
            "--reports", str(reports), "--workers", "1"]
    out = []
    for _ in range(2):
        res = runner.invoke(app, args)
        assert res.exit_code == 0, res.output
        folder = reports / "2026-10" / "emea"
        out.append((res.output, json.loads((folder / "metrics.json").read_text()),
                    json.loads((folder / "manifest.json").read_text())))
    (o1, m1, man1), (o2, m2, man2) = out
    assert "shared artifacts for 2026-10: computed" in o1
    assert "shared artifacts for 2026-10: reused" in o2
    assert m1["headline"] == m2["headline"] and m1["headline"]
    fp = json.loads((reports / "2026-10" / "_run" / "artifacts.json").read_text())["fingerprint"]
    assert man1["artifacts_fingerprint"] == man2["artifacts_fingerprint"] == fp


def test_a_missing_or_foreign_backtest_file_recomputes(store, tmp_path):
    """The artifacts are reusable only with their own finished backtest: a run killed
    while backtesting leaves artifacts.json without it, and a backtest file of other
    artifacts does not count."""
    first = _build(store, tmp_path)
    bt = batch.backtest_path(first.path)
    bt.unlink()
    assert not _build(store, tmp_path).reused
    data = json.loads(bt.read_text())
    bt.write_text(json.dumps({**data, "fingerprint": "0" * 16}))
    assert not _build(store, tmp_path).reused
    assert _build(store, tmp_path).reused


def test_the_bands_are_readable_while_the_backtest_runs(store, tmp_path, monkeypatch):
    """A kernel reads the bands and the CLV model while the backtest still runs, and
    waits for the backtest only when it asks for it; a failed backtest is told to that
    reader, not to the one who read the rest."""
    import threading

    from reporting.context import read_artifacts
    from reporting.handoff import HandoffError

    started, release = threading.Event(), threading.Event()

    def slow_backtest(*_a, **_k):
        started.set()
        assert release.wait(60)
        raise RuntimeError("no backtest today")

    monkeypatch.setattr(batch, "forecast_backtest", slow_backtest)
    reports = tmp_path / "reports"
    art = batch.start_shared_artifacts(store, OCT, None, reports / "2026-10" / "_run" /
                                       "artifacts.json",
                                       reference=reports / "_reference" / "bands.json")
    try:
        assert started.wait(120)
        shared = read_artifacts(art.path, backtest=False)  # does not wait
        assert "band_edges" in shared and "backtest" not in shared
    finally:
        release.set()
    with pytest.raises(RuntimeError, match="no backtest today"):
        art.wait()
    with pytest.raises(HandoffError, match="no backtest today"):
        read_artifacts(art.path)
    assert read_artifacts(art.path, backtest=False)["fingerprint"]
