"""Models that follow scikit-learn's estimator conventions (fit / transform, learned
attributes with a trailing underscore)."""

from .bands import DealSizeBander

__all__ = ["DealSizeBander"]
