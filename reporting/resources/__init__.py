"""What ships inside the package: report notebooks, templates and assets, default params and
source mappings. Found with :mod:`importlib.resources`, so an installed wheel works from any
folder; nothing derives a path from the source checkout.

The package must be installed as files (a wheel or an editable install), not imported from a
zip archive: nbconvert, Jinja2 and WeasyPrint read the templates and assets as files, so each
accessor returns a real :class:`~pathlib.Path` and fails clearly otherwise.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from ..exceptions import ReportingError

__all__ = ["notebooks_dir", "params_dir", "shipped_notebooks", "sources_dir", "templates_dir"]


def _folder(name: str) -> Path:
    p = files(__name__).joinpath(name)
    if not isinstance(p, Path) or not p.is_dir():  # pragma: no cover - zipped installs only
        raise ReportingError(f"the package's {name}/ is not a folder on disk ({p}); install "
                             "crm-reporting from a wheel or a source folder, not a zip archive")
    return p


def notebooks_dir() -> Path:
    """The shipped report notebooks (``<name>.ipynb``)."""
    return _folder("notebooks")


def templates_dir() -> Path:
    """The shipped templates: ``crm_report/`` (nbconvert), ``fragments/`` (Jinja2 report
    sections) and ``assets/`` (CSS, logo)."""
    return _folder("templates")


def params_dir() -> Path:
    """The built-in params folder: ``report.yaml``, ``baselines.yaml``, ``schedule.yaml``."""
    return _folder("params")


def sources_dir() -> Path:
    """The shipped source mappings (``<name>.yaml``)."""
    return params_dir() / "sources"


def shipped_notebooks() -> list[str]:
    """Names of the shipped notebooks, without ``.ipynb``."""
    return sorted(p.stem for p in notebooks_dir().glob("*.ipynb"))
