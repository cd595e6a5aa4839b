"""Credentials: environment first, then a private secrets file; never shown anywhere."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reporting.pull import CredentialsError, PullError, pull
from reporting.pull.secrets import Secret, load_credentials

from .conftest import TOKEN
from .fakes import FakeSalesforce, salesforce_fixture, serve

ROOT = Path(__file__).resolve().parents[2]


def _secrets(tmp_path, text: str, mode: int = 0o600) -> Path:
    p = tmp_path / "secrets.yaml"
    p.write_text(text, encoding="utf-8")
    p.chmod(mode)
    return p


def test_environment_wins_over_the_file(tmp_path):
    p = _secrets(tmp_path, "hubspot: {token: from-file}\n")
    c = load_credentials("hubspot", p, {"CRM_REPORT_HUBSPOT_TOKEN": "from-env"})
    assert c.token.reveal() == "from-env"
    assert load_credentials("hubspot", p, {}).token.reveal() == "from-file"
    assert "from-file" not in repr(c) and str(Secret("x")) == "Secret('***')"


def test_salesforce_instance_url_from_the_file(tmp_path):
    p = _secrets(tmp_path, "salesforce: {token: t, instance_url: 'https://acme.my.salesforce.com'}\n")
    assert load_credentials("salesforce", p, {}).base_url == "https://acme.my.salesforce.com"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_file_others_can_read_is_refused(tmp_path, mode):
    p = _secrets(tmp_path, "hubspot: {token: s3cr3t}\n", mode)
    with pytest.raises(CredentialsError, match="chmod 600") as e:
        load_credentials("hubspot", p, {})
    assert "s3cr3t" not in str(e.value)


def test_a_symlinked_file_is_refused(tmp_path):
    real = _secrets(tmp_path, "hubspot: {token: s3cr3t}\n")
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    with pytest.raises(CredentialsError, match="symbolic link"):
        load_credentials("hubspot", link, {})


def test_bad_yaml_does_not_echo_the_file(tmp_path):
    p = _secrets(tmp_path, "hubspot: {token: s3cr3t\n")
    with pytest.raises(CredentialsError) as e:
        load_credentials("hubspot", p, {})
    assert "s3cr3t" not in str(e.value)


def test_missing_credentials_name_the_variable_and_the_key(tmp_path):
    with pytest.raises(CredentialsError, match=r"CRM_REPORT_PIPEDRIVE_TOKEN.*pipedrive: \{token"):
        load_credentials("pipedrive", None, {})


def test_a_paging_link_to_another_host_is_refused(httpserver, store):
    fake = FakeSalesforce(TOKEN, salesforce_fixture(), page_size=2)
    url = serve(httpserver, fake)
    orig = fake._page

    def evil(loc, start):
        r = orig(loc, start)
        r.set_data(r.get_data(as_text=True).replace(
            '"/services/data/v62.0/query/', '"http://evil.example/services/data/v62.0/query/'))
        return r

    fake._page = evil
    with pytest.raises(PullError, match="another host"):
        pull("salesforce", store, base_url=url, environ={"CRM_REPORT_SALESFORCE_TOKEN": TOKEN})


def _files_under(folder: Path):
    for dirpath, _dirs, names in os.walk(folder):
        for n in names:
            yield Path(dirpath) / n


@pytest.mark.slow  # three crm-report processes (~20 s)
def test_the_token_is_never_printed_logged_or_written(httpserver, tmp_path):
    """A pull by the CLI (a success, an interrupted pull, a refused token): the token is in
    no file under the store's folder (store, staging pages, Parquet, ingest log), nor in
    stdout or stderr; the staging folder and its files are private."""
    fake = FakeSalesforce(TOKEN, salesforce_fixture(), page_size=2)
    url = serve(httpserver, fake)
    store = tmp_path / "data" / "crm.duckdb"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CRM_REPORT_SALESFORCE_TOKEN": TOKEN,
           "COLUMNS": "200"}
    cmd = [sys.executable, "-c", "from reporting.cli import main; main()", "pull", "salesforce",
           "--store", str(store), "--base-url", url]
    outs = []
    fake.fail("/query/01gFAKE0000-2", 400, [{"errorCode": "INVALID_QUERY_LOCATOR"}])
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    outs += [r.stdout, r.stderr]
    assert r.returncode == 2 and "INVALID_QUERY_LOCATOR" in r.stderr
    staged = [p for p in _files_under(tmp_path / "data" / "pulls")]
    assert staged and all(p.stat().st_mode & 0o077 == 0 for p in staged)
    pull_dir = next((tmp_path / "data" / "pulls" / "salesforce").iterdir())
    assert pull_dir.stat().st_mode & 0o077 == 0
    blobs = [p.read_bytes() for p in staged]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    outs += [r.stdout, r.stderr]
    assert r.returncode == 0, r.stderr
    assert "resumed an interrupted pull" in r.stdout and "opportunities" in r.stdout
    bad = {**env, "CRM_REPORT_SALESFORCE_TOKEN": TOKEN + "-expired"}
    fake.records["Opportunity"][0]["SystemModstamp"] = "2024-06-01T00:00:00.000+0000"
    r = subprocess.run(cmd, env=bad, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    outs += [r.stdout, r.stderr]
    assert r.returncode == 2 and "CRM_REPORT_SALESFORCE_TOKEN" in r.stderr
    blobs += [p.read_bytes() for p in _files_under(tmp_path)]
    assert fake.log and all(e["headers"].get("Authorization", "").startswith("Bearer ")
                            for e in fake.log)
    for text in outs:
        assert TOKEN not in text
    for b in blobs:
        assert TOKEN.encode() not in b
