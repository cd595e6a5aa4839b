"""What every puller shares: the flattened result, cursor arithmetic, frame helpers."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from .http import Client
from .staging import Staging


@dataclass
class Flat:
    """A pull flattened: one frame per canonical table (API field names, values as the API
    gave them, plus what the puller derived), the new cursors, and per API object the
    records fetched and the records left out (with why)."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    cursors: dict[str, str] = field(default_factory=dict)
    records: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, dict[str, int]] = field(default_factory=dict)
    #: tables fetched whole on every pull (no modification stamp, e.g. stage definitions):
    #: loaded only when their content changed since the last pull
    whole: set[str] = field(default_factory=set)

    def skip(self, obj: str, why: str, n: int = 1) -> None:
        if n:
            d = self.skipped.setdefault(obj, {})
            d[why] = d.get(why, 0) + n


class Puller:
    """One CRM: how to authenticate, fetch (into the staging folder) and flatten."""

    crm: str = ""
    default_base_url: str | None = None

    def headers(self, token: str) -> dict[str, str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def fetch(self, st: Staging, client: Client, cursors: dict[str, str]) -> dict[str, list]:
        raise NotImplementedError  # pragma: no cover

    def flatten(self, fetched: dict[str, list]) -> Flat:
        raise NotImplementedError  # pragma: no cover


def utc(value) -> pd.Timestamp | None:
    """An API timestamp (ISO 8601 with an offset, or epoch milliseconds) as naive UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        ts = pd.Timestamp(int(value), unit="ms", tz="UTC")
    else:
        try:
            ts = pd.Timestamp(str(value).replace(" ", "T"))
        except ValueError:
            return None
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.tz_localize(None)


def cursor_text(ts: pd.Timestamp) -> str:
    """A cursor as stored: ISO 8601 UTC, e.g. ``2024-04-15T11:00:00.000Z``."""
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def max_cursor(values, old: str | None) -> str | None:
    """The largest of the API stamps ``values`` and the ``old`` cursor."""
    stamps = [t for t in (utc(v) for v in values) if t is not None]
    if old:
        stamps.append(utc(old))
    return cursor_text(max(stamps)) if stamps else None


def plain_number(v) -> str | None:
    """A number as canonical change text: ``36000``, ``36000.5`` (None stays None)."""
    if v is None or v == "":
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if not math.isfinite(f):
        return str(v)
    return str(int(f)) if f.is_integer() else repr(f)


def frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    """Rows as a frame with exactly ``columns``; a column mixing kinds (numbers and text,
    as an anyType API field can) becomes text so Parquet can hold it."""
    df = pd.DataFrame(rows, columns=columns)
    for c in df.columns:
        kinds = {_kind(v) for v in df[c] if not _missing(v)}
        if len(kinds) > 1 or "other" in kinds:
            df[c] = [None if _missing(v) else str(v) for v in df[c]]
        elif kinds == {"number"}:
            df[c] = pd.to_numeric(df[c]).astype("float64")
    return df


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _kind(v) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    return "str" if isinstance(v, str) else "other"
