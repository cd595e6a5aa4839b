"""Typed parameters: the files in ``params/`` and the parameters of one report.

Everything is validated by pydantic before a notebook runs, and every problem is
reported at once with the file it came from.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .exceptions import ParamsError, capped
from .resources import params_dir

PARAMS_DIR = params_dir()  # the built-in params, shipped in the package
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
            raise ValueError("logo must be a file name (in params/assets/ or the shipped templates/assets/)")
        return v


class Trailing(_Strict):
    """Thresholds derived from the company's own trailing 12 months: good = ratio_good x
    the trailing value, bad = ratio_bad x the trailing value."""

    good: float = Field(1.1, gt=0)
    bad: float = Field(0.9, gt=0)


class Threshold(_Strict):
    """A good / bad pair for one figure; between them is 'watch'."""

    good: float | None = None
    bad: float | None = None
    higher_is_better: bool = True
    trailing: Trailing | None = None

    @model_validator(mode="after")
    def _complete(self) -> Threshold:
        if self.trailing is None and (self.good is None or self.bad is None):
            raise ValueError("give good and bad, or trailing: {good: 1.1, bad: 0.9}")
        if self.good is not None and self.bad is not None:
            ok = self.good >= self.bad if self.higher_is_better else self.good <= self.bad
            if not ok:
                raise ValueError(f"good {self.good} is worse than bad {self.bad}")
        return self

    def resolve(self, trailing_value: float | None) -> Threshold | None:
        """Fixed thresholds; for a trailing baseline, the ratios applied to the company's
        trailing-12-month value (None when that value is unknown)."""
        if self.trailing is None:
            return self
        # no trailing value, or a degenerate one (0 days, a 0% win rate): ratios of it would
        # rate every figure bad (or good), so the figure is not rated
        if trailing_value is None or not trailing_value > 0 or trailing_value == float("inf"):
            return None
        t = self.trailing
        if not self.higher_is_better:  # lower is better: good below, bad above the value
            return Threshold(good=trailing_value / t.good, bad=trailing_value / t.bad,
                             higher_is_better=False)
        return Threshold(good=trailing_value * t.good, bad=trailing_value * t.bad)

    def rate(self, value: float | None) -> str | None:
        """'good', 'watch' or 'bad' for ``value`` (None when there is no value)."""
        if value is None or self.good is None or self.bad is None:
            return None
        if self.higher_is_better:
            return "good" if value >= self.good else "bad" if value < self.bad else "watch"
        return "good" if value <= self.good else "bad" if value > self.bad else "watch"


_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
Days = Annotated[int, Field(ge=1, le=3650)]


class CLVSettings(_Strict):
    """How predicted customer lifetime value is stated: revenue expected over the next
    ``horizon_months`` months, discounted at ``discount_rate`` a year."""

    discount_rate: float = Field(
        0.10, ge=0, lt=1, description="annual discount rate of predicted lifetime value")
    horizon_months: int = Field(
        12, ge=1, le=120, description="months of future revenue in predicted lifetime value")


class ReportSettings(_Strict):
    company: str = Field("Acme Analytics", min_length=1, max_length=200)
    title: str = Field("Monthly Sales Report", min_length=1, max_length=200)
    currency: str = "USD"
    timezone: str = Field(
        "UTC", description="reporting time zone: timestamps are converted to it at ingest, "
        "before periods are cut (date-only values stay calendar dates)"
    )
    stale_days: Days | dict[str, Days] = Field(
        45, description="days without activity after which an open deal is stale: one number, "
        "or a mapping stage -> days (Pipedrive's 'rotting') whose 'default' key applies to "
        "every other stage",
    )
    calendar: Literal["gregorian", "jalali"] = "gregorian"
    max_interval_width: float = Field(
        0.3, gt=0, le=1, description="wider 95% win-rate interval: too few deals to judge"
    )
    branding: Branding = Field(default_factory=Branding)
    profiles: dict[str, str] = Field(
        default_factory=lambda: {"*": "default"},
        description="team name pattern (glob) -> business profile, first match wins",
    )
    deal_mix_target: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="profile -> target share of each deal-size band"
    )
    clv: CLVSettings = Field(default_factory=CLVSettings)
    baselines: dict[str, dict[str, Threshold]] = Field(
        default_factory=dict, description="profile -> figure -> thresholds"
    )

    @field_validator("company", "title")
    @classmethod
    def _one_line(cls, v: str) -> str:
        if _CONTROL_CHARS.search(v):
            raise ValueError("must be one line of text: no line breaks or control characters "
                             "(it goes into page headers and e-mail subjects)")
        return v

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, v: str) -> str:
        from .sources import check_timezone

        return check_timezone(v)

    @field_validator("stale_days")
    @classmethod
    def _stale_default(cls, v):
        if isinstance(v, dict) and "default" not in v:
            raise ValueError("a stale_days mapping needs a 'default' key (days for every stage "
                             "not listed), e.g. {default: 45, Negotiation: 21}")
        return v

    @property
    def stale_default(self) -> int:
        """The global stale threshold (days): the number, or the mapping's ``default``."""
        return self.stale_days["default"] if isinstance(self.stale_days, dict) else self.stale_days

    @model_validator(mode="after")
    def _profiles_known(self) -> ReportSettings:
        if self.baselines:
            unknown = sorted(set(self.profiles.values()) - set(self.baselines))
            if unknown:
                raise ValueError(
                    f"profiles {unknown} have no baselines; baselines.yaml has "
                    f"{sorted(self.baselines)}"
                )
        for prof, mix in self.deal_mix_target.items():
            if abs(sum(mix.values()) - 1) > 1e-6:
                raise ValueError(f"deal_mix_target.{prof} shares add up to {sum(mix.values())}, not 1")
        return self

    def profile_of(self, team: str | None) -> str:
        """The business profile of a team: the first matching pattern in ``profiles``."""
        for pattern, prof in self.profiles.items():
            if team is not None and fnmatch.fnmatchcase(team, pattern):
                return prof
        return "default"

    def thresholds(self, profile: str) -> dict[str, Threshold]:
        return self.baselines.get(profile) or self.baselines.get("default", {})


def validation_items(exc: ValidationError) -> list[str]:
    """pydantic's errors as 'where: what (given ...)' lines, for one capped message."""
    return [f"{'.'.join(map(str, e['loc'])) or '(top)'}: {e['msg']} (given {e.get('input')!r})"
            for e in exc.errors()]


def read_yaml(path: Path) -> dict:
    """A YAML mapping loaded safely; {} for a missing or empty file; ParamsError naming the
    file otherwise."""
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


def params_folder(params_dir: str | Path | None = None) -> Path:
    """The params folder: ``params_dir`` when given (it must exist: a mistyped ``--params``
    never falls back to the built-in defaults), else the current project's
    (:mod:`reporting.project`), else the built-in one."""
    if params_dir is None or str(params_dir) == "":
        from .project import default_params

        return default_params() or PARAMS_DIR
    d = Path(params_dir)
    if not d.is_dir():
        what = "is not a folder" if d.exists() else "does not exist"
        raise ParamsError(f"--params {d} {what}; give the folder that holds report.yaml, "
                          f"baselines.yaml and schedule.yaml (the built-in one is {PARAMS_DIR})")
    return d


def load_settings(params_dir: str | Path | None = None) -> ReportSettings:
    """Read ``report.yaml`` and ``baselines.yaml`` (profile -> figure -> thresholds) from
    ``params_dir``, validating both together."""
    from .project import identity_overrides

    d = params_folder(params_dir)
    raw = identity_overrides(d / "report.yaml", read_yaml(d / "report.yaml"))
    baselines = read_yaml(d / "baselines.yaml")
    if baselines:
        raw = {**raw, "baselines": baselines}
    try:
        return ReportSettings.model_validate(raw)
    except ValidationError as exc:
        raise ParamsError(f"{d}: invalid settings:\n{capped(validation_items(exc))}") from None


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
    ``north-america``); never contains a path separator or ``..``. See
    :func:`reporting.paths.folder_names` for names whose slugs collide."""
    from .paths import slug as _slug

    return _slug(value)
