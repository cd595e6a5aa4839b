"""Read CRM exports, map them onto the canonical tables, validate, and quarantine.

Every row read ends up either loaded or in the quarantine table with its file, row number
(the physical line where the record starts: the header is line 1, blank lines and line
breaks inside quoted fields count; in a workbook, the sheet's row), column, reason code,
reason and raw values. Nothing is dropped silently; :class:`FileResult` checks
``read == loaded + quarantined`` in code. Valid rows with an estimated or corrected value
are loaded and counted in ``FileResult.notes`` (the store's ``data_notes`` and
``row_flags``).

Files are streamed: CSV and Parquet files are read in chunks of ``chunksize`` rows, each
chunk mapped, validated and written to the store before the next is read, so a file of
several GB never sits in memory. Row numbers continue across chunks, and duplicate keys
are found across the whole file and across the files of one table in an export
(:class:`SeenKeys` keeps each key's first row in a DuckDB table).

The modules, in the order data flows through them:

- :mod:`.read` reads CSV and Parquet files (:mod:`.excel`: workbooks, one sheet per
  table) into raw frames and pairs the files of an export with their tables;
- :mod:`.steps` maps a raw frame in named steps: ``parse``, ``coerce``, ``validate``,
  ``deduplicate``, ``quarantine`` (:mod:`.parsing` holds the value parsers,
  :mod:`.keys` the keys seen so far, :mod:`.reasons` the quarantine reason codes);
- :mod:`.load` streams an export through the steps into the store in one transaction;
  :mod:`.fast` maps a plain CSV of deals in DuckDB instead, with the same result, and
  leaves every file it cannot decide to the steps.

Bad files raise :class:`~reporting.exceptions.DataValidationError` or
:class:`~reporting.exceptions.MappingError` naming the file and what to change.
"""

from __future__ import annotations

from .excel import WORKBOOK_SUFFIXES
from .keys import SeenKeys
from .load import (
    INGEST_MEMORY_LIMIT,
    REPORT_QUARANTINE_LIMIT,
    IngestReport,
    file_fingerprint,
    ingest_paths,
    map_chunks,
    map_file,
)
from .read import DEFAULT_CHUNKSIZE, ExportFile, files_for_tables, iter_export, read_export
from .reasons import REASON_CODES, reason_label
from .results import QUARANTINE_COLUMNS, FileResult, MappedTable
from .steps import (
    FUTURE_CHECKED,
    FUTURE_TOLERANCE,
    NOTE_TEXT,
    Problems,
    coerce,
    deduplicate,
    map_table,
    parse,
    quarantine,
    validate,
)

__all__ = [
    "DEFAULT_CHUNKSIZE",
    "FUTURE_CHECKED",
    "FUTURE_TOLERANCE",
    "INGEST_MEMORY_LIMIT",
    "NOTE_TEXT",
    "QUARANTINE_COLUMNS",
    "REASON_CODES",
    "REPORT_QUARANTINE_LIMIT",
    "WORKBOOK_SUFFIXES",
    "ExportFile",
    "FileResult",
    "IngestReport",
    "MappedTable",
    "Problems",
    "SeenKeys",
    "coerce",
    "deduplicate",
    "file_fingerprint",
    "files_for_tables",
    "ingest_paths",
    "iter_export",
    "map_chunks",
    "map_file",
    "map_table",
    "parse",
    "quarantine",
    "read_export",
    "reason_label",
    "validate",
]
