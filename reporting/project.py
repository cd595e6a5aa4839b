"""Projects: a folder with a ``crm-report.yaml`` that says where a company's store, reports,
params and notebooks live, and its reporting currency, time zone and language.

Every command finds the project the same way (:func:`current`): the folder given with
``--project`` (:func:`use`), else ``$CRM_REPORT_PROJECT``, else the nearest folder at or
above the working folder that holds a ``crm-report.yaml``. Paths in the file are relative to
the project's folder. Outside any project the built-in defaults apply (store
``data/crm.duckdb`` under the working folder, the shipped params and notebooks), and the CLI
says so. ``crm-report init DIR`` (:func:`init_project`) creates a project with the shipped
params and notebooks copied for editing.

The project's ``company``, ``currency`` and ``timezone`` are the company's identity: they
apply to every report of the project. ``report.yaml`` may repeat them only with the same
value; a different one is an error naming both files (two sources of truth that disagree is
worse than either).
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .exceptions import ParamsError, capped

PROJECT_FILE = "crm-report.yaml"
PROJECT_ENV = "CRM_REPORT_PROJECT"
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")

_active: Path | None = None  # set by --project


class ProjectError(ParamsError):
    """A project folder or its crm-report.yaml is missing or invalid."""


class ProjectConfig(BaseModel):
    """The contents of ``crm-report.yaml`` (validated; unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid")

    company: str | None = Field(None, min_length=1, max_length=200)
    store: str = "data/crm.duckdb"
    reports: str = "reports"
    params: str | None = None  # None: the built-in params
    notebooks: str | None = None  # None: only the shipped notebooks
    currency: str | None = None
    timezone: str | None = None
    language: Literal["en", "fa"] = "en"

    @field_validator("company")
    @classmethod
    def _one_line(cls, v: str | None) -> str | None:
        if v is not None and _CONTROL.search(v):
            raise ValueError("must be one line of text (it goes into page headers and e-mail "
                             "subjects)")
        return v

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[A-Z]{3}", v):
            raise ValueError(f"{v!r} is not an ISO 4217 code like EUR or USD")
        return v

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                ZoneInfo(v)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"{v!r} is not an IANA time zone like Europe/Berlin") from None
        return v

    @field_validator("store", "reports", "params", "notebooks")
    @classmethod
    def _path(cls, v: str | None) -> str | None:
        if v is not None and (not v.strip() or _CONTROL.search(v)):
            raise ValueError("must be a folder or file path (relative to the project folder)")
        return v


@dataclass(frozen=True)
class Project:
    """A loaded project: its folder and validated configuration."""

    root: Path
    config: ProjectConfig

    @property
    def file(self) -> Path:
        return self.root / PROJECT_FILE

    def path(self, value: str) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.root / p

    @property
    def store(self) -> Path:
        return self.path(self.config.store)

    @property
    def reports(self) -> Path:
        return self.path(self.config.reports)

    @property
    def params(self) -> Path | None:
        """The project's params folder; None when the project uses the built-in params. A
        folder named in crm-report.yaml that does not exist is an error, not the defaults."""
        if self.config.params is None:
            return None
        d = self.path(self.config.params)
        if not d.is_dir():
            raise ProjectError(f"{self.file}: params: {self.config.params!r} is not a folder "
                               f"({d}); create it or remove the key to use the built-in params")
        return d

    @property
    def notebooks(self) -> Path | None:
        if self.config.notebooks is None:
            return None
        d = self.path(self.config.notebooks)
        return d if d.is_dir() else None


def load(root: str | Path) -> Project:
    """The project whose folder is ``root`` (it must hold a ``crm-report.yaml``)."""
    from .params import read_yaml, validation_items

    d = Path(root).expanduser()
    if not d.is_dir():
        what = "is not a folder" if d.exists() else "does not exist"
        raise ProjectError(f"project {d} {what}; `crm-report init {d}` creates one")
    f = d / PROJECT_FILE
    if not f.is_file():
        raise ProjectError(f"{d} holds no {PROJECT_FILE}; `crm-report init {d}` creates one")
    try:
        cfg = ProjectConfig.model_validate(read_yaml(f))
    except ValidationError as exc:
        raise ProjectError(f"{f}: invalid project file:\n{capped(validation_items(exc))}") \
            from None
    return Project(d.resolve(), cfg)


def use(root: str | Path | None) -> Project | None:
    """Make ``root`` the current project for this process (``--project``); None clears it."""
    global _active
    if root is None:
        _active = None
        return None
    proj = load(root)
    _active = proj.root
    return proj


def discover(start: str | Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` (default: the working folder) holding a
    ``crm-report.yaml``; None when there is none."""
    here = Path(start or os.getcwd()).resolve()
    for d in (here, *here.parents):
        if (d / PROJECT_FILE).is_file():
            return d
    return None


def current(start: str | Path | None = None) -> Project | None:
    """The project commands use: ``--project``, else ``$CRM_REPORT_PROJECT`` (both must
    exist), else the nearest ``crm-report.yaml`` at or above the working folder."""
    if _active is not None:
        return load(_active)
    env = os.environ.get(PROJECT_ENV)
    if env:
        try:
            return load(env)
        except ProjectError as exc:
            raise ProjectError(f"${PROJECT_ENV}: {exc}") from None
    found = discover(start)
    return load(found) if found else None


def where(start: str | Path | None = None) -> str:
    """One line for the CLI: which project is used, or that the built-in defaults are."""
    proj = current(start)
    if proj is None:
        return (f"no {PROJECT_FILE} in this folder or above: using built-in defaults "
                f"(store data/crm.duckdb here, shipped params); `crm-report init DIR` "
                "creates a project")
    return f"project {proj.root}"


# -- defaults every command shares ---------------------------------------------------------

def default_store() -> Path:
    """``$CRM_REPORT_STORE``, else the project's store, else ``data/crm.duckdb`` here."""
    env = os.environ.get("CRM_REPORT_STORE")
    if env:
        return Path(env)
    proj = current()
    return proj.store if proj else Path("data/crm.duckdb")


def default_reports() -> Path:
    proj = current()
    return proj.reports if proj else Path("reports")


def default_params() -> Path | None:
    """The project's params folder, or None (the built-in one)."""
    proj = current()
    return proj.params if proj else None


def default_language() -> str:
    proj = current()
    return proj.config.language if proj else "en"


def identity_overrides(report_yaml: Path, raw: dict) -> dict:
    """``raw`` (report.yaml's settings) with the project's company, currency and time zone.
    A report.yaml that sets one of them to a different value is an error naming both."""
    proj = current()
    if proj is None:
        return raw
    out = dict(raw)
    for key in ("company", "currency", "timezone"):
        value = getattr(proj.config, key)
        if value is None:
            continue
        if key in raw and raw[key] != value:
            raise ProjectError(
                f"{key} is {value!r} in {proj.file} but {raw[key]!r} in {report_yaml}; "
                f"set it in one place (crm-report.yaml is the project's)")
        out[key] = value
    return out


def notebook_path(name: str | None) -> Path:
    """``<name>.ipynb`` from the project's notebooks folder, else the shipped one. ``name``
    may also be a path to a notebook file."""
    from .resources import notebooks_dir, shipped_notebooks

    name = name or "monthly_sales_report"
    if name.endswith(".ipynb") or "/" in name or os.sep in name:
        p = Path(name)
        if not p.is_file():
            raise ParamsError(f"notebook {name!r} does not exist")
        return p.resolve()
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}", name) or ".." in name:
        raise ParamsError(f"notebook name {name!r}: use letters, digits, '_', '-' and '.'")
    proj = current()
    if proj and proj.notebooks and (proj.notebooks / f"{name}.ipynb").is_file():
        return proj.notebooks / f"{name}.ipynb"
    shipped = notebooks_dir() / f"{name}.ipynb"
    if shipped.is_file():
        return shipped
    local = sorted(p.stem for p in proj.notebooks.glob("*.ipynb")) if proj and proj.notebooks \
        else []
    raise ParamsError(f"no notebook {name!r}; shipped: {', '.join(shipped_notebooks())}"
                      + (f"; in the project: {', '.join(local)}" if local else ""))


# -- init ----------------------------------------------------------------------------------

_GITIGNORE = """\
# crm-report: the store and the reports are generated; params and notebooks are yours to edit
data/
reports/
.ipynb_checkpoints/
.crm-report-secrets*
secrets.yaml
"""


def _report_yaml_for_project(text: str) -> str:
    """The shipped report.yaml without the keys crm-report.yaml now owns."""
    out = []
    for line in text.splitlines():
        if re.match(r"^(company|currency|timezone):", line):
            continue
        out.append(line)
    out.insert(1, "# company, currency and timezone are set in ../crm-report.yaml")
    return "\n".join(out) + "\n"


def init_project(root: str | Path, company: str = "Acme Analytics", currency: str = "USD",
                 timezone: str = "UTC", language: str = "en") -> list[Path]:
    """Create a project in ``root`` (created if missing): ``crm-report.yaml``, ``params/``
    (the shipped report, baselines, schedule and source mappings), ``notebooks/`` (the
    shipped notebooks) and a ``.gitignore``. Never overwrites: existing files are an error
    listing them. Returns the files written."""
    import yaml

    from .resources import notebooks_dir, params_dir

    d = Path(root).expanduser()
    if d.exists() and not d.is_dir():
        raise ProjectError(f"{d} exists and is not a folder")
    try:
        cfg = ProjectConfig(company=company, currency=currency, timezone=timezone,
                            language=language, store="data/crm.duckdb", reports="reports",
                            params="params", notebooks="notebooks")
    except ValidationError as exc:
        from .params import validation_items

        raise ProjectError(f"crm-report init: {capped(validation_items(exc))}") from None
    shipped_params = params_dir()
    plan: dict[Path, bytes] = {}
    for f in sorted(shipped_params.rglob("*.yaml")):
        data = f.read_bytes()
        if f.name == "report.yaml" and f.parent == shipped_params:
            data = _report_yaml_for_project(data.decode("utf-8")).encode("utf-8")
        plan[d / "params" / f.relative_to(shipped_params)] = data
    for f in sorted(notebooks_dir().glob("*.ipynb")):
        plan[d / "notebooks" / f.name] = f.read_bytes()
    header = ("# crm-report project: every command run in this folder (or below) uses it.\n"
              "# Paths are relative to this folder. Reference: docs/architecture.md.\n")
    plan[d / PROJECT_FILE] = (header + yaml.safe_dump(
        cfg.model_dump(), sort_keys=False, allow_unicode=True)).encode("utf-8")
    plan[d / ".gitignore"] = _GITIGNORE.encode()
    existing = [p for p in plan if p.exists() or p.is_symlink()]
    if existing:
        raise ProjectError(f"{d} already holds {', '.join(str(p.relative_to(d)) for p in existing[:5])}"
                           + (f" and {len(existing) - 5} more" if len(existing) > 5 else "")
                           + "; crm-report init never overwrites (choose another folder)")
    for p, data in plan.items():
        p.parent.mkdir(parents=True, exist_ok=True)
        with open(p, "xb") as fh:  # x: never follow or replace something created meanwhile
            fh.write(data)
    return list(plan)


def copy_notebook(name: str, project: Project | None = None, force: bool = False) -> Path:
    """Copy the shipped notebook ``name`` into the project's notebooks folder for editing;
    the project's copy is then the one ``crm-report run --notebook NAME`` uses."""
    from .resources import notebooks_dir, shipped_notebooks

    proj = project or current()
    if proj is None:
        raise ProjectError("not inside a project; `crm-report init DIR` creates one")
    src = notebooks_dir() / f"{name}.ipynb"
    if not re.fullmatch(r"[A-Za-z0-9_]+", name) or not src.is_file():
        raise ParamsError(f"no shipped notebook {name!r}; shipped: "
                          f"{', '.join(shipped_notebooks())}")
    if proj.config.notebooks is None:
        raise ProjectError(f"{proj.file} names no notebooks folder; add `notebooks: notebooks`")
    folder = proj.path(proj.config.notebooks)
    dest = folder / src.name
    if dest.is_symlink():
        raise ProjectError(f"{dest} is a symbolic link; remove it first")
    if dest.exists() and not force:
        raise ProjectError(f"{dest} exists; --force replaces it")
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    return dest
