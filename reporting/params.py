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
from .i18n import N_
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


#: the ratings' words, shown translated (badges, tables, chart legends)
RATING_WORDS = (N_("good"), N_("watch"), N_("bad"))


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
        from .tzcheck import check_timezone

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


# --------------------------------------------------------------------------- quotas.yaml

_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
#: the largest quota accepted (as the ingest's largest amount)
MAX_QUOTA = 1e13


class QuotaEntry(_Strict):
    """One quota of ``params/quotas.yaml``: exactly one of ``rep``, ``team`` or ``region``,
    a ``period`` (a month ``2026-11`` or a quarter ``2026-Q4``), an ``amount`` >= 0 and
    optionally its own ``currency``."""

    rep: str | None = None
    team: str | None = None
    region: str | None = None
    period: str
    amount: float
    currency: str | None = None

    @field_validator("rep", "team", "region")
    @classmethod
    def _scope_text(cls, v: str | None) -> str | None:
        if v is None:
            return v
        v = str(v).strip()
        if not v or len(v) > 200 or _CONTROL_CHARS.search(v):
            raise ValueError("a rep, team or region name must be one line of 1 to 200 "
                             "characters")
        return v

    @field_validator("period", mode="before")
    @classmethod
    def _period(cls, v: object) -> str:
        from .periods import quota_period_label

        label = quota_period_label(v)
        if label is None:
            raise ValueError("period is not a month (2026-11) or a quarter (2026-Q4); a "
                             "yearly target is four quarterly ones")
        return label

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, v: object) -> float:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ValueError("amount must be a number: no currency signs or thousands "
                             "separators in YAML")
        if not (v == v) or abs(v) == float("inf") or v < 0 or v > MAX_QUOTA:
            raise ValueError("amount must be a finite number between 0 and 1e13")
        return float(v)

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str | None) -> str | None:
        if v is not None and not _CURRENCY.match(v.strip()):
            raise ValueError(f"currency {v!r} must be a three-letter ISO 4217 code such as USD")
        return v.strip().upper() if v is not None else v

    @model_validator(mode="after")
    def _one_scope(self) -> QuotaEntry:
        given = [k for k in ("rep", "team", "region") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of rep, team or region "
                             f"(given: {', '.join(given) or 'none'})")
        return self

    @property
    def scope_type(self) -> str:
        return next(k for k in ("rep", "team", "region") if getattr(self, k) is not None)

    @property
    def scope(self) -> str:
        return str(getattr(self, self.scope_type))


class QuotasFile(_Strict):
    """``params/quotas.yaml``: quotas per rep, team or region and month or quarter.

    ``currency`` is the currency of every amount without its own (default: the reporting
    currency); ``rates`` converts other currencies (1 unit = rate units of the reporting
    currency), as a source mapping's ``currency.rates`` does for deal amounts."""

    currency: str | None = None
    rates: dict[str, float] = Field(default_factory=dict)
    quotas: list[QuotaEntry] = Field(default_factory=list)
    #: the file it was read from and each entry's line (for messages)
    path: Path | None = None
    lines: list[int] = Field(default_factory=list)

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str | None) -> str | None:
        return QuotaEntry._currency(v)

    @field_validator("rates")
    @classmethod
    def _rates(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [f"{k}: {r!r}" for k, r in v.items()
               if not _CURRENCY.match(str(k)) or not (0 < r <= MAX_QUOTA)]
        if bad:
            raise ValueError("every rate must be a number > 0 keyed by a three-letter "
                             "currency code; fix " + ", ".join(bad))
        return {str(k).upper(): float(r) for k, r in v.items()}

    def where(self, i: int) -> str:
        """``quotas.yaml line 7 (quotas[2])``: where entry ``i`` is written."""
        line = f" line {self.lines[i]}" if i < len(self.lines) else ""
        return f"{self.path or 'quotas.yaml'}{line} (quotas[{i}])"

    def frame(self, reporting_currency: str):
        """The quotas as the canonical ``quotas`` table, amounts in ``reporting_currency``.

        Raises
        ------
        ParamsError
            For an entry in another currency without a rate in ``rates`` (naming its line),
            or the same scope and period given twice.
        """
        import pandas as pd

        from .schema import empty_frame

        rep_cur = reporting_currency.strip().upper()
        rows, seen, problems = [], {}, []
        for i, q in enumerate(self.quotas):
            cur = q.currency or self.currency or rep_cur
            rate = 1.0 if cur == rep_cur else self.rates.get(cur)
            if rate is None:
                problems.append(f"{self.where(i)}: {q.scope_type} {q.scope!r} {q.period} is "
                                f"in {cur} but the reporting currency is {rep_cur} and "
                                f"`rates:` has no {cur} rate; add `rates: {{{cur}: ...}}` "
                                f"(units of {rep_cur} per {cur}) or give the amount in "
                                f"{rep_cur}")
                continue
            key = (q.scope_type, q.scope, q.period)
            if key in seen:
                problems.append(f"{self.where(i)}: {q.scope_type} {q.scope!r} {q.period} is "
                                f"given twice (also at {self.where(seen[key])}); keep one")
                continue
            seen[key] = i
            rows.append({"scope_type": q.scope_type, "scope": q.scope, "period": q.period,
                         "amount": q.amount * rate, "currency": rep_cur})
        if problems:
            raise ParamsError(f"{self.path or 'quotas.yaml'}: invalid quotas:\n{capped(problems)}")
        if not rows:
            return empty_frame("quotas")
        return pd.DataFrame(rows, columns=empty_frame("quotas").columns)


def _sequence_lines(text: str, key: str) -> list[int]:
    """The line (1-based) of each item of the top-level sequence ``key`` in YAML ``text``
    ([] when there is none)."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return []
    if not isinstance(node, yaml.MappingNode):
        return []
    for k, v in node.value:
        if getattr(k, "value", None) == key and isinstance(v, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in v.value]
    return []


def load_quotas_file(params_dir: str | Path | None = None) -> QuotasFile:
    """Read and validate ``quotas.yaml`` in the params folder (an absent or empty file:
    no quotas). Every problem is reported at once, with its line.

    Raises
    ------
    ParamsError
        Naming the file, the line and entry of each problem, and the fix.
    """
    d = params_folder(params_dir)
    p = d / "quotas.yaml"
    raw = read_yaml(p)
    try:
        text = p.read_text(encoding="utf-8") if raw else ""
    except OSError:
        text = ""
    lines = _sequence_lines(text, "quotas")
    if not raw:
        return QuotasFile(path=p)
    try:
        qf = QuotasFile.model_validate(raw)
    except ValidationError as exc:
        items = []
        for e in exc.errors():
            loc = list(e["loc"])
            where = ".".join(map(str, loc)) or "(top)"
            if len(loc) >= 2 and loc[0] == "quotas" and isinstance(loc[1], int):
                line = f"line {lines[loc[1]]}, " if loc[1] < len(lines) else ""
                where = f"{line}quotas[{loc[1]}]" + ("." + ".".join(map(str, loc[2:]))
                                                     if loc[2:] else "")
            msg = str(e["msg"]).removeprefix("Value error, ")
            items.append(f"{where}: {msg} (given {e.get('input')!r})")
        raise ParamsError(f"{p}: invalid quotas:\n{capped(items)}") from None
    return qf.model_copy(update={"path": p, "lines": lines})
