"""HTTP plumbing of the pullers: one ``requests`` session per pull with urllib3's ``Retry``.

Retried (bounded, then a clear error): HTTP 429 (waiting the server's ``Retry-After``,
capped at :data:`RETRY_AFTER_CAP` seconds, else exponential backoff), 500/502/503/504 and
connection errors (exponential backoff, at most :data:`BACKOFF_MAX` seconds a wait).
Not retried: 401 (bad or expired credentials: :class:`CredentialsError` naming the
environment variable or secrets key to fix), 403 (Salesforce ``REQUEST_LIMIT_EXCEEDED``:
:class:`RateLimitError`; otherwise :class:`PullError`) and other 4xx.

Secrets never reach an error message: errors name the CRM, the HTTP status, the request
path (never the query string, never a header) and, for Salesforce, the ``errorCode`` when it
is a plain upper-case code.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ..exceptions import ReportingError

#: longest wait honoured from a ``Retry-After`` header (seconds)
RETRY_AFTER_CAP = 60.0
#: longest exponential-backoff wait between two attempts (seconds)
BACKOFF_MAX = 30.0
#: attempts after the first one
RETRIES = 5
#: seconds to connect / to wait for a response
TIMEOUT = (10, 120)
RETRY_STATUSES = (429, 500, 502, 503, 504)

_sleep = time.sleep  # tests replace this to keep retries instant (and to record the waits)
_CODE = re.compile(r"^[A-Z][A-Z0-9_]{2,60}$")


class PullError(ReportingError):
    """A pull failed: the CRM answered with an error, or could not be reached."""


class CredentialsError(PullError):
    """Credentials are missing, unsafe to read, or refused by the CRM."""


class RateLimitError(PullError):
    """The CRM's API limit is used up (after the retries)."""


class CappedRetry(Retry):
    """urllib3's ``Retry`` with ``Retry-After`` capped at :data:`RETRY_AFTER_CAP` and the
    waits going through :data:`_sleep` (so tests can make them instant)."""

    def sleep(self, response=None) -> None:  # noqa: D401 - urllib3's hook
        if self.respect_retry_after_header and response is not None:
            after = self.get_retry_after(response)
            if after is not None:
                _sleep(max(0.0, min(float(after), RETRY_AFTER_CAP)))
                return
        backoff = self.get_backoff_time()
        if backoff > 0:
            _sleep(backoff)


def make_retry(retries: int = RETRIES, backoff_factor: float = 0.5) -> Retry:
    """The retry policy of every pull request (GET and the POST of HubSpot's search, which
    reads only)."""
    return CappedRetry(
        total=retries, connect=retries, read=retries, status=retries,
        status_forcelist=RETRY_STATUSES, allowed_methods=frozenset({"GET", "POST"}),
        backoff_factor=backoff_factor, backoff_max=BACKOFF_MAX,
        respect_retry_after_header=True, raise_on_status=False, raise_on_redirect=True,
    )


@dataclass
class Client:
    """A session against one CRM's base URL.

    ``credential_hint`` names where the credentials come from (environment variable and
    secrets key), for the message of a 401. ``headers`` hold the auth header: they are
    sent, never shown (``repr`` hides them)."""

    crm: str
    base_url: str
    headers: dict[str, str] = field(repr=False)
    credential_hint: str = ""
    retries: int = RETRIES
    backoff_factor: float = 0.5
    requests_made: int = 0

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/") + "/"
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy / netrc credentials from the environment
        adapter = HTTPAdapter(max_retries=make_retry(self.retries, self.backoff_factor))
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"Accept": "application/json",
                                     "User-Agent": "crm-report-pull"})
        self.session.headers.update(self.headers)

    def url(self, path: str) -> str:
        """``path`` relative to the base URL (an absolute URL must be on the same host:
        a paging link pointing elsewhere would carry the token there)."""
        url = urljoin(self.base_url, path.lstrip("/")) if "://" not in path else path
        a, b = urlsplit(url), urlsplit(self.base_url)
        if (a.scheme, a.netloc) != (b.scheme, b.netloc):
            raise PullError(f"{self.crm}: the server's next-page link points at another host "
                            f"({a.scheme}://{a.hostname}); refusing to send the credentials there")
        return url

    def request(self, method: str, path: str, params: dict | None = None,
                json: dict | None = None) -> dict | list:
        """One JSON request (retried per the policy); the decoded body, or a PullError."""
        url = self.url(path)
        where = urlsplit(url).path
        self.requests_made += 1
        try:
            r = self.session.request(method, url, params=params, json=json, timeout=TIMEOUT,
                                     allow_redirects=False)
        except requests.exceptions.RetryError:
            raise PullError(f"{self.crm}: {method} {where} kept failing after {self.retries} "
                            "retries; try again later") from None
        except requests.exceptions.RequestException as exc:  # the message may hold the URL
            raise PullError(f"{self.crm}: cannot reach {urlsplit(url).scheme}://"
                            f"{urlsplit(url).netloc} ({type(exc).__name__}); check the base "
                            "URL and the network") from None
        if r.status_code >= 400:
            raise self._error(r, method, where)
        try:
            return r.json()
        except ValueError:
            raise PullError(f"{self.crm}: {method} {where} answered HTTP {r.status_code} "
                            "with a body that is not JSON") from None

    def _error(self, r: requests.Response, method: str, where: str) -> PullError:
        code = _error_code(r)
        label = f"HTTP {r.status_code}" + (f" {code}" if code else "")
        if r.status_code == 401:
            return CredentialsError(
                f"{self.crm}: the credentials were refused ({label}: missing, expired or "
                f"revoked); renew them and set {self.credential_hint}")
        if r.status_code == 403 and code == "REQUEST_LIMIT_EXCEEDED":
            return RateLimitError(
                f"{self.crm}: the org's API request limit is used up ({label}); wait until it "
                "resets (a rolling 24 hours) or raise the allocation, then pull again")
        if r.status_code == 429:
            return RateLimitError(
                f"{self.crm}: still rate-limited (HTTP 429) after {self.retries} retries on "
                f"{method} {where}; the daily limit may be used up: pull again later")
        if r.status_code >= 500:
            return PullError(f"{self.crm}: the server kept failing ({label}) on {method} "
                             f"{where} after {self.retries} retries; try again later")
        if r.status_code == 403:
            return CredentialsError(
                f"{self.crm}: access refused ({label}) on {method} {where}: the credentials "
                f"lack a permission or scope; check {self.credential_hint}")
        return PullError(f"{self.crm}: {method} {where} was refused ({label}); check the "
                         "base URL and the API version")


def _error_code(r: requests.Response) -> str:
    """The CRM's error code (Salesforce ``errorCode``, HubSpot ``category``/``errorType``,
    Pipedrive ``errorCode``) when it is a plain upper-case code, else ``""``."""
    try:
        body = r.json()
    except ValueError:
        return ""
    if isinstance(body, list) and body and isinstance(body[0], dict):
        body = body[0]
    if not isinstance(body, dict):
        return ""
    for key in ("errorCode", "category", "errorType", "code"):
        v = body.get(key)
        if isinstance(v, str) and _CODE.match(v):
            return v
    return ""
