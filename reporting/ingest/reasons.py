"""Quarantine reasons: a stable code for each kind of problem, plus the text people read.

Every quarantined row carries ``reason_code`` (one of :data:`REASON_CODES`: stable, for
grouping, filtering and tests) and ``reason`` (the text shown to users, which may name the
column, the as-of date or the row a duplicate repeats). Counts are grouped by the code and
the row-independent :func:`reason_label`; nothing parses the text back.
"""

from __future__ import annotations

#: code -> what it means (docs/data-model.md lists the same table)
REASON_CODES = {
    "unbalanced_quote": "a quoted field swallowed whole records (CSV)",
    "extra_fields": "a record has more fields than the header (CSV)",
    "missing_required": "a required field is empty",
    "bad_date": "a date that does not parse with the mapping's date formats",
    "date_before_1970": "a date before 1970-01-01",
    "date_in_future": "a date after the as-of time plus one day",
    "bad_number": "a number that does not parse",
    "not_finite": "a number that is NaN or infinite",
    "out_of_range": "a number beyond ±1e13",
    "bad_bool": "not one of the mapping's yes/no values",
    "unknown_stage": "a stage the mapping's `statuses` does not list",
    "unknown_currency": "a currency without a conversion rate",
    "negative_value": "an amount, quota or capacity below zero",
    "invalid_value": "a value outside the allowed set (status, revenue kind, quota scope_type)",
    "bad_period": "a quota period that is not a month (2026-11) or a quarter (2026-Q4)",
    "closed_without_date": "a won or lost deal without closed_at",
    "closed_before_created": "closed_at before created_at",
    "won_without_amount": "a won deal without amount",
    "duplicate_key": "a key seen before with identical values (the copy is quarantined)",
    "conflicting_duplicate": "a key seen before with other values (every copy is quarantined)",
}

#: pandera check texts (``error=`` in reporting/schema.py) -> (code, the column judged)
PANDERA_CHECKS: dict[str, tuple[str, str | None]] = {
    "status must be open, won or lost": ("invalid_value", None),
    "unknown revenue kind": ("invalid_value", None),
    "amount is negative": ("negative_value", None),
    "quota is negative": ("negative_value", None),
    "scope_type must be rep, team or region": ("invalid_value", None),
    "period must be a month or a quarter": ("bad_period", None),
    "capacity is negative": ("negative_value", None),
    # dataframe-wide rules: they name the column they judge
    "closed deal without closed_at": ("closed_without_date", "closed_at"),
    "closed before created": ("closed_before_created", "closed_at"),
    "won deal without amount": ("won_without_amount", "amount"),
}

#: codes whose text refers to other rows or lines: counted under one label
_LABELS = {
    "duplicate_key": "duplicate id (identical)",
    "conflicting_duplicate": "duplicate id with conflicting values",
    "unbalanced_quote": "unbalanced quote (a field holds whole records)",
    "extra_fields": "more fields than the header",
}


def reason_label(code: str | None, reason: str) -> str:
    """The text a quarantined row is counted under: its ``reason`` unless the reason
    names other rows (duplicates, unbalanced quotes, extra fields), whose label is fixed
    by the code: ``duplicate_key`` -> ``duplicate id (identical)``."""
    return _LABELS.get(code or "", str(reason))


def duplicate_reason(same: bool, first_row: int, first_file: str, file: str) -> str:
    """The text of a duplicate key (``same``: identical values) seen first at ``first_row``
    of ``first_file``."""
    where = f" of {first_file}" if first_file != file else ""
    if same:
        return f"duplicate id (identical to row {first_row}{where})"
    return f"duplicate id with conflicting values (first seen at row {first_row}{where})"


def conflict_reason(other_row: int, other_file: str, file: str) -> str:
    """The text of the first row of a key met again with other values."""
    where = f" of {other_file}" if other_file != file else ""
    return f"duplicate id with conflicting values (conflicts with row {other_row}{where})"
