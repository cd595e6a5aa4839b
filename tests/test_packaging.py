"""The package as a new user gets it: a wheel and an sdist that pass ``twine check``, and the
wheel installed (not editable) into a fresh virtualenv runs demo-data, an ingest of the
Maven export and a report from a folder that has nothing to do with this checkout.

To stay within the test budget and work offline, the fresh virtualenv reaches the
dependencies of the test environment through a ``.pth`` line (directories named in a
``.pth`` file are added to ``sys.path`` without processing their own ``.pth`` files, so
this checkout's editable install is not visible; ``JUPYTER_PATH`` points at the test
environment's nbconvert templates for the same reason). ``make package-check`` installs the wheel
with its dependencies from PyPI instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from .conftest import ROOT, SHARED_DATA

pytestmark = pytest.mark.slow


def _run(args, cwd, env, timeout=900):
    res = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                         timeout=timeout)
    assert res.returncode == 0, f"{args}\n{res.stdout}\n{res.stderr}"
    return res.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
         ROOT, env)
    return out


def test_wheel_and_sdist_pass_twine_check(dist):
    files = sorted(p.name for p in dist.iterdir())
    assert len(files) == 2 and files[0].endswith(".whl") and files[1].endswith(".tar.gz")
    out = _run([sys.executable, "-m", "twine", "check", "--strict", *map(str, dist.iterdir())],
               dist, dict(os.environ))
    assert out.count("PASSED") == 2


def test_wheel_ships_the_compiled_catalogue(dist):
    """The wheel has each language's .mo (compiled by setup.py's build_py) beside its .po;
    the sdist has the .po and the .pot to build from, and no .mo."""
    import tarfile
    import zipfile

    wheel = zipfile.ZipFile(next(dist.glob("*.whl"))).namelist()
    assert {"reporting/locale/messages.pot", "reporting/locale/fa/LC_MESSAGES/messages.po",
            "reporting/locale/fa/LC_MESSAGES/messages.mo"} <= set(wheel)
    with tarfile.open(next(dist.glob("*.tar.gz"))) as tar:
        sdist = [n.split("/", 1)[1] for n in tar.getnames() if "/" in n]
    assert {"setup.py", "reporting/locale/messages.pot",
            "reporting/locale/fa/LC_MESSAGES/messages.po"} <= set(sdist)
    assert not [n for n in sdist if n.endswith(".mo")]


def test_installed_wheel_reports_from_an_unrelated_folder(dist, tmp_path):
    target = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(target)
    py = target / "bin" / "python"
    site = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     tmp_path, {}).strip())
    (site / "test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    wheel = next(dist.glob("*.whl"))
    # nbconvert's base templates are data files under the test environment's prefix
    env = {"PATH": f"{target / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path),
           "LANG": "C.UTF-8", "JUPYTER_PATH": str(Path(sys.prefix) / "share" / "jupyter")}
    _run([str(py), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
         tmp_path, env)
    where = _run([str(py), "-c", "import reporting, reporting.resources as r; "
                  "print(reporting.__file__); print(r.templates_dir())"], tmp_path, env)
    assert all(Path(line).is_relative_to(target) for line in where.split()), where

    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    cli = str(target / "bin" / "crm-report")
    _run([cli, "init", "acme", "--company", "Acme GmbH", "--currency", "EUR"], elsewhere, env)
    acme = elsewhere / "acme"
    _run([cli, "demo-data", "--scale", "0.2"], acme, env)
    if (SHARED_DATA / "maven_crm").is_dir():
        out = _run([cli, "ingest", str(SHARED_DATA / "maven_crm"), "--source", "maven",
                    "--store", "data/maven.duckdb"], acme, env)
        assert "total" in out and (acme / "data" / "maven.duckdb").is_file()
    out = _run([cli, "run", "--region", "EMEA", "--period", "last-complete-month",
                "--workers", "1"], acme, env)
    pdfs = list((acme / "reports").glob("*/emea/report.pdf"))
    assert len(pdfs) == 1 and pdfs[0].stat().st_size > 50_000, out
    assert (pdfs[0].parent / "report.html").read_text().count("Acme GmbH") >= 1
