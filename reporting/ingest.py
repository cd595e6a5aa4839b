"""Read CRM exports, map them onto the canonical tables, validate, and quarantine.

Every row read ends up either loaded or in the quarantine table with its file, row number
(the physical line where the record starts: the header is line 1, blank lines and line
breaks inside quoted fields count), column, reason and raw values. Nothing is dropped
silently; :class:`FileResult` checks ``read == loaded + quarantined`` in code. Valid rows
with an estimated or corrected value are loaded and counted in ``FileResult.notes`` (the
store's ``data_notes`` and ``row_flags``).

Files are streamed: CSV and Parquet files are read in chunks of ``chunksize`` rows, each
chunk mapped, validated and written to the store before the next is read, so a file of
several GB never sits in memory. Row numbers continue across chunks, and duplicate keys
are found across the whole file and across the files of one table in an export
(:class:`SeenKeys` keeps each key's first row in a DuckDB table).

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
from .sources import (
    MAX_ABS_NUMBER,
    SourceMapping,
    TableMapping,
    is_date_only,
    load_mapping,
    load_rates,
)

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
    #: data-quality decisions (code -> loaded rows they apply to), see ``NOTE_TEXT``
    notes: dict[str, int] = field(default_factory=dict)

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
    #: key columns of the quarantined rows (where known): their old versions leave the store
    qkeys: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: loaded rows with an estimated or corrected value: ``key`` (first key column), ``code``
    flags: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["key", "code"]))


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
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    import pyarrow.types as pa_types

    try:
        pf = pq.ParquetFile(path)
        empty = True
        for batch in pf.iter_batches(batch_size=chunksize or 1 << 40):
            empty = False
            frame = batch.to_pandas()
            # a NaN in a float column is a value (not a null) that is not a number
            nan = {}
            for name, col in zip(batch.schema.names, batch.columns, strict=True):
                if pa_types.is_floating(col.type) and col.null_count < len(col):
                    mask = pc.fill_null(pc.is_nan(col), False).to_numpy(zero_copy_only=False)
                    if mask.any():
                        nan[_clean_name(name)] = mask
            frame.attrs = {"nan": nan} if nan else {}
            yield frame
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
        yield from _csv_chunks(path, enc, delimiter, chunksize)
    except UnicodeDecodeError:
        raise _encoding_error(path, enc, declared=bool(declared) and enc == declared) from None
    except pd.errors.EmptyDataError:
        raise DataValidationError(f"{path}: the file has no header and no rows") from None
    except pd.errors.ParserError as exc:
        msg = str(exc)
        hint = (
            "; a quoted field is never closed: the file looks truncated, or a stray quote "
            "opens a field that never ends (export it again or fix the quote)"
            if "EOF inside string" in msg
            else f"; quote fields that contain the delimiter {delimiter!r}, or set "
            "`delimiter:` in the mapping"
        )
        raise DataValidationError(f"{path}: not a well-formed CSV file: {msg}{hint}") from None
    except (ValueError, OverflowError, csv.Error) as exc:  # e.g. a field too large for the parser
        raise DataValidationError(f"{path}: cannot be read as CSV: {exc}") from None


_SKIPPED = re.compile(r"Skipping line (\d+): expected (\d+) fields, saw (\d+)")
_EMPTY_FLAGS = pd.DataFrame(columns=["idx", "column", "reason", "value"])
_EMPTY_EXTRA = pd.DataFrame(columns=["row", "column", "reason", "value", "record"])


def _arrow_text(s: pd.Series):
    import pyarrow as pyarrow_

    values = s.to_numpy(dtype=object, na_value=None) if len(s) else np.array([], dtype=object)
    try:
        return pyarrow_.array(values, type=pyarrow_.string(), from_pandas=True)
    except (pyarrow_.ArrowInvalid, pyarrow_.ArrowTypeError):  # not all text: go through str
        return pyarrow_.array([None if v is None else str(v) for v in values],
                              type=pyarrow_.string())


def _contains(s: pd.Series, pattern: str) -> pd.Series:
    """``s.str.contains(pattern)`` (RE2 syntax) in pyarrow: object-dtype text is matched
    value by value in Python by pandas, several times slower."""
    import pyarrow.compute as pc

    hit = pc.fill_null(pc.match_substring_regex(_arrow_text(s), pattern), False)
    return pd.Series(hit.to_numpy(zero_copy_only=False), index=s.index, dtype=bool)


def _breaks(s: pd.Series) -> np.ndarray:
    """Line breaks inside each value (CR LF, LF or a lone CR count one each)."""
    import pyarrow.compute as pc

    if s.dtype != object and not pd.api.types.is_string_dtype(s):
        return np.zeros(len(s), dtype="int64")
    arr = _arrow_text(s)
    n = pc.fill_null(pc.count_substring_regex(arr, "\r\n|\r|\n"), 0)
    return n.to_numpy(zero_copy_only=False).astype("int64")


class _LineReader:
    """Physical lines of a text file by number, read forward once (for the rare rows the
    CSV parser skips)."""

    def __init__(self, path: Path, encoding: str) -> None:
        self.fh = path.open(encoding=encoding, errors="replace", newline=None)
        self.at = 0  # lines consumed

    def get(self, line: int) -> str:
        text = ""
        while self.at < line:
            text = self.fh.readline()
            if not text:
                return ""
            self.at += 1
        return text.rstrip("\n")[:2000] if self.at == line else ""

    def close(self) -> None:
        self.fh.close()


def _csv_chunks(
    path: Path, enc: str, delimiter: str, chunksize: int | None
) -> Iterator[pd.DataFrame]:
    """The CSV records in chunks, each frame carrying in ``attrs``: ``lines`` (the
    physical line where each row starts, blank lines and line breaks inside quoted fields
    counted), ``flags`` (rows to quarantine: a field that swallowed whole records through
    an unbalanced quote) and ``extra`` (records the parser could not take as rows: more
    fields than the header). Records without any value (blank lines, only delimiters or
    spaces) are not rows; they only count as lines."""
    reader = pd.read_csv(
        path,
        dtype=str,
        keep_default_na=False,
        encoding=enc,
        sep=delimiter,
        encoding_errors="strict",
        index_col=False,
        skip_blank_lines=False,
        on_bad_lines="warn",
        chunksize=chunksize or 1 << 62,
    )
    header_breaks = None
    records = 0  # non-skipped records so far (empty ones included)
    breaks_before = 0  # line breaks inside the fields of those records
    skipped: list[int] = []  # record numbers (header = 1) of skipped records
    row_lines = np.zeros(0, dtype="int64")  # record number -> line, for the last chunk
    row_recs = np.zeros(0, dtype="int64")
    row_br = np.zeros(0, dtype="int64")
    lines_reader: _LineReader | None = None
    try:
        with reader:
            while True:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", pd.errors.ParserWarning)
                    try:
                        frame = next(reader)
                    except StopIteration:
                        break
                new_skipped: list[tuple[int, int, int]] = []
                for w in caught:
                    if not issubclass(w.category, pd.errors.ParserWarning):
                        continue
                    for m in _SKIPPED.finditer(str(w.message)):
                        new_skipped.append((int(m[1]), int(m[2]), int(m[3])))
                    if not _SKIPPED.search(str(w.message)):
                        what = (
                            "the first row has more fields than the header (the parser "
                            "would drop values)" if "Length of header" in str(w.message)
                            else str(w.message)
                        )
                        raise DataValidationError(
                            f"{path}: line 2: {what}; quote values that contain the "
                            f"delimiter {delimiter!r}, or check the delimiter and the header"
                        )
                if header_breaks is None:
                    header_breaks = int(sum(_breaks(pd.Series([str(c) for c in frame.columns]))))
                k = len(frame)
                ncols = len(frame.columns)
                frame = frame.reset_index(drop=True)
                skipped.extend(sorted(r for r, _, _ in new_skipped))
                sk = np.asarray(skipped, dtype="int64")
                s_prime = sk - np.arange(len(sk))
                base = 2 + records + np.arange(k, dtype="int64")
                rec = base + np.searchsorted(s_prime, base, side="right")
                br = np.zeros(k, dtype="int64")
                per_col = {}
                for c in frame.columns:
                    b = _breaks(frame[c])
                    if b.any():
                        per_col[c] = b
                        br += b
                before = breaks_before + np.cumsum(br) - br
                lines = rec + header_breaks + before
                # records the parser skipped: their line from the records around them
                extra = _EMPTY_EXTRA
                if new_skipped:
                    all_recs = np.concatenate([row_recs, rec])
                    all_lines = np.concatenate([row_lines, lines])
                    all_br = np.concatenate([row_br, br])
                    rows = []
                    if lines_reader is None:
                        lines_reader = _LineReader(path, enc)
                    for r, want, saw in sorted(new_skipped):
                        j = np.searchsorted(all_recs, r) - 1  # the record before it
                        line = (int(all_lines[j] + all_br[j] + (r - all_recs[j]))
                                if j >= 0 else r + header_breaks)
                        text = lines_reader.get(line)
                        rows.append({
                            "row": line, "column": "",
                            "reason": f"more fields than the header ({saw} fields, the header "
                                      f"has {want}): quote values that contain {delimiter!r}",
                            "value": text[:200], "record": json.dumps({"line": text},
                                                                      ensure_ascii=False),
                        })
                    extra = pd.DataFrame(rows, columns=_EMPTY_EXTRA.columns)
                if k:
                    row_recs, row_lines, row_br = rec[-1:], lines[-1:], br[-1:]
                records += k
                breaks_before += int(br.sum())
                # a field that holds line breaks and a whole record's delimiters: a stray
                # quote swallowed the records up to the next quote
                flags = _EMPTY_FLAGS
                if per_col and ncols >= 3:
                    found = []
                    for c, b in per_col.items():
                        cand = np.flatnonzero(b)
                        n_delim = frame[c].iloc[cand].str.count(re.escape(delimiter)).to_numpy()
                        hit = cand[n_delim >= ncols - 1]
                        for i in hit:
                            found.append({
                                "idx": int(i), "column": str(c),
                                "reason": (
                                    f"unbalanced quote: one field holds lines {lines[i]}-"
                                    f"{lines[i] + br[i]} (whole records); fix the quote near "
                                    f"line {lines[i]}"
                                ),
                                "value": str(frame[c].iloc[i])[:200],
                            })
                    if found:
                        flags = pd.DataFrame(found).drop_duplicates("idx")
                # records with no value at all are not rows (blank lines, ",,,")
                empty = (frame.iloc[:, 0] == "").to_numpy(bool) if ncols else np.zeros(0, bool)
                if empty.any():
                    for c in frame.columns[1:]:
                        idx = np.flatnonzero(empty)
                        if not len(idx):
                            break
                        empty[idx] = (frame[c].iloc[idx] == "").to_numpy(bool)
                if empty.any():
                    keep = np.flatnonzero(~empty)
                    if len(flags):
                        pos = np.full(k, -1)
                        pos[keep] = np.arange(len(keep))
                        flags = flags.assign(idx=pos[flags["idx"].to_numpy()])
                        flags = flags[flags["idx"] >= 0]
                    frame = frame.iloc[keep].reset_index(drop=True)
                    lines = lines[keep]
                frame.columns = _clean_columns(list(frame.columns))
                frame.attrs = {"lines": lines, "flags": flags, "extra": extra}
                yield frame
    finally:
        if lines_reader is not None:
            lines_reader.close()


def read_export(
    path: Path, mapping: SourceMapping, *, encoding: str | None = None, table: str | None = None
) -> pd.DataFrame:
    """Read one whole CSV or Parquet file (see :func:`iter_export`; prefer it for big files)."""
    parts = list(iter_export(path, mapping, encoding=encoding, chunksize=None, table=table))
    if len(parts) == 1:
        return parts[0]
    attrs = [p.attrs for p in parts]
    for p in parts:
        p.attrs = {}
    out = pd.concat(parts, ignore_index=True)
    if all("lines" in a for a in attrs):
        offsets = np.cumsum([0] + [len(p) for p in parts[:-1]])
        out.attrs = {
            "lines": np.concatenate([a["lines"] for a in attrs]),
            "flags": pd.concat([a["flags"].assign(idx=a["flags"]["idx"] + o)
                                for a, o in zip(attrs, offsets, strict=True)], ignore_index=True),
            "extra": pd.concat([a["extra"] for a in attrs], ignore_index=True),
        }
    return out
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




def _is_null(
    s: pd.Series, tokens: frozenset[str] = frozenset(), text: pd.Series | None = None
) -> pd.Series:
    """Missing values: an empty field (or spaces, invisible characters), a null of a typed
    column, or one of the mapping's ``null_tokens`` (lower-case). ``NA``, ``None`` and
    ``-`` are values unless the mapping lists them. ``text``: ``_clean_text(s)`` if known."""
    if s.dtype == object or pd.api.types.is_string_dtype(s):
        t = _clean_text(s) if text is None else text
        null = s.isna() | (t == "")
        return null | t.str.lower().isin(tokens) if tokens else null
    return s.isna()


def _clean_text(s: pd.Series) -> pd.Series:
    """Text (missing: "") with Persian / Arabic digits as ASCII and invisible characters
    removed, stripped. ASCII text goes through pyarrow; only non-ASCII values take the
    slow path."""
    import pyarrow as pyarrow_
    import pyarrow.compute as pc

    if s.dtype == object or pd.api.types.is_string_dtype(s):
        try:
            arr = pyarrow_.array(s.to_numpy(dtype=object, na_value=None), type=pyarrow_.string(),
                                 from_pandas=True)
        except (pyarrow_.ArrowInvalid, pyarrow_.ArrowTypeError):
            arr = None
        if arr is not None:
            ascii_ = pc.fill_null(pc.string_is_ascii(arr), True).to_numpy(zero_copy_only=False)
            stripped = pc.fill_null(pc.utf8_trim_whitespace(arr), "")
            t = pd.Series(stripped.to_numpy(zero_copy_only=False), index=s.index, dtype=object)
            if not ascii_.all():
                odd = ~ascii_
                raw = s.to_numpy(dtype=object)[odd]
                t[odd] = [_INVISIBLE.sub("", str(v).translate(_DIGITS)).strip() for v in raw]
            return t
    t = s.astype("str").fillna("")
    odd = t.str.contains(_NON_ASCII, regex=True)
    if odd.any():
        fixed = [_INVISIBLE.sub("", v.translate(_DIGITS)) for v in t[odd].tolist()]
        t = t.copy()
        t[odd] = fixed
    return t.str.strip()


# a time of day in a value: 10:30, 10:30:00, 10 am (RE2 syntax, for pyarrow)
_HAS_TIME = r"\d{1,2}:\d{2}|\d\s*[AaPp]\.?[Mm]\b|T\d{2}"
# an explicit UTC offset or zone after the time: Z, +03:30, -0800, UTC, GMT
_HAS_OFFSET = r"(?i)\d(?:\.\d+)?\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$"


def _to_local(parsed: pd.Series, zone: str, to_tz: str) -> pd.Series:
    """Naive wall-clock times of ``zone`` as naive times of ``to_tz`` (a time that does
    not exist is moved forward; an ambiguous one, in the hour a clock goes back, is read
    as standard time)."""
    if zone == to_tz or parsed.empty:
        return parsed
    loc = parsed.dt.tz_localize(zone, ambiguous=np.zeros(len(parsed), dtype=bool),
                                nonexistent="shift_forward")
    return loc.dt.tz_convert(to_tz).dt.tz_localize(None)


def _parse_dates(
    s: pd.Series, formats: list[str], tz: str, to_tz: str = "UTC",
    tokens: frozenset[str] = frozenset(), text: pd.Series | None = None,
) -> pd.Series:
    """Dates and timestamps as naive ``datetime64[us]`` in the reporting time zone ``to_tz``.

    A date without a time of day is a calendar date and is kept as it is (midnight of that
    date), whatever the zones. A timestamp with a UTC offset (``2017-03-12T10:00-07:00``;
    offsets may differ from row to row, as across a daylight-saving change) is converted
    to ``to_tz``; a timestamp without one is wall-clock time in the mapping's zone ``tz``
    and is converted from there.
    """
    if pd.api.types.is_datetime64_any_dtype(s):
        out = pd.to_datetime(s)
        if out.dt.tz is not None:
            return out.dt.tz_convert(to_tz).dt.tz_localize(None).astype("datetime64[us]")
        out = out.astype("datetime64[us]")
        timed = out.notna() & (out != out.dt.normalize())  # midnight: a date
        if timed.any() and tz != to_tz:
            out = out.copy()
            out[timed] = _to_local(out[timed], tz, to_tz)
        return out
    text = _clean_text(s) if text is None else text
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    todo_all = ~_is_null(s, tokens, text)
    if not todo_all.any():
        return out
    if all(is_date_only(f) for f in formats):
        has_time = has_offset = pd.Series(False, index=s.index)
    else:
        has_time = _contains(text, _HAS_TIME) & todo_all
        has_offset = has_time & _contains(text, _HAS_OFFSET)
    for fmt in formats:
        todo = out.isna() & todo_all
        if not todo.any():
            break
        aware = todo & has_offset
        naive = todo & ~has_offset
        if aware.any():
            parsed = pd.to_datetime(text[aware], errors="coerce", utc=True, format=fmt)
            if pd.api.types.is_datetime64_any_dtype(parsed):
                out.loc[aware] = parsed.dt.tz_convert(to_tz).dt.tz_localize(None).astype(
                    "datetime64[us]")
        if naive.any():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                parsed = pd.to_datetime(text[naive], errors="coerce", format=fmt)
            if not pd.api.types.is_datetime64_any_dtype(parsed):  # offsets the regex missed
                parsed = pd.to_datetime(text[naive], errors="coerce", utc=True, format=fmt)
            if getattr(parsed.dt, "tz", None) is not None:
                parsed = parsed.dt.tz_convert(to_tz).dt.tz_localize(None)
            else:
                parsed = parsed.astype("datetime64[us]")
                timed = has_time[naive] & parsed.notna()
                if timed.any() and tz != to_tz:
                    parsed = parsed.copy()
                    parsed[timed] = _to_local(parsed[timed], tz, to_tz)
            out.loc[naive] = parsed.astype("datetime64[us]")
    return out


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


def _parse_numbers(
    s: pd.Series, decimal: str, thousands: str, text: pd.Series | None = None
) -> pd.Series:
    """Numbers written by people: currency symbols or codes, thousands separators (the
    mapping's, or spaces), the mapping's decimal mark, negative in parentheses, Persian /
    Arabic digits. Anything else is NaN (reported as non-numeric), never a guess."""
    if pd.api.types.is_bool_dtype(s):
        return pd.Series(np.nan, index=s.index, dtype="float64")
    if pd.api.types.is_numeric_dtype(s):
        return s.astype("float64")
    text = _clean_text(s) if text is None else text
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
    """The keys met so far in one file (or all files of one table of an export), with
    each key's file, first row, a hash of its values and its position among the loaded
    rows of its file; and the keys met again with conflicting values.

    Kept in DuckDB tables, so duplicates are found across chunks and files without
    holding the keys in Python: temporary tables of a private in-memory database by
    default, or tables ``name`` of the store's connection ``con`` (on disk: a file of
    tens of millions of rows does not fill the memory). Also counts derived revenue ids
    so they do not depend on chunking.
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
        self.loaded: dict[str, int] = {}  # rows loaded so far per file
        kind = "TABLE" if name else "TEMP TABLE"
        con.execute(
            f'CREATE {kind} "{self.name}" (k VARCHAR, first_row BIGINT, h UBIGINT, '
            "file VARCHAR, pos BIGINT)"
        )
        con.execute(f'CREATE {kind} "{self.name}_c" (k VARCHAR, "row" BIGINT, file VARCHAR)')

    def lookup(self, keys: pd.Series) -> pd.DataFrame:
        """``first_row``, ``h`` and ``file`` of the given keys already seen, by key."""
        if self.count == 0 or keys.empty:
            return pd.DataFrame({"first_row": [], "h": [], "file": []},
                                index=pd.Index([], name="k"))
        probe = pd.DataFrame({"k": keys.astype(object).to_numpy()})
        self.con.register("_probe_keys", probe)
        try:
            found = self.con.execute(
                f'SELECT s.k, s.first_row, s.h, s.file FROM "{self.name}" s '
                "JOIN (SELECT DISTINCT k FROM _probe_keys) p ON s.k = p.k"
            ).df()
        finally:
            self.con.unregister("_probe_keys")
        return found.set_index("k")

    def add(self, keys: pd.Series, rows: np.ndarray, hashes: np.ndarray,
            file: str = "", pos: np.ndarray | None = None) -> None:
        if keys.empty:
            return
        new = pd.DataFrame({
            "k": keys.astype(object).to_numpy(),
            "first_row": rows.astype("int64"),
            "h": hashes.astype("uint64"),
            "file": file,
            "pos": (pos if pos is not None else np.full(len(keys), -1)).astype("int64"),
        })
        self.con.register("_new_keys", new)
        try:
            self.con.execute(f'INSERT INTO "{self.name}" SELECT * FROM _new_keys')
        finally:
            self.con.unregister("_new_keys")
        self.count += len(new)

    def add_conflicts(self, keys: pd.Series, rows: np.ndarray, file: str) -> None:
        new = pd.DataFrame({"k": keys.astype(object).to_numpy(),
                            "row": rows.astype("int64"), "file": file})
        self.con.register("_conflict_keys", new)
        try:
            self.con.execute(f'INSERT INTO "{self.name}_c" SELECT * FROM _conflict_keys')
        finally:
            self.con.unregister("_conflict_keys")

    def conflicted_firsts(self) -> pd.DataFrame:
        """The first rows (file, row, pos) of keys met again with other values, with the
        first conflicting row (``other_file``, ``other_row``)."""
        return self.con.execute(
            f'SELECT s.k, s.file, s.first_row, s.pos, arg_min(c.file, c."row") AS other_file, '
            f'min(c."row") AS other_row FROM "{self.name}" s JOIN "{self.name}_c" c USING (k) '
            "WHERE s.pos >= 0 GROUP BY ALL ORDER BY s.file, s.pos"
        ).df()

    def close(self) -> None:
        try:
            self.con.execute(f'DROP TABLE IF EXISTS "{self.name}"')
            self.con.execute(f'DROP TABLE IF EXISTS "{self.name}_c"')
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


_EPOCH = pd.Timestamp("1970-01-01")
#: what each data note code means (the text stored with its count in ``data_notes``)
NOTE_TEXT = {
    "created_at_estimated": (
        "open deals without a creation date (e.g. Maven's Prospecting deals have no engage "
        "date) are kept; their created_at is the export's last date ({end}), flagged in "
        "row_flags; they count as open deals, never as created in a period or a cohort"
    ),
    "created_after_close": (
        "closed deals entered up to {days} days after they closed (created after the close "
        "date) are kept with created_at floored to the close date (cycle 0 days), flagged "
        "in row_flags"
    ),
    "fx_dated": "amounts converted to {reporting} with dated rates from {file}",
    "fx_static": "amounts converted to {reporting} with the mapping's static rates",
}


def map_table(
    raw: pd.DataFrame,
    table: str,
    mapping: SourceMapping,
    file: str,
    *,
    as_of: datetime | date | str | pd.Timestamp | None = None,
    row_offset: int = 0,
    seen: SeenKeys | None = None,
    timezone: str = "UTC",
    defer_estimates: bool = False,
) -> MappedTable:
    """Map one export frame onto canonical ``table``; quarantine the rows that fail.

    ``raw`` may be one chunk of a file: ``row_offset`` is the number of data rows before
    it (row numbers continue; frames from :func:`iter_export` carry each row's physical
    line instead), and ``seen`` carries the keys of the earlier chunks (and files) so
    duplicates are found across the whole file or export. ``as_of`` (default: now) is
    the time after which (plus one day) a date is "in the future". ``timezone`` is the
    reporting time zone timestamps are converted to (dates stay calendar dates).

    Reasons are specific: ``missing required field <column>``, ``unparseable date``,
    ``date before 1970``, ``non-numeric <column>``, ``<column> is not a finite number``,
    ``<column> out of range``, ``amount is negative``, ``unknown stage``, ``unknown
    currency without a rate``, ``closed before created``, ``closed deal without
    closed_at``, ``won deal without amount``, ``date in the future (after <as-of date>)``,
    ``duplicate id (identical to row N)``, ``duplicate id with conflicting values (first
    seen at row N)``, ``unbalanced quote: ...``, ``more fields than the header ...``.
    ``result.reasons`` counts them by :func:`reason_group` (without the row numbers).
    """
    tm: TableMapping = mapping.tables[table]
    spec = TABLES[table]
    attrs = dict(raw.attrs)
    raw = raw.reset_index(drop=True)
    raw.attrs = {}
    n = len(raw)
    now = _as_of(as_of)
    tokens = frozenset(t.strip().lower() for t in mapping.null_tokens)
    lines = attrs.get("lines")
    if lines is None or len(lines) != n:
        lines = np.arange(n, dtype="int64") + row_offset + 2
    extra = attrs.get("extra")
    nan_masks: dict[str, np.ndarray] = attrs.get("nan", {})

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
    flags_in = attrs.get("flags")
    if flags_in is not None and len(flags_in):
        # structural damage first: it explains every other problem of the row
        problems.append(flags_in[["idx", "column", "reason", "value"]].astype({"idx": "int64"})
                        .assign(prio=0))

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
    nulls: dict[str, pd.Series] = {}
    for col, cols in sources.items():
        s = raw[cols[0]]
        for other in cols[1:]:
            s = s.where(~_is_null(s, tokens), raw[other])
        f = spec.field(col)
        if col in tm.values and f.kind == "str":
            s = s.astype(object).where(s.notna(), "").astype(str).str.strip().replace(tm.values[col])
        texts[col] = s
        clean = _clean_text(s) if (s.dtype == object or pd.api.types.is_string_dtype(s)) else None
        null = _is_null(s, tokens, clean)
        nulls[col] = null
        if f.kind == "datetime":
            parsed = _parse_dates(s, mapping.date_formats, mapping.timezone, timezone, tokens,
                                  clean)
            failed = parsed.isna() & ~null
            if failed.any():  # year 1 and the like do not parse at all: say why
                src = clean if clean is not None else _clean_text(s.astype(str))
                year = src[failed].str.extract(r"(?<![0-9])([0-9]{4})(?![0-9])")[0]
                early = pd.Series(False, index=s.index)
                early[failed] = pd.to_numeric(year, errors="coerce").lt(1970).to_numpy()
                flag(early, col, "date before 1970", s)
                flag(failed & ~early, col, "unparseable date", s)
            flag(parsed < _EPOCH, col, "date before 1970", s)
        elif f.kind in ("float", "int"):
            parsed = _parse_numbers(s, mapping.decimal, mapping.thousands, clean)
            nan = nan_masks.get(cols[0])
            if nan is not None:  # a NaN (not a null) in a typed Parquet column
                flag(pd.Series(nan, index=raw.index), col, f"{col} is not a finite number", s)
                null = null & ~pd.Series(nan, index=raw.index)
            flag(np.isinf(parsed), col, f"{col} is not a finite number", s)
            flag(parsed.isna() & ~null, col, f"non-numeric {col}", s)
            flag(parsed.abs() > MAX_ABS_NUMBER, col, f"{col} out of range (beyond ±1e13)", s)
            parsed = parsed.where(np.isfinite(parsed), np.nan)
        elif f.kind == "bool":
            parsed = _parse_bools(s, tm.booleans)
            flag(parsed.isna() & ~null, col, f"not a yes/no value in {col}", s)
        else:
            parsed = s.astype(object).where(~null, None)
            parsed = parsed.where(parsed.isna(), parsed.astype(str).str.strip()).astype(object)
        out[col] = parsed
    for col, value in tm.constants.items():
        out[col] = value

    notes: dict[str, pd.Series] = {}  # note code -> rows it applies to
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

    estimated = pd.Series(False, index=out.index)
    if table == "opportunities" and "created_at" in out and "status" in out:
        # an open deal with no creation date at all is a valid open opportunity: it gets
        # the export's last date (the best evidence that it existed), flagged
        estimated = (out["status"] == "open") & nulls.get("created_at", out["created_at"].isna())
        if estimated.any():
            notes["created_at_estimated"] = estimated
            out.loc[estimated, "created_at"] = now  # placeholder for the checks below
        if "closed_at" in out:
            # created a day or two after it closed (entered after the fact): kept, floored
            gap = out["created_at"] - out["closed_at"]
            late = (out["status"] != "open") & (gap > pd.Timedelta(0)) & (
                gap <= pd.Timedelta(days=mapping.created_after_close_days))
            if late.any():
                notes["created_after_close"] = late
                out.loc[late, "created_at"] = out.loc[late, "closed_at"]

    # currency: rows in another currency are converted with dated rates (the latest on or
    # before the amount's date), else the mapping's static rates
    if "currency" in spec.columns and "amount" in out:
        reporting = mapping.currency.reporting.upper()
        cur = out["currency"] if "currency" in out else pd.Series(None, index=out.index)
        cur = cur.astype(object).fillna(mapping.currency.default).astype(str).str.upper().str.strip()
        foreign = cur != reporting
        rate = pd.Series(np.where(foreign, np.nan, 1.0), index=out.index)
        if foreign.any():
            dated_rates = load_rates(mapping)
            if dated_rates is not None:
                if table == "opportunities":
                    when = out["closed_at"].where(out["status"] != "open", now)
                    when = when.fillna(out["created_at"])
                else:
                    when = out["date"] if "date" in out else pd.Series(now, index=out.index)
                when = when.fillna(now).astype("datetime64[us]")
                probe = pd.DataFrame({"date": when[foreign], "currency": cur[foreign],
                                      "pos": np.flatnonzero(foreign.to_numpy())})
                probe = probe.sort_values("date", kind="stable")
                got = pd.merge_asof(probe, dated_rates, on="date", by="currency",
                                    direction="backward")
                got = got[got["rate"].notna()]
                rate.iloc[got["pos"].to_numpy()] = got["rate"].to_numpy()
                dated = pd.Series(False, index=out.index)
                dated.iloc[got["pos"].to_numpy()] = True
                notes["fx_dated"] = dated
            static = rate.isna() & foreign
            rate[static] = cur[static].map(mapping.currency.rates)
            notes["fx_static"] = static & rate.notna()
        flag(rate.isna(), "currency", "unknown currency without a rate", cur)
        out["amount"] = out["amount"] * rate.astype(float)
        flag(out["amount"].abs() > MAX_ABS_NUMBER, "amount",
             "amount out of range (beyond ±1e13)", texts.get("amount"))
        out["currency"] = reporting

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
        if len(check_frame):
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
    if estimated.any():
        out["created_at"] = out["created_at"].where(~estimated, pd.NaT)
        if not defer_estimates:
            _fill_estimated(out, now)

    # duplicate keys: keep the first (in this chunk, an earlier one or an earlier file of
    # the export), quarantine the others with the first's row number
    bad = set(np.concatenate([p["idx"].to_numpy() for p in problems])) if problems else set()
    keycols = list(spec.key)
    ok = out[~out.index.isin(list(bad))]
    loaded_before = seen.loaded.get(file, 0) if seen is not None else 0
    n_dup = 0
    if len(ok):
        keys = _key_strings(ok[keycols])
        rows = lines[ok.index.to_numpy()]
        hashes = pd.util.hash_pandas_object(ok, index=False).to_numpy()
        firsts = pd.DataFrame({"k": keys.to_numpy(), "row": rows, "h": hashes}, index=ok.index)
        ref = firsts.groupby("k", sort=False)[["row", "h"]].transform("first")
        ref["file"] = file
        first_in_chunk = ~keys.duplicated(keep="first")
        hit = pd.Series(False, index=keys.index)
        if seen is not None:
            earlier = seen.lookup(keys[first_in_chunk])
            if len(earlier):
                hit = keys.isin(earlier.index)
                ref.loc[hit, "row"] = keys[hit].map(earlier["first_row"]).astype("int64")
                ref.loc[hit, "h"] = keys[hit].map(earlier["h"]).astype("uint64")
                ref.loc[hit, "file"] = keys[hit].map(earlier["file"])
        dup = (hit | ~first_in_chunk).to_numpy()
        if seen is not None:
            new = (first_in_chunk & ~hit).to_numpy()
            pos = loaded_before + np.cumsum(~dup) - 1
            seen.add(keys[new], rows[new], hashes[new], file, pos[new])
        if dup.any():
            n_dup = int(dup.sum())
            same = ref["h"].to_numpy()[dup] == hashes[dup]
            first_rows = ref["row"].to_numpy()[dup]
            where = [f" of {f}" if f != file else "" for f in ref["file"].to_numpy()[dup]]
            if seen is not None and (~same).any():
                seen.add_conflicts(keys[dup][~same], rows[dup][~same], file)
            problems.append(
                pd.DataFrame({
                    "idx": ok.index.to_numpy()[dup],
                    "column": ",".join(keycols),
                    "reason": [
                        f"duplicate id (identical to row {j}{w})" if s
                        else f"duplicate id with conflicting values (first seen at row {j}{w})"
                        for s, j, w in zip(same, first_rows, where, strict=True)
                    ],
                    "value": ok[keycols[0]].astype(str).to_numpy()[dup],
                })
            )

    if problems:
        q = pd.concat(problems, ignore_index=True)
        q["prio"] = q["prio"].fillna(1) if "prio" in q else 1
        q = q.sort_values(["idx", "prio", "column"], kind="stable")
        q = q.drop_duplicates("idx", keep="first")  # one reason per row: the first found
        q["reason"] = q["reason"].map(_short_reason)
        qi = q["idx"].to_numpy().astype("int64")
        quarantine = pd.DataFrame({
            "file": file,
            "table": table,
            "row": lines[qi],
            "column": q["column"].to_numpy(),
            "reason": q["reason"].to_numpy(),
            "value": q["value"].astype(str).str.slice(0, 200).to_numpy(),
            "record": _record_json(raw, qi),
        })
        qkeys = out.loc[qi, keycols]
        qkeys = qkeys[qkeys.notna().all(axis=1)]
        loaded = out.drop(index=qi)
    else:
        quarantine = pd.DataFrame(columns=QUARANTINE_COLUMNS)
        qkeys = out.iloc[:0][keycols]
        loaded = out
    if extra is not None and len(extra):
        quarantine = pd.concat(
            [quarantine, extra.assign(file=file, table=table)[QUARANTINE_COLUMNS]],
            ignore_index=True,
        ).sort_values("row", kind="stable").reset_index(drop=True)
    if seen is not None:
        seen.loaded[file] = loaded_before + len(loaded)
    del n_dup
    reasons = (
        quarantine["reason"].map(reason_group).value_counts().to_dict() if len(quarantine) else {}
    )
    note_counts = {
        code: int(mask.reindex(loaded.index, fill_value=False).sum())
        for code, mask in notes.items()
    }
    flags = pd.DataFrame({
        "key": pd.concat([
            loaded.loc[notes[c].reindex(loaded.index, fill_value=False), keycols[0]].astype(str)
            for c in ("created_at_estimated", "created_after_close") if c in notes
        ] or [pd.Series([], dtype=object)], ignore_index=True),
    })
    flags["code"] = [c for c in ("created_at_estimated", "created_after_close") if c in notes
                     for _ in range(note_counts[c])]
    result = FileResult(file, table, n + (len(extra) if extra is not None else 0), len(loaded),
                        len(quarantine), reasons,
                        notes={k: v for k, v in note_counts.items() if v})
    return MappedTable(table, file, loaded.reset_index(drop=True), quarantine, result,
                       qkeys.reset_index(drop=True), flags)


def _fill_estimated(frame: pd.DataFrame, now: pd.Timestamp) -> pd.Timestamp:
    """Give the open deals without a creation date (NaT) the latest date of the others
    (the export's last date; the as-of date when there is none). Returns that date."""
    est = frame["created_at"].isna()
    known = [frame.loc[~est, c].max() for c in ("created_at", "closed_at", "last_activity_at")
             if c in frame]
    known = [k for k in known if pd.notna(k)]
    end = max(known) if known else now.normalize()
    frame.loc[est, "created_at"] = end
    return pd.Timestamp(end)


_ROW_REF = re.compile(
    r" \((?:identical to|first seen at|conflicts with) row \d+(?: of .+)?\)$", re.DOTALL)


def reason_group(reason: str) -> str:
    """A quarantine reason without the row it refers to, for counting: ``duplicate id
    (identical to row 7)`` -> ``duplicate id (identical)``; ``duplicate id with conflicting
    values (first seen at row 7)`` -> ``duplicate id with conflicting values``; line
    numbers of an unbalanced quote are dropped too."""
    r = str(reason)
    if r.startswith("duplicate id") and _ROW_REF.search(r):
        return _ROW_REF.sub(" (identical)" if "identical to" in r else "", r)
    if r.startswith("unbalanced quote"):
        return "unbalanced quote (a field holds whole records)"
    if r.startswith("more fields than the header"):
        return "more fields than the header"
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
    timezone: str = "UTC",
    defer_estimates: bool = False,
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
            n = len(raw)
            yield map_table(raw, table, mapping, str(path), as_of=now, row_offset=offset,
                            seen=seen, timezone=timezone, defer_estimates=defer_estimates)
            offset += n
    finally:
        if own:
            seen.close()


def _combine(parts: list[MappedTable], table: str, file: str) -> MappedTable:
    frame = pd.concat([m.frame for m in parts], ignore_index=True)
    qs = [m.quarantine for m in parts if len(m.quarantine)]
    quarantine = pd.concat(qs, ignore_index=True) if qs else pd.DataFrame(columns=QUARANTINE_COLUMNS)
    reasons: dict[str, int] = {}
    notes: dict[str, int] = {}
    for m in parts:
        for k, v in m.result.reasons.items():
            reasons[k] = reasons.get(k, 0) + v
        for k, v in m.result.notes.items():
            notes[k] = notes.get(k, 0) + v
    result = FileResult(
        file, table, sum(m.result.read for m in parts), len(frame), len(quarantine), reasons,
        notes,
    )
    qkeys = pd.concat([m.qkeys for m in parts], ignore_index=True)
    flags = pd.concat([m.flags for m in parts], ignore_index=True)
    return MappedTable(table, file, frame, quarantine, result, qkeys, flags)


def _conflict_reason(other_row: int, other_file: str, file: str) -> str:
    where = f" of {other_file}" if other_file != file else ""
    return f"duplicate id with conflicting values (conflicts with row {other_row}{where})"


def _quarantine_conflict_firsts(m: MappedTable, seen: SeenKeys) -> MappedTable:
    """Move the first rows of keys met again with other values from the loaded rows to the
    quarantine: which of the conflicting rows is right is not known."""
    firsts = seen.conflicted_firsts()
    firsts = firsts[firsts["file"] == m.file]
    if firsts.empty:
        return m
    pos = firsts["pos"].to_numpy().astype("int64")
    rows = m.frame.iloc[pos]
    keycols = list(TABLES[m.table].key)
    q = pd.DataFrame({
        "file": m.file, "table": m.table, "row": firsts["first_row"].to_numpy(),
        "column": ",".join(keycols),
        "reason": [_conflict_reason(r, f, m.file)
                   for r, f in zip(firsts["other_row"], firsts["other_file"], strict=True)],
        "value": rows[keycols[0]].astype(str).to_numpy(),
        "record": [json.dumps(r, ensure_ascii=False, default=str)
                   for r in rows.to_dict("records")],
    })
    quarantine = pd.concat([m.quarantine, q], ignore_index=True).sort_values(
        "row", kind="stable").reset_index(drop=True)
    frame = m.frame.drop(index=m.frame.index[pos]).reset_index(drop=True)
    reasons = dict(m.result.reasons)
    key = "duplicate id with conflicting values"
    reasons[key] = reasons.get(key, 0) + len(q)
    flags = m.flags[~m.flags["key"].isin(rows[keycols[0]].astype(str))] if len(m.flags) else m.flags
    notes = dict(m.result.notes)
    for code in ("created_at_estimated", "created_after_close"):
        if code in notes:
            notes[code] = int((flags["code"] == code).sum())
    notes = {k: v for k, v in notes.items() if v}
    result = FileResult(m.file, m.table, m.result.read, len(frame), len(quarantine), reasons,
                        notes)
    qkeys = pd.concat([m.qkeys, rows[keycols]], ignore_index=True)
    return MappedTable(m.table, m.file, frame, quarantine, result, qkeys, flags)


def map_file(
    path: Path,
    table: str,
    mapping: SourceMapping,
    *,
    encoding: str | None = None,
    as_of: datetime | date | str | pd.Timestamp | None = None,
    chunksize: int | None = None,
    timezone: str = "UTC",
) -> MappedTable:
    """Read and map one file into memory (``chunksize``: read it in chunks, same result).

    Unlike :func:`map_table` on its own, both rows of a key with conflicting values are
    quarantined, and open deals without a creation date get the file's last date."""
    now = _as_of(as_of)
    with SeenKeys() as seen:
        if chunksize is None:
            raw = read_export(path, mapping, encoding=encoding, table=table)
            m = map_table(raw, table, mapping, str(path), as_of=now, seen=seen,
                          timezone=timezone, defer_estimates=True)
        else:
            parts = list(map_chunks(path, table, mapping, encoding=encoding, as_of=now,
                                    chunksize=chunksize, seen=seen, timezone=timezone,
                                    defer_estimates=True))
            m = _combine(parts, table, str(path))
        m = _quarantine_conflict_firsts(m, seen)
    if "created_at" in m.frame and m.frame["created_at"].isna().any():
        _fill_estimated(m.frame, now)
    return m


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
    empty = first.iloc[:0].copy()
    empty.attrs = {}
    map_table(empty, table, mapping, str(path))


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


def _reporting_timezone() -> str:
    """The project's ``timezone`` (crm-report.yaml), else that of params/report.yaml (validated with the other settings by
    ``params check``; here only this key is read, cached while the file is unchanged)."""
    from .params import params_folder
    from .project import current

    proj = current()
    if proj is not None and proj.config.timezone:  # the project's identity wins
        return proj.config.timezone
    p = params_folder() / "report.yaml"
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return "UTC"
    return _timezone_of(str(p), text)


@functools.lru_cache(maxsize=4)
def _timezone_of(path: str, text: str) -> str:
    from .params import read_yaml

    return str(read_yaml(Path(path)).get("timezone") or "UTC")


def _check_store_meta(
    con: duckdb.DuckDBPyConnection, mapping: SourceMapping, timezone: str
) -> list[tuple[str, str]]:
    """The reporting currency and time zone of the store must be those of this ingest:
    amounts in two currencies, or times in two zones, would mix silently."""
    from . import store as _store

    meta = _store.read_meta(con)
    want = {"reporting_currency": mapping.currency.reporting.upper(), "timezone": timezone}
    for key, value in want.items():
        have = meta.get(key)
        if have and have[0] != value:
            what = "reporting currency" if key == "reporting_currency" else "reporting time zone"
            fix = (
                "convert to the same reporting currency (`currency: {reporting: ...}` in the "
                "mapping) or use another --store"
                if key == "reporting_currency"
                else "set the same `timezone:` in params/report.yaml or use another --store"
            )
            raise MappingError(
                f"the store's {what} is {have[0]} (set by source {have[1]!r}) but source "
                f"{mapping.name!r} ({mapping.path or mapping.name}) uses {value}: {fix}"
            )
    return [(k, v) for k, v in want.items() if k not in meta]


def ingest_paths(
    paths: list[Path],
    source: str | Path,
    store_path: str | Path | None = None,
    *,
    encoding: str | None = None,
    as_of: datetime | date | str | pd.Timestamp | None = None,
    chunksize: int | None = DEFAULT_CHUNKSIZE,
    timezone: str | None = None,
) -> IngestReport:
    """Map, validate and load one export (files or a folder) into the store.

    Each file is streamed in chunks of ``chunksize`` rows (None: at once): each chunk is
    mapped, validated and written to staging tables in the store (on disk, so memory stays
    flat however big the file) before the next is read. Then one transaction moves the
    staged rows into the canonical tables (replacing rows with the same keys, so
    re-ingesting the same file never duplicates rows; a key whose row is now quarantined
    loses its old version) with the quarantine, the data notes and the ingest log: either
    every table of the export is written, or nothing is. A file is identified by its
    resolved path and its content hash: re-ingesting it by another path replaces its
    quarantine instead of adding a second copy.

    Duplicate keys are found across all files of one table in the export, as within one
    file: an identical copy is quarantined as such; conflicting copies are all quarantined.

    ``encoding`` overrides the mapping's ``encoding`` for every file (e.g. ``cp1256``,
    ``latin-1``); ``as_of`` (default: now) is the time after which, plus a day, a date is
    quarantined as "in the future"; ``timezone`` (default: ``timezone`` of
    params/report.yaml) is the reporting time zone timestamps are converted to.

    Raises
    ------
    DataValidationError, MappingError
        Naming the file and what to change; the store is left as it was.
    """
    from . import store as _store  # the store imports nothing from here; keeps import light
    from .sources import check_timezone

    mapping = load_mapping(source)
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise MappingError(
                f"--encoding {encoding!r} is not a known encoding; use a Python codec name "
                "such as utf-8, utf-16, cp1256 (Persian / Arabic Windows) or latin-1"
            ) from None
    tz = timezone or _reporting_timezone()
    try:
        check_timezone(tz)
    except ValueError as exc:
        raise MappingError(f"reporting time zone: {exc}") from None
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
        new_meta = _check_store_meta(con, mapping, tz)
        seens: dict[str, SeenKeys] = {}
        ends: dict[int, object] = {}
        try:
            # 1. stream every file into staging tables, chunk by chunk (each insert commits)
            for i in ordered:
                table, p = pairs[i]
                spec = TABLES[table]
                cols = ", ".join(f'"{c}"' for c in spec.columns)
                keys = ", ".join(f'"{c}"' for c in spec.key)
                con.execute(f'CREATE TABLE "{prefix}{i}" AS SELECT {cols} FROM "{table}" LIMIT 0')
                con.execute(f'CREATE TABLE "{prefix}{i}_q" AS SELECT {qcols} FROM quarantine LIMIT 0')
                con.execute(f'CREATE TABLE "{prefix}{i}_k" AS SELECT {keys} FROM "{table}" LIMIT 0')
                con.execute(f'CREATE TABLE "{prefix}{i}_f" (key VARCHAR, code VARCHAR)')
                read = loaded = quarantined = 0
                reasons: dict[str, int] = {}
                notes: dict[str, int] = {}
                if table not in seens:
                    seens[table] = SeenKeys(con, name=f"{prefix}seen_{table}")
                seen = seens[table]
                for m in map_chunks(p, table, mapping, encoding=encoding, as_of=now,
                                    chunksize=chunksize, seen=seen, timezone=tz,
                                    defer_estimates=True):
                    for frame, name, columns in (
                        (m.frame, f"{prefix}{i}", spec.columns),
                        (m.qkeys, f"{prefix}{i}_k", list(spec.key)),
                        (m.flags, f"{prefix}{i}_f", ["key", "code"]),
                    ):
                        if len(frame):
                            con.register("_chunk", frame[columns])
                            collist = ", ".join(f'"{c}"' for c in columns)
                            con.execute(f'INSERT INTO "{name}" SELECT {collist} FROM _chunk')
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
                    for k, v in m.result.notes.items():
                        notes[k] = notes.get(k, 0) + v
                results[i] = FileResult(str(p), table, read, loaded, quarantined, reasons, notes)
            # 2. conflicting duplicates (within a file or across the files of a table):
            #    the first rows leave the staged rows for the quarantine too
            for i in ordered:
                table, p = pairs[i]
                firsts = seens[table].conflicted_firsts()
                firsts = firsts[firsts["file"] == str(p)]
                if firsts.empty:
                    continue
                keycols = list(TABLES[table].key)
                con.register("_pos", firsts[["pos", "first_row", "other_row", "other_file"]])
                rows = con.execute(
                    'SELECT p.first_row, p.other_row, p.other_file, to_json(s) AS record, '
                    + ", ".join(f's."{k}"' for k in keycols)
                    + f' FROM "{prefix}{i}" s JOIN _pos p ON s.rowid = p.pos ORDER BY p.first_row'
                ).df()
                con.execute(f'DELETE FROM "{prefix}{i}" WHERE rowid IN (SELECT pos FROM _pos)')
                con.unregister("_pos")
                q = pd.DataFrame({
                    "batch_id": batch, "source": mapping.name, "file": str(p), "table": table,
                    "row": rows["first_row"].to_numpy(), "column": ",".join(keycols),
                    "reason": [_conflict_reason(r, f, str(p))
                               for r, f in zip(rows["other_row"], rows["other_file"], strict=True)],
                    "value": rows[keycols[0]].astype(str).to_numpy(),
                    "record": rows["record"].to_numpy(),
                })
                con.register("_q", q)
                con.execute(f'INSERT INTO "{prefix}{i}_q" SELECT {qcols} FROM _q')
                con.unregister("_q")
                con.register("_k", rows[keycols])
                con.execute(f'INSERT INTO "{prefix}{i}_k" SELECT * FROM _k')
                con.unregister("_k")
                con.register("_k", rows[keycols[:1]].astype(str).set_axis(["key"], axis=1))
                con.execute(f'DELETE FROM "{prefix}{i}_f" WHERE key IN (SELECT key FROM _k)')
                con.unregister("_k")
                if n_kept < REPORT_QUARANTINE_LIMIT:
                    kept.append(q[QUARANTINE_COLUMNS])
                    n_kept += len(q)
                r = results[i]
                reasons = dict(r.reasons)
                key = "duplicate id with conflicting values"
                reasons[key] = reasons.get(key, 0) + len(q)
                notes = dict(r.notes)
                for code in ("created_at_estimated", "created_after_close"):
                    if code in notes:
                        notes[code] = con.execute(
                            f'SELECT COUNT(*) FROM "{prefix}{i}_f" WHERE code = ?', [code]
                        ).fetchone()[0]
                results[i] = FileResult(r.file, table, r.read, r.loaded - len(q),
                                        r.quarantined + len(q), reasons,
                                        {k: v for k, v in notes.items() if v})
            # 3. open deals without a creation date get their file's last date
            for i in ordered:
                table, p = pairs[i]
                if table != "opportunities" or not results[i].notes.get("created_at_estimated"):
                    continue
                end = con.execute(
                    f'SELECT GREATEST(MAX(created_at), MAX(closed_at), MAX(last_activity_at)) '
                    f'FROM "{prefix}{i}"'
                ).fetchone()[0]
                end = end or now.normalize().to_pydatetime()
                ends[i] = end
                con.execute(f'UPDATE "{prefix}{i}" SET created_at = ? WHERE created_at IS NULL',
                            [end])
            # 4. one transaction: staged rows replace rows with the same keys
            con.execute("BEGIN")
            identities = {i: (str(pairs[i][1].resolve()), file_fingerprint(pairs[i][1]))
                          for i in ordered}
            for i in ordered:
                table, p = pairs[i]
                resolved, sha = identities[i]
                # earlier ingests of this file (by any path, or the same bytes elsewhere)
                old = con.execute(
                    'SELECT DISTINCT batch_id, file FROM ingest_log WHERE "table" = ? AND '
                    "(file = ? OR file_resolved = ? OR file_sha256 = ?)",
                    [table, str(p), resolved, sha],
                ).fetchall()
                for b, f in old:
                    for meta in ("quarantine", "data_notes", "row_flags"):
                        con.execute(f'DELETE FROM {meta} WHERE batch_id = ? AND file = ? '
                                    'AND "table" = ?', [b, f, table])
                    if f != str(p):  # the same file by another path: one entry in the log
                        con.execute('DELETE FROM ingest_log WHERE batch_id = ? AND file = ? '
                                    'AND "table" = ?', [b, f, table])
                con.execute('DELETE FROM quarantine WHERE file = ? AND "table" = ?', [str(p), table])
            for i in ordered:
                # rows now quarantined lose their old versions (first, for every file of
                # the export: a later file's identical copy must not delete a loaded row)
                table, p = pairs[i]
                cond = " AND ".join(
                    f't."{k}" IS NOT DISTINCT FROM s."{k}"' for k in TABLES[table].key
                )
                con.execute(
                    f'DELETE FROM "{table}" t WHERE EXISTS (SELECT 1 FROM "{prefix}{i}_k" s '
                    f"WHERE {cond})"
                )
            for i in ordered:
                table, p = pairs[i]
                r = results[i]
                cols = ", ".join(f'"{c}"' for c in TABLES[table].columns)
                cond = " AND ".join(
                    f't."{k}" IS NOT DISTINCT FROM s."{k}"' for k in TABLES[table].key
                )
                if r.loaded:
                    con.execute(
                        f'DELETE FROM "{table}" t WHERE EXISTS '
                        f'(SELECT 1 FROM "{prefix}{i}" s WHERE {cond})'
                    )
                    con.execute(f'INSERT INTO "{table}" ({cols}) SELECT {cols} FROM "{prefix}{i}"')
                con.execute(f'INSERT INTO quarantine SELECT {qcols} FROM "{prefix}{i}_q"')
                con.execute(
                    f'INSERT INTO row_flags SELECT ?, ?, ?, ?, key, code FROM "{prefix}{i}_f"',
                    [batch, mapping.name, r.file, table],
                )
                for code, rows_n in r.notes.items():
                    con.execute(
                        "INSERT INTO data_notes VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [batch, mapping.name, r.file, table, code,
                         _note_text(code, mapping, ends.get(i)), rows_n],
                    )
                con.execute(
                    "INSERT INTO ingest_log (batch_id, source, file, file_sha256, \"table\", "
                    "rows_read, rows_loaded, rows_quarantined, ingested_at, file_resolved) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [batch, mapping.name, r.file, identities[i][1], table,
                     r.read, r.loaded, r.quarantined, ingested_at, identities[i][0]],
                )
            for key, value in new_meta:
                con.execute("INSERT INTO store_meta VALUES (?, ?, ?)", [key, value, mapping.name])
            _store.fill_from_reps(con)
            con.execute("COMMIT")
        except BaseException:
            try:
                con.execute("ROLLBACK")
            except duckdb.Error:  # no transaction open (failed while staging)
                pass
            raise
        finally:
            for seen in seens.values():
                seen.close()
            _drop_staging(con, prefix)
    quarantine = (
        pd.concat(kept, ignore_index=True) if kept else pd.DataFrame(columns=QUARANTINE_COLUMNS)
    )
    if len(quarantine) > REPORT_QUARANTINE_LIMIT:
        quarantine, truncated = quarantine.iloc[:REPORT_QUARANTINE_LIMIT], True
    return IngestReport(
        batch, mapping.name, [results[i] for i in range(len(pairs))], quarantine, truncated
    )


def _note_text(code: str, mapping: SourceMapping, end: object = None) -> str:
    rates = mapping.currency.rates_file or ""
    return NOTE_TEXT.get(code, code).format(
        end=f"{pd.Timestamp(end):%Y-%m-%d}" if end is not None else "unknown",
        days=mapping.created_after_close_days,
        reporting=mapping.currency.reporting,
        file=Path(rates).name,
    )
