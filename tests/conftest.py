from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from reporting.resources import params_dir

ROOT = Path(__file__).resolve().parents[1]
PARAMS_DIR = params_dir()  # the shipped params (reporting/resources/params)
SHARED_DATA = ROOT.parent / "shared" / "data"
DEMO_END = date(2026, 10, 31)


def shared(name: str) -> Path:
    """A data set in ../shared/data, or skip the test with the reason."""
    p = SHARED_DATA / name
    if not p.exists():
        pytest.skip(f"{p} is absent (the shared data folder is not beside this checkout)")
    return p


def has_translation(text: str, language: str) -> bool:
    """Whether ``text`` is a message of ``language``'s catalogue (a chart's tick label is
    ours, or data such as a rep's name). Reads gettext's table, which only tests need."""
    from reporting.i18n import translations

    if language == "en" or not text:
        return False
    missing = object()
    return translations(language)._catalog.get(text, missing) is not missing  # noqa: SLF001


@pytest.fixture(scope="session")
def demo_tables():
    from reporting import demo

    return demo.generate(seed=3, scale=0.15, end=DEMO_END)


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory, demo_tables) -> Path:
    from reporting.store import replace_all

    path = tmp_path_factory.mktemp("store") / "crm.duckdb"
    replace_all(path, demo_tables)
    return path


@pytest.fixture(scope="session")
def maven_forecast_store(tmp_path_factory) -> Path:
    """The public Maven export ingested once for the forecast tests (tests/test_forecast*)."""
    from reporting.ingest import ingest_paths

    path = tmp_path_factory.mktemp("maven_fc") / "crm.duckdb"
    ingest_paths([shared("maven_crm")], "maven", path)
    return path


@pytest.fixture(scope="session")
def demo_artifacts(tmp_path_factory, demo_store) -> Path:
    """The shared artifacts of ``demo_store`` for 2026-09 (band reference, CLV model, the
    forecast's backtest), computed once, for the tests that run real reports to test
    something else (faults, executors): a report given them skips the work in its kernel,
    as every report of ``crm-report run`` does."""
    from reporting.batch import build_artifacts
    from reporting.periods import parse_period

    d = tmp_path_factory.mktemp("artifacts")
    return build_artifacts(demo_store, parse_period("2026-09"), None, d / "artifacts.json",
                           reference=d / "bands.json")


@pytest.fixture(autouse=True)
def _default_formats():
    """A report context activates its language and currency for every formatter (a module
    global, as a notebook kernel needs); each test starts and ends with the defaults."""
    from reporting import formatting

    with formatting.using():
        yield
