"""The five sales metrics as pure functions: DataFrames and typed parameters in, tidy
DataFrames out. No I/O, no plotting, no mutation of inputs.

Each metric's definition is in its docstring and in ``DEFINITIONS``, which the report's
methodology appendix prints.
"""

from __future__ import annotations

from . import clv, conversion, cycle, deal_mix, pipeline
from .core import (
    TOO_FEW,
    account_value,
    cycle_length,
    deal_size,
    headline,
    open_pipeline,
    rate_win_rates,
    rep_summary,
    requirements,
    wilson_interval,
    win_rate,
)
from .definitions import DEFINITIONS

__all__ = [
    "clv",
    "conversion",
    "cycle",
    "deal_mix",
    "pipeline",
    "DEFINITIONS",
    "account_value",
    "cycle_length",
    "deal_size",
    "headline",
    "open_pipeline",
    "TOO_FEW",
    "rate_win_rates",
    "rep_summary",
    "requirements",
    "win_rate",
    "wilson_interval",
]
