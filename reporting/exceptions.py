"""The error hierarchy. Every error a user can cause is a ``ReportingError``.

Messages say what went wrong, where (file, row, column), what is allowed, what was given
and how to fix it; the CLI prints them without a traceback.
"""

from __future__ import annotations


class ReportingError(Exception):
    """Base class of every error the toolkit raises on purpose."""


class ParamsError(ReportingError):
    """A parameter or a params/ file is invalid."""


class MappingError(ReportingError):
    """A source mapping file is invalid, or an export does not fit its mapping."""


class DataValidationError(ReportingError):
    """Input data cannot be read or does not fit the data model."""


class StoreError(ReportingError):
    """The DuckDB store is missing, locked or does not hold what was asked for."""


class RenderError(ReportingError):
    """A notebook failed to execute, or HTML / PDF rendering failed."""


def capped(items: list[str], limit: int = 10) -> str:
    """Join the first ``limit`` items, one per line, and say how many more there are."""
    head = "\n".join(f"  - {i}" for i in items[:limit])
    more = len(items) - limit
    return head + (f"\n  ... and {more} more" if more > 0 else "")
