"""Time-zone names, checked without pandas (``params`` validates report.yaml with it, and
``crm-report metrics`` loads the params without pandas)."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def check_timezone(v: str) -> str:
    """An IANA time-zone name (``UTC``, ``Asia/Tehran``), else ValueError naming it."""
    try:
        ZoneInfo(str(v))
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(
            f"unknown time zone {v!r}; use an IANA name such as UTC, Europe/Berlin, "
            "America/Los_Angeles or Asia/Tehran"
        ) from None
    return str(v)
