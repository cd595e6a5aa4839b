"""Models that follow scikit-learn's estimator conventions (fit / transform, learned
attributes with a trailing underscore): deal-size bands and customer lifetime value."""

import importlib
import sys
import types

# Names are looked up in their submodule on first use (PEP 562): importing one light
# module of the package (``reporting.models.reference`` for the band references, which
# every ``crm-report run`` needs) must not load scipy and scikit-learn (~0.7 s).
_WHERE = {
    "BacktestResult": "backtest", "backtest": "backtest", "choose_model": "backtest",
    "holdout_metrics": "backtest", "DealSizeBander": "bands", "diagnostics": "bands",
    "BetaGeoFitter": "clv", "GammaGammaFitter": "clv", "NextHorizonRegressor": "clv",
    "RFMSegmenter": "clv", "ShiftedBetaGeometric": "clv", "clv": "clv",
    "rfm_summary": "clv",
}


def __getattr__(name: str):
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{where}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])


class _Package(types.ModuleType):
    """``reporting.models.backtest`` and ``reporting.models.clv`` are the functions this
    package exports (as when it imported them eagerly), not the submodules of the same
    name, which the import system would otherwise bind here once loaded."""

    def __setattr__(self, name: str, value) -> None:
        if name in ("backtest", "clv") and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


__all__ = [
    "BacktestResult",
    "BetaGeoFitter",
    "DealSizeBander",
    "GammaGammaFitter",
    "NextHorizonRegressor",
    "RFMSegmenter",
    "ShiftedBetaGeometric",
    "backtest",
    "choose_model",
    "clv",
    "diagnostics",
    "holdout_metrics",
    "rfm_summary",
]
