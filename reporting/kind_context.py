"""Loading the contexts of the company roll-up and the trend report (see
:mod:`reporting.kinds`): the store slice and settings, with the figures computed once by
the pure functions of :mod:`reporting.metrics.rollup` and :mod:`reporting.metrics.trend`.

Like :func:`reporting.context.build` this is the only step of those notebooks that reads
files. The contexts carry what the shared cover and fragments need (settings, language,
scope, period title, the data's as-of time), so :func:`reporting.presentation.show_cover`
serves every kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd

from . import store as _store
from .exceptions import ParamsError
from .i18n import LANGUAGES, period_title, tr
from .params import ReportSettings, load_settings, params_folder
from .periods import Period, parse_period, trend_months


@dataclass
class KindContext:
    """What a roll-up or trend report shows; ``frame`` holds its figures (the roll-up's
    rows or the trend's months)."""

    kind: str
    region: str
    team: str
    period: Period
    settings: ReportSettings
    data: _store.Dataset
    frame: pd.DataFrame
    language: str = "en"
    generated_at: str = ""
    params_dir: str | None = None
    months: list[Period] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    forecast_method: str | None = None
    forecast_period: Period | None = None

    def __post_init__(self) -> None:
        self.activate()

    def activate(self) -> None:
        """Make this report's language, currency and calendar those of every formatter
        (amounts in tables and notes read '۷٫۲ هزار دلار' in Persian, not '$۷.۲K'), as
        :meth:`reporting.context.ReportContext.activate` does for a monthly report."""
        from . import formatting

        formatting.activate_report(self.language, self.settings.currency,
                                   self.settings.calendar)

    @property
    def scope(self) -> str:
        parts = [p for p in (self.region, self.team) if p and p.lower() != "all"]
        return " / ".join(parts) or self.t("All regions")

    def t(self, text: str) -> str:
        """``text`` in the report's language (and its formats active: see
        :meth:`activate`)."""
        self.activate()
        return tr(text, self.language)

    @property
    def period_title(self) -> str:
        if self.kind == "trend" and self.months:
            first, last = self.months[0], self.months[-1]
            return (f"{period_title(first, self.language, self.settings.calendar)} – "
                    f"{period_title(last, self.language, self.settings.calendar)}")
        return period_title(self.period, self.language, self.settings.calendar)

    def period_title_of(self, period: Period) -> str:
        return period_title(period, self.language, self.settings.calendar)


def _common(params_dir: str | None, language: str, artifacts: str | None
            ) -> tuple[ReportSettings, dict]:
    settings = load_settings(params_dir)
    if language not in LANGUAGES:
        raise ParamsError(f"language {language!r}: use one of {', '.join(LANGUAGES)}")
    from .context import read_artifacts  # waits while `crm-report run` still writes them

    return settings, read_artifacts(artifacts)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def build_rollup(period: str = "last-complete-month", store: str | None = None,
                 params_dir: str | None = None, artifacts: str | None = None,
                 language: str = "en", region: str = "all", team: str = "all",
                 forecast: bool = True) -> KindContext:
    """The company roll-up of ``period``: every region's row and the company total
    (:func:`reporting.metrics.rollup.region_rollup`), with the next period's forecast per
    region by the method the run's shared backtest chose (the model's when run on its
    own; left out when the store cannot support a forecast or ``forecast`` is False).
    ``region`` / ``team`` are accepted for the runner's parameters and must be ``all``."""
    from .metrics.rollup import region_rollup
    from .metrics.targets import combine_quotas
    from .params import load_quotas_file

    if region.lower() != "all" or team.lower() != "all":
        raise ParamsError("the company roll-up covers every region: give region 'all'")
    p = parse_period(period)
    settings, shared = _common(params_dir, language, artifacts)
    # 12 months before the period: the trailing baselines of the 'default' profile
    data = _store.load(store, since=p.start - pd.DateOffset(months=12), until=p.end)
    quotas, notes = combine_quotas(load_quotas_file(params_dir).frame(settings.currency),
                                   data.quotas)
    fc_frame, method, nxt = None, None, p.next()
    if forecast:
        fc_frame, method = _region_forecast(store, p, quotas, shared)
    frame = region_rollup(data.opportunities, p, settings, quotas, data.reps,
                          data.opportunity_history, data.stage_history, fc_frame)
    return KindContext("rollup", "all", "all", p, settings, data, frame, language, _now(),
                       str(params_folder(params_dir)), notes=list(notes),
                       forecast_method=method, forecast_period=nxt)


def _region_forecast(store: str | None, p: Period, quotas: pd.DataFrame, shared: dict
                     ) -> tuple[pd.DataFrame | None, str | None]:
    """The next period's forecast per region and for the company (value, low, high)."""
    from . import forecast as _forecast
    from .exceptions import ReportingError
    from .metrics.rollup import TOTAL
    from .presentation.forward import forecast_figures

    nxt = p.next()
    horizon = int((nxt.end - nxt.start).days)
    try:
        res = _forecast.forecast(store, p.end, horizon, by="region", quotas=quotas,
                                 evaluate=False)
    except ReportingError:
        return None, None
    chosen = ((shared.get("backtest") or {}).get("chosen") or res.method
              if res.method == "model" else res.method)
    fc = {"method": chosen}
    rows = {}
    for _, g in res.groups.iterrows():
        f = forecast_figures(fc, g.to_dict())
        rows[g["group"]] = {"value": f.get("value"), "low": f.get("low_value"),
                            "high": f.get("high_value")}
    if res.total is not None and len(res.total):
        f = forecast_figures(fc, res.total.iloc[0].to_dict())
        rows[TOTAL] = {"value": f.get("value"), "low": f.get("low_value"),
                       "high": f.get("high_value")}
    return pd.DataFrame.from_dict(rows, orient="index"), chosen


def build_trend(region: str = "all", team: str = "all", period: str = "last-complete-month",
                store: str | None = None, params_dir: str | None = None,
                artifacts: str | None = None, language: str = "en") -> KindContext:
    """The trend of a region (or team, or the company with ``all``) over the months of
    ``period`` (:func:`reporting.periods.trend_months`: a range of whole months, or the 12
    months ending with a single month), one row per month
    (:func:`reporting.metrics.trend.monthly_series`)."""
    from .metrics.trend import monthly_series

    p = parse_period(period)
    months = trend_months(p)
    settings, _ = _common(params_dir, language, artifacts)
    data = _store.load(store, region=region, team=team, since=months[0].start,
                       until=months[-1].end)
    frame = monthly_series(data.opportunities, months, data.opportunity_history,
                           data.stage_history, settings.stale_days)
    return KindContext("trend", region, team, p, settings, data, frame, language, _now(),
                       str(params_folder(params_dir)), months=months)
