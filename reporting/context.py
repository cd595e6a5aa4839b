"""Loading a report's context: the store slice, the run's shared artifacts and the settings
of one report, with its figures computed once, as a typed :class:`ReportContext`.

This is the only step of a report that reads files (the store, ``params/``, the run's
artifacts); the figures come from :func:`reporting.metrics.suite.analyse` (pure) and the
notebook shows them with :mod:`reporting.presentation`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from . import store as _store
from .exceptions import ParamsError
from .i18n import LANGUAGES, period_title, tr
from .metrics.suite import Analysis, analyse
from .models.reference import clv_reference
from .params import ReportSettings, load_settings, params_folder
from .periods import Period, parse_period


@dataclass
class ReportContext:
    """Everything one report shows, computed once by :func:`reporting.metrics.suite.analyse`."""

    region: str
    team: str
    period: Period
    settings: ReportSettings
    data: _store.Dataset
    a: Analysis
    generated_at: str = ""
    language: str = "en"
    artifacts: dict = field(default_factory=dict)
    params_dir: str | None = None  # the params folder the settings came from
    #: the tables the report showed, in order (``presentation.tables.show_table`` adds
    #: them; ``presentation.payload.emit_metrics`` hands them to the runner for
    #: report.xlsx)
    tables: list = field(default_factory=list)

    def __post_init__(self) -> None:
        global _ACTIVE
        _ACTIVE = self  # the report being shown: its tables go into its report.xlsx
        self.activate()

    def activate(self) -> None:
        """Make this report's language, currency and calendar those of every formatter
        (tiles, tables, findings, chart axes: :mod:`reporting.formatting`). Done when the
        context is built, and again by :meth:`t` when another context was activated since
        (two reports, or tests, in one process)."""
        from . import formatting

        if self.settings is None:  # a bare context (tests): the formats stay as they are
            return
        formatting.activate_report(self.language, self.settings.currency,
                                   self.settings.calendar)

    @property
    def scope(self) -> str:
        parts = [p for p in (self.region, self.team) if p and p.lower() != "all"]
        return " / ".join(parts) or self.t("All regions")

    def t(self, text: str) -> str:
        """``text`` in the report's language."""
        self.activate()
        return tr(text, self.language)

    @property
    def period_title(self) -> str:
        return period_title(self.period, self.language, self.settings.calendar)

    def period_title_of(self, period: Period) -> str:
        """Another period's title in the report's language and calendar."""
        return period_title(period, self.language, self.settings.calendar)

    @property
    def opps(self) -> pd.DataFrame:
        return self.data.opportunities

    @property
    def summary(self) -> pd.DataFrame:
        return self.a.summary

    @property
    def missing(self) -> dict[str, str | None]:
        return self.a.missing


_ACTIVE: ReportContext | None = None


def active() -> ReportContext | None:
    """The report context built last in this process: the report a kernel is showing
    (a table shown without its context is kept for this one's report.xlsx)."""
    return _ACTIVE


def build(
    region: str = "all",
    team: str = "all",
    period: str = "last-complete-month",
    store: str | None = None,
    params_dir: str | None = None,
    artifacts: str | None = None,
    language: str = "en",
    history_months: int = 13,
) -> ReportContext:
    """Load the slice of the store a report needs and compute its figures.

    ``artifacts`` is the run's shared artifacts file (``crm-report run`` writes it once per
    run): fixed deal-size band edges so every region uses the same bands. The 13 months of
    history cover the same period last year and the trailing-12-month baselines."""
    p = parse_period(period)
    settings = load_settings(params_dir)
    if language not in LANGUAGES:
        raise ParamsError(f"language {language!r}: use one of {', '.join(LANGUAGES)}")
    since = p.start - pd.DateOffset(months=history_months)
    from .metrics.targets import combine_quotas
    from .params import load_quotas_file

    store_quotas = _store.load_quotas(store, region=region, team=team)
    quotas, quota_notes = combine_quotas(
        load_quotas_file(params_dir).frame(settings.currency), store_quotas)
    level = ("team" if team and team.lower() != "all" else
             "region" if region and region.lower() != "all" else None)
    # the forecast before the slice: its DuckDB pass over every origin's open deals is the
    # largest transient of the kernel (+610 MiB at 1M opportunities), and on top of the
    # loaded slice it was the kernel's peak (benchmarks/NOTES.md, session 12)
    res = forecast_result(store, p, region, team, quotas)
    data = _store.load(store, region=region, team=team, since=since, until=p.end,
                       quotas=store_quotas)
    # customer value needs every account in scope, not only those with a recent deal
    accounts, revenue = _store.load_customers(store, region=region, team=team, until=p.end)
    data = replace(data, accounts=accounts, revenue=revenue)
    # the shared artifacts are read as late as they can be: `crm-report run` may still be
    # computing them while this kernel fits its forecast and loads its slice; the bands
    # and the CLV model come first, the forecast backtest (the slowest part) while this
    # kernel computes the figures, and is read only for the forecast's method at the end
    shared = read_artifacts(artifacts, backtest=False)
    clv = shared.get("clv")
    if clv is not None and clv.get("file"):
        pred = pd.read_parquet(Path(artifacts).with_name(clv["file"])).astype(
            {"account_id": str}).set_index("account_id")["predicted_value"]
    elif len(data.revenue):  # a notebook run on its own: choose and fit on this slice
        pred, clv = clv_reference(data.revenue, p.end,
                                  horizon_months=settings.clv.horizon_months,
                                  discount_rate=settings.clv.discount_rate)
    else:
        pred = None
    a = analyse(data.opportunities, p, settings, data.reps, data.stage_history, data.leads,
                data.revenue, data.accounts, data.available(),
                band_edges=shared.get("band_edges"), predicted_value=pred, clv_model=clv,
                as_of=data.as_of, deal_history=data.opportunity_history, quotas=quotas,
                scope_level=level, forecast=None, quota_notes=quota_notes)
    if res is not None:
        shared = read_artifacts(artifacts)  # now with the backtest
        # the forecast is shown as it is: no figure of analyse depends on it
        a.forecast = finish_forecast(res, store, p, shared)
    return ReportContext(region=region, team=team, period=p, settings=settings, data=data, a=a,
                         generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                         language=language, artifacts=shared,
                         params_dir=str(params_folder(params_dir)))


def read_artifacts(artifacts: str | Path | None, backtest: bool = True) -> dict:
    """The run's shared artifacts file (``{}`` without one), once its producer finished
    writing it (:func:`reporting.handoff.wait_ready`: a clear error when it failed, died or
    is late). The forecast backtest is a file of its own, finished after the rest
    (``backtest_file``, see :func:`reporting.batch.start_shared_artifacts`): with
    ``backtest`` it is waited for and read as the key ``backtest``; without, the bands and
    the CLV model come back as soon as they are there."""
    if not artifacts:
        return {}
    from .handoff import HandoffError, wait_ready

    path = Path(artifacts)
    data = json.loads(wait_ready(path).read_text(encoding="utf-8"))
    name = data.pop("backtest_file", None)
    if backtest and name is not None:
        if Path(str(name)).name != name:
            raise HandoffError(f"{path}: backtest_file {name!r} is not a file name")
        bt = json.loads(wait_ready(path.with_name(name)).read_text(encoding="utf-8"))
        if bt.get("fingerprint") != data.get("fingerprint"):
            raise HandoffError(f"{path.with_name(name)}: belongs to other artifacts "
                               f"({bt.get('fingerprint')}, not {data.get('fingerprint')}); "
                               "run the report again")
        data["backtest"] = bt.get("backtest")
    return data


def next_period_forecast(store: str | None, p: Period, region: str, team: str,
                         quotas: pd.DataFrame, shared: dict | Callable[[], dict],
                         artifacts: str | None) -> dict | None:
    """The forecast of the period after ``p`` as of its start (per rep of the scope, with
    the scope's total), by the method the backtest chose: the run's shared backtest
    (``crm-report run`` computes it once for every report), or, for a notebook run on its
    own, one computed here. None when the store cannot support a forecast."""
    res = forecast_result(store, p, region, team, quotas)
    if res is None:
        return None
    return finish_forecast(res, store, p, shared() if callable(shared) else shared)


def forecast_result(store: str | None, p: Period, region: str, team: str,
                    quotas: pd.DataFrame):
    """The forecast of the period after ``p`` as of its start, per rep of the scope
    (:func:`reporting.forecast.forecast`), before the method is chosen; None when the
    store cannot support one."""
    from . import forecast as _forecast
    from .exceptions import ReportingError

    nxt = p.next()
    horizon = int((nxt.end - nxt.start).days)
    scope = {"region": region if region.lower() != "all" else None,
             "team": team if team.lower() != "all" else None}
    try:
        return _forecast.forecast(store, p.end, horizon, by="rep", quotas=quotas,
                                  evaluate=False, **scope)
    except ReportingError:
        return None


def finish_forecast(res, store: str | None, p: Period, shared: dict) -> dict:
    """:func:`forecast_result`'s forecast as the report shows it, by the method the
    backtest chose: the run's shared one (``shared["backtest"]``), or for a notebook run
    on its own one computed here."""
    nxt = p.next()
    horizon = int((nxt.end - nxt.start).days)
    if "backtest" in shared:
        bt = shared["backtest"]
    else:  # a notebook run on its own: backtest here (crm-report run does it once a run)
        from .batch import forecast_backtest

        bt = forecast_backtest(store, p)
    chosen = (bt or {}).get("chosen") or res.method
    if res.method != "model":  # no model could be trained: only the simple rule is left
        chosen = res.method
    return {"groups": res.groups, "deals": res.deals, "total": res.total.iloc[0].to_dict()
            if res.total is not None and len(res.total) else {},
            "method": chosen, "model_method": res.method, "model_info": res.model_info,
            "notes": res.notes, "period": nxt, "horizon_days": horizon, "backtest": bt}
