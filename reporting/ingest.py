"""Read CRM exports, map them onto the canonical tables, validate, and quarantine.

Every row read ends up either loaded or in the quarantine table with its file, row number
(spreadsheet numbering: the header is row 1), column, reason and raw values. Nothing is
dropped silently; :class:`FileResult` checks ``read == loaded + quarantined`` in code.

Files are streamed: CSV and Parquet files are read in chunks of ``chunksize`` rows, each
chunk mapped, validated and written to the store before the next is read, so a file of
several GB never sits in memory. Row numbers continue across chunks, and duplicate keys
are found across the whole file (:class:`SeenKeys` keeps each key's first row in a DuckDB
temporary table).

Bad files raise :class:`~reporting.exceptions.DataValidationError` or
:class:`~reporting.exceptions.MappingError` naming the file and what to change.
"""

from __future__ import annotations

import codecs
import csv
import fnmatch
import functools
import hashlib
import json
import re
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pandera.pandas as pa

from .exceptions import DataValidationError, MappingError
from .schema import TABLES, pandera_schema
from .sources import SourceMapping, TableMapping, load_mapping

QUARANTINE_COLUMNS = ["file", "table", "row", "column", "reason", "value", "record"]
#: rows per chunk when streaming a file into the store
DEFAULT_CHUNKSIZE = 200_000
#: quarantined rows kept in memory in :class:`IngestReport` (all of them are in the store)
REPORT_QUARANTINE_LIMIT = 10_000
#: DuckDB's memory limit while ingesting (the uncommitted rows of a big file spill to disk
#: beyond it); None: DuckDB's default (80% of RAM)
INGEST_MEMORY_LIMIT: str | None = "1GB"
#: a date later than the as-of time plus this is "in the future"
FUTURE_TOLERANCE = timedelta(days=1)
#: datetime columns that cannot lie in the future (a rep's start date or a booked revenue
#: line may legitimately be planned ahead)
FUTURE_CHECKED = {
    "opportunities": ("created_at", "closed_at", "last_activity_at"),
    "leads": ("created_at", "converted_at"),
    "stage_history": ("entered_at",),
}

_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
# bidi marks and overrides, zero-width characters, BOM and soft hyphen: invisible in a
# spreadsheet, but they break number and date parsing (Persian exports are full of them)
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_SPACES = " \u00a0\u2007\u2009\u202f"
_CURRENCY = r"(?:[A-Za-z]{3}|[A-Za-z]{0,2}\$|[€£¥₹﷼₽₺₩₪₫฿₦₱¢]|ریال|ريال|تومان)"
_ROW_RULES = {
    "closed deal without closed_at": "closed_at",
    "closed before created": "closed_at",
    "won deal without amount": "amount",
}
_NULLS = {"", "na", "n/a", "nan", "null", "none", "nat", "-"}
_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_MAGIC = [
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook?)"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"PAR1", "a Parquet file (name it .parquet)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls workbook"),
    (b"{\\rtf", "an RTF document"),
]


@dataclass
class FileResult:
    """What happened to one file of an export."""

    file: str
    table: str
    read: int
    loaded: int
    quarantined: int
    reasons: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.read != self.loaded + self.quarantined:
            raise AssertionError(
                f"{self.file}: {self.read} rows read but {self.loaded} loaded + "
                f"{self.quarantined} quarantined; a row was lost"
            )
        if sum(self.reasons.values()) != self.quarantined:
            raise AssertionError(
                f"{self.file}: {self.quarantined} rows quarantined but the reasons count "
                f"{sum(self.reasons.values())}"
            )


@dataclass
class MappedTable:
    """A canonical table mapped from one file (or one chunk of it), with its quarantine."""

    table: str
    file: str
    frame: pd.DataFrame
    quarantine: pd.DataFrame
    result: FileResult


# --------------------------------------------------------------------------- reading


def _bom_encoding(head: bytes) -> str | None:
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    return None


def _detect_encoding(head: bytes, declared: str | None) -> str:
    return _bom_encoding(head) or declared or "utf-8"


def _check_encoding_name(path: Path, encoding: str) -> None:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise MappingError(
            f"{path}: unknown encoding {encoding!r}; use a Python codec name such as "
            "utf-8, utf-16, cp1256 (Persian / Arabic Windows) or latin-1"
        ) from None


def _encoding_hint(data: bytes) -> str:
    """Which 8-bit encoding the bytes probably are, as advice for the mapping file."""
    high = sum(b >= 0x80 for b in data)
    arabic = sum("\u0600" <= ch <= "\u06ff" for ch in data.decode("cp1256", errors="replace"))
    if high and arabic >= high * 0.6:
        first = "`encoding: cp1256` (the bytes look like Persian / Arabic Windows text)"
        second = "`encoding: latin-1` for Western European exports"
    else:
        first = "`encoding: latin-1` (or cp1252) for Western European exports"
        second = "`encoding: cp1256` for Persian / Arabic Windows exports"
    return (
        f"set {first} or {second} in the mapping file, or pass the encoding "
        "(ingest_paths(..., encoding=...)), or re-save the file as UTF-8"
    )


def _first_bad_byte(path: Path, encoding: str) -> tuple[int, bytes] | None:
    """Offset and bytes of the first byte sequence that does not decode, scanning in blocks."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    pos = 0
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                data = exc.object
                return pos - pending + exc.start, bytes(data[max(0, exc.start - 40): exc.start + 40])
            pos += len(block)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            return pos - len(exc.object) + exc.start, bytes(exc.object[exc.start:])
    return None


def _encoding_error(path: Path, encoding: str, declared: bool) -> DataValidationError:
    bad = _first_bad_byte(path, encoding)
    where = f"at byte {bad[0]:,} ({bad[1][40:44] or bad[1][:4]!r})" if bad else "somewhere"
    if declared:
        advice = (
            "check the `encoding:` of the mapping (or the encoding argument); "
            + _encoding_hint(bad[1] if bad else b"")
        )
    else:
        advice = "the file is not UTF-8: " + _encoding_hint(bad[1] if bad else b"")
    return DataValidationError(f"{path}: not valid {encoding} text {where}; {advice}")


def _not_csv(path: Path, head: bytes, encoding: str) -> None:
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise DataValidationError(
                f"{path}: this is {what}, not a CSV file; export the report as CSV "
                "(UTF-8) or Parquet, or save the spreadsheet as CSV"
            )
    if b"\x00" in head and not encoding.replace("_", "-").lower().startswith(("utf-16", "utf-32")):
        sample = head[:200]
        odd = sample[1::2].count(0) > len(sample) // 4 or sample[0::2].count(0) > len(sample) // 4
        hint = (
            " It may be UTF-16 without a byte-order mark: set `encoding: utf-16-le` (or "
            "utf-16-be) in the mapping."
            if odd
            else ""
        )
        raise DataValidationError(
            f"{path}: looks like a binary file, not CSV (it contains NUL bytes); "
            f"export the report as CSV or Parquet.{hint}"
        )


def _header_fields(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter))
    except (csv.Error, StopIteration):
        return []


def _known_columns(mapping: SourceMapping, table: str | None) -> set[str]:
    names: set[str] = set()
    tables = [mapping.tables[table]] if table in mapping.tables else mapping.tables.values()
    for tm in tables:
        for src in [*tm.columns.values(), *tm.optional_columns.values()]:
            names.update([src] if isinstance(src, str) else src)
        if tm.status_from:
            names.add(tm.status_from)
    return {_clean_name(n) for n in names}


def _sniff_delimiter(sample: str, mapping: SourceMapping, table: str | None) -> str:
    """The delimiter whose header fields match the most mapped columns (then: most fields)."""
    line = sample.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    known = _known_columns(mapping, table)
    best, score = ",", (-1, -1)
    for d in _DELIMITERS:
        fields = [_clean_name(f) for f in _header_fields(line, d)]
        s = (sum(f in known for f in fields), len(fields))
        if s > score:
            best, score = d, s
    return best


def _clean_name(name: object) -> str:
    return _INVISIBLE.sub("", str(name)).strip()


def _clean_columns(columns: list[object]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for c in columns:
        name = _clean_name(c)
        base, i = name, 0
        while name in seen:
            i += 1
            name = f"{base}.{i}"
        seen.add(name)
        out.append(name)
    return out


def _parquet_chunks(path: Path, chunksize: int | None) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        empty = True
        for batch in pf.iter_batches(batch_size=chunksize or 1 << 40):
            empty = False
            yield batch.to_pandas()
        if empty:
            yield pf.schema_arrow.empty_table().to_pandas()
    except (OSError, ValueError, TypeError) as exc:  # pyarrow raises ArrowInvalid (a ValueError), OSError
        raise DataValidationError(f"{path}: not a readable Parquet file ({exc})") from None


def iter_export(
    path: Path,
    mapping: SourceMapping,
    *,
    encoding: str | None = None,
    chunksize: int | None = DEFAULT_CHUNKSIZE,
    table: str | None = None,
) -> Iterator[pd.DataFrame]:
    """Read one CSV or Parquet file in chunks of ``chunksize`` rows (None: one chunk).

    CSV columns are text; Parquet columns keep their types. A file with a header and no
    rows yields one empty frame with the header's columns. ``encoding`` overrides the
    mapping's ``encoding`` (a byte-order mark overrides both); ``table`` helps detect the
    delimiter from the header.

    Raises
    ------
    DataValidationError
        With the file name and what to change, for unreadable, empty, binary, badly
        encoded or malformed files.
    MappingError
        For an unknown encoding name.
    """
    path = Path(path)
    if chunksize is not None and chunksize < 1:
        raise ValueError("chunksize must be positive")
    if path.suffix.lower() in (".parquet", ".pq"):
        for frame in _parquet_chunks(path, chunksize):
            frame.columns = _clean_columns(list(frame.columns))
            yield frame
        return
    if path.stat().st_size == 0:
        raise DataValidationError(
            f"{path}: the file is empty (0 bytes); export it again (a file with only the "
            "header row is accepted and loads nothing)"
        )
    with path.open("rb") as fh:
        head = fh.read(65536)
    declared = encoding or mapping.encoding
    enc = _detect_encoding(head, declared)
    _check_encoding_name(path, enc)
    _not_csv(path, head, enc)
    try:
        sample = codecs.getincrementaldecoder(enc)("strict").decode(head, final=len(head) < 65536)
    except UnicodeDecodeError:
        raise _encoding_error(path, enc, declared=bool(declared) and enc == declared) from None
    if not sample.strip("\ufeff \r\n\t"):
        raise DataValidationError(f"{path}: the file has no header and no rows (only blank lines)")
    delimiter = mapping.delimiter or _sniff_delimiter(sample, mapping, table)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            with pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                encoding=enc,
                sep=delimiter,
                encoding_errors="strict",
                index_col=False,
                chunksize=chunksize or 1 << 62,
            ) as reader:
                for frame in reader:
                    frame.columns = _clean_columns(list(frame.columns))
                    yield frame.reset_index(drop=True)
    except UnicodeDecodeError:
        raise _encoding_error(path, enc, declared=bool(declared) and enc == declared) from None
    except pd.errors.EmptyDataError:
        raise DataValidationError(f"{path}: the file has no header and no rows") from None
    except pd.errors.ParserWarning as exc:
        raise DataValidationError(
            f"{path}: a row has more fields than the header ({exc}); quote fields that "
            f"contain the delimiter {delimiter!r}, or check the delimiter"
        ) from None
    except pd.errors.ParserError as exc:
        msg = str(exc)
        hint = (
            "; a quoted field is never closed: the file looks truncated (export it again)"
            if "EOF inside string" in msg
            else f"; quote fields that contain the delimiter {delimiter!r}, or set "
            "`delimiter:` in the mapping"
        )
        raise DataValidationError(f"{path}: not a well-formed CSV file: {msg}{hint}") from None
    except (ValueError, OverflowError, csv.Error) as exc:  # e.g. a field too large for the parser
        raise DataValidationError(f"{path}: cannot be read as CSV: {exc}") from None


def read_export(
    path: Path, mapping: SourceMapping, *, encoding: str | None = None, table: str | None = None
) -> pd.DataFrame:
    """Read one whole CSV or Parquet file (see :func:`iter_export`; prefer it for big files)."""
    return pd.concat(
        list(iter_export(path, mapping, encoding=encoding, chunksize=None, table=table)),
        ignore_index=True,
    )
def files_for_tables(paths: list[Path], mapping: SourceMapping) -> list[tuple[str, Path]]:
    """Pair each export file with the canonical table it holds.

    A folder is one export: each table takes the files matching its ``files`` patterns.
    A single file given directly goes to the table whose patterns match its name, or to
    ``opportunities`` when no pattern matches.
    """
    pairs: list[tuple[str, Path]] = []
    for p in paths:
        p = Path(p)
        if not p.exists():
            raise DataValidationError(f"{p}: no such file or folder")
        if p.is_dir():
            found = False
            for table, tm in mapping.tables.items():
                for f in sorted(p.iterdir()):
                    if f.is_file() and any(fnmatch.fnmatch(f.name, pat) for pat in tm.files):
                        pairs.append((table, f))
                        found = True
            if not found:
                raise DataValidationError(
                    f"{p}: no file in this folder matches the patterns of mapping "
                    f"{mapping.name!r} ("
                    + "; ".join(f"{t}: {', '.join(tm.files)}" for t, tm in mapping.tables.items())
                    + ")"
                )
        else:
            tables = [
                t
                for t, tm in mapping.tables.items()
                if any(fnmatch.fnmatch(p.name, pat) for pat in tm.files)
            ]
            if len(tables) != 1:
                tables = ["opportunities"] if "opportunities" in mapping.tables else tables[:1]
            if not tables:
                raise MappingError(f"{p}: mapping {mapping.name!r} has no table for this file")
            pairs.append((tables[0], p))
    return pairs


# --------------------------------------------------------------------------- parsing




def _is_null(s: pd.Series) -> pd.Series:
    if s.dtype == object or pd.api.types.is_string_dtype(s):
        return s.isna() | _clean_text(s).str.lower().isin(_NULLS)
    return s.isna()


def _clean_text(s: pd.Series) -> pd.Series:
    """Text (missing: "") with Persian / Arabic digits as ASCII and invisible characters
    removed. Only non-ASCII values take the slow path."""
    t = s.astype("str").fillna("")
    odd = t.str.contains(_NON_ASCII, regex=True)
    if odd.any():
        fixed = [_INVISIBLE.sub("", v.translate(_DIGITS)) for v in t[odd].tolist()]
        t = t.copy()
        t[odd] = fixed
    return t.str.strip()


def _parse_dates(s: pd.Series, formats: list[str], tz: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):
        out = pd.to_datetime(s)
    else:
        text = _clean_text(s)
        out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us, UTC]")
        null = _is_null(s)
        for fmt in formats:
            todo = out.isna() & ~null
            if not todo.any():
                break
            parsed = pd.to_datetime(text[todo], errors="coerce", utc=False, format=fmt)
            if not pd.api.types.is_datetime64_any_dtype(parsed):  # mixed offsets: objects
                parsed = pd.to_datetime(text[todo], errors="coerce", utc=True, format=fmt)
            if getattr(parsed.dt, "tz", None) is None:
                parsed = parsed.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
            out.loc[todo] = parsed.dt.tz_convert("UTC")
        return out.dt.tz_localize(None).astype("datetime64[us]")
    if out.dt.tz is not None:
        out = out.dt.tz_convert("UTC").dt.tz_localize(None)
    elif tz != "UTC":
        out = out.dt.tz_localize(tz).dt.tz_convert("UTC").dt.tz_localize(None)
    return out.astype("datetime64[us]")


def _number_pattern(decimal: str, thousands: str) -> re.Pattern[str]:
    d = re.escape(decimal or ".")
    t = "[" + re.escape(thousands + _SPACES) + "]" if thousands else "[" + re.escape(_SPACES) + "]"
    number = (
        rf"[0-9]{{1,3}}(?:{t}[0-9]{{3}})+(?:{d}[0-9]*)?"  # 1,234,567.5
        rf"|[0-9]{{1,2}}(?:{t}[0-9]{{2}})+{t}[0-9]{{3}}(?:{d}[0-9]*)?"  # 12,34,567.5 (lakh)
        rf"|[0-9]+(?:{d}[0-9]*)?(?:[eE][-+]?[0-9]+)?"  # 1234.5, 1e6
        rf"|{d}[0-9]+"  # .5
    )
    sign = "[-+\u2212]"
    return re.compile(
        rf"^(?P<open>\()?\s*(?P<s1>{sign})?\s*(?:{_CURRENCY})?\s*(?P<s2>{sign})?\s*"
        rf"(?P<num>{number})\s*(?:{_CURRENCY})?\s*(?P<s3>-)?\s*(?P<close>\))?$"
    )


def _parse_numbers(s: pd.Series, decimal: str, thousands: str) -> pd.Series:
    """Numbers written by people: currency symbols or codes, thousands separators (the
    mapping's, or spaces), the mapping's decimal mark, negative in parentheses, Persian /
    Arabic digits. Anything else is NaN (reported as non-numeric), never a guess."""
    if pd.api.types.is_bool_dtype(s):
        return pd.Series(np.nan, index=s.index, dtype="float64")
    if pd.api.types.is_numeric_dtype(s):
        return s.astype("float64")
    text = _clean_text(s)
    value = pd.Series(np.nan, index=s.index, dtype="float64")
    # fast path: plain numbers like 1234 or -12.5 (vectorised in pyarrow)
    plain = text.str.fullmatch(r"-?[0-9]{1,15}(?:\.[0-9]*)?") if decimal == "." else (
        text.str.fullmatch(r"-?[0-9]{1,15}"))
    if plain.any():
        value[plain] = pd.to_numeric(text[plain], errors="coerce").astype("float64")
    rest = ~plain & (text != "")
    if not rest.any():
        return value
    text = text[rest].str.replace("٬", thousands or "", regex=False)
    text = text.str.replace("٫", decimal or ".", regex=False)
    parts = text.str.extract(_number_pattern(decimal, thousands))
    num = parts["num"].astype("str")
    for ch in (thousands + _SPACES) if thousands else _SPACES:
        num = num.str.replace(ch, "", regex=False)
    if decimal and decimal != ".":
        num = num.str.replace(decimal, ".", regex=False)
    opened, closed = parts["open"].notna(), parts["close"].notna()
    negative = (opened & closed) | parts["s1"].isin(["-", "\u2212"]) | parts["s2"].isin(
        ["-", "\u2212"]
    ) | parts["s3"].notna()
    parsed = pd.to_numeric(num, errors="coerce").astype("float64")
    parsed = parsed.where(opened == closed, np.nan)
    parsed = parsed.where(np.isfinite(parsed), np.nan)
    value[rest] = parsed.where(~negative, -parsed)
    return value


def _parse_bools(s: pd.Series, booleans: dict[str, list[str]]) -> pd.Series:
    if pd.api.types.is_bool_dtype(s):
        return s.astype(object)
    low = _clean_text(s).str.lower()
    out = pd.Series(None, index=s.index, dtype=object)
    out[low.isin(booleans.get("true", []))] = True
    out[low.isin(booleans.get("false", []))] = False
    return out


def _record_json(raw: pd.DataFrame, rows: np.ndarray) -> list[str]:
    sub = raw.iloc[rows]
    return [json.dumps(r, ensure_ascii=False, default=str) for r in sub.to_dict("records")]


def _as_of(as_of: datetime | date | str | pd.Timestamp | None) -> pd.Timestamp:
    """The as-of time as a naive UTC timestamp (default: now)."""
    if as_of is None:
        return pd.Timestamp(datetime.now(UTC).replace(tzinfo=None))
    ts = pd.Timestamp(as_of)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts


class SeenKeys:
    """The keys met so far in one file, with each key's first row and a hash of its values.

    Kept in a DuckDB table, so duplicates are found across chunks without holding the keys
    in Python: a temporary table of a private in-memory database by default, or the table
    ``name`` of the store's connection ``con`` (on disk: a file of tens of millions of rows
    does not fill the memory). Also counts derived revenue ids so they do not depend on
    chunking.
    """

    def __init__(
        self, con: duckdb.DuckDBPyConnection | None = None, name: str | None = None
    ) -> None:
        self._own = con is None
        if con is None:
            con = duckdb.connect(":memory:", config={"temp_directory": tempfile.gettempdir()})
        self.con = con
        self.name = name or f"_seen_keys_{uuid.uuid4().hex[:12]}"
        self.count = 0
        self.revenue_counts: dict[str, int] = {}
        kind = "TABLE" if name else "TEMP TABLE"
        con.execute(f'CREATE {kind} "{self.name}" (k VARCHAR, first_row BIGINT, h UBIGINT)')

    def lookup(self, keys: pd.Series) -> pd.DataFrame:
        """``first_row`` and ``h`` of the given keys already seen, indexed by key."""
        if self.count == 0 or keys.empty:
            return pd.DataFrame({"first_row": [], "h": []}, index=pd.Index([], name="k"))
        probe = pd.DataFrame({"k": keys.astype(object).to_numpy()})
        self.con.register("_probe_keys", probe)
        try:
            found = self.con.execute(
                f'SELECT s.k, s.first_row, s.h FROM "{self.name}" s '

                "JOIN (SELECT DISTINCT k FROM _probe_keys) p ON s.k = p.k"
            ).df()
        finally:
            self.con.unregister("_probe_keys")
        return found.set_index("k")

    def add(self, keys: pd.Series, rows: np.ndarray, hashes: np.ndarray) -> None:
        if keys.empty:
            return
        new = pd.DataFrame({
            "k": keys.astype(object).to_numpy(),
            "first_row": rows.astype("int64"),
            "h": hashes.astype("uint64"),
        })
        self.con.register("_new_keys", new)
        try:
            self.con.execute(f'INSERT INTO "{self.name}" SELECT k, first_row, h FROM _new_keys')
        finally:
            self.con.unregister("_new_keys")
        self.count += len(new)

    def close(self) -> None:
        try:
            self.con.execute(f'DROP TABLE IF EXISTS "{self.name}"')
        finally:
            if self._own:
                self.con.close()

    def __enter__(self) -> SeenKeys:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@functools.cache
def _value_schema(table: str) -> pa.DataFrameSchema:
    """The table's pandera schema without dtype checks: the parsing above sets the dtypes,
    and pandera's element-wise string dtype check costs more than the value checks."""
    schema = pandera_schema(table)
    return schema.update_columns({c: {"dtype": None} for c in schema.columns})


def _key_strings(frame: pd.DataFrame) -> pd.Series:
    parts = [frame[c].astype(object).where(frame[c].notna(), "\x00").astype(str) for c in frame]
    key = parts[0]
    for p in parts[1:]:
        key = key + "\x1f" + p
    return key


def _one_column_hint(raw: pd.DataFrame, wanted: int) -> str:
    if len(raw.columns) != 1 or wanted < 2:
        return ""
    name = str(raw.columns[0])
    found = [d for d in _DELIMITERS if d in name]
    guess = (
        f"; it looks {_DELIMITER_NAMES[found[0]]}-separated: set `delimiter: {found[0]!r}` in "
        "the mapping" if found else "; set `delimiter:` in the mapping"
    )
    return (
        f". The delimiter seems wrong: the header was read as one column but the mapping "
        f"wants {wanted}{guess}"
    )


def map_table(
    raw: pd.DataFrame,
    table: str,
    mapping: SourceMapping,
    file: str,
    *,
    as_of: datetime | date | str | pd.Timestamp | None = None,
    row_offset: int = 0,
    seen: SeenKeys | None = None,
) -> MappedTable:
    """Map one export frame onto canonical ``table``; quarantine the rows that fail.

    ``raw`` may be one chunk of a file: ``row_offset`` is the number of data rows before
    it (row numbers continue), and ``seen`` carries the keys of the earlier chunks so
    duplicates are found across the whole file. ``as_of`` (default: now) is the time after
    which (plus one day) a date is "in the future".

    Reasons are specific: ``missing required field <column>``, ``unparseable date``,
    ``non-numeric <column>``, ``amount is negative``, ``unknown stage``, ``unknown currency
    without a rate``, ``closed before created``, ``closed deal without closed_at``,
    ``won deal without amount``, ``date in the future (after <as-of date>)``,
    ``duplicate id (identical to row N)``, ``duplicate id with conflicting values (first
    seen at row N)``. ``result.reasons`` counts them by :func:`reason_group` (without the
    row numbers).
    """
    tm: TableMapping = mapping.tables[table]
    spec = TABLES[table]
    n = len(raw)
    raw = raw.reset_index(drop=True)
    now = _as_of(as_of)

    def present(src: str | list[str]) -> list[str]:
        alts = [src] if isinstance(src, str) else src
        return [c for c in alts if c in raw.columns]

    sources: dict[str, list[str]] = {}
    missing_cols = []
    for col, src in tm.columns.items():
        if not present(src):
            missing_cols.append(" or ".join(repr(c) for c in ([src] if isinstance(src, str) else src)))
        sources[col] = present(src)
    for col, src in tm.optional_columns.items():
        if present(src) and col not in sources:
            sources[col] = present(src)
    if tm.status_from and tm.status_from not in raw.columns:
        missing_cols.append(repr(tm.status_from))
    if missing_cols:
        wanted = len(tm.columns) + (1 if tm.status_from else 0)
        raise MappingError(
            f"{file}: column(s) {', '.join(missing_cols)} named in mapping "
            f"{mapping.path or mapping.name} (table {table}) are not in the file; the file has: "
            + ", ".join(repr(c[:80]) for c in list(raw.columns)[:30])
            + _one_column_hint(raw, wanted)
        )

    problems: list[pd.DataFrame] = []

    def flag(mask: pd.Series, column: str, reason: str, values: pd.Series | None) -> None:
        mask = mask.fillna(False).astype(bool)
        if mask.any():
            idx = np.flatnonzero(mask.to_numpy())
            vals = values.iloc[idx].astype(object).fillna("").astype(str).to_numpy() if values is not None else ""
            problems.append(
                pd.DataFrame({"idx": idx, "column": column, "reason": reason, "value": vals})
            )

    out = pd.DataFrame(index=raw.index)
    texts: dict[str, pd.Series] = {}
    for col, cols in sources.items():
        s = raw[cols[0]]
        for other in cols[1:]:
            s = s.where(~_is_null(s), raw[other])
        f = spec.field(col)
        if col in tm.values and f.kind == "str":
            s = s.astype(object).where(s.notna(), "").astype(str).str.strip().replace(tm.values[col])
        texts[col] = s
        null = _is_null(s)
        if f.kind == "datetime":
            parsed = _parse_dates(s, mapping.date_formats, mapping.timezone)
            flag(parsed.isna() & ~null, col, "unparseable date", s)
        elif f.kind in ("float", "int"):
            parsed = _parse_numbers(s, mapping.decimal, mapping.thousands)
            flag(parsed.isna() & ~null, col, f"non-numeric {col}", s)
        elif f.kind == "bool":
            parsed = _parse_bools(s, tm.booleans)
            flag(parsed.isna() & ~null, col, f"not a yes/no value in {col}", s)
        else:
            parsed = s.astype(object).where(~null, None)
            parsed = parsed.where(parsed.isna(), parsed.astype(str).str.strip()).astype(object)
        out[col] = parsed
    for col, value in tm.constants.items():
        out[col] = value

    if table == "opportunities" and tm.status_from:
        stage_raw = raw[tm.status_from].astype(object).where(raw[tm.status_from].notna(), "")
        stage_raw = stage_raw.astype(str).str.strip()
        status = stage_raw.map(tm.statuses)
        flag(status.isna(), "stage", "unknown stage", stage_raw)
        out["status"] = status.astype(object)
        if "stage" not in out:
            out["stage"] = stage_raw.astype(object)
    if table == "opportunities" and "closed_at" in out:
        # an open deal has no close date (CRMs put the *expected* close date there)
        out["closed_at"] = out["closed_at"].where(out["status"] != "open", pd.NaT)

    # dates after the data's as-of time (plus a day's tolerance) are typos or test data
    limit = now + FUTURE_TOLERANCE
    for col in FUTURE_CHECKED.get(table, ()):
        if col in out and pd.api.types.is_datetime64_any_dtype(out[col]):
            flag(out[col] > limit, col, f"date in the future (after {now.date()})",
                 texts.get(col, out[col]))

    # currency: rows in another currency are converted with the mapping's rates
    if "currency" in spec.columns and "amount" in out:
        cur = out["currency"] if "currency" in out else pd.Series(None, index=out.index)
        cur = cur.astype(object).fillna(mapping.currency.default).astype(str).str.upper().str.strip()
        rates = {k.upper(): v for k, v in mapping.currency.rates.items()}
        rates[mapping.currency.reporting.upper()] = 1.0
        rate = cur.map(rates)
        flag(rate.isna(), "currency", "unknown currency without a rate", cur)
        out["amount"] = out["amount"] * rate.astype(float)
        out["currency"] = mapping.currency.reporting.upper()

    for c in spec.columns:
        if c not in out:
            kind = spec.field(c).kind
            if kind in ("float", "int"):
                out[c] = pd.Series(np.nan, index=out.index, dtype="float64")
            elif kind == "datetime":
                out[c] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[us]")
            else:
                out[c] = pd.Series([None] * len(out), index=out.index, dtype=object)
    out = out[spec.columns]

    if table == "revenue":
        missing_id = out["revenue_id"].isna()
        if missing_id.any():
            key = (
                out["account_id"].astype(str) + "|" + out["date"].astype(str) + "|"
                + out["amount"].astype(str) + "|" + out["kind"].astype(str)
            )
            counts = seen.revenue_counts if seen is not None else {}
            occurrence = key.groupby(key).cumcount() + key.map(counts).fillna(0).astype(int)
            if seen is not None:
                for k, c in key.value_counts().items():
                    counts[k] = counts.get(k, 0) + int(c)
            derived = (key + "|" + occurrence.astype(str)).map(
                lambda k: "R" + hashlib.sha1(k.encode()).hexdigest()[:16]
            )
            out.loc[missing_id, "revenue_id"] = derived[missing_id]

    # pandera: presence, ranges, allowed values, cross-column rules (lazy: all at once)
    bad_parse = (
        set(np.concatenate([p["idx"].to_numpy() for p in problems])) if problems else set()
    )
    check_frame = out.drop(index=list(bad_parse)) if bad_parse else out
    try:
        _value_schema(table).validate(check_frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        fc = fc[fc["index"].notna()]
        for (column, check), grp in fc.groupby(
            [fc["column"].fillna(""), fc["check"].astype(str)], dropna=False
        ):
            idx = grp["index"].astype(int).to_numpy()
            if check == "not_nullable":
                reason = f"missing required field {column}"
            elif check in _ROW_RULES:  # dataframe-wide rules name the column they judge
                reason, column = check, _ROW_RULES[check]
            else:
                reason = check  # pandera puts a custom check's error text here
            src = texts.get(column, out[column] if column in out else None)
            vals = src.iloc[idx].astype(object).fillna("").astype(str).to_numpy() if src is not None else ""
            problems.append(
                pd.DataFrame({"idx": idx, "column": column, "reason": reason, "value": vals})
            )

    # duplicate keys: keep the first (in this chunk or an earlier one), quarantine the
    # others with the first's row number
    bad = set(np.concatenate([p["idx"].to_numpy() for p in problems])) if problems else set()
    keycols = list(spec.key)
    ok = out[~out.index.isin(list(bad))]
    if len(ok):
        keys = _key_strings(ok[keycols])
        rows = ok.index.to_numpy() + row_offset + 2
        hashes = pd.util.hash_pandas_object(ok, index=False).to_numpy()
        firsts = pd.DataFrame({"k": keys.to_numpy(), "row": rows, "h": hashes}, index=ok.index)
        ref = firsts.groupby("k", sort=False)[["row", "h"]].transform("first")
        if seen is not None:
            first_in_chunk = ~keys.duplicated(keep="first")
            earlier = seen.lookup(keys[first_in_chunk])
            if len(earlier):
                hit = keys.isin(earlier.index)
                ref.loc[hit, "row"] = keys[hit].map(earlier["first_row"]).astype("int64")
                ref.loc[hit, "h"] = keys[hit].map(earlier["h"]).astype("uint64")
            else:
                hit = pd.Series(False, index=keys.index)
            new = first_in_chunk & ~hit
            seen.add(keys[new], rows[new.to_numpy()], hashes[new.to_numpy()])
        dup = (ref["row"].to_numpy() != rows)
        if dup.any():
            same = ref["h"].to_numpy()[dup] == hashes[dup]
            first_rows = ref["row"].to_numpy()[dup]
            problems.append(
                pd.DataFrame({
                    "idx": ok.index.to_numpy()[dup],
                    "column": ",".join(keycols),
                    "reason": [
                        f"duplicate id (identical to row {j})" if s
                        else f"duplicate id with conflicting values (first seen at row {j})"
                        for s, j in zip(same, first_rows, strict=True)
                    ],
                    "value": ok[keycols[0]].astype(str).to_numpy()[dup],
                })
            )

    if problems:
        q = pd.concat(problems, ignore_index=True).sort_values(["idx", "column"], kind="stable")
        q = q.drop_duplicates("idx", keep="first")  # one reason per row: the first found
        q["reason"] = q["reason"].map(_short_reason)
        rows = q["idx"].to_numpy()
        quarantine = pd.DataFrame({
            "file": file,
            "table": table,
            "row": rows + row_offset + 2,
            "column": q["column"].to_numpy(),
            "reason": q["reason"].to_numpy(),
            "value": q["value"].astype(str).str.slice(0, 200).to_numpy(),
            "record": _record_json(raw, rows),
        })
        loaded = out.drop(index=rows)
    else:
        quarantine = pd.DataFrame(columns=QUARANTINE_COLUMNS)
        loaded = out
    reasons = (
        quarantine["reason"].map(reason_group).value_counts().to_dict() if len(quarantine) else {}
    )
    result = FileResult(file, table, n, len(loaded), len(quarantine), reasons)
    return MappedTable(table, file, loaded.reset_index(drop=True), quarantine, result)


_ROW_REF = re.compile(r" \((?:identical to|first seen at) row \d+\)$")


def reason_group(reason: str) -> str:
    """A quarantine reason without the row it refers to, for counting: ``duplicate id
    (identical to row 7)`` -> ``duplicate id (identical)``; ``duplicate id with conflicting
    values (first seen at row 7)`` -> ``duplicate id with conflicting values``."""
    r = str(reason)
    if r.startswith("duplicate id") and _ROW_REF.search(r):
        return _ROW_REF.sub(" (identical)" if "identical to" in r else "", r)
    return r


def _short_reason(reason: str) -> str:
    # pandera formats custom check errors as "<error>" or "<check>(<args>)"
    r = str(reason)
    if r.startswith("greater_than_or_equal_to"):
        return "negative value"
    return r


def map_chunks(
    path: Path,
    table: str,
    mapping: SourceMapping,
    *,
    encoding: str | None = None,
    as_of: datetime | date | str | pd.Timestamp | None = None,
    chunksize: int | None = DEFAULT_CHUNKSIZE,
    seen: SeenKeys | None = None,
) -> Iterator[MappedTable]:
    """Read and map one file chunk by chunk (see :func:`iter_export`, :func:`map_table`).

    Duplicates are found across chunks through ``seen`` (default: a private
    :class:`SeenKeys`, closed when the iteration ends).
    """
    now = _as_of(as_of)
    own = seen is None
    seen = seen or SeenKeys()
    try:
        offset = 0
        for raw in iter_export(path, mapping, encoding=encoding, chunksize=chunksize, table=table):
            yield map_table(raw, table, mapping, str(path), as_of=now, row_offset=offset, seen=seen)
            offset += len(raw)
    finally:
        if own:
            seen.close()


def _combine(parts: list[MappedTable], table: str, file: str) -> MappedTable:
    frame = pd.concat([m.frame for m in parts], ignore_index=True)
    qs = [m.quarantine for m in parts if len(m.quarantine)]
    quarantine = pd.concat(qs, ignore_index=True) if qs else pd.DataFrame(columns=QUARANTINE_COLUMNS)
    reasons: dict[str, int] = {}
    for m in parts:
        for k, v in m.result.reasons.items():
            reasons[k] = reasons.get(k, 0) + v
    result = FileResult(
        file, table, sum(m.result.read for m in parts), len(frame), len(quarantine), reasons
    )
    return MappedTable(table, file, frame, quarantine, result)


def map_file(
    path: Path,
    table: str,
    mapping: SourceMapping,
    *,
    encoding: str | None = None,
    as_of: datetime | date | str | pd.Timestamp | None = None,
    chunksize: int | None = None,
) -> MappedTable:
    """Read and map one file into memory (``chunksize``: read it in chunks, same result)."""
    if chunksize is None:
        raw = read_export(path, mapping, encoding=encoding, table=table)
        return map_table(raw, table, mapping, str(path), as_of=as_of)
    parts = list(map_chunks(path, table, mapping, encoding=encoding, as_of=as_of, chunksize=chunksize))
    return _combine(parts, table, str(path))


def file_fingerprint(path: Path) -> str:
    """SHA-256 of a file's bytes, read in chunks."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


__all__ = [
    "DEFAULT_CHUNKSIZE",
    "FileResult",
    "IngestReport",
    "MappedTable",
    "QUARANTINE_COLUMNS",
    "SeenKeys",
    "file_fingerprint",
    "files_for_tables",
    "ingest_paths",
    "iter_export",
    "map_chunks",
    "map_file",
    "map_table",
    "read_export",
    "reason_group",
]


# --------------------------------------------------------------------------- to the store


@dataclass
class IngestReport:
    """The outcome of one ``crm-report ingest``: per-file counts and the quarantine.

    ``quarantine`` holds at most :data:`REPORT_QUARANTINE_LIMIT` rows
    (``quarantine_truncated`` says when there were more); the store's quarantine table
    holds every one, and :meth:`reasons` counts all of them.
    """

    batch_id: str
    source: str
    results: list[FileResult]
    quarantine: pd.DataFrame
    quarantine_truncated: bool = False

    @property
    def read(self) -> int:
        return sum(r.read for r in self.results)

    @property
    def loaded(self) -> int:
        return sum(r.loaded for r in self.results)

    @property
    def quarantined(self) -> int:
        return sum(r.quarantined for r in self.results)

    def reasons(self) -> pd.DataFrame:
        """Quarantined rows per table and reason."""
        rows = [(r.table, reason, n) for r in self.results for reason, n in r.reasons.items()]
        if not rows:
            return pd.DataFrame(columns=["table", "reason", "rows"])
        return (
            pd.DataFrame(rows, columns=["table", "reason", "rows"])
            .groupby(["table", "reason"], sort=True)["rows"].sum().reset_index()
            .sort_values("rows", ascending=False, kind="stable").reset_index(drop=True)
        )


def _check_file(
    path: Path, table: str, mapping: SourceMapping, encoding: str | None
) -> None:
    """Fail early (before the store is opened) on an unreadable file or missing columns."""
    chunks = iter_export(path, mapping, encoding=encoding, chunksize=1, table=table)
    try:
        first = next(chunks)
    finally:
        chunks.close()
    map_table(first.iloc[:0], table, mapping, str(path))


_STAGING = "_ingest_staging_"


def _drop_staging(con: duckdb.DuckDBPyConnection, prefix: str = _STAGING) -> None:
    """Drop the staging tables of this ingest (or leftovers of an interrupted one)."""
    names = [
        r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, ?)", [prefix]
        ).fetchall()
    ]
    for name in names:
        con.execute(f'DROP TABLE IF EXISTS "{name}"')


def ingest_paths(
    paths: list[Path],
    source: str | Path,
    store_path: str | Path | None = None,
    *,
    encoding: str | None = None,
    as_of: datetime | date | str | pd.Timestamp | None = None,
    chunksize: int | None = DEFAULT_CHUNKSIZE,
) -> IngestReport:
    """Map, validate and load one export (files or a folder) into the store.

    Each file is streamed in chunks of ``chunksize`` rows (None: at once): each chunk is
    mapped, validated and written to staging tables in the store (on disk, so memory stays
    flat however big the file) before the next is read. Then one transaction moves the
    staged rows into the canonical tables (replacing rows with the same keys, so
    re-ingesting the same file never duplicates rows) with the quarantine and the ingest
    log: either every table of the export is written, or nothing is.

    ``encoding`` overrides the mapping's ``encoding`` for every file (e.g. ``cp1256``,
    ``latin-1``); ``as_of`` (default: now) is the time after which, plus a day, a date is
    quarantined as "in the future".

    Raises
    ------
    DataValidationError, MappingError
        Naming the file and what to change; the store is left as it was.
    """
    from . import store as _store  # the store imports nothing from here; keeps import light

    mapping = load_mapping(source)
    now = _as_of(as_of)
    pairs = files_for_tables([Path(p) for p in paths], mapping)
    for table, p in pairs:
        _check_file(p, table, mapping, encoding)
    batch = uuid.uuid4().hex[:12]
    prefix = f"{_STAGING}{batch}_"
    ingested_at = datetime.now(UTC).replace(tzinfo=None)
    order = list(TABLES)
    ordered = sorted(range(len(pairs)), key=lambda i: order.index(pairs[i][0]))
    results: dict[int, FileResult] = {}
    kept: list[pd.DataFrame] = []
    n_kept = 0
    truncated = False
    qcols = 'batch_id, source, file, "table", "row", "column", reason, value, record'
    with _store.connect(store_path) as con:
        if INGEST_MEMORY_LIMIT:
            con.execute(f"SET memory_limit = '{INGEST_MEMORY_LIMIT}'")
        _drop_staging(con)  # leftovers of an interrupted ingest
        try:
            # 1. stream every file into staging tables, chunk by chunk (each insert commits)
            for i in ordered:
                table, p = pairs[i]
                cols = ", ".join(f'"{c}"' for c in TABLES[table].columns)
                con.execute(f'CREATE TABLE "{prefix}{i}" AS SELECT {cols} FROM "{table}" LIMIT 0')
                con.execute(f'CREATE TABLE "{prefix}{i}_q" AS SELECT {qcols} FROM quarantine LIMIT 0')
                read = loaded = quarantined = 0
                reasons: dict[str, int] = {}
                with SeenKeys(con, name=f"{prefix}{i}_seen") as seen:
                    for m in map_chunks(p, table, mapping, encoding=encoding, as_of=now,
                                        chunksize=chunksize, seen=seen):
                        if not m.frame.empty:
                            con.register("_chunk", m.frame[TABLES[table].columns])
                            con.execute(f'INSERT INTO "{prefix}{i}" SELECT {cols} FROM _chunk')
                            con.unregister("_chunk")
                        if not m.quarantine.empty:
                            q = m.quarantine.assign(batch_id=batch, source=mapping.name)
                            con.register("_q", q)
                            con.execute(f'INSERT INTO "{prefix}{i}_q" SELECT {qcols} FROM _q')
                            con.unregister("_q")
                            room = REPORT_QUARANTINE_LIMIT - n_kept
                            if room > 0:
                                kept.append(m.quarantine.iloc[:room])
                                n_kept += min(room, len(m.quarantine))
                            truncated = truncated or len(m.quarantine) > room
                        read += m.result.read
                        loaded += m.result.loaded
                        quarantined += m.result.quarantined
                        for k, v in m.result.reasons.items():
                            reasons[k] = reasons.get(k, 0) + v
                results[i] = FileResult(str(p), table, read, loaded, quarantined, reasons)
            # 2. one transaction: staged rows replace rows with the same keys
            con.execute("BEGIN")
            for i in ordered:
                table, p = pairs[i]
                r = results[i]
                cols = ", ".join(f'"{c}"' for c in TABLES[table].columns)
                cond = " AND ".join(
                    f't."{k}" IS NOT DISTINCT FROM s."{k}"' for k in TABLES[table].key
                )
                con.execute('DELETE FROM quarantine WHERE file = ? AND "table" = ?', [r.file, table])
                if r.loaded:
                    con.execute(
                        f'DELETE FROM "{table}" t WHERE EXISTS '
                        f'(SELECT 1 FROM "{prefix}{i}" s WHERE {cond})'
                    )
                    con.execute(f'INSERT INTO "{table}" ({cols}) SELECT {cols} FROM "{prefix}{i}"')
                con.execute(f'INSERT INTO quarantine SELECT {qcols} FROM "{prefix}{i}_q"')
                con.execute(
                    "INSERT INTO ingest_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [batch, mapping.name, r.file, file_fingerprint(p), table,
                     r.read, r.loaded, r.quarantined, ingested_at],
                )
            _store.fill_from_reps(con)
            con.execute("COMMIT")
        except BaseException:
            try:
                con.execute("ROLLBACK")
            except duckdb.Error:  # no transaction open (failed while staging)
                pass
            raise
        finally:
            _drop_staging(con, prefix)
    quarantine = (
        pd.concat(kept, ignore_index=True) if kept else pd.DataFrame(columns=QUARANTINE_COLUMNS)
    )
    return IngestReport(
        batch, mapping.name, [results[i] for i in range(len(pairs))], quarantine, truncated
    )
