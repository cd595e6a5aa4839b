"""The `crm-report pull` command: its summary and its errors."""

from __future__ import annotations

from typer.testing import CliRunner

from reporting.cli import app

from .conftest import TOKEN
from .fakes import FakePipedrive, pipedrive_fixture, serve

runner = CliRunner()


def test_pull_prints_rows_per_table_pages_and_the_cursor(httpserver, store, monkeypatch):
    fake = FakePipedrive(TOKEN, pipedrive_fixture(), page_size=50)
    url = serve(httpserver, fake)
    monkeypatch.setenv("CRM_REPORT_PIPEDRIVE_TOKEN", TOKEN)
    monkeypatch.setenv("COLUMNS", "200")
    r = runner.invoke(app, ["pull", "pipedrive", "--store", str(store), "--base-url", url])
    assert r.exit_code == 0, r.output
    assert "opportunities" in r.output and "opportunity_changes" in r.output
    assert "new pull" in r.output and "pages fetched" in r.output
    assert "cursor: deals 2024-04-15T11:00:00.000Z" in r.output
    assert TOKEN not in r.output
    r = runner.invoke(app, ["pull", "pipedrive", "--store", str(store), "--base-url", url])
    assert r.exit_code == 0 and "nothing changed since the last pull" in r.output


def test_pull_errors_are_one_line_without_a_traceback(store, monkeypatch):
    monkeypatch.delenv("CRM_REPORT_HUBSPOT_TOKEN", raising=False)
    r = runner.invoke(app, ["pull", "zoho", "--store", str(store)])
    assert r.exit_code == 2 and "unknown CRM 'zoho'" in r.output
    r = runner.invoke(app, ["pull", "hubspot", "--store", str(store), "--secrets",
                            str(store.parent / "missing.yaml")])
    assert r.exit_code == 2 and "does not exist" in r.output and "Traceback" not in r.output
