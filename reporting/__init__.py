"""crm-reporting: CRM data to sales-metric reports.

The public surface is small; see the modules for the details:
``reporting.ingest`` (exports -> store), ``reporting.store`` (DuckDB),
``reporting.metrics`` (pure metric functions), ``reporting.context`` (a report's data and
figures) and ``reporting.presentation`` (what notebooks show), ``reporting.runner`` (execute
and render one report).
"""

from .exceptions import (
    DataValidationError,
    MappingError,
    ParamsError,
    RenderError,
    ReportingError,
    StoreError,
)

__version__ = "0.1.0"

__all__ = [
    "DataValidationError",
    "MappingError",
    "ParamsError",
    "Period",
    "RenderError",
    "ReportingError",
    "StoreError",
    "parse_period",
]


def __getattr__(name: str):
    """``Period`` and ``parse_period`` on first use: importing ``reporting.periods`` loads
    pandas, which a short command (``crm-report metrics``) does without."""
    if name in ("Period", "parse_period"):
        from . import periods

        return getattr(periods, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
