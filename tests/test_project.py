"""Projects (crm-report.yaml), package data, and the requests the CLI builds.

The CLI tests check the :class:`~reporting.runs.RunRequest` a command builds, with the run
itself patched out (the way papermill's CLI tests patch ``execute_notebook``); end-to-end
runs are in test_report_e2e.py and test_batch.py.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from reporting import project, resources
from reporting.cli import app
from reporting.exceptions import ParamsError
from reporting.runs import Executor, ReportSpec, RunOutcome, RunRequest

runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_project_leaks(monkeypatch):
    monkeypatch.delenv(project.PROJECT_ENV, raising=False)
    monkeypatch.delenv("CRM_REPORT_STORE", raising=False)
    project.use(None)
    yield
    project.use(None)


def _init(tmp_path: Path, **kw) -> Path:
    d = tmp_path / "acme"
    project.init_project(d, **kw)
    return d


# --------------------------------------------------------------------------- package data


def test_resources_are_found_inside_the_package():
    pkg = Path(project.__file__).parent
    for folder in (resources.notebooks_dir(), resources.templates_dir(), resources.params_dir()):
        assert folder.is_dir() and folder.is_relative_to(pkg)
    assert resources.shipped_notebooks() == ["company_rollup", "explore", "monthly_sales_report",
                                             "rep_scorecard", "trend_report"]
    assert {p.stem for p in resources.sources_dir().glob("*.yaml")} >= {
        "hubspot", "maven", "pipedrive", "salesforce", "salesforce_history",
        "salesforce_field_history", "pipedrive_flow", "salesforce_api", "hubspot_api",
        "pipedrive_api"}
    assert (resources.templates_dir() / "crm_report" / "index.html.j2").is_file()


def test_no_module_derives_a_resource_path_from_the_checkout():
    """Nothing climbs out of the package with __file__ (what broke the installed wheel)."""
    pkg = Path(project.__file__).parent
    offenders = [str(f.relative_to(pkg)) for f in pkg.rglob("*.py")
                 if "parents[" in f.read_text(encoding="utf-8")
                 and "__file__" in f.read_text(encoding="utf-8")]
    assert offenders == []


def test_pyproject_ships_every_resource_file():
    """Every file under reporting/resources matches a package-data pattern (a new template
    folder not listed would be missing from the wheel)."""
    import fnmatch
    import tomllib

    root = Path(project.__file__).parents[1]
    conf = tomllib.loads((root / "pyproject.toml").read_text())
    patterns = conf["tool"]["setuptools"]["package-data"]["reporting.resources"]
    res = resources.params_dir().parent
    files = [str(f.relative_to(res)) for f in res.rglob("*")
             if f.is_file() and "__pycache__" not in f.parts and f.suffix != ".py"]
    unshipped = [f for f in files if not any(
        fnmatch.fnmatch(f, p) or fnmatch.fnmatch(f, p.replace("**/", "")) for p in patterns)]
    assert files and unshipped == []


# --------------------------------------------------------------------------- init


def test_init_creates_an_editable_project(tmp_path):
    d = _init(tmp_path, company="Acme GmbH", currency="EUR", timezone="Europe/Berlin",
              language="fa")
    cfg = yaml.safe_load((d / "crm-report.yaml").read_text())
    assert cfg == {"company": "Acme GmbH", "store": "data/crm.duckdb", "reports": "reports",
                   "params": "params", "notebooks": "notebooks", "currency": "EUR",
                   "timezone": "Europe/Berlin", "language": "fa"}
    for f in ("report.yaml", "baselines.yaml", "schedule.yaml", "sources/maven.yaml",
              "sources/salesforce.yaml", "sources/hubspot.yaml", "sources/pipedrive.yaml"):
        assert (d / "params" / f).is_file(), f
    assert sorted(p.name for p in (d / "notebooks").glob("*.ipynb")) == [
        "company_rollup.ipynb", "explore.ipynb", "monthly_sales_report.ipynb",
        "rep_scorecard.ipynb", "trend_report.ipynb"]
    ignored = (d / ".gitignore").read_text().split()
    assert "data/" in ignored and "reports/" in ignored
    # the copied report.yaml leaves company / currency / timezone to crm-report.yaml
    report = yaml.safe_load((d / "params" / "report.yaml").read_text())
    assert not {"company", "currency", "timezone"} & set(report)
    # and the settings a report sees are the project's
    proj = project.use(d)
    from reporting.params import load_settings

    s = load_settings()
    assert (s.company, s.currency, s.timezone) == ("Acme GmbH", "EUR", "Europe/Berlin")
    assert proj.params == d / "params" and project.default_language() == "fa"


def test_init_never_overwrites(tmp_path):
    d = _init(tmp_path)
    (d / "params" / "report.yaml").write_text("title: mine\n")
    with pytest.raises(project.ProjectError, match="never overwrites"):
        project.init_project(d)
    assert (d / "params" / "report.yaml").read_text() == "title: mine\n"


@pytest.mark.parametrize(("kw", "match"), [
    ({"currency": "euro"}, "ISO 4217"),
    ({"timezone": "Mars/Olympus"}, "IANA time zone"),
    ({"company": "Acme\nBcc: x@evil"}, "one line"),
    ({"language": "de"}, "language"),
])
def test_init_validates_what_it_writes(tmp_path, kw, match):
    with pytest.raises(project.ProjectError, match=match):
        project.init_project(tmp_path / "p", **kw)
    assert not (tmp_path / "p" / "crm-report.yaml").exists()


# --------------------------------------------------------------------------- discovery


def test_commands_find_the_project_by_walking_up(tmp_path, monkeypatch):
    d = _init(tmp_path)
    deep = d / "notebooks" / "work" / "deeper"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    proj = project.current()
    assert proj is not None and proj.root == d.resolve()
    # paths in crm-report.yaml are relative to the project, not to the working folder
    assert project.default_store() == d.resolve() / "data" / "crm.duckdb"
    assert project.default_reports() == d.resolve() / "reports"


def test_environment_and_option_choose_the_project(tmp_path, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    project.init_project(a)
    project.init_project(b)
    monkeypatch.chdir(a)
    monkeypatch.setenv(project.PROJECT_ENV, str(b))
    assert project.current().root == b.resolve()
    project.use(a)  # --project wins over the environment
    assert project.current().root == a.resolve()


def test_a_missing_project_or_params_is_an_error_not_the_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["--project", str(tmp_path / "typo"), "params", "check"])
    assert res.exit_code == 2 and "does not exist" in res.output, res.output
    monkeypatch.setenv(project.PROJECT_ENV, str(tmp_path / "nope"))
    res = runner.invoke(app, ["params", "check"])
    assert res.exit_code == 2 and "CRM_REPORT_PROJECT" in res.output, res.output
    monkeypatch.delenv(project.PROJECT_ENV)
    res = runner.invoke(app, ["params", "check", "--params", "/typo"])
    assert res.exit_code == 2 and "/typo does not exist" in res.output, res.output
    # a project whose crm-report.yaml names a params folder that is gone
    d = _init(tmp_path)
    (d / "crm-report.yaml").write_text("params: gone\n")
    res = runner.invoke(app, ["--project", str(d), "params", "check"])
    assert res.exit_code == 2 and "'gone' is not a folder" in res.output, res.output


def test_outside_a_project_commands_say_they_use_built_in_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["params", "check"])
    assert res.exit_code == 0, res.output
    assert "using built-in defaults" in res.output and "crm-report init" in res.output
    d = _init(tmp_path)
    monkeypatch.chdir(d)
    res = runner.invoke(app, ["params", "check"])
    assert res.exit_code == 0 and "built-in defaults" not in res.output, res.output


def test_invalid_project_file_names_the_file_and_key(tmp_path):
    d = _init(tmp_path)
    (d / "crm-report.yaml").write_text("company: X\nstroe: data/x.duckdb\n")
    with pytest.raises(project.ProjectError, match=r"(?s)crm-report.yaml.*stroe"):
        project.load(d)


def test_report_yaml_disagreeing_with_the_project_is_an_error(tmp_path):
    from reporting.params import load_settings

    d = _init(tmp_path, currency="EUR")
    with open(d / "params" / "report.yaml", "a") as fh:
        fh.write("currency: USD\n")
    project.use(d)
    with pytest.raises(project.ProjectError, match=r"currency is 'EUR' in .*crm-report.yaml "
                                                   r"but 'USD' in .*report.yaml"):
        load_settings()


def test_a_projects_own_mapping_wins_over_the_shipped_one(tmp_path):
    from reporting.sources import available_sources, load_mapping

    d = _init(tmp_path)
    mine = d / "params" / "sources" / "maven.yaml"
    mine.write_text(mine.read_text().replace("name: maven", "name: maven-acme", 1))
    (d / "params" / "sources" / "acme_erp.yaml").write_text(mine.read_text())
    project.use(d)
    assert load_mapping("maven").path == mine
    assert "acme_erp" in available_sources() and "salesforce" in available_sources()


def test_notebook_copies_a_shipped_notebook_and_runs_use_it(tmp_path):
    from reporting.project import notebook_path

    d = tmp_path / "p"
    d.mkdir()
    (d / "crm-report.yaml").write_text("notebooks: nb\n")
    proj = project.use(d)
    assert notebook_path("rep_scorecard") == resources.notebooks_dir() / "rep_scorecard.ipynb"
    dest = project.copy_notebook("rep_scorecard", proj)
    assert dest == d.resolve() / "nb" / "rep_scorecard.ipynb"
    assert dest.read_bytes() == (resources.notebooks_dir() / "rep_scorecard.ipynb").read_bytes()
    assert notebook_path("rep_scorecard") == dest
    with pytest.raises(project.ProjectError, match="--force"):
        project.copy_notebook("rep_scorecard", proj)
    with pytest.raises(ParamsError, match="shipped: company_rollup, explore, monthly_sales_report"):
        project.copy_notebook("../../etc/passwd", proj)
    with pytest.raises(ParamsError, match="no notebook 'nope'"):
        notebook_path("nope")


def test_version_and_notebook_list_commands(tmp_path, monkeypatch):
    from reporting import __version__

    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output.strip() == f"crm-report {__version__}"
    d = _init(tmp_path)
    monkeypatch.chdir(d)
    res = runner.invoke(app, ["notebook"])
    assert res.exit_code == 0
    assert "monthly_sales_report (project copy)" in res.output, res.output
    res = runner.invoke(app, ["init", str(d)])
    assert res.exit_code == 2 and "never overwrites" in res.output


# --------------------------------------------------------------------------- requests


@pytest.fixture
def captured(monkeypatch):
    seen: list[RunRequest] = []

    def fake_execute(request, on_done=None, on_plan=None):
        seen.append(request)
        return RunOutcome()

    monkeypatch.setattr("reporting.runs.execute", fake_execute)
    monkeypatch.setattr("reporting.scheduler.execute", fake_execute)
    return seen


def test_run_builds_one_request(captured, tmp_path, monkeypatch):
    d = _init(tmp_path, language="fa")
    monkeypatch.chdir(d)
    res = runner.invoke(app, ["run", "--period", "2026-10", "--region", "EMEA", "--team",
                              "EMEA Inside", "--workers", "3", "--timeout", "99",
                              "--render-timeout", "42"])
    assert res.exit_code == 0, res.output
    (req,) = captured
    root = d.resolve()
    assert req == RunRequest(
        reports=(ReportSpec(periods=("2026-10",), name="monthly-regional", notebook=None,
                            regions=("EMEA",), teams=("EMEA Inside",), region_reports=False,
                            language="fa", timeout=99, render_timeout=42.0),),
        store=root / "data" / "crm.duckdb", reports_dir=root / "reports",
        params=root / "params", executor=Executor("local", 3, None),
        refresh_bands=False, strict=True, skip_unchanged=False)


def test_run_options_override_the_project(captured, tmp_path, monkeypatch):
    d = _init(tmp_path)
    monkeypatch.chdir(d)
    other = tmp_path / "other-params"
    other.mkdir()
    res = runner.invoke(app, ["run", "--period", "2026-Q3", "--store", "/x/s.duckdb",
                              "--reports", "/x/r", "--params", str(other), "--language", "en",
                              "--report", "monthly-regional", "--notebook", "rep_scorecard",
                              "--executor", "dask", "--scheduler", "tcp://h:8786",
                              "--refresh-bands"])
    assert res.exit_code == 0, res.output
    (req,) = captured
    assert req.store == Path("/x/s.duckdb") and req.reports_dir == Path("/x/r")
    assert req.params == other and req.refresh_bands
    assert req.executor == Executor("dask", req.executor.workers, "tcp://h:8786")
    (spec,) = req.reports
    assert (spec.periods, spec.regions, spec.teams, spec.region_reports, spec.notebook) == (
        ("2026-Q3",), "all", (), True, "rep_scorecard")


@pytest.mark.parametrize(("args", "match"), [
    (["--period", "2999-01"], "in the future"),
    (["--period", "2026-10", "--executor", "dask"], "needs --scheduler"),
    (["--period", "2026-10", "--language", "de"], "language 'de'"),
    (["--period", "2026-10", "--report", "nope"], "schedule.yaml defines monthly-regional"),
    (["--period", "2026-10", "--region", "../etc"], "not a valid name"),
])
def test_run_refuses_bad_options_before_anything_runs(captured, tmp_path, monkeypatch, args,
                                                      match):
    monkeypatch.chdir(_init(tmp_path))
    res = runner.invoke(app, ["run", *args])
    assert res.exit_code == 2 and match in res.output, res.output
    assert captured == [] and "Traceback" not in res.output


def test_run_due_builds_one_request_from_the_schedule(captured, tmp_path, monkeypatch,
                                                      demo_store):
    d = _init(tmp_path)
    (d / "params" / "schedule.yaml").write_text(yaml.safe_dump({
        "defaults": {"timeout_seconds": 120, "language": "en"},
        "reports": [
            {"name": "monthly-regional", "notebook": "monthly_sales_report",
             "cadence": "monthly", "regions": "all", "catch_up": 2},
            {"name": "team-cards", "notebook": "rep_scorecard", "cadence": "quarterly",
             "regions": ["EMEA"], "teams": ["EMEA/EMEA Inside"], "catch_up": 1,
             "language": "fa", "render_timeout_seconds": 60},
        ]}))
    monkeypatch.chdir(d)
    res = runner.invoke(app, ["run-due", "--today", "2026-11-15", "--store", str(demo_store),
                              "--workers", "2"])
    assert res.exit_code == 0, res.output
    (req,) = captured
    assert (req.strict, req.skip_unchanged, req.executor) == (False, True,
                                                              Executor("local", 2, None))
    monthly, cards = req.reports
    assert monthly == ReportSpec(periods=("2026-09", "2026-10"), name="monthly-regional",
                                 notebook="monthly_sales_report", regions="all", teams=(),
                                 language="en", timeout=120, render_timeout=300.0)
    assert cards == ReportSpec(periods=("2026-Q3",), name="team-cards", notebook="rep_scorecard",
                               regions=("EMEA",), teams=("EMEA/EMEA Inside",), language="fa",
                               timeout=120, render_timeout=60.0)


def test_plan_resolves_scopes_once_for_both_commands(tmp_path, demo_store):
    """The planner behind run and run-due: bare team names give one report per region that
    has the team; strict requests refuse unknown scopes, scheduled ones report them."""
    from reporting.runs import plan

    spec = ReportSpec(periods=("2026-10",), regions=("EMEA", "Atlantis"),
                      teams=("EMEA Inside", "Nowhere Team"), region_reports=True)
    req = RunRequest(reports=(spec,), store=Path(demo_store), reports_dir=tmp_path,
                     strict=False)
    jobs, blocked, done = plan(req)
    assert [(j.region, j.team) for j in jobs] == [("EMEA", "all"), ("EMEA", "EMEA Inside")]
    assert sorted((r.label, r.status) for r in blocked) == [("Atlantis", "failed"),
                                                           ("Nowhere Team", "failed")]
    assert "unknown region 'Atlantis'" in next(r.error for r in blocked if r.label == "Atlantis")
    assert done == []
    manifest = jobs[0].manifest
    assert manifest["parameters_all"] == {"report": "monthly-regional",
                                          "notebook": "monthly_sales_report", "region": "EMEA",
                                          "team": "all", "period": "2026-10", "language": "en"}
    with pytest.raises(ParamsError, match="unknown region 'Atlantis'"):
        plan(RunRequest(reports=(spec,), store=Path(demo_store), reports_dir=tmp_path))


def test_skip_unchanged_leaves_finished_reports_alone(tmp_path, demo_store):
    from reporting.runs import plan

    spec = ReportSpec(periods=("2026-10",), regions=("EMEA",))
    req = RunRequest(reports=(spec,), store=Path(demo_store), reports_dir=tmp_path,
                     strict=False, skip_unchanged=True)
    (job,), _, _ = plan(req)
    out = job.output_dir()
    out.mkdir(parents=True)
    (out / "manifest.json").write_text(json.dumps({"status": "ok", **job.manifest}))
    jobs, _, done = plan(req)
    assert jobs == [] and done == ["monthly-regional EMEA 2026-10"]
    (out / "manifest.json").write_text(json.dumps({"status": "ok", **job.manifest,
                                                   "inputs_fingerprint": "changed"}))
    assert len(plan(req)[0]) == 1


def test_schedule_teams_bare_name_means_every_region_with_it(demo_store, tmp_path):
    from reporting.schedule import Schedule
    from reporting.scheduler import request_for

    sched = Schedule.model_validate({"reports": [
        {"name": "m", "cadence": "monthly", "catch_up": 1, "regions": ["EMEA"],
         "teams": ["EMEA Inside"]}]})
    req = request_for(sched, date(2026, 11, 5), demo_store, tmp_path, None)
    from reporting.runs import plan

    jobs, blocked, _ = plan(req)
    assert [(j.region, j.team, j.period) for j in jobs] == [
        ("EMEA", "all", "2026-10"), ("EMEA", "EMEA Inside", "2026-10")]


@pytest.mark.parametrize("name", ["monthly_sales_report", "rep_scorecard", "company_rollup",
                                  "trend_report"])
def test_report_notebooks_declare_what_the_runner_passes(name):
    """Report parameters are declared once for the runner (REPORT_PARAMETERS); each report
    notebook's parameters cell declares each of them with a type, and nothing else
    without a default the runner can leave alone."""
    import papermill as pm

    from reporting.runner import REPORT_PARAMETERS

    declared = pm.inspect_notebook(str(resources.notebooks_dir() / f"{name}.ipynb"))
    assert set(REPORT_PARAMETERS) <= set(declared), set(REPORT_PARAMETERS) - set(declared)
    for k in REPORT_PARAMETERS:
        assert declared[k]["inferred_type_name"] == "str", (k, declared[k])
    extra = set(declared) - set(REPORT_PARAMETERS)
    assert extra <= {"title"} and all(declared[k]["default"] for k in extra)


def test_info_command_prints_the_store_summary(demo_store):
    res = runner.invoke(app, ["info", "--store", str(demo_store)])
    assert res.exit_code == 0, res.output
    assert "regions: 4 (APAC, EMEA, LATAM, North America)" in res.output
    assert "Conversion (win rate, lead conversion, stage funnel): supported" in res.output
    res = runner.invoke(app, ["info", "--store", "/nonexistent/x.duckdb"])
    assert res.exit_code == 2 and "Traceback" not in res.output


def test_a_project_keeps_its_own_logo(tmp_path):
    """branding.logo is looked up in the params folder's assets/ first (a project's own
    logo), then in the shipped assets; a name that leads elsewhere is refused."""
    import base64

    from reporting.presentation.fragments import logo_data_uri

    d = _init(tmp_path)
    (d / "params" / "assets").mkdir()
    mine = b"<svg xmlns='http://www.w3.org/2000/svg'/>"
    (d / "params" / "assets" / "acme.svg").write_bytes(mine)
    uri = logo_data_uri("acme.svg", d / "params")
    assert uri == "data:image/svg+xml;base64," + base64.b64encode(mine).decode()
    shipped = logo_data_uri("logo.png", d / "params")  # not in the project: the shipped one
    assert shipped.startswith("data:image/png;base64,")
    (d / "params" / "assets" / "logo.png").write_bytes(b"\x89PNG mine")
    assert logo_data_uri("logo.png", d / "params") != shipped
    with pytest.raises(ParamsError, match="not a file"):
        logo_data_uri("../crm-report.yaml", d / "params")
