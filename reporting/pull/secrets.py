"""Credentials of a pull: from the environment, else from a git-ignored secrets file.

Environment (wins over the file)::

    CRM_REPORT_SALESFORCE_TOKEN, CRM_REPORT_SALESFORCE_INSTANCE_URL
    CRM_REPORT_HUBSPOT_TOKEN
    CRM_REPORT_PIPEDRIVE_TOKEN  (CRM_REPORT_PIPEDRIVE_BASE_URL: https://<company>.pipedrive.com)

Secrets file (default ``secrets.yaml`` in the project folder, which ``crm-report init``
git-ignores; refused when it is a symbolic link or readable by group or others)::

    salesforce: {token: "...", instance_url: "https://MyDomain.my.salesforce.com"}
    hubspot: {token: "..."}
    pipedrive: {token: "...", base_url: "https://acme.pipedrive.com"}

A token is held in a :class:`Secret`, whose ``str`` and ``repr`` are ``***``: printing or
logging it by mistake shows nothing.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import yaml

from .http import CredentialsError

SECRETS_FILE = "secrets.yaml"


class Secret:
    """A string that does not show itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True)
class Credentials:
    token: Secret
    base_url: str | None  # instance URL / company domain from the environment or file
    hint: str  # where to fix them, for error messages


def env_names(crm: str) -> tuple[str, str]:
    """The environment variables of ``crm``: token, base URL."""
    up = crm.upper()
    url = "INSTANCE_URL" if crm == "salesforce" else "BASE_URL"
    return f"CRM_REPORT_{up}_TOKEN", f"CRM_REPORT_{up}_{url}"


def _url_key(crm: str) -> str:
    return "instance_url" if crm == "salesforce" else "base_url"


def default_secrets_path() -> Path | None:
    """``secrets.yaml`` in the current project's folder (None outside a project)."""
    from ..project import current

    proj = current()
    return proj.root / SECRETS_FILE if proj is not None else None


def read_secrets_file(path: Path) -> dict:
    """The parsed secrets file; refused when it is a symbolic link, not a regular file, or
    readable or writable by group or others (the message never holds its contents)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise CredentialsError(f"secrets file {path} does not exist") from None
    except OSError as exc:
        hint = " (it is a symbolic link: point --secrets at the file itself)" \
            if path.is_symlink() else ""
        raise CredentialsError(f"secrets file {path} cannot be opened ({exc.strerror}){hint}") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise CredentialsError(f"secrets file {path} is not a regular file")
        if st.st_mode & 0o077:
            raise CredentialsError(
                f"secrets file {path} is readable or writable by others (mode "
                f"{stat.S_IMODE(st.st_mode):o}); run `chmod 600 {path}`")
        data = fh.read()
    try:
        parsed = yaml.safe_load(data.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError):
        # yaml's message quotes the offending text: it could be a token
        raise CredentialsError(f"secrets file {path} is not valid UTF-8 YAML") from None
    if parsed is None:
        return {}
    if not isinstance(parsed, dict):
        raise CredentialsError(f"secrets file {path}: expected keys salesforce, hubspot, pipedrive")
    return parsed


def load_credentials(crm: str, secrets: str | Path | None = None,
                     environ: dict | None = None) -> Credentials:
    """The token (and base URL, when given) of ``crm``: the environment first, then the
    secrets file (``secrets``, default the project's ``secrets.yaml`` when it exists)."""
    env = os.environ if environ is None else environ
    tok_var, url_var = env_names(crm)
    path = Path(secrets).expanduser() if secrets else default_secrets_path()
    where = str(path) if path is not None else SECRETS_FILE
    hint = f"{tok_var} in the environment or `{crm}: {{token: ...}}` in {where}"
    token = env.get(tok_var) or None
    base = env.get(url_var) or None
    section: dict = {}
    if (token is None or base is None) and path is not None and (secrets or path.exists()
                                                                  or path.is_symlink()):
        data = read_secrets_file(path)
        section = data.get(crm) or {}
        if not isinstance(section, dict):
            raise CredentialsError(f"secrets file {path}: `{crm}:` must hold token: ...")
    token = token or section.get("token")
    base = base or section.get(_url_key(crm))
    if not token or not isinstance(token, str):
        raise CredentialsError(f"{crm}: no credentials; set {hint}")
    if base is not None and not isinstance(base, str):
        raise CredentialsError(f"{crm}: {url_var} / `{_url_key(crm)}` must be a URL")
    return Credentials(Secret(token.strip()), base, hint)
