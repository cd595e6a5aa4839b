"""E-mail delivery of finished report PDFs, one message per recipient list.

``build_message`` makes a plain-text body with the headline KPIs, an HTML alternative in
which every CRM-derived value is escaped, and the PDF as an ``application/pdf`` attachment.
``send_report`` sends it over SMTP with STARTTLS (or implicit TLS on port 465) and
certificate verification on; it never sends credentials over a plain connection.
Network and SMTP failures come back as ``DeliveryResult(ok=False, error=...)``; mistakes
in what the caller passed (bad addresses, header injection, a missing PDF, an unsafe
configuration) raise ``DeliveryError``.

``deliver_once`` applies the "never sent twice, failed sends retried" rule to a plain dict
manifest, and ``deliver_each`` applies it per recipient (a retry goes only to the
addresses the server refused or never saw); the caller saves the manifest.

SMTP credentials only ever come from the environment (``SmtpSettings.from_env``), never
from params files.
"""

from __future__ import annotations

import email.utils
import html
import os
import re
import smtplib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from .exceptions import ReportingError

ENV_HOST = "CRM_REPORT_SMTP_HOST"
ENV_PORT = "CRM_REPORT_SMTP_PORT"
ENV_USER = "CRM_REPORT_SMTP_USER"
ENV_PASSWORD = "CRM_REPORT_SMTP_PASSWORD"
ENV_FROM = "CRM_REPORT_SMTP_FROM"
ENV_STARTTLS = "CRM_REPORT_SMTP_STARTTLS"

IMPLICIT_TLS_PORT = 465

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
# A deliberately simple addr-spec: local@domain, no whitespace, quotes, brackets or list
# separators. Anything fancier is rejected rather than guessed at.
_ADDR_SPEC = re.compile(r"[^@\s<>()\[\],;:\"\\]+@[^@\s<>()\[\],;:\"\\]+")
_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class DeliveryError(ReportingError):
    """E-mail delivery was asked for with invalid settings, addresses or content."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send. ``password`` is kept out of ``repr``."""

    host: str
    port: int = 587
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "reports@localhost"
    starttls: bool = True
    timeout: float = 30.0
    # None -> ssl.create_default_context() (system trust store, hostname checking on).
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> SmtpSettings:
        """Read the ``CRM_REPORT_SMTP_*`` variables; only ``CRM_REPORT_SMTP_HOST`` is required."""
        host = environ.get(ENV_HOST, "").strip()
        if not host:
            raise DeliveryError(
                f"{ENV_HOST} is not set: e-mail delivery needs the SMTP server's host name.\n"
                f"Set {ENV_HOST} (and optionally {ENV_PORT}, {ENV_USER}, {ENV_PASSWORD}, "
                f"{ENV_FROM}, {ENV_STARTTLS}) in the environment."
            )
        port_text = environ.get(ENV_PORT, "").strip()
        port = 587
        if port_text:
            try:
                port = int(port_text)
            except ValueError:
                port = -1
            if not 0 < port < 65536:
                raise DeliveryError(
                    f"{ENV_PORT} must be a port number between 1 and 65535, got {port_text!r}."
                )
        starttls_text = environ.get(ENV_STARTTLS, "1").strip().lower()
        if starttls_text in _TRUE:
            starttls = True
        elif starttls_text in _FALSE:
            starttls = False
        else:
            raise DeliveryError(
                f"{ENV_STARTTLS} must be one of 1/0, true/false, yes/no, on/off, "
                f"got {environ.get(ENV_STARTTLS)!r}."
            )
        username = environ.get(ENV_USER) or None
        password = environ.get(ENV_PASSWORD) or None
        if username and password is None:
            raise DeliveryError(
                f"{ENV_USER} is set but {ENV_PASSWORD} is not: set both, or neither to send "
                "without logging in."
            )
        sender = environ.get(ENV_FROM, "").strip() or "reports@localhost"
        return cls(
            host=host,
            port=port,
            username=username,
            password=password,
            sender=sender,
            starttls=starttls,
        )


@dataclass
class DeliveryResult:
    """What one send attempt did. ``sent_at`` is the attempt's time, ISO 8601 in UTC."""

    ok: bool
    recipients: list[str]  # the addresses the server accepted
    message_id: str
    error: str | None
    sent_at: str
    refused: dict[str, str] = field(default_factory=dict)  # address -> the server's reply


# --- addresses and headers -------------------------------------------------------------


def _reject_line_breaks(what: str, value: str) -> None:
    if _LINE_BREAKS.search(value) or "\x00" in value:
        raise DeliveryError(
            f"{what} contains a line break or NUL character, which could inject mail "
            f"headers; refusing to send. Given: {value!r}"
        )


def _addr_spec(what: str, value: str) -> str:
    """The bare ``local@domain`` of ``value`` ("a@b" or "Name <a@b>"), or DeliveryError."""
    if not isinstance(value, str):
        raise DeliveryError(f"{what} must be a string, got {type(value).__name__}: {value!r}")
    _reject_line_breaks(what, value)
    pairs = email.utils.getaddresses([value])
    _name, spec = email.utils.parseaddr(value)
    if len(pairs) != 1 or not spec or not _ADDR_SPEC.fullmatch(spec) or spec not in value:
        raise DeliveryError(
            f"{what} is not a single e-mail address: {value!r}. "
            "Give one address per list entry, like 'sales@example.com' or "
            "'Sales Team <sales@example.com>'."
        )
    return spec


def _validate_recipients(recipients: list[str]) -> list[str]:
    if isinstance(recipients, str) or not recipients:
        raise DeliveryError(
            f"no recipients: give a non-empty list of e-mail addresses (got {recipients!r})."
        )
    return [_addr_spec(f"recipient #{i + 1}", r) for i, r in enumerate(recipients)]


def _one_line(text: Any) -> str:
    """Headline text as a single line: line breaks and control characters become spaces."""
    return _CONTROL.sub(" ", _LINE_BREAKS.sub(" ", str(text))).strip()


# --- the message -----------------------------------------------------------------------


def build_message(
    sender: str,
    recipients: list[str],
    subject: str,
    headline: dict[str, str],
    pdf_path: Path,
    body_intro: str = "",
) -> EmailMessage:
    """A multipart message: text + escaped HTML alternative, with the PDF attached."""
    sender_spec = _addr_spec("sender", sender)
    _validate_recipients(recipients)
    if not isinstance(subject, str):
        raise DeliveryError(f"subject must be a string, got {type(subject).__name__}")
    _reject_line_breaks("subject", subject)

    pdf_path = Path(pdf_path)
    try:
        pdf = pdf_path.read_bytes()
    except OSError as exc:
        raise DeliveryError(
            f"cannot read the report PDF {pdf_path}: {exc.strerror or exc}. "
            "Render the report before delivering it."
        ) from exc

    rows = [(_one_line(k), _one_line(v)) for k, v in (headline or {}).items()]
    intro = str(body_intro or "").strip()

    text_lines = [intro, ""] if intro else []
    text_lines += [f"{label}: {value}" for label, value in rows]
    text_lines += ["", f"The full report is attached ({pdf_path.name})."]
    text = "\n".join(text_lines) + "\n"

    e = html.escape
    intro_html = (
        "".join(f"<p>{e(p.strip())}</p>" for p in intro.split("\n\n") if p.strip()) if intro else ""
    )
    rows_html = "".join(
        f'<tr><th scope="row" style="text-align:left;padding:2px 12px 2px 0">{e(label)}</th>'
        f"<td>{e(value)}</td></tr>"
        for label, value in rows
    )
    body_html = (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>{e(subject)}</title></head><body>"
        f"{intro_html}<table>{rows_html}</table>"
        f"<p>The full report is attached ({e(pdf_path.name)}).</p>"
        "</body></html>\n"
    )

    domain = sender_spec.rsplit("@", 1)[1]
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = email.utils.format_datetime(datetime.now(UTC))
    # An explicit domain: make_msgid() would otherwise look up this host's FQDN.
    msg["Message-ID"] = email.utils.make_msgid(domain=domain)
    msg.set_content(text)
    msg.add_alternative(body_html, subtype="html")
    filename = _CONTROL.sub("_", pdf_path.name) or "report.pdf"
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
    return msg


# --- sending ---------------------------------------------------------------------------


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _describe(stage: str, settings: SmtpSettings, exc: BaseException) -> str:
    where = f"{settings.host}:{settings.port}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        detail = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return (
            f"the SMTP server {where} rejected the login for user {settings.username!r} "
            f"({exc.smtp_code} {detail}). Check {ENV_USER} / {ENV_PASSWORD}."
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError) and stage == "STARTTLS":
        return (
            f"the SMTP server {where} does not offer STARTTLS; refusing to send without "
            f"TLS. Use a server that supports it, port {IMPLICIT_TLS_PORT} (implicit TLS), "
            f"or set {ENV_STARTTLS}=0 for a trusted relay without login."
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = ", ".join(
            f"{addr} ({code} {msg.decode('utf-8', 'replace') if isinstance(msg, bytes) else msg})"
            for addr, (code, msg) in exc.recipients.items()
        )
        return f"the SMTP server {where} refused every recipient: {refused}"
    if isinstance(exc, smtplib.SMTPResponseException):
        detail = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return f"{stage} failed on the SMTP server {where}: {exc.smtp_code} {detail}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"TLS certificate verification failed for the SMTP server {where}: "
            f"{exc.verify_message or exc}"
        )
    if isinstance(exc, ssl.SSLError):
        return f"TLS error during {stage} with the SMTP server {where}: {exc}"
    if isinstance(exc, TimeoutError):
        return f"timed out after {settings.timeout:g} s during {stage} with the SMTP server {where}"
    if isinstance(exc, ConnectionRefusedError):
        return f"could not connect to the SMTP server {where}: connection refused"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"the SMTP server {where} closed the connection during {stage}: {exc}"
    if isinstance(exc, smtplib.SMTPException):  # a subclass of OSError: test it first
        return f"{stage} failed with the SMTP server {where}: {exc}"
    if isinstance(exc, OSError):
        return f"network error during {stage} with the SMTP server {where}: {exc}"
    return f"{stage} failed with the SMTP server {where}: {exc}"


def _replies(refused: Mapping[str, tuple[int, bytes | str]]) -> dict[str, str]:
    return {addr: f"{code} {m.decode('utf-8', 'replace') if isinstance(m, bytes) else m}"
            for addr, (code, m) in refused.items()}


def send_report(
    settings: SmtpSettings,
    recipients: list[str],
    subject: str,
    headline: dict[str, str],
    pdf_path: Path,
) -> DeliveryResult:
    """Send one message with the report to ``recipients``.

    Raises ``DeliveryError`` for invalid input or an unsafe configuration (credentials
    without TLS). Every network, TLS or SMTP failure is returned as ``ok=False``.
    """
    specs = _validate_recipients(recipients)
    implicit_tls = settings.port == IMPLICIT_TLS_PORT
    if settings.username and not settings.starttls and not implicit_tls:
        raise DeliveryError(
            f"refusing to send SMTP credentials without TLS: {ENV_USER} is set but "
            f"{ENV_STARTTLS} is off and the port is {settings.port}, not "
            f"{IMPLICIT_TLS_PORT}. Turn STARTTLS on or use implicit TLS on port "
            f"{IMPLICIT_TLS_PORT}."
        )
    msg = build_message(settings.sender, recipients, subject, headline, pdf_path)
    message_id = str(msg["Message-ID"])
    sender_spec = _addr_spec("sender", settings.sender)
    context = settings.ssl_context or ssl.create_default_context()

    def failed(error: str, accepted: list[str] | None = None,
               refused: dict[str, str] | None = None) -> DeliveryResult:
        return DeliveryResult(False, accepted or [], message_id, error, _now_iso(),
                              refused or {})

    smtp: smtplib.SMTP | None = None
    stage = "connect"
    try:
        if implicit_tls:
            smtp = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        stage = "EHLO"
        smtp.ehlo()
        if settings.starttls and not implicit_tls:
            stage = "STARTTLS"
            smtp.starttls(context=context)
            stage = "EHLO"
            smtp.ehlo()
        if settings.username:
            stage = "login"
            smtp.login(settings.username, settings.password or "")
        stage = "sending"
        refused = smtp.send_message(msg, from_addr=sender_spec, to_addrs=specs)
    except smtplib.SMTPRecipientsRefused as exc:
        return failed(_describe(stage, settings, exc), refused=_replies(exc.recipients))
    except OSError as exc:  # smtplib.SMTPException and ssl.SSLError are OSErrors too
        return failed(_describe(stage, settings, exc))
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except OSError:
                smtp.close()

    if refused:
        accepted = [s for s in specs if s not in refused]
        detail = ", ".join(
            f"{addr} ({code} {m.decode('utf-8', 'replace') if isinstance(m, bytes) else m})"
            for addr, (code, m) in refused.items()
        )
        return failed(
            f"partially delivered: the SMTP server refused {detail}; "
            f"accepted {', '.join(accepted)}",
            accepted,
            _replies(refused),
        )
    return DeliveryResult(True, specs, message_id, None, _now_iso())


# --- never twice, retry failures -------------------------------------------------------


def deliver_once(manifest: dict, key: str, send: Callable[[], DeliveryResult]) -> dict:
    """Send at most once per ``key``; retry while earlier attempts failed.

    ``manifest["deliveries"][key]`` holds ``{"ok", "recipients", "message_id", "error",
    "sent_at", "attempts"}``. If ``ok`` is already true, ``send`` is not called and the
    existing record is returned. Otherwise ``send()`` runs and its outcome is recorded
    (``attempts`` counts every try). If ``send`` raises, the failed attempt is recorded
    before the exception propagates. No file I/O: the caller saves the manifest.
    """
    deliveries = manifest.setdefault("deliveries", {})
    if not isinstance(deliveries, dict):
        raise DeliveryError(
            f"manifest['deliveries'] must be a mapping, got {type(deliveries).__name__}"
        )
    previous = deliveries.get(key)
    if isinstance(previous, dict) and previous.get("ok") is True:
        return previous
    attempts = 1
    if isinstance(previous, dict):
        try:
            attempts = int(previous.get("attempts", 0)) + 1
        except (TypeError, ValueError):
            attempts = 1
    try:
        result = send()
    except Exception as exc:
        deliveries[key] = {
            "ok": False,
            "recipients": [],
            "message_id": "",
            "error": f"{type(exc).__name__}: {exc}",
            "sent_at": _now_iso(),
            "attempts": attempts,
        }
        raise
    record = {
        "ok": bool(result.ok),
        "recipients": list(result.recipients),
        "message_id": result.message_id,
        "error": result.error,
        "sent_at": result.sent_at,
        "attempts": attempts,
    }
    deliveries[key] = record
    return record


# --- each recipient once ------------------------------------------------------------------


def delivered_to(manifest: dict) -> set[str]:
    """The addresses that already received this report, from every delivery record in
    ``manifest["deliveries"]`` (a record's ``recipients`` are the addresses the server
    accepted, also when the send as a whole failed because another address was refused)."""
    out: set[str] = set()
    deliveries = manifest.get("deliveries")
    for rec in deliveries.values() if isinstance(deliveries, dict) else ():
        if isinstance(rec, dict):
            out.update(a for a in rec.get("recipients") or [] if isinstance(a, str))
    return out


def pending_recipients(manifest: dict, recipients: list[str]) -> list[str]:
    """The entries of ``recipients`` whose address has not received this report yet."""
    done = delivered_to(manifest)
    return [r for r in _unique(recipients) if _addr_spec("recipient", r) not in done]


def _unique(recipients: list[str]) -> list[str]:
    seen, out = set(), []
    for r in recipients:
        spec = _addr_spec("recipient", r)
        if spec not in seen:
            seen.add(spec)
            out.append(r)
    return out


def deliver_each(
    manifest: dict, recipients: list[str], send: Callable[[list[str]], DeliveryResult]
) -> dict:
    """Deliver to each recipient at most once; retry only those not reached yet.

    ``send(pending)`` gets the entries of ``recipients`` that have not received the
    report (nothing is sent when there are none) and its outcome is recorded per address
    in ``manifest["deliveries"][<address>]``, in the shape :func:`deliver_once` uses:
    accepted addresses get ``ok: true`` and are never sent to again; refused ones keep
    ``ok: false`` with the server's reply and count their ``attempts``. If ``send``
    raises, every pending address records the failed attempt before the exception
    propagates. Returns a summary of this attempt (``ok``, ``recipients``, ``accepted``,
    ``refused``, ``message_id``, ``error``, ``sent_at``, ``attempts``); ``recipients`` is
    empty when nobody was pending. No file I/O: the caller saves the manifest.
    """
    deliveries = manifest.setdefault("deliveries", {})
    if not isinstance(deliveries, dict):
        raise DeliveryError(
            f"manifest['deliveries'] must be a mapping, got {type(deliveries).__name__}"
        )
    pending = pending_recipients(manifest, recipients)
    specs = [_addr_spec("recipient", r) for r in pending]
    if not pending:
        return {"ok": True, "recipients": [], "accepted": [], "refused": {},
                "message_id": "", "error": None, "sent_at": "", "attempts": 0}

    def attempts_of(spec: str) -> int:
        try:
            return int((deliveries.get(spec) or {}).get("attempts", 0)) + 1
        except (TypeError, ValueError, AttributeError):
            return 1

    tries = {spec: attempts_of(spec) for spec in specs}
    try:
        result = send(pending)
    except Exception as exc:
        for spec in specs:
            deliveries[spec] = {"ok": False, "recipients": [], "message_id": "",
                                "error": f"{type(exc).__name__}: {exc}",
                                "sent_at": _now_iso(), "attempts": tries[spec]}
        raise
    accepted = set(specs if result.ok else result.recipients)
    for spec in specs:
        ok = spec in accepted
        deliveries[spec] = {
            "ok": ok,
            "recipients": [spec] if ok else [],
            "message_id": result.message_id,
            "error": None if ok else (
                f"refused by the SMTP server: {result.refused[spec]}"
                if spec in result.refused else result.error),
            "sent_at": result.sent_at,
            "attempts": tries[spec],
        }
    return {
        "ok": all(s in accepted for s in specs),
        "recipients": specs,
        "accepted": [s for s in specs if s in accepted],
        "refused": {s: result.refused.get(s, result.error or "not accepted")
                    for s in specs if s not in accepted},
        "message_id": result.message_id,
        "error": None if all(s in accepted for s in specs) else result.error,
        "sent_at": result.sent_at,
        "attempts": max(tries.values()),
    }
