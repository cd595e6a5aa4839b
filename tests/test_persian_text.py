"""A Persian report has no Latin letter in its text outside the names the CRM and the user
gave (deals, accounts, people, teams, regions, the company) and the few identifiers a
reader types (files and settings of params/): issue 16, requirement 6.

One real Persian report (Jalali calendar) is run through the normal run path for the
module. Its text is the HTML's text and the attributes a reader is shown (``alt``,
``title``); the text inside the chart images is not in the HTML, so an IPython startup
file in the report's kernel records every text artist matplotlib draws (titles, tick
labels, legend entries, annotations) with the title of its chart.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from html.parser import HTMLParser

import duckdb
import pytest
import yaml

from reporting.naming import PERIOD_TITLES
from reporting.params import ReportSettings
from reporting.runner import run_report
from tests.conftest import PARAMS_DIR

pytestmark = pytest.mark.slow

LATIN = re.compile("[A-Za-z]")

#: Recorded in the report's kernel: every non-empty text matplotlib draws when a chart is
#: turned into the PNG the report embeds (``plots.figure_png``; not the draws that lay
#: labels out before), with its chart's title, appended as JSON lines.
_RECORDER = '''
import json, os
import matplotlib.text as _mtext

_OUT = os.environ.get("CRM_TEST_CHART_TEXT")
_draw = _mtext.Text.draw


def _chart_of(t):
    fig = t.get_figure(root=True) if hasattr(t, "get_figure") else t.figure
    titles = []
    for ax in getattr(fig, "axes", []):
        titles += [a.get_text() for a in (ax.title, ax._left_title, ax._right_title)
                   if a.get_text()]
    if not titles and getattr(fig, "_suptitle", None) is not None:
        titles.append(fig._suptitle.get_text())
    return " | ".join(titles) or "(untitled chart)"


_FINAL = []  # inside figure_png: the draw a reader sees (not a layout step's draw)


def _recording_draw(self, renderer):
    out = _draw(self, renderer)
    if _OUT and _FINAL and self.get_visible() and self.get_text().strip():
        with open(_OUT, "a", encoding="utf-8") as f:
            f.write(json.dumps({"text": self.get_text(), "chart": _chart_of(self)}) + "\\n")
    return out


_mtext.Text.draw = _recording_draw

import reporting.plots as _plots

_figure_png = _plots.figure_png


def _recording_figure_png(*args, **kwargs):
    _FINAL.append(1)
    try:
        return _figure_png(*args, **kwargs)
    finally:
        _FINAL.pop()


_plots.figure_png = _recording_figure_png
'''


class _Text(HTMLParser):
    """The text a reader of the HTML sees: text nodes outside ``<script>``/``<style>``
    and the ``alt``/``title``/``aria-label``/``placeholder`` attributes, each with the
    nearest heading before it (where it was found)."""

    SHOWN = ("alt", "title", "aria-label", "placeholder")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []
        self._skip = 0
        self._heading: list[str] | None = None
        self.where = "(before the first heading)"
        self._part = ""

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        if tag in ("h1", "h2", "h3", "h4", "title"):
            self._heading = []
        for k, v in attrs:
            if k in self.SHOWN and v and v.strip():
                self.found.append((f"{self.where} <{tag} {k}>", v.strip()))

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1
        if tag in ("h1", "h2", "h3", "h4", "title") and self._heading is not None:
            heading = " ".join(self._heading).strip()[:60]
            if tag == "h1":
                self._part = heading
            self.where = (f"<h1> {heading}" if tag == "h1" else
                          f"<h1> {self._part} > <{tag}> {heading}")
            self._heading = None

    def handle_data(self, data):
        if self._skip or not data.strip():
            return
        if self._heading is not None:
            self._heading.append(data.strip())
        self.found.append((self.where, data.strip()))


@pytest.fixture(scope="module")
def persian_report(tmp_path_factory, demo_store, demo_artifacts):
    """An EMEA report for 2026-09 in Persian with the Jalali calendar, run as
    ``crm-report run --language fa`` runs it, and the texts its charts drew."""
    return _persian(tmp_path_factory.mktemp("persian"), "EMEA", "2026-09", store=demo_store,
                    artifacts=demo_artifacts)


#: the other kinds of report (issue 16, requirements 7 and 8), run as ``crm-report run
#: --kind K --language fa`` runs them: region, period and the kind's notebook
KINDS = {
    "scorecard": ("EMEA", "2026-09", "rep_scorecard"),
    "rollup": ("all", "2026-09", "company_rollup"),
    "trend": ("EMEA", "2025-10..2026-09", "trend_report"),
}


@pytest.fixture(scope="module", params=sorted(KINDS))
def persian_kind_report(request, tmp_path_factory, demo_store):
    from reporting.runner import NOTEBOOKS

    region, period, notebook = KINDS[request.param]
    return _persian(tmp_path_factory.mktemp(f"persian-{request.param}"), region, period,
                    store=demo_store, kind=request.param,
                    notebook=NOTEBOOKS / f"{notebook}.ipynb")


def _persian(d, region: str, period: str, **run):
    """A report run in Persian with the Jalali calendar in folder ``d``, with a kernel that
    records every text its charts draw: the result, the chart texts, the settings."""
    params = d / "params"
    shutil.copytree(PARAMS_DIR, params)
    cfg = yaml.safe_load((params / "report.yaml").read_text())
    cfg["calendar"] = "jalali"
    (params / "report.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True))
    startup = d / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-record-chart-text.py").write_text(_RECORDER)
    chart_text = d / "chart_text.jsonl"
    env = {"IPYTHONDIR": str(d / "ipython"), "CRM_TEST_CHART_TEXT": str(chart_text)}
    before = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        res = run_report(region, period, reports_dir=d / "reports", params_dir=params,
                         language="fa", **run)
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    charts = [json.loads(line) for line in chart_text.read_text().splitlines()] \
        if chart_text.exists() else []
    return res, charts, ReportSettings(**cfg)


def _names(store, settings: ReportSettings) -> list[str]:
    """The names the CRM and the user gave, which a Persian report shows as they are:
    deal ids and names, accounts, owners, reps, managers, teams, regions, the files
    ingested, and the company (and a title of its own) of params/report.yaml. Stage names and loss reasons are CRM names too, except the
    standard ones the report translates (:data:`reporting.crm_terms.STANDARD_TERMS`)."""
    from reporting.crm_terms import STANDARD_TERMS

    con = duckdb.connect(str(store), read_only=True)
    try:
        queries = [
            "select opportunity_id from opportunities", "select name from opportunities",
            "select owner from opportunities", "select team from opportunities",
            "select region from opportunities", "select name from accounts",
            "select account_manager from accounts", "select acquired_by from accounts",
            "select name from reps", "select manager from reps", "select team from reps",
            "select stage from opportunities", "select lost_reason from opportunities",
            "select file from ingest_log"]
        names = {v for q in queries for (v,) in con.execute(q).fetchall()
                 if isinstance(v, str) and v.strip()}
    finally:
        con.close()
    names -= set(STANDARD_TERMS)
    names.add(settings.company)
    if settings.title not in PERIOD_TITLES.values():  # a title the user wrote
        names.add(settings.title)
    return sorted(names, key=len, reverse=True)


#: Identifiers a reader types or opens, left in Latin letters on purpose: the files of
#: the params folder and the settings in them (the methodology says where a figure is
#: set: 'clv.horizon_months in params/report.yaml'), and report.xlsx, the file beside the
#: PDF. Each must be written exactly so to be found; a translation would not be.
ALLOWED = (
    r"params/[a-z_]+\.yaml",
    r"report\.xlsx",
    # the reader's own system, named as Persian readers name it (as 'PDF' or 'Excel')
    r"(?<![A-Za-z])CRM(?![A-Za-z])",
)
#: The methodology appendix, and only it, also writes the identifiers its definitions
#: rest on as they are written in the data and in params/ (so that a reader finds them
#: there): the data's columns, the settings a figure comes from, a command-line flag; and
#: the symbols of its formulas (single letters: 'H', 'c', 'r'; 'ln'). Its models and
#: statistics are named in Persian ('خوشه‌بندی کا-میانگین', not 'KMeans').
METHODOLOGY = "روش‌شناسی"  # 'Appendix B: Methodology' (its heading)
METHODOLOGY_ALLOWED = (
    # columns, tables, settings and their keys, a CLI flag, a CRM's forecast category
    r"created_at", r"closed_at", r"last_activity_at", r"account_id", r"stage_history",
    r"clv\.horizon_months", r"clv\.discount_rate", r"timezone", r"stale_days",
    r"max_interval_width", r"profiles", r"quota_source", r"(?:report|quotas)\.yaml",
    r"--refresh-bands", r"\bdefault\b", r"\bload\b", r"\bcommit\b",
    # formula symbols
    r"(?<![A-Za-z])(?:[A-Za-z]|ln|rate)(?![A-Za-z])",
)


def _without_clipped_names(text: str, prefixes: set[str]) -> str:
    """``text`` without the names a chart or table clipped ('Katarzyna Grabows…'): the
    longest start of a name before each ellipsis."""
    out, i = text, text.find("…")
    while i >= 0:
        for n in range(min(i, 60), 1, -1):
            if out[i - n:i] in prefixes and (i == n or not out[i - n - 1].isalpha()):
                out = out[:i - n] + " " * n + out[i:]
                break
        i = out.find("…", i + 1)
    return out


def _offending(found, names) -> list[str]:
    name_re = re.compile("|".join(re.escape(n) for n in names))
    allowed_re = re.compile("|".join(ALLOWED))
    technical_re = re.compile("|".join(METHODOLOGY_ALLOWED))
    prefixes = {n[:k] for n in names for k in range(2, min(len(n), 60) + 1)}
    bad = []
    for where, text in found:
        rest = allowed_re.sub(" ", name_re.sub(" ", _without_clipped_names(text, prefixes)))
        if where.startswith("<h1>") and METHODOLOGY in where.split(">")[1]:
            rest = technical_re.sub(" ", rest)
        if LATIN.search(rest):
            bad.append(f"{where}: {text[:160]!r}")
    return sorted(set(bad))


def test_persian_report_html_has_no_latin_text(persian_report, demo_store):
    res, _, settings = persian_report
    parser = _Text()
    parser.feed(res.html.read_text(encoding="utf-8"))
    assert len(parser.found) > 500  # the whole report was read
    bad = _offending(parser.found, _names(demo_store, settings))
    assert not bad, f"{len(bad)} texts with Latin letters in the Persian report:\n" + \
        "\n".join(bad)


def test_persian_report_charts_have_no_latin_text(persian_report, demo_store):
    _, charts, settings = persian_report
    assert len({c["chart"] for c in charts}) >= 10  # every chart was recorded
    found = [(f"chart {c['chart'][:60]!r}", c["text"]) for c in charts]
    bad = _offending(found, _names(demo_store, settings))
    assert not bad, f"{len(bad)} chart texts with Latin letters in the Persian report:\n" + \
        "\n".join(bad)


def test_persian_kinds_have_no_latin_text(persian_kind_report, demo_store):
    """The scorecards, the roll-up and the trend in Persian: no Latin letter in their text
    or their charts outside the names (amounts read '۴۰ هزار دلار', never '$۴۰K')."""
    res, charts, settings = persian_kind_report
    parser = _Text()
    parser.feed(res.html.read_text(encoding="utf-8"))
    assert len(parser.found) > 50  # the whole report was read
    found = parser.found + [(f"chart {c['chart'][:60]!r}", c["text"]) for c in charts]
    bad = _offending(found, _names(demo_store, settings))
    assert not bad, f"{len(bad)} texts with Latin letters in the Persian report:\n" + \
        "\n".join(bad)


def test_the_check_finds_latin_text():
    """The check itself: an English word is found, a name (also clipped), an allowed file
    and, in the methodology only, a column name and a formula's symbol are not."""
    found = [("<h1> x", "نرخ برد Ann Lee"), ("<h1> y", "در params/report.yaml"),
             ("chart 'c'", "Win rate"), ("chart 'd'", "Ann L…"), ("chart 'e'", "Ann X…"),
             ("<h1> §", "مدل KMeans"),
             ("<h1> پیوست ب: روش‌شناسی > <h2> m", "مدل KMeans با k=۳"),
             ("<h1> پیوست ب: روش‌شناسی > <h2> m", "ستون closed_at با k=۳")]
    assert _offending(found, ["Ann Lee"]) == [
        "<h1> §: 'مدل KMeans'", "<h1> پیوست ب: روش\u200cشناسی > <h2> m: 'مدل KMeans با k=۳'",
        "chart 'c': 'Win rate'", "chart 'e': 'Ann X…'"]
