"""Changes of a headline figure against the previous period and the same period last year.

Pure: the figures of :func:`reporting.metrics.headline` in, numbers out; the report
formats them (percentage points or a relative change).
"""

from __future__ import annotations

from typing import Any

#: how a figure's change is measured: ``pp`` (difference of two ratios, in points) or
#: ``rel`` (relative change, current / other - 1)
KINDS = ("pp", "rel")


def change(current: float | None, other: float | None, kind: str) -> float | None:
    """The change from ``other`` to ``current``: ``current - other`` for ``pp``,
    ``current / other - 1`` for ``rel``; None when either is missing, or for ``rel`` when
    ``other`` is 0."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    if current is None or other is None:
        return None
    if kind == "pp":
        return current - other
    if other == 0:
        return None
    return current / other - 1


def changes(headline: dict[str, dict[str, Any]], key: str, kind: str
            ) -> tuple[float | None, float | None]:
    """``(vs previous period, vs last year)`` of figure ``key`` of a report's headline
    (``{"current": ..., "previous": ..., "last_year": ...}``)."""
    cur = headline["current"].get(key)
    return (change(cur, headline["previous"].get(key), kind),
            change(cur, headline["last_year"].get(key), kind))
