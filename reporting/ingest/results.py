"""What mapping a file gives: the loaded rows, the quarantine and the counts."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

QUARANTINE_COLUMNS = ["file", "table", "row", "column", "reason_code", "reason", "value", "record"]


@dataclass
class FileResult:
    """What happened to one file of an export."""

    file: str
    table: str
    read: int
    loaded: int
    quarantined: int
    #: quarantined rows per reason label (see :func:`.reasons.reason_label`)
    reasons: dict[str, int] = field(default_factory=dict)
    #: data-quality decisions (code -> loaded rows they apply to), see ``NOTE_TEXT``
    notes: dict[str, int] = field(default_factory=dict)
    #: the reason code of each label in ``reasons``
    reason_codes: dict[str, str] = field(default_factory=dict)

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


