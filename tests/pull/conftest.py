from __future__ import annotations

import pytest

from reporting.pull import http

TOKEN = "tok-SECRET-8f2a91c0e7"  # distinctive, so a leak is easy to grep for


@pytest.fixture(autouse=True)
def waits(monkeypatch) -> list[float]:
    """Retries do not really sleep; the waits they asked for are recorded."""
    got: list[float] = []
    monkeypatch.setattr(http, "_sleep", got.append)
    return got


@pytest.fixture
def store(tmp_path):
    return tmp_path / "data" / "crm.duckdb"
