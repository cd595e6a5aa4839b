"""Red team: hostile CRM text, careless operators, symbolic links and colliding names.

Every case reproduces one way the toolkit broke (issue 12) or one that held and must keep
holding; the reproduction is in the test. Ingest, rendering, delivery and worker cases live
in test_redteam_ingest.py, test_redteam_runs.py, test_render_security.py and
test_delivery.py.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import stat
import subprocess
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from reporting import paths
from reporting.cli import _progress_table, app
from reporting.exceptions import ParamsError
from reporting.periods import check_not_future, parse_period
from reporting.textsafe import neutralise_cells, visible

from .conftest import DEMO_END, PARAMS_DIR, ROOT

runner = CliRunner()

HOSTILE_NAMES = ["[/]", "[bold]x", "[link=https://x.test]click[/link]", "\x1b[31mred",
                 "\x1b]8;;https://x.test\x07link\x1b]8;;\x07", "bell\x07", "O'Brien",
                 "=HYPERLINK(\"http://x.test\")", "$\\foo$", "\u202eevil"]


def _store_with(tmp_path: Path, regions: dict[str, str] | None = None,
                reps: dict[str, str] | None = None) -> Path:
    """A small demo store with regions (and rep names) renamed."""
    from reporting import demo
    from reporting.store import replace_all

    t = demo.generate(seed=3, scale=0.05, end=DEMO_END)
    for name, frame in t.items():
        if regions and "region" in frame:
            t[name] = frame.assign(region=frame["region"].replace(regions))
    if reps:  # a person's name is their id in the demo: rename it everywhere
        for name, frame in t.items():
            t[name] = frame.apply(lambda c: c.replace(reps) if c.dtype == object else c)
    path = tmp_path / "crm.duckdb"
    replace_all(path, t)
    return path


def _no_raw_control(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text, repr(text)
    assert "Traceback" not in text


# --------------------------------------------------------------------------- 1. terminal


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_visible_shows_control_characters_escaped(name):
    out = visible(name)
    _no_raw_control(out)
    assert "\u202e" not in out
    if name.isprintable():
        assert out == name


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_result_table_prints_names_literally(name):
    """A region named like rich markup used to crash the final table of `run --region all`
    and of every run-due (MarkupError), so no report was listed and no e-mail went out."""
    from rich.console import Console

    from reporting.batch import JobResult

    con = Console(file=io.StringIO(), width=300, markup=False, highlight=False)
    con.print(_progress_table([JobResult(name, "2026-09", "failed", error=f"bad {name}"),
                               JobResult("EMEA", "2026-09", "ok", output="/r/emea")]))
    text = con.file.getvalue()
    _no_raw_control(text)
    assert visible(name) in text


@pytest.mark.parametrize("name", ["[/]", "[bold]x", "\x1b[31mred", "[link=https://x.test]y[/link]"])
def test_unknown_region_error_prints_the_name_literally(tmp_path, demo_store, name):
    res = runner.invoke(app, ["run", "--period", "2026-09", "--region", name,
                              "--store", str(demo_store), "--reports", str(tmp_path / "r")])
    assert res.exit_code == 2, res.output
    _no_raw_control(res.output)
    assert visible(name) in res.output


def test_hostile_region_in_the_store_does_not_crash_the_unknown_region_error(tmp_path):
    store = _store_with(tmp_path, regions={"APAC": "[/]", "LATAM": "\x1b]8;;https://x\x07L"})
    res = runner.invoke(app, ["run", "--period", "2026-09", "--region", "Mars",
                              "--store", str(store), "--reports", str(tmp_path / "r")])
    assert res.exit_code == 2
    _no_raw_control(res.output)
    assert "'[/]'" in res.output and "unknown region 'Mars'" in res.output


@pytest.mark.slow
def test_run_all_with_a_markup_region_still_produces_the_others(tmp_path):
    """`run --region all` with a region named `[/]`: that report fails on its own (its name
    is not a valid report name), the others are produced, and the table prints."""
    store = _store_with(tmp_path, regions={"APAC": "[/]", "LATAM": "[bold]", "EMEA": "x"})
    out = tmp_path / "reports"
    res = runner.invoke(app, ["run", "--period", "2026-09", "--region", "all", "--workers", "1",
                              "--store", str(store), "--reports", str(out)])
    assert res.exit_code == 1, res.output  # some failed, but the command finished
    _no_raw_control(res.output)
    assert "[/]" in res.output and "[bold]" in res.output
    assert (out / "2026-09" / "north-america" / "report.pdf").exists()
    assert (out / "2026-09" / "index.html").exists()


# --------------------------------------------------------------------------- 2. cleanup


def _abandoned(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / paths.TMP_MARKER).write_text(json.dumps(
        {"tool": "crm-report", "host": os.uname().nodename, "pid": 2**22 + 17,
         "start_time": "1", "created_at": "2026-01-01T00:00:00+00:00"}))
    (folder / "report.ipynb").write_text("{}")
    return folder


def test_cleanup_never_follows_a_symlinked_period_folder(tmp_path):
    """A period folder that is a symbolic link to a project made cleanup delete its .git
    and .venv (it removed every reports/*/.* folder through the link)."""
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    (project / ".venv").mkdir()
    (project / ".git" / "HEAD").write_text("ref: main")
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "2026-09").symlink_to(project, target_is_directory=True)
    assert paths.clean_abandoned(reports) == []
    assert (project / ".git" / "HEAD").exists() and (project / ".venv").is_dir()


def test_cleanup_with_a_mistyped_reports_folder_removes_nothing_it_did_not_make(tmp_path):
    """`run-due --reports ~` (a typo) used to remove the .git and .venv of every project in
    the home folder."""
    home = tmp_path / "home"
    for proj in ("a", "b"):
        (home / proj / ".git").mkdir(parents=True)
        (home / proj / ".venv").mkdir()
        (home / proj / ".cache").mkdir()
    assert paths.clean_abandoned(home) == []
    assert all((home / p / d).is_dir() for p in "ab" for d in (".git", ".venv", ".cache"))


def test_cleanup_removes_only_abandoned_folders_with_our_marker(tmp_path):
    reports = tmp_path / "reports"
    dead = _abandoned(reports / "2026-09" / ".emea.abc123")
    team_dead = _abandoned(reports / "2026-09" / "emea" / ".inside.x1")
    alive = paths.make_temp_dir((reports / "2026-09").resolve(), ".apac.")  # this process
    foreign = reports / "2026-09" / ".hidden-by-someone"
    foreign.mkdir()
    removed = paths.clean_abandoned(reports)
    assert sorted(removed) == sorted(str(p.resolve()) for p in (dead, team_dead))
    assert alive.is_dir() and foreign.is_dir()


def test_cleanup_keeps_the_folder_of_a_run_in_progress(tmp_path):
    """A manual `run` beside `run-due` lost its temporary folder to run-due's cleanup."""
    reports = tmp_path / "reports"
    (reports / "2026-09").mkdir(parents=True)
    child = subprocess.Popen([sys.executable, "-c",
                              "import sys, time; from pathlib import Path;"
                              "from reporting.paths import make_temp_dir;"
                              "print(make_temp_dir(Path(sys.argv[1]), '.emea.'), flush=True);"
                              "time.sleep(60)", str((reports / "2026-09").resolve())],
                             stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        folder = Path(child.stdout.readline().strip())
        assert folder.is_dir()
        assert paths.clean_abandoned(reports) == []
        assert folder.is_dir()
    finally:
        child.kill()
        child.wait()
    assert paths.clean_abandoned(reports) == [str(folder)]  # its owner is gone now


def test_run_due_cleans_only_after_the_configuration_validated(tmp_path, demo_store):
    from reporting.scheduler import run_due

    reports = tmp_path / "reports"
    dead = _abandoned(reports / "2026-09" / ".emea.abc")
    params = tmp_path / "params"
    shutil.copytree(PARAMS_DIR, params)
    (params / "schedule.yaml").write_text("reports: [{name: x, cadence: hourly}]")
    with pytest.raises(ParamsError):
        run_due(date(2026, 10, 5), demo_store, reports, params)
    assert dead.is_dir()


@pytest.mark.parametrize("link", ["period", "run", "reference"])
def test_no_file_is_written_through_a_symlink_out_of_reports(tmp_path, demo_store, link):
    """artifacts.json, clv.csv, index.html and bands.json were written through links that
    pointed outside reports/."""
    outside = tmp_path / "outside"
    outside.mkdir()
    reports = tmp_path / "reports"
    reports.mkdir()
    if link == "period":
        (reports / "2026-09").symlink_to(outside, target_is_directory=True)
    elif link == "run":
        (reports / "2026-09").mkdir()
        (reports / "2026-09" / "_run").symlink_to(outside, target_is_directory=True)
    else:
        (reports / "_reference").symlink_to(outside, target_is_directory=True)
    res = runner.invoke(app, ["run", "--period", "2026-09", "--region", "EMEA",
                              "--store", str(demo_store), "--reports", str(reports)])
    assert res.exit_code == 2, res.output
    assert "outside the reports folder" in res.output
    assert list(outside.iterdir()) == []


def test_lock_file_planted_as_a_symlink_is_not_followed(tmp_path):
    from reporting.scheduler import run_lock

    reports = tmp_path / "reports"
    reports.mkdir()
    target = tmp_path / "victim"
    (reports / ".run-due.lock").symlink_to(target)
    with pytest.raises(ParamsError, match="symbolic link"):
        with run_lock(reports):
            pass
    assert not target.exists()


def test_report_folders_are_group_readable(tmp_path):
    old = os.umask(0o077)
    try:
        d = paths.make_temp_dir(tmp_path, ".x.")
        paths.finalise_dir(d)
    finally:
        os.umask(old)
    mode = stat.S_IMODE(d.stat().st_mode)
    assert mode & 0o050 == 0o050, oct(mode)
    assert not (d / paths.TMP_MARKER).exists()


# --------------------------------------------------------------------------- 5. names


@pytest.mark.parametrize("names", [
    ["EMEA", "emea"], ["North America", "North-America", "north america"],
    ["\u00c9mea", "E\u0301mea"], ["A/B", "A B"], ["Sales.", "Sales"]])
def test_colliding_names_get_distinct_stable_folders(names):
    first = paths.folder_names(names)
    assert len(set(first.values())) == len(names)
    assert paths.folder_names(list(reversed(names))) == first  # order does not matter
    assert paths.collisions(names)
    for f in first.values():
        assert "/" not in f and ".." not in f and len(f) <= paths.MAX_FOLDER


def test_names_that_do_not_collide_keep_their_plain_folder():
    assert paths.folder_names(["EMEA", "North America"]) == {
        "EMEA": "emea", "North America": "north-america"}


def test_a_name_too_long_for_the_file_system_gets_a_bounded_folder(tmp_path):
    long = "Region " + "x" * 400
    f = paths.folder_names([long, "EMEA"])[long]
    assert len(f.encode()) <= 255 and len(f) <= paths.MAX_FOLDER
    (tmp_path / f).mkdir()  # the file system accepts it
    assert paths.folder_names([long + "y"])[long + "y"] != f


def test_schedule_plans_distinct_folders_for_colliding_regions(tmp_path):
    from reporting.runs import plan
    from reporting.schedule import Schedule
    from reporting.scheduler import request_for

    store = _store_with(tmp_path, regions={"APAC": "emea"})  # "EMEA" and "emea"
    sched = Schedule.model_validate({"reports": [{"name": "m", "cadence": "monthly",
                                                  "catch_up": 1}]})
    request = request_for(sched, date(2026, 10, 5), store, tmp_path / "r", None)
    jobs, blocked, _ = plan(request)
    dirs = {j.region: j.output_dir() for j in jobs}
    assert dirs["EMEA"] != dirs["emea"] and not blocked
    again, _, _ = plan(request)
    assert {j.region: j.output_dir() for j in again} == dirs


# --------------------------------------------------------------------------- 6. operators


def test_reports_pointing_at_a_file_is_a_clear_error(tmp_path, demo_store):
    f = tmp_path / "reports.txt"
    f.write_text("x")
    for cmd in (["run", "--period", "2026-09", "--region", "EMEA"], ["run-due"]):
        res = runner.invoke(app, [*cmd, "--store", str(demo_store), "--reports", str(f)])
        assert res.exit_code == 2 and "is a file, not a folder" in res.output, res.output
        assert "Traceback" not in res.output


def test_reports_at_an_impossible_path_is_a_clear_error(tmp_path, demo_store):
    f = tmp_path / "file"
    f.write_text("x")
    res = runner.invoke(app, ["run", "--period", "2026-09", "--region", "EMEA",
                              "--store", str(demo_store), "--reports", str(f / "sub")])
    assert res.exit_code == 2 and "cannot create the folder" in res.output, res.output


@pytest.mark.parametrize("cmd", [["run", "--period", "2026-09", "--region", "EMEA"],
                                 ["run-due"], ["params", "check"]])
def test_missing_params_folder_is_an_error_not_the_defaults(tmp_path, demo_store, cmd):
    """`--params /typo` silently used the built-in defaults and run-due reported success."""
    args = [*cmd, "--params", str(tmp_path / "typo")]
    if cmd[0] != "params":
        args += ["--store", str(demo_store), "--reports", str(tmp_path / "r")]
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.output
    assert "does not exist" in res.output and "typo" in res.output


def test_a_title_with_a_line_break_is_refused(tmp_path):
    params = tmp_path / "params"
    shutil.copytree(PARAMS_DIR, params)
    raw = yaml.safe_load((params / "report.yaml").read_text())
    raw["title"] = "Sales\nBcc: everyone@x.test"
    (params / "report.yaml").write_text(yaml.safe_dump(raw))
    res = runner.invoke(app, ["params", "check", "--params", str(params)])
    assert res.exit_code == 2 and "one line of text" in res.output, res.output


# --------------------------------------------------------------------------- 7. code elsewhere


def test_neutralise_cells_follows_owasp():
    frame = pd.DataFrame({"group": ["=1+1", "+1", "-x", "@SUM(A1)", "\tTab", "\rCR", "ok"],
                          "won": [-1, 2, 3, 4, 5, 6, 7]})
    out = neutralise_cells(frame)
    assert list(out["group"]) == ["'=1+1", "'+1", "'-x", "'@SUM(A1)", "'\tTab", "'\rCR", "ok"]
    assert list(out["won"]) == [-1, 2, 3, 4, 5, 6, 7]  # numbers stay numbers
    assert list(frame["group"])[0] == "=1+1"  # the input is not changed


def test_metrics_csv_neutralises_formula_names(tmp_path):
    store = _store_with(tmp_path, regions={"EMEA": '=HYPERLINK("http://x.test")',
                                           "APAC": "@SUM(A1)"})
    res = runner.invoke(app, ["metrics", "--period", "2026-09", "--by", "region", "--format",
                              "csv", "--store", str(store)])
    assert res.exit_code == 0, res.output
    groups = [r["group"] for r in csv.DictReader(io.StringIO(res.stdout))]
    assert "'=HYPERLINK(\"http://x.test\")" in groups and "'@SUM(A1)" in groups
    assert not any(g.startswith(("=", "+", "@")) for g in groups)


def test_charts_draw_tex_like_names_as_plain_text():
    """A rep named `$\\foo$` made the report fail (matplotlib mathtext)."""
    from reporting import plots

    plots.set_theme()
    wr = pd.DataFrame({"group": ["$\\foo$", "$x^2$", "Ann"], "win_rate": [0.2, 0.4, 0.3],
                       "won": [2, 4, 3], "closed": [10, 10, 10], "ci_low": [0.1, 0.2, 0.1],
                       "ci_high": [0.4, 0.6, 0.5]})
    ax = plots.win_rate_by_rep(wr)
    assert plots.figure_png(ax)[:4] == b"\x89PNG"
    assert "$\\foo$" in [t.get_text() for t in ax.get_yticklabels()]


@pytest.mark.slow
def test_persian_report_with_apostrophes_and_formulas_in_names_finishes(tmp_path):
    """With a rep named `Anna O'Snelling` the Persian report never finished: `&#39;` became
    `&#۳۹;` and WeasyPrint laid the page out for over 20 minutes. Names like formulas, TeX and
    markup render as text."""
    from reporting.runner import run_report

    hostile = {"Marco Bellini": "Anna O'Snelling", "Henrik Berg": '=HYPERLINK("http://x.test")',
               "Chloé Laurent": "$\\foo$", "Efua Osei": "[bold]Efua"}
    store = _store_with(tmp_path, reps=hostile)
    res = run_report("EMEA", "2026-09", store=store, reports_dir=tmp_path / "r", language="fa")
    html = res.html.read_text(encoding="utf-8")
    assert "&#۳" not in html and "&amp;#" not in html
    # the HTML may write the apostrophe either way (both are the same text) ...
    assert html.count("O&#39;Snelling") + html.count("O'Snelling") > 0
    text = subprocess.run(["pdftotext", str(res.pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Anna O'Snelling" in text  # ... and the name reads as written in the PDF
    assert '<a href="http://x.test' not in html


@pytest.mark.parametrize("ref", ["&#39;", "&#x27;", "&#8217;", "&amp;", "&quot;"])
def test_persian_digits_never_enter_character_references(ref):
    from reporting.i18n import localize_html

    html = f"<td>O{ref}Brien won 12 deals</td>"
    out = localize_html(html, "fa")
    assert ref in out and "۱۲" in out


# --------------------------------------------------------------------------- scopes (11.10)


def test_an_unfinished_period_is_refused():
    with pytest.raises(ParamsError, match="has not ended"):
        check_not_future(parse_period("2026-12"), today=date(2026, 12, 1))
    with pytest.raises(ParamsError, match="has not ended"):
        check_not_future(parse_period("2026-Q4"), today=date(2026, 12, 1))
    with pytest.raises(ParamsError, match="in the future"):
        check_not_future(parse_period("2027-01"), today=date(2026, 12, 1))
    assert check_not_future(parse_period("2026-11"), today=date(2026, 12, 1)).label == "2026-11"


def test_a_period_without_data_is_a_clear_error(tmp_path, demo_store):
    res = runner.invoke(app, ["run", "--period", "2015-01", "--region", "EMEA",
                              "--store", str(demo_store), "--reports", str(tmp_path / "r")])
    assert res.exit_code == 2, res.output
    assert "no data for EMEA in 2015-01" in res.output and "data starts" in res.output
    assert not (tmp_path / "r" / "2015-01").exists()


def test_last_complete_month_on_an_old_store_says_the_data_ended(tmp_path, demo_store):
    res = runner.invoke(app, ["run", "--period", "2026-11", "--region", "EMEA",
                              "--store", str(demo_store), "--reports", str(tmp_path / "r")])
    assert res.exit_code == 2, res.output
    assert "the store's data ends 2026-10-" in res.output and "--period 2026-10" in res.output


def test_an_unknown_team_lists_the_known_teams(tmp_path, demo_store):
    res = runner.invoke(app, ["run", "--period", "2026-09", "--region", "EMEA", "--team",
                              "EMEA Outside", "--store", str(demo_store),
                              "--reports", str(tmp_path / "r")])
    assert res.exit_code == 2, res.output
    assert "unknown team 'EMEA Outside'" in res.output and "'EMEA Inside'" in res.output


def test_quarterly_reports_and_their_index_share_one_folder(tmp_path):
    from reporting.runner import output_dir_for

    d = output_dir_for(tmp_path, "2017-q3", "EMEA")
    assert d.parent.name == "2017-Q3" == parse_period("2017-q3").label
    r = output_dir_for(tmp_path, "2017-01-01..2017-06-30", "North America")
    assert r.parent.name == "2017-01-01..2017-06-30" and r.parent.parent == tmp_path.resolve()


def test_run_passes_the_render_timeout_and_folders_on(tmp_path, demo_store, monkeypatch):
    """The CLI builds one job per scope with the render bound and the collision-free folder."""
    import reporting.runs as runs

    seen = []
    monkeypatch.setattr(runs, "run_batch", lambda jobs, *a, **k: seen.extend(jobs) or [])
    res = runner.invoke(app, ["run", "--period", "2026-09", "--region", "EMEA",
                              "--render-timeout", "42", "--store", str(demo_store),
                              "--reports", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    assert [(j.region, j.render_timeout, j.folder) for j in seen] == [("EMEA", 42.0, "emea")]


def test_the_index_lists_team_reports_and_skips_links(tmp_path):
    from reporting.render import write_index

    period = tmp_path / "2026-Q3"
    for rel, team in (("emea", "all"), ("emea--emea-inside", "EMEA Inside")):
        (period / rel).mkdir(parents=True)
        (period / rel / "metrics.json").write_text(json.dumps(
            {"region": "EMEA", "team": team, "headline": {"win_rate": {"value": 0.25}}}))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "metrics.json").write_text(json.dumps({"region": "Planted", "headline": {}}))
    (period / "planted").symlink_to(outside, target_is_directory=True)
    html = write_index(period, "Acme", "Quarterly Sales Report", "Q3 2026").read_text()
    assert "EMEA / EMEA Inside" in html and "emea--emea-inside/report.pdf" in html
    assert "Planted" not in html and "Quarterly Sales Report" in html


def test_deals_with_an_estimated_creation_date_are_open_but_never_created(tmp_path):
    """Maven's 500 Prospecting deals have no engage date; ingest keeps them with the export's
    last date as an estimate. They must not read as 500 deals created in December 2017."""
    from reporting.engine.duckdb_summary import rep_summary_sql
    from reporting.metrics import rep_summary
    from reporting.store import connect, load

    from .conftest import shared

    store = tmp_path / "m.duckdb"
    res = runner.invoke(app, ["ingest", str(shared("maven_crm")), "--source", "maven",
                              "--store", str(store)])
    assert res.exit_code == 0, res.output
    p = parse_period("2017-12")
    with connect(store, read_only=True) as con:
        sql = rep_summary_sql(con, p, "region")
        raw = con.execute("SELECT count(*) FROM opportunities WHERE created_at >= '2017-12-01' "
                          "AND stage <> 'Prospecting'").fetchone()[0]
    data = load(store, until=p.end)
    assert int(data.opportunities["created_at_estimated"].sum()) == 500
    py = rep_summary(data.opportunities, p, data.reps, "region")
    assert int(sql["created"].sum()) == int(py["created"].sum()) == raw == 121  # not 621
    assert int(sql["open_count"].sum()) == int(py["open_count"].sum())
    assert int(sql["open_count"].sum()) >= 500  # still open at the period end


def test_team_reports_sit_beside_their_region_and_survive_its_regeneration(tmp_path):
    """Team reports used to live inside the region's folder, so regenerating the region's
    report (its folder replaced as a whole) deleted every team report of the region."""
    from reporting.runner import _replace_dir, output_dir_for

    region = output_dir_for(tmp_path, "2026-09", "EMEA")
    team = output_dir_for(tmp_path, "2026-09", "EMEA", "EMEA Inside")
    assert team.parent == region.parent and team.name == "emea--emea-inside"
    for d in (region, team):
        d.mkdir(parents=True)
        (d / "report.pdf").write_text("old")
    new = paths.make_temp_dir(region.parent, ".emea.")
    (new / "report.pdf").write_text("new")
    _replace_dir(new, region)
    assert (region / "report.pdf").read_text() == "new"
    assert (team / "report.pdf").read_text() == "old"


def test_a_degenerate_trailing_baseline_rates_nothing():
    """On the Salesforce sample a trailing median cycle of 0 days (same-day closes) made the
    thresholds good = bad = 0 days, so every region's cycle read BAD."""
    from reporting.metrics.ratings import profile_thresholds
    from reporting.params import ReportSettings, Threshold

    t = Threshold(trailing={"good": 1.1, "bad": 0.9}, higher_is_better=False)
    assert t.resolve(0.0) is None and t.resolve(None) is None
    assert t.resolve(20.0).rate(20.0) == "watch"
    s = ReportSettings.model_validate({"baselines": {"default": {
        "median_cycle_days_won": {"trailing": {"good": 1.1, "bad": 0.9},
                                  "higher_is_better": False},
        "win_rate": {"trailing": {"good": 1.1, "bad": 0.9}}}}})
    day = pd.Timestamp("2026-06-10")
    few = pd.DataFrame({"opportunity_id": [f"o{i}" for i in range(9)],
                        "created_at": [day] * 9, "closed_at": [day + pd.Timedelta(days=3)] * 9,
                        "status": ["won"] * 9, "amount": [1.0] * 9})
    # nine won deals in the trailing 12 months: too few to be a baseline
    assert profile_thresholds(s, "default", few, parse_period("2026-09")) == {}
    more = pd.concat([few, few.assign(opportunity_id=few["opportunity_id"] + "b")])
    th = profile_thresholds(s, "default", more, parse_period("2026-09"))
    assert th["median_cycle_days_won"].good == pytest.approx(3 / 1.1)
    assert th["win_rate"].good == pytest.approx(1.1)
