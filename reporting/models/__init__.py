"""Models that follow scikit-learn's estimator conventions (fit / transform, learned
attributes with a trailing underscore): deal-size bands and customer lifetime value."""

from .backtest import BacktestResult, backtest, choose_model, holdout_metrics
from .bands import DealSizeBander, diagnostics
from .clv import (
    BetaGeoFitter,
    GammaGammaFitter,
    NextHorizonRegressor,
    RFMSegmenter,
    ShiftedBetaGeometric,
    clv,
    rfm_summary,
)

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
