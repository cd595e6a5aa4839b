"""Reading export files into raw frames: CSV (encoding and delimiter detection, physical
line numbers, damaged records), Parquet, Excel workbooks (:mod:`.excel`) and JSON records
(saved API responses or JSON lines, flattened to text columns); and pairing
the files of an export with the canonical tables they hold.

Frames carry what the later steps need in ``attrs``: ``lines`` (each row's physical line
or sheet row), ``flags`` (rows damaged in the file: quarantined first), ``extra`` (records
that could not become rows) and, for typed sources, ``nan`` / ``typed`` values.
"""

from __future__ import annotations

import codecs
import csv
import fnmatch
import io
import json
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError, MappingError
from ..sources import SourceMapping
from . import excel
from .parsing import _breaks, _clean_columns, _clean_name

#: rows per chunk when streaming a file into the store
DEFAULT_CHUNKSIZE = 200_000
_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_MAGIC = [
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook? name it .xlsx to read its sheets)"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"PAR1", "a Parquet file (name it .parquet)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls workbook (name it .xls to read its sheets)"),
    (b"{\\rtf", "an RTF document"),
]


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
        names.update(tm.status_columns())
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
    sheet: str | None = None,
) -> Iterator[pd.DataFrame]:
    """Read one CSV, Parquet or workbook file in chunks of ``chunksize`` rows (None: one
    chunk).

    CSV columns are text; Parquet columns keep their types; a workbook's sheet ``sheet``
    (default: the sheet of ``table``, see :mod:`.excel`) gives text columns with the typed
    date and number cells in ``attrs["typed"]``. A file with a header and no rows yields
    one empty frame with the header's columns. ``encoding`` overrides the mapping's
    ``encoding`` (a byte-order mark overrides both); ``table`` helps detect the delimiter
    from the header.

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
    if excel.is_workbook(path):
        src = export_file(path, table or "", mapping, sheet)
        yield from excel.sheet_chunks(path, src.sheet or "", chunksize)
        return
    if is_json(path):
        yield from _json_chunks(path, chunksize)
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
_EMPTY_FLAGS = pd.DataFrame(columns=["idx", "column", "code", "reason", "value"])
_EMPTY_EXTRA = pd.DataFrame(columns=["row", "column", "reason_code", "reason", "value", "record"])

class _LineReader:
    """Physical lines of a text file by number, read forward once (for the rare rows the
    CSV parser skips)."""

    def __init__(self, path: Path, encoding: str) -> None:
        self.fh = path.open(encoding=encoding, errors="replace", newline=None)
        self.at = 0  # lines consumed
        self.last = ""  # the whole of the line ``get`` read last

    def get(self, line: int) -> str:
        """The line (its first 2,000 characters), or "" past the end."""
        text = ""
        while self.at < line:
            text = self.fh.readline()
            if not text:
                return ""
            self.at += 1
        self.last = text.rstrip("\n") if self.at == line else ""
        return self.last[:2000]

    def record(self, breaks: int) -> str:
        """The record that starts with the line ``get`` read last and holds ``breaks``
        line breaks inside quoted fields (the next lines, which are consumed)."""
        parts = [self.last]
        for _ in range(breaks):
            text = self.fh.readline()
            if not text:
                break
            self.at += 1
            parts.append(text.rstrip("\n"))
        return "\n".join(parts)

    def close(self) -> None:
        self.fh.close()


def _count_fields(record: str, delimiter: str) -> int:
    """Fields of one CSV record as pandas' C tokenizer counts them (double quotes, a
    quote only opening a field)."""
    for fields in csv.reader(io.StringIO(record, newline=""), delimiter=delimiter,
                             quotechar='"', doublequote=True, strict=False):
        return len(fields)
    return 0


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
        # pandas' C tokenizer does not check the first record of a block it tokenizes for
        # extra fields: it drops their values without a warning. With low_memory a chunk
        # is tokenized in blocks of 2**20 // columns records, so a record every ~65k
        # could lose values unseen; without it a block is a chunk, and the first record
        # of every chunk after the first is checked below (the first chunk's first
        # record is the "Length of header" warning)
        low_memory=False,
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
                first_chunk = header_breaks is None
                drop_first = False
                if first_chunk:
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
                # records the parser skipped (their line from the records around them),
                # and the first record of a later chunk if it has extra fields
                extra = _EMPTY_EXTRA
                too_long: list[tuple[int, int, int | None]] = []  # line, fields, row index
                if new_skipped:
                    all_recs = np.concatenate([row_recs, rec])
                    all_lines = np.concatenate([row_lines, lines])
                    all_br = np.concatenate([row_br, br])
                    for r, _want, saw in new_skipped:
                        j = np.searchsorted(all_recs, r) - 1  # the record before it
                        line = (int(all_lines[j] + all_br[j] + (r - all_recs[j]))
                                if j >= 0 else r + header_breaks)
                        too_long.append((line, saw, None))
                if k and not first_chunk:
                    too_long.append((int(lines[0]), -1, 0))
                if too_long:
                    rows = []
                    if lines_reader is None:
                        lines_reader = _LineReader(path, enc)
                    for line, saw, idx in sorted(too_long):  # the reader reads forward
                        text = lines_reader.get(line)
                        if idx is not None:  # count the fields of the whole record
                            record = lines_reader.record(int(br[idx]))
                            saw = _count_fields(record, delimiter)
                            if saw <= ncols:
                                continue
                            drop_first = True
                        rows.append({
                            "row": line, "column": "", "reason_code": "extra_fields",
                            "reason": f"more fields than the header ({saw} fields, the header "
                                      f"has {ncols}): quote values that contain {delimiter!r}",
                            "value": text[:200], "record": json.dumps({"line": text},
                                                                      ensure_ascii=False),
                        })
                    if rows:
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
                                "idx": int(i), "column": str(c), "code": "unbalanced_quote",
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
                if drop_first:  # a record with extra fields is quarantined, not a row
                    empty[0] = True
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


# --------------------------------------------------------------------------- JSON records

#: file name endings read as JSON records (a JSON document, or JSON lines)
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")
#: largest JSON document read (it is parsed whole); JSON lines are streamed
MAX_JSON_BYTES = 256 * 1024 * 1024
#: longest line of a JSON-lines file
MAX_JSON_LINE = 16 * 1024 * 1024
#: nested objects are flattened to this depth; deeper values stay JSON text
MAX_JSON_DEPTH = 4
#: most distinct columns the flattened records may have
MAX_JSON_COLUMNS = 1000
#: keys of a response envelope that hold the records (Pipedrive / HubSpot / Salesforce)
JSON_RECORD_KEYS = ("data", "results", "records", "items")


def is_json(path: Path) -> bool:
    """True for a file name ending in one of :data:`JSON_SUFFIXES`."""
    return Path(path).suffix.lower() in JSON_SUFFIXES


def _json_text(v: object) -> str:
    """A JSON scalar as the text a CSV export would hold (null: empty)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False) if v else ""
    return str(v)


def _flatten(rec: dict, prefix: str = "", depth: int = 1, out: dict | None = None) -> dict:
    """A record's values by dotted key (``data.field_key``); lists and objects deeper than
    :data:`MAX_JSON_DEPTH` stay JSON text."""
    out = {} if out is None else out
    for k, v in rec.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v and depth < MAX_JSON_DEPTH:
            _flatten(v, key + ".", depth + 1, out)
        else:
            out[key] = _json_text(v)
    return out


def _json_records(path: Path) -> Iterator[tuple[int, object]]:
    """(row number, record) of a JSON document (an array of records, or an object whose
    ``data`` / ``results`` / ``records`` / ``items`` array holds them, or one record) or
    of a JSON-lines file (one record a line; blank lines skipped): rows are numbered by
    record (1 = the first) in a document and by line in JSON lines."""
    size = path.stat().st_size
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        with path.open("rb") as fh:
            for i, line in enumerate(iter(lambda: fh.readline(MAX_JSON_LINE + 1), b""), 1):
                if len(line) > MAX_JSON_LINE:
                    raise DataValidationError(
                        f"{path}: line {i} is longer than {MAX_JSON_LINE // 2**20} MB; one "
                        "record a line is expected (JSON lines)")
                if not line.strip():
                    continue
                try:
                    yield i, json.loads(line.decode("utf-8-sig"))
                except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
                    raise DataValidationError(
                        f"{path}: line {i} is not a JSON record ({exc}); each line must be "
                        "one JSON object (JSON lines)") from None
        return
    if size > MAX_JSON_BYTES:
        raise DataValidationError(
            f"{path}: a JSON document of {size / 2**20:,.0f} MB is more than the "
            f"{MAX_JSON_BYTES // 2**20} MB read at once; save it as JSON lines (.jsonl, one "
            "record a line), which is streamed")
    try:
        doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise DataValidationError(f"{path}: not a readable JSON document ({exc})") from None
    if isinstance(doc, dict):
        found = [k for k in JSON_RECORD_KEYS if isinstance(doc.get(k), list)]
        doc = doc[found[0]] if found else [doc]
    if not isinstance(doc, list):
        raise DataValidationError(
            f"{path}: a JSON document must be an array of records or an object holding one "
            f"under {', '.join(JSON_RECORD_KEYS)}")
    yield from enumerate(doc, 1)


def _json_chunks(path: Path, chunksize: int | None) -> Iterator[pd.DataFrame]:
    """Flattened JSON records in frames of text columns (like a CSV), with their row
    numbers in ``attrs["lines"]``; a record that is not an object is a quarantined row
    (``extra``)."""
    if path.stat().st_size == 0:
        raise DataValidationError(f"{path}: the file is empty (0 bytes); export it again")
    rows: list[dict] = []
    lines: list[int] = []
    extra: list[dict] = []
    columns: dict[str, None] = {}
    yielded = False

    def frame() -> pd.DataFrame:
        f = pd.DataFrame(rows, columns=list(columns), dtype=object).fillna("")
        f.columns = _clean_columns(list(f.columns))
        f.attrs = {"lines": np.asarray(lines, dtype="int64"), "flags": _EMPTY_FLAGS,
                   "extra": pd.DataFrame(extra, columns=_EMPTY_EXTRA.columns)}
        return f

    for row, rec in _json_records(path):
        if not isinstance(rec, dict):
            text = json.dumps(rec, ensure_ascii=False)[:2000]
            extra.append({"row": row, "column": "", "reason_code": "invalid_value",
                          "reason": "a JSON record must be an object", "value": text[:200],
                          "record": json.dumps({"record": text}, ensure_ascii=False)})
            continue
        flat = _flatten(rec)
        for k in flat:
            if k not in columns:
                columns[k] = None
                if len(columns) > MAX_JSON_COLUMNS:
                    raise DataValidationError(
                        f"{path}: the records have more than {MAX_JSON_COLUMNS} distinct "
                        f"fields (at record {row}); export fewer fields")
        rows.append(flat)
        lines.append(row)
        if chunksize and len(rows) >= chunksize:
            yield frame()
            yielded = True
            rows, lines, extra = [], [], []
    if rows or extra or not yielded:
        yield frame()


def read_export(
    path: Path, mapping: SourceMapping, *, encoding: str | None = None, table: str | None = None,
    sheet: str | None = None,
) -> pd.DataFrame:
    """Read one whole CSV, Parquet or workbook file (see :func:`iter_export`; prefer it
    for big files)."""
    parts = list(iter_export(path, mapping, encoding=encoding, chunksize=None, table=table,
                             sheet=sheet))
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
class ExportFile(NamedTuple):
    """One file of an export (one sheet of a workbook) and the canonical table it holds."""

    table: str
    path: Path
    #: the workbook sheet (None for CSV and Parquet files)
    sheet: str | None = None

    @property
    def label(self) -> str:
        """The name the quarantine and the ingest log give it: the path, or
        ``workbook.xlsx[Sheet]``."""
        return str(self.path) if self.sheet is None else excel.label(self.path, self.sheet)


def files_for_tables(paths: list[Path], mapping: SourceMapping) -> list[ExportFile]:
    """Pair each export file (each sheet of a workbook) with the canonical table it holds.

    A folder is one export: each table takes the files matching its ``files`` patterns
    (a workbook among them: the table's sheet). A single file given directly goes to the
    table whose patterns match its name, or to ``opportunities`` when no pattern matches
    (or several do; a mapping of one other table: to that table); a table read with ``unpivot:`` whose patterns match takes it as well
    (one deals file, two tables); a workbook given directly gives each table its sheet
    (see :mod:`.excel`).
    """
    pairs: list[ExportFile] = []
    for p in paths:
        p = Path(p)
        if not p.exists():
            raise DataValidationError(f"{p}: no such file or folder")
        if p.is_dir():
            pairs.extend(_folder_files(p, mapping))
        elif excel.is_workbook(p):
            pairs.extend(_sheets(p, mapping, None))
        else:
            tables = [
                t
                for t, tm in mapping.tables.items()
                if any(fnmatch.fnmatch(p.name, pat) for pat in tm.files)
            ]
            # a table read by unpivoting (wide columns of the same file) takes it too
            wide = [t for t in tables if mapping.tables[t].unpivot is not None]
            tables = [t for t in tables if t not in wide]
            if len(tables) != 1:
                if "opportunities" in mapping.tables:
                    tables = ["opportunities"]
                elif not tables and not wide and len(mapping.tables) == 1:
                    tables = list(mapping.tables)  # a one-table mapping: its table
                else:
                    tables = tables[:1]
            if not tables and not wide:
                raise MappingError(f"{p}: mapping {mapping.name!r} has no table for this file")
            pairs.extend(ExportFile(t, p) for t in [*tables[:1], *wide])
    return pairs


def _folder_files(folder: Path, mapping: SourceMapping) -> list[ExportFile]:
    """The files of a folder that match each table's ``files`` patterns (a workbook among
    them: the table's sheet)."""
    pairs: list[ExportFile] = []
    for table, tm in mapping.tables.items():
        for f in sorted(folder.iterdir()):
            if f.is_file() and any(fnmatch.fnmatch(f.name, pat) for pat in tm.files):
                pairs.extend(_sheets(f, mapping, [table]))
    if not pairs:
        raise DataValidationError(
            f"{folder}: no file in this folder matches the patterns of mapping "
            f"{mapping.name!r} ("
            + "; ".join(f"{t}: {', '.join(tm.files)}" for t, tm in mapping.tables.items())
            + ")"
        )
    return pairs


def export_file(path: Path, table: str, mapping: SourceMapping,
                sheet: str | None = None) -> ExportFile:
    """``path`` as the export file of ``table``: for a workbook, with ``sheet`` (default:
    the table's sheet, see :mod:`.excel`)."""
    path = Path(path)
    if sheet is None and excel.is_workbook(path):
        tables = [table] if table in mapping.tables else None
        sheet = excel.sheets_for_tables(path, mapping, tables)[0][1]
    return ExportFile(table, path, sheet)


def _sheets(path: Path, mapping: SourceMapping, tables: list[str] | None) -> list[ExportFile]:
    if not excel.is_workbook(path):
        return [ExportFile(tables[0], path)] if tables else []
    return [ExportFile(t, path, sheet) for t, sheet in excel.sheets_for_tables(path, mapping, tables)]
