"""Typed parameters: the files in ``params/`` and the parameters of one report.

Everything is validated by pydantic before a notebook runs, and every problem is
reported at once with the file it came from.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .exceptions import ParamsError, capped

PARAMS_DIR = Path(__file__).resolve().parents[1] / "params"
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Branding(_Strict):
    primary: str = "#1f3a5f"
    accent: str = "#e07a1f"
    logo: str | None = None

    @field_validator("primary", "accent")
    @classmethod
    def _hex(cls, v: str) -> str:
        if not _HEX.match(v):
            raise ValueError(f"colour {v!r} must look like #1f3a5f")
        return v

    @field_validator("logo")
    @classmethod
    def _logo(cls, v: str | None) -> str | None:
        if v is not None and (("/" in v) or ("\\" in v) or v.startswith(".")):
            raise ValueError("logo must be a file name inside templates/assets/")
        return v


class Threshold(_Strict):
    good: float
    bad: float
    higher_is_better: bool = True

    def rate(self, value: float | None) -> str | None:
        """'good', 'watch' or 'bad' for ``value`` (None when there is no value)."""
        if value is None:
            return None
        if self.higher_is_better:
            return "good" if value >= self.good else "bad" if value < self.bad else "watch"
        return "good" if value <= self.good else "bad" if value > self.bad else "watch"


class ReportSettings(_Strict):
    company: str = "Acme Analytics"
    title: str = "Monthly Sales Report"
    currency: str = "USD"
    stale_days: int = Field(45, ge=1, le=3650)
    max_interval_width: float = Field(
        0.3, gt=0, le=1, description="wider 95% win-rate interval: too few deals to judge"
    )
    branding: Branding = Field(default_factory=Branding)
    baselines: dict[str, Threshold] = Field(default_factory=dict)


def _read_yaml(path: Path) -> dict:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML: {exc}") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: expected key: value pairs at the top level")
    return raw


def load_settings(params_dir: str | Path | None = None, profile: str = "default") -> ReportSettings:
    """Read ``report.yaml`` and the ``profile`` of ``baselines.yaml`` from ``params_dir``."""
    d = Path(params_dir) if params_dir else PARAMS_DIR
    raw = _read_yaml(d / "report.yaml")
    baselines = _read_yaml(d / "baselines.yaml")
    if baselines:
        if profile not in baselines:
            raise ParamsError(
                f"{d / 'baselines.yaml'}: no profile {profile!r}; profiles: {', '.join(baselines)}"
            )
        raw = {**raw, "baselines": baselines[profile]}
    try:
        return ReportSettings.model_validate(raw)
    except ValidationError as exc:
        items = [f"{'.'.join(map(str, e['loc']))}: {e['msg']} (given {e.get('input')!r})"
                 for e in exc.errors()]
        raise ParamsError(f"{d}: invalid settings:\n{capped(items)}") from None


_NAME = re.compile(r"^[\w][\w .&()+'-]{0,79}$", re.UNICODE)


def check_name(kind: str, value: str) -> str:
    """Validate a region or team name: letters, digits, spaces and ``. & ( ) + ' -``."""
    if not isinstance(value, str) or not _NAME.match(value) or ".." in value:
        raise ParamsError(
            f"{kind} {value!r} is not a valid name: use letters, digits, spaces and . & ( ) + ' -"
        )
    return value


def slug(value: str) -> str:
    """A file-system-safe folder name for a region or team (``North America`` ->
    ``north-america``); never contains a path separator or ``..``."""
    s = re.sub(r"[^\w]+", "-", value.strip().lower(), flags=re.UNICODE).strip("-_")
    return s or "unnamed"
