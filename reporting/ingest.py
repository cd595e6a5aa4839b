"""Read CRM exports, map them onto the canonical tables, validate, and quarantine.

Every row read ends up either loaded or in the quarantine table with its file, row number
(spreadsheet numbering: the header is row 1), column, reason and raw values. Nothing is
dropped silently; :class:`FileResult` checks ``read == loaded + quarantined`` in code.
"""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from .exceptions import DataValidationError, MappingError
from .schema import TABLES, pandera_schema
from .sources import SourceMapping, TableMapping, load_mapping

QUARANTINE_COLUMNS = ["file", "table", "row", "column", "reason", "value", "record"]
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_NON_NUMERIC = re.compile(r"[^0-9eE+\-.]")
_ROW_RULES = {
    "closed deal without closed_at": "closed_at",
    "closed before created": "closed_at",
    "won deal without amount": "amount",
}
_NULLS = {"", "na", "n/a", "nan", "null", "none", "nat", "-"}


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


@dataclass
class MappedTable:
    """A canonical table mapped from one file, with its quarantined rows."""

    table: str
    file: str
    frame: pd.DataFrame
    quarantine: pd.DataFrame
    result: FileResult


# --------------------------------------------------------------------------- reading


def _detect_encoding(head: bytes, declared: str | None) -> str:
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if declared:
        return declared
    return "utf-8"


def read_export(path: Path, mapping: SourceMapping) -> pd.DataFrame:
    """Read one CSV or Parquet file as text columns (CSV) or typed columns (Parquet).

    Raises
    ------
    DataValidationError
        With the file name and what to change, for unreadable or empty files.
    """
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            return pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises many types
            raise DataValidationError(f"{path}: not a readable Parquet file ({exc})") from None
    if path.stat().st_size == 0:
        raise DataValidationError(f"{path}: the file is empty (0 bytes)")
    with path.open("rb") as fh:
        head = fh.read(65536)
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataValidationError(
            f"{path}: looks like a binary file, not CSV (it contains NUL bytes); "
            "export the report as CSV or Parquet"
        )
    encoding = _detect_encoding(head, mapping.encoding)
    try:
        sample = head.decode(encoding.replace("-sig", ""), errors="strict")
    except UnicodeDecodeError as exc:
        if len(head) == 65536 and exc.start > 65530:  # cut in the middle of a character
            sample = head[: exc.start].decode(encoding)
        else:
            raise DataValidationError(
                f"{path}: not valid {encoding} text (byte {exc.start}: {head[exc.start:exc.start + 4]!r}); "
                "set `encoding:` in the mapping file (e.g. cp1256 for Persian Windows "
                "exports, latin-1 for Western European ones)"
            ) from None
    delimiter = mapping.delimiter
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(sample.split("\n", 20)[0], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    try:
        frame = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            encoding=encoding,
            sep=delimiter,
            encoding_errors="strict",
        )
    except UnicodeDecodeError as exc:
        raise DataValidationError(
            f"{path}: not valid {encoding} text ({exc.reason} at byte {exc.start}); set "
            "`encoding:` in the mapping file"
        ) from None
    except pd.errors.EmptyDataError:
        raise DataValidationError(f"{path}: the file has no header and no rows") from None
    except pd.errors.ParserError as exc:
        raise DataValidationError(f"{path}: not a well-formed CSV file: {exc}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


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
        return s.isna() | s.astype(str).str.strip().str.lower().isin(_NULLS)
    return s.isna()


def _parse_dates(s: pd.Series, formats: list[str], tz: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):
        out = pd.to_datetime(s)
    else:
        text = s.astype(str).str.strip().str.translate(_DIGITS)
        out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us, UTC]")
        for fmt in formats:
            todo = out.isna() & ~_is_null(s)
            if not todo.any():
                break
            kwargs = {"format": fmt} if fmt != "mixed" else {"format": "mixed"}
            parsed = pd.to_datetime(text[todo], errors="coerce", utc=False, **kwargs)
            if getattr(parsed.dt, "tz", None) is None:
                parsed = parsed.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
            out.loc[todo] = parsed.dt.tz_convert("UTC")
        return out.dt.tz_localize(None).astype("datetime64[us]")
    if out.dt.tz is not None:
        out = out.dt.tz_convert("UTC").dt.tz_localize(None)
    elif tz != "UTC":
        out = out.dt.tz_localize(tz).dt.tz_convert("UTC").dt.tz_localize(None)
    return out.astype("datetime64[us]")


def _parse_numbers(s: pd.Series, decimal: str, thousands: str) -> pd.Series:
    if pd.api.types.is_numeric_dtype(s):
        return s.astype("float64")
    text = s.astype(str).str.strip().str.translate(_DIGITS)
    text = text.str.replace("٬", "", regex=False).str.replace("٫", ".", regex=False)
    if thousands:
        text = text.str.replace(thousands, "", regex=False)
    if decimal != ".":
        text = text.str.replace(decimal, ".", regex=False)
    negative = text.str.startswith("(") & text.str.endswith(")")
    text = text.str.replace(_NON_NUMERIC, "", regex=True)
    text = text.where(~negative, "-" + text)
    return pd.to_numeric(text, errors="coerce").astype("float64")


def _parse_bools(s: pd.Series, booleans: dict[str, list[str]]) -> pd.Series:
    if pd.api.types.is_bool_dtype(s):
        return s.astype(object)
    low = s.astype(str).str.strip().str.lower()
    out = pd.Series(None, index=s.index, dtype=object)
    out[low.isin(booleans.get("true", []))] = True
    out[low.isin(booleans.get("false", []))] = False
    return out


def _record_json(raw: pd.DataFrame, rows: np.ndarray) -> list[str]:
    sub = raw.iloc[rows]
    return [json.dumps(r, ensure_ascii=False, default=str) for r in sub.to_dict("records")]


def map_table(
    raw: pd.DataFrame, table: str, mapping: SourceMapping, file: str
) -> MappedTable:
    """Map one export frame onto canonical ``table``; quarantine the rows that fail.

    Reasons are specific: ``missing required field``, ``unparseable date``,
    ``non-numeric amount``, ``negative amount``, ``unknown stage``, ``unknown currency
    without a rate``, ``closed before created``, ``closed deal without closed_at``,
    ``won deal without amount``, ``duplicate id ...``.
    """
    tm: TableMapping = mapping.tables[table]
    spec = TABLES[table]
    n = len(raw)
    raw = raw.reset_index(drop=True)
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
        raise MappingError(
            f"{file}: column(s) {', '.join(missing_cols)} named in mapping "
            f"{mapping.path or mapping.name} (table {table}) are not in the file; the file has: "
            + ", ".join(repr(c) for c in list(raw.columns)[:30])
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
    for col, cols in sources.items():
        s = raw[cols[0]]
        for other in cols[1:]:
            s = s.where(~_is_null(s), raw[other])
        f = spec.field(col)
        if col in tm.values and f.kind == "str":
            s = s.astype(str).str.strip().replace(tm.values[col])
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
            parsed = s.astype(str).str.strip().where(~null, None).astype(object)
        out[col] = parsed
    for col, value in tm.constants.items():
        out[col] = value

    if table == "opportunities" and tm.status_from:
        stage_raw = raw[tm.status_from].astype(str).str.strip()
        status = stage_raw.map(tm.statuses)
        flag(status.isna(), "stage", "unknown stage", stage_raw)
        out["status"] = status.astype(object)
        if "stage" not in out:
            out["stage"] = stage_raw.astype(object)
    if table == "opportunities" and "closed_at" in out:
        # an open deal has no close date (CRMs put the *expected* close date there)
        out["closed_at"] = out["closed_at"].where(out["status"] != "open", pd.NaT)

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
            out[c] = pd.Series(np.nan if spec.field(c).kind in ("float", "int") else None,
                               index=out.index)
            if spec.field(c).kind == "datetime":
                out[c] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[us]")
    out = out[spec.columns]

    if table == "revenue":
        missing_id = out["revenue_id"].isna()
        if missing_id.any():
            key = (
                out["account_id"].astype(str) + "|" + out["date"].astype(str) + "|"
                + out["amount"].astype(str) + "|" + out["kind"].astype(str)
            )
            occurrence = key.groupby(key).cumcount().astype(str)
            derived = (key + "|" + occurrence).map(
                lambda k: "R" + hashlib.sha1(k.encode()).hexdigest()[:16]
            )
            out.loc[missing_id, "revenue_id"] = derived[missing_id]

    # pandera: presence, ranges, allowed values, cross-column rules (lazy: all at once)
    bad_parse = (
        set(np.concatenate([p["idx"].to_numpy() for p in problems])) if problems else set()
    )
    check_frame = out.drop(index=list(bad_parse)) if bad_parse else out
    try:
        pandera_schema(table).validate(check_frame, lazy=True)
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
            vals = out.loc[idx, column].astype(object).fillna("").astype(str).to_numpy() if column in out else ""
            problems.append(
                pd.DataFrame({"idx": idx, "column": column, "reason": reason, "value": vals})
            )

    # duplicate keys: keep the first, quarantine the others with the first's row number
    bad = set(np.concatenate([p["idx"].to_numpy() for p in problems])) if problems else set()
    keycols = [k for k in spec.key]
    ok_mask = ~out.index.isin(list(bad))
    ok = out[ok_mask]
    dup = ok.duplicated(keycols, keep="first")
    if dup.any():
        firsts = ok[~dup].reset_index().set_index(keycols)["index"]
        dups = ok[dup]
        first_idx = firsts.loc[
            pd.MultiIndex.from_frame(dups[keycols]) if len(keycols) > 1 else dups[keycols[0]]
        ].to_numpy()
        same = [
            ok.loc[i].equals(ok.loc[j]) for i, j in zip(dups.index, first_idx, strict=True)
        ]
        reasons = [
            f"duplicate id (identical to row {j + 2})" if s
            else f"duplicate id with conflicting values (first seen at row {j + 2})"
            for s, j in zip(same, first_idx, strict=True)
        ]
        problems.append(
            pd.DataFrame({
                "idx": dups.index.to_numpy(),
                "column": ",".join(keycols),
                "reason": reasons,
                "value": dups[keycols[0]].astype(str).to_numpy(),
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
            "row": rows + 2,
            "column": q["column"].to_numpy(),
            "reason": q["reason"].to_numpy(),
            "value": q["value"].astype(str).str.slice(0, 200).to_numpy(),
            "record": _record_json(raw, rows),
        })
        loaded = out.drop(index=rows)
    else:
        quarantine = pd.DataFrame(columns=QUARANTINE_COLUMNS)
        loaded = out
    reasons = quarantine["reason"].value_counts().to_dict() if len(quarantine) else {}
    result = FileResult(file, table, n, len(loaded), len(quarantine), reasons)
    return MappedTable(table, file, loaded.reset_index(drop=True), quarantine, result)


def _short_reason(reason: str) -> str:
    # pandera formats custom check errors as "<error>" or "<check>(<args>)"
    r = str(reason)
    if r.startswith("greater_than_or_equal_to"):
        return "negative value"
    return r


def map_file(path: Path, table: str, mapping: SourceMapping) -> MappedTable:
    """Read and map one file."""
    raw = read_export(path, mapping)
    return map_table(raw, table, mapping, str(path))


def file_fingerprint(path: Path) -> str:
    """SHA-256 of a file's bytes, read in chunks."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


__all__ = [
    "FileResult",
    "IngestReport",
    "ingest_paths",
    "MappedTable",
    "QUARANTINE_COLUMNS",
    "file_fingerprint",
    "files_for_tables",
    "map_file",
    "map_table",
    "read_export",
]


# --------------------------------------------------------------------------- to the store


@dataclass
class IngestReport:
    """The outcome of one ``crm-report ingest``: per-file counts and the quarantine."""

    batch_id: str
    source: str
    results: list[FileResult]
    quarantine: pd.DataFrame

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
        if self.quarantine.empty:
            return pd.DataFrame(columns=["table", "reason", "rows"])
        return (
            self.quarantine.groupby(["table", "reason"]).size().rename("rows").reset_index()
            .sort_values("rows", ascending=False, kind="stable")
        )


def ingest_paths(
    paths: list[Path], source: str | Path, store_path: str | Path | None = None
) -> IngestReport:
    """Map, validate and load one export (files or a folder) into the store.

    Loading is one transaction: either every table of the export is written (replacing
    rows with the same keys, so re-ingesting the same file never duplicates rows) with
    its quarantine, or nothing is.
    """
    from . import store as _store  # the store imports nothing from here; keeps import light

    mapping = load_mapping(source)
    pairs = files_for_tables([Path(p) for p in paths], mapping)
    mapped = [map_file(p, table, mapping) for table, p in pairs]
    batch = uuid.uuid4().hex[:12]
    now = datetime.now(UTC).replace(tzinfo=None)
    quarantine = (
        pd.concat([m.quarantine for m in mapped], ignore_index=True)
        if mapped else pd.DataFrame(columns=QUARANTINE_COLUMNS)
    )
    with _store.connect(store_path) as con:
        con.execute("BEGIN")
        try:
            order = list(TABLES)
            for m in sorted(mapped, key=lambda m: order.index(m.table)):
                _store.upsert(con, m.table, m.frame)
                con.execute(
                    'DELETE FROM quarantine WHERE file = ? AND "table" = ?', [m.file, m.table]
                )
                if not m.quarantine.empty:
                    q = m.quarantine.assign(batch_id=batch, source=mapping.name)
                    con.register("_q", q)
                    con.execute(
                        'INSERT INTO quarantine SELECT batch_id, source, file, "table", "row", '
                        '"column", reason, value, record FROM _q'
                    )
                    con.unregister("_q")
                con.execute(
                    "INSERT INTO ingest_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [batch, mapping.name, m.file, file_fingerprint(Path(m.file)), m.table,
                     m.result.read, m.result.loaded, m.result.quarantined, now],
                )
            _store.fill_from_reps(con)
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    return IngestReport(batch, mapping.name, [m.result for m in mapped], quarantine)
