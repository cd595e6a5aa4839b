"""``crm-report pull salesforce|hubspot|pipedrive``: deals, their history, users, accounts
and stage definitions straight from a CRM's API, loaded like an export.

The flow (see ``docs/pull.md``):

1. the cursors of the last successful pull are read from the store's ``pull_state``
   (``full=True`` ignores them);
2. every page is fetched into the pull's staging folder beside the store
   (``<store folder>/pulls/<crm>/<pull id>/``, see :mod:`.staging`) before the next is asked
   for, so a pull killed midway resumes from the pages it already has;
3. the API records are flattened into one Parquet file per canonical table (API field
   names, values as the API gives them, plus what only the puller can do: stage ids to
   names, history lists to change / snapshot rows);
4. the files are loaded by :func:`reporting.ingest.ingest_paths` through the shipped
   mapping ``<crm>_api`` (a project's ``params/sources/<crm>_api.yaml`` wins): the same
   mapping, validation and quarantine as files, in one transaction that also moves the
   cursors. A pull that fails before that commit leaves the store as it was.

Credentials come only from the environment or the secrets file (:mod:`.secrets`); they are
sent in a header and never printed, logged or written anywhere.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .http import Client, CredentialsError, PullError, RateLimitError

__all__ = ["CRMS", "CredentialsError", "PullError", "PullReport", "RateLimitError", "pull"]

CRMS = ("salesforce", "hubspot", "pipedrive")


@dataclass
class PullReport:
    """What one pull did: pages, records per API object, rows per table, the cursors."""

    crm: str
    pull_id: str
    as_of: str
    resumed: bool
    pages_fetched: int
    pages_reused: int
    requests: int
    records: dict[str, int]
    skipped: dict[str, dict[str, int]]
    cursors: dict[str, str]
    ingest: object | None = None  # reporting.ingest.IngestReport; None: nothing changed
    rows: dict[str, int] = field(default_factory=dict)  # rows flattened per table

    @property
    def read(self) -> int:
        return self.ingest.read if self.ingest is not None else 0

    @property
    def loaded(self) -> int:
        return self.ingest.loaded if self.ingest is not None else 0

    @property
    def quarantined(self) -> int:
        return self.ingest.quarantined if self.ingest is not None else 0


def summary_lines(rep: PullReport) -> list[str]:
    """The pull's summary below the table of rows (CLI and run-due)."""
    how = "resumed an interrupted pull" if rep.resumed else "new pull"
    lines = [f"{how} {rep.pull_id} (as of {rep.as_of} UTC): {rep.pages_fetched} pages fetched"
             f"{f', {rep.pages_reused} read back from the interrupted run' if rep.pages_reused else ''}"
             f", {rep.requests} requests"]
    lines.append("records: " + ", ".join(f"{k} {v:,}" for k, v in rep.records.items()))
    for obj, why in rep.skipped.items():
        lines.append(f"left out of {obj}: " + ", ".join(f"{w} ({n:,})" for w, n in why.items()))
    if rep.ingest is None:
        lines.append("nothing changed since the last pull: the store is as it was")
    cur = {k: v for k, v in rep.cursors.items() if not k.endswith(".sha256")}
    if cur:
        lines.append("cursor: " + ", ".join(f"{k} {v}" for k, v in cur.items()))
    return lines


def _puller(crm: str):
    if crm == "salesforce":
        from .salesforce import Salesforce

        return Salesforce()
    if crm == "hubspot":
        from .hubspot import HubSpot

        return HubSpot()
    if crm == "pipedrive":
        from .pipedrive import Pipedrive

        return Pipedrive()
    raise PullError(f"unknown CRM {crm!r}: use one of {', '.join(CRMS)}")


def check_base_url(crm: str, url: str | None, hint: str) -> str:
    """The base URL, which must be https (plain http only to this machine: a token sent in
    clear over a network could be read)."""
    if not url:
        raise CredentialsError(f"{crm}: no instance URL; set {hint}")
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host or parts.username or parts.password:
        raise PullError(f"{crm}: base URL {parts.scheme}://{host or '?'} is not an "
                        "https:// URL without user or password")
    if parts.scheme == "http":
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise PullError(f"{crm}: base URL http://{host} would send the token unencrypted; "
                            "use https:// (plain http is allowed only to this machine)")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def pull(crm: str, store: str | Path | None = None, *, base_url: str | None = None,
         secrets: str | Path | None = None, full: bool = False,
         source: str | Path | None = None, environ: dict | None = None,
         retries: int | None = None) -> PullReport:
    """Pull ``crm`` into the store (default: the project's); see the module docstring.

    ``base_url`` points the pull at another server (a sandbox, a test server);
    ``secrets`` is the secrets file (default ``secrets.yaml`` in the project folder);
    ``full`` ignores the cursors and asks for every record; ``source`` overrides the
    mapping (default ``<crm>_api``); ``environ`` replaces ``os.environ`` (tests).

    Raises
    ------
    CredentialsError
        Missing, unsafe or refused credentials (naming the variable or key to set).
    RateLimitError, PullError
        The API limit is used up, or the CRM kept failing; the store is unchanged and the
        next pull resumes from the pages already fetched.
    """
    from .. import store as _store
    from .secrets import load_credentials
    from .staging import Staging

    if crm not in CRMS:
        raise PullError(f"unknown CRM {crm!r}: use one of {', '.join(CRMS)}")
    puller = _puller(crm)
    store_path = Path(store) if store else _store.default_store_path()
    creds = load_credentials(crm, secrets, environ)
    url = check_base_url(crm, base_url or creds.base_url or puller.default_base_url, creds.hint)
    with Staging.lock(store_path, crm):
        return _pull(puller, crm, store_path, url, creds, full, source, retries)


def _pull(puller, crm, store_path, url, creds, full, source, retries) -> PullReport:
    from .. import store as _store
    from . import state
    from .staging import Staging

    cursors = {} if full else state.load(store_path, crm)
    st = Staging.open(store_path, crm, {"full": full, "cursors": cursors, "base_url": url})
    kw = {} if retries is None else {"retries": retries}
    client = Client(crm, url, puller.headers(creds.token.reveal()), creds.hint, **kw)
    fetched = puller.fetch(st, client, cursors)
    flat = puller.flatten(fetched)
    new_cursors = dict(cursors)
    for obj, cur in flat.cursors.items():
        old = cursors.get(obj)
        new_cursors[obj] = cur if not old or cur > old else old
    files = []
    rows = {}
    for table, df in flat.tables.items():
        rows[table] = len(df)
        if table in flat.whole:  # fetched whole: load only when it changed
            digest = hashlib.sha256(df.to_json(orient="split", index=False).encode()).hexdigest()
            key = f"{table}.sha256"
            if cursors.get(key) == digest:
                continue
            new_cursors[key] = digest
        if len(df):
            p = st.tables_dir / f"{table}.parquet"
            df.to_parquet(p, index=False)
            p.chmod(0o600)
            files.append(p)
    as_of = st.meta["started_at"]
    report = PullReport(crm, st.pull_id, as_of, st.resumed, st.fetched, st.reused,
                        client.requests_made, flat.records, flat.skipped, new_cursors, None, rows)
    if files:
        from ..ingest import ingest_paths

        mapping = source or f"{crm}_api"
        report.ingest = ingest_paths(
            files, mapping, store_path, as_of=as_of,
            on_commit=lambda con: state.save(con, crm, new_cursors, st.pull_id, as_of))
    elif new_cursors != cursors:  # only records left out (e.g. untracked history fields)
        with _store.connect(store_path) as con:
            con.execute("BEGIN")
            state.save(con, crm, new_cursors, st.pull_id, as_of)
            con.execute("COMMIT")
    st.finish()
    return report
