"""Report kinds: which notebook a report runs, which scopes it covers and where it goes.

=========  ======================  ==============================================
kind       notebook                folder under ``reports/<period>/``
=========  ======================  ==============================================
monthly    monthly_sales_report    ``<region>/`` or ``<region>--<team>/``
scorecard  rep_scorecard           ``scorecards/<region>/`` or ``scorecards/<region>--<team>/``
rollup     company_rollup          ``rollup/`` (the whole company, one report)
trend      trend_report            ``trend/<region>/`` or ``trend/<region>--<team>/``;
                                   ``trend/all-regions/`` for the whole company
=========  ======================  ==============================================

A trend run for every region (``--region all``) also makes the company's trend.

The kind folders (``scorecards``, ``rollup``, ``trend``) are reserved: a region whose
folder name would be one of them gets the name plus a hash of the region's name
(:func:`reporting.paths.folder_names`), so no report of one kind ever replaces another's.
A notebook given by name or path has the kind of the shipped notebook of the same name,
else ``monthly``; ``crm-report run --kind`` says it explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .exceptions import ParamsError
from .i18n import N_


@dataclass(frozen=True)
class Kind:
    name: str
    notebook: str  # the shipped notebook's stem
    folder: str | None  # the folder of this kind under the period's folder; None: the period's
    title: str  # the English title (translated in the report's language)
    company_wide: bool = False  # one report for the whole company, whatever the regions
    artifacts: bool = True  # uses the period's shared artifacts (bands, CLV, backtest)
    # ``--region all`` also makes one report of the whole company (folder COMPANY_FOLDER)
    with_company: bool = False


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("monthly", "monthly_sales_report", None, N_("Sales Report")),
    Kind("scorecard", "rep_scorecard", "scorecards", N_("Rep scorecards")),
    Kind("rollup", "company_rollup", "rollup", N_("Company roll-up"), company_wide=True),
    Kind("trend", "trend_report", "trend", N_("Sales trend"), artifacts=False, with_company=True),
)}
DEFAULT_KIND = "monthly"

#: the folder of a whole-company report inside a kind's folder (``trend/all-regions/``)
COMPANY_FOLDER = "all-regions"

#: folder names no region report may take (a region called "All Regions" gets a hash)
RESERVED_FOLDERS = frozenset({*(k.folder for k in KINDS.values() if k.folder), COMPANY_FOLDER})


def get(name: str | None) -> Kind:
    """The kind called ``name`` (None: monthly); a ParamsError lists the kinds."""
    if name is None:
        return KINDS[DEFAULT_KIND]
    try:
        return KINDS[name]
    except KeyError:
        raise ParamsError(f"report kind {name!r}: use one of {', '.join(KINDS)}") from None


def of_notebook(notebook: str | Path | None) -> str:
    """The kind of a notebook given by name or path: the kind whose shipped notebook has
    the same name, else monthly (a project's own report notebook)."""
    if notebook is None:
        return DEFAULT_KIND
    stem = Path(str(notebook)).stem
    for k in KINDS.values():
        if k.notebook == stem:
            return k.name
    return DEFAULT_KIND


def resolve(kind: str | None, notebook: str | None) -> tuple[str, str]:
    """``(kind, notebook)`` from what the user gave: a kind alone runs its notebook, a
    notebook alone has the kind of its name, both are taken as given."""
    if kind is None:
        return of_notebook(notebook), notebook or KINDS[DEFAULT_KIND].notebook
    k = get(kind)
    return k.name, notebook or k.notebook
