"""E-mail delivery against a real SMTP server (aiosmtpd) on 127.0.0.1 only.

The server requires STARTTLS with a self-signed certificate made for this test session,
and AUTH only over TLS; the client verifies the certificate through a context whose
cafile is that certificate.
"""

from __future__ import annotations

import email
import email.policy
import json
import shutil
import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")
aiosmtpd_smtp = pytest.importorskip("aiosmtpd.smtp")

from reporting.delivery import (  # noqa: E402
    DeliveryError,
    DeliveryResult,
    SmtpSettings,
    build_message,
    deliver_once,
    send_report,
)
from reporting.exceptions import ReportingError  # noqa: E402

LOOPBACK = "127.0.0.1"
USER = "reporter"
PASSWORD = "s3cret-pass"
HEADLINE = {"Revenue": "€1,234,567", "Win rate": "31.4 %", "New deals": "87"}


# --- certificate -----------------------------------------------------------------------


def _make_cert(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    openssl = shutil.which("openssl")
    if openssl:
        subprocess.run(
            [
                openssl,
                "req",
                "-x509",
                "-nodes",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-keyout",
                str(key),
                "-out",
                str(cert),
                "-days",
                "2",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,digitalSignature,keyCertSign",
                "-addext",
                "extendedKeyUsage=serverAuth",
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )
        return cert, key
    try:
        return _make_cert_cryptography(cert, key)
    except ImportError:
        pytest.skip("neither the openssl command nor the cryptography package is available")


def _make_cert_cryptography(cert: Path, key: Path) -> tuple[Path, Path]:
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    pk = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, LOOPBACK)])
    now = dt.datetime.now(dt.UTC)
    c = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(pk.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(pk, hashes.SHA256())
    )
    cert.write_bytes(c.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        pk.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, key


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory) -> tuple[Path, Path]:
    return _make_cert(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture(scope="session")
def client_context(tls_files) -> ssl.SSLContext:
    """Trusts only the test certificate; verification and hostname checks stay on."""
    ctx = ssl.create_default_context(cafile=str(tls_files[0]))
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    return ctx


def _server_context(tls_files) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(tls_files[0]), str(tls_files[1]))
    return ctx


# --- the server ------------------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    tls: bool
    authenticated: bool


def _over_tls(server, session) -> bool:
    """True on a STARTTLS-upgraded or an implicit-TLS connection."""
    transport = getattr(server, "transport", None)
    implicit = transport is not None and transport.get_extra_info("ssl_object") is not None
    return session.ssl is not None or implicit


class Recorder:
    """aiosmtpd handler that keeps every accepted message, and an authenticator."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.logins: list[tuple[str, str, bool, bool]] = []  # (mechanism, user, tls, ok)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(
                Received(
                    mail_from=envelope.mail_from,
                    rcpt_tos=list(envelope.rcpt_tos),
                    content=envelope.original_content or envelope.content,
                    tls=_over_tls(server, session),
                    authenticated=bool(session.authenticated),
                )
            )
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, aiosmtpd_smtp.LoginPassword)
            and auth_data.login == USER.encode()
            and auth_data.password == PASSWORD.encode()
        )
        login = getattr(auth_data, "login", b"").decode("utf-8", "replace")
        with self.lock:
            self.logins.append((mechanism, login, _over_tls(server, session), ok))
        return aiosmtpd_smtp.AuthResult(success=ok, handled=False)


class LoopbackController(aiosmtpd_controller.Controller):
    """Controller on an OS-chosen free port: learn the port before the start-up probe."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def _start(recorder: Recorder, **kwargs) -> LoopbackController:
    options = {"auth_require_tls": True, "ready_timeout": 5.0, **kwargs}
    ctl = LoopbackController(
        recorder,
        hostname=LOOPBACK,
        port=0,
        authenticator=recorder.authenticate,
        **options,
    )
    ctl.start()
    assert ctl.hostname == LOOPBACK and ctl.port > 0
    return ctl


@pytest.fixture
def smtp_server(tls_files):
    recorder = Recorder()
    ctl = _start(recorder, tls_context=_server_context(tls_files), require_starttls=True)
    try:
        yield ctl, recorder
    finally:
        ctl.stop()


@pytest.fixture
def settings(smtp_server, client_context) -> SmtpSettings:
    ctl, _ = smtp_server
    return SmtpSettings(
        host=LOOPBACK,
        port=ctl.port,
        username=USER,
        password=PASSWORD,
        sender="Reports <reports@example.test>",
        timeout=5.0,
        ssl_context=client_context,
    )


@pytest.fixture
def pdf(tmp_path) -> Path:
    path = tmp_path / "sales-2026-10.pdf"
    # Not a real PDF, but bytes that survive only an exact base64 round trip.
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n")
    return path


def _parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def _parts(msg) -> dict[str, object]:
    body_text = msg.get_body(preferencelist=("plain",)).get_content()
    body_html = msg.get_body(preferencelist=("html",)).get_content()
    attachments = list(msg.iter_attachments())
    return {"text": body_text, "html": body_html, "attachments": attachments}


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


# --- 1. delivery ------------------------------------------------------------------------


def test_report_is_delivered_over_tls_with_login(smtp_server, settings, pdf):
    _, recorder = smtp_server
    to = ["ceo@example.test", "Sales Team <sales@example.test>"]

    result = send_report(settings, to, "Sales report October 2026", HEADLINE, pdf)

    assert result.ok, result.error
    assert result.error is None
    assert result.recipients == ["ceo@example.test", "sales@example.test"]
    assert result.message_id.startswith("<") and result.message_id.endswith("@example.test>")
    assert result.sent_at.endswith("+00:00")

    assert len(recorder.messages) == 1
    got = recorder.messages[0]
    assert got.mail_from == "reports@example.test"
    assert sorted(got.rcpt_tos) == ["ceo@example.test", "sales@example.test"]
    assert got.tls and got.authenticated
    assert recorder.logins and all(tls and ok for _, user, tls, ok in recorder.logins)
    assert {user for _, user, _, _ in recorder.logins} == {USER}

    msg = _parse(got.content)
    assert msg["Subject"] == "Sales report October 2026"
    assert msg["Message-ID"] == result.message_id
    parts = _parts(msg)
    for label, value in HEADLINE.items():
        assert f"{label}: {value}" in parts["text"]
    [att] = parts["attachments"]
    assert att.get_content_type() == "application/pdf"
    assert att.get_filename() == pdf.name
    assert att.get_content() == pdf.read_bytes()

    # A second call is a second message: one per call.
    again = send_report(settings, ["ops@example.test"], "Second", HEADLINE, pdf)
    assert again.ok, again.error
    assert len(recorder.messages) == 2
    assert recorder.messages[1].rcpt_tos == ["ops@example.test"]
    assert again.message_id != result.message_id


def test_implicit_tls_port_uses_smtp_ssl(tls_files, client_context, pdf, monkeypatch):
    """starttls=False with a username is allowed only for implicit TLS (port 465).

    The server listens with TLS from the first byte; the module's implicit-TLS port is
    pointed at the test port so no privileged port is needed.
    """
    import reporting.delivery as delivery

    recorder = Recorder()
    # aiosmtpd's auth_require_tls only recognises STARTTLS; this listener is TLS from the
    # first byte, which the recorder checks on every login and message.
    ctl = _start(recorder, ssl_context=_server_context(tls_files), auth_require_tls=False)
    try:
        s = SmtpSettings(
            host=LOOPBACK,
            port=ctl.port,
            username=USER,
            password=PASSWORD,
            starttls=False,
            timeout=5.0,
            ssl_context=client_context,
        )
        with pytest.raises(DeliveryError, match="without TLS"):
            send_report(s, ["a@example.test"], "s", HEADLINE, pdf)
        assert recorder.messages == []

        monkeypatch.setattr(delivery, "IMPLICIT_TLS_PORT", ctl.port)
        result = send_report(s, ["a@example.test"], "Implicit", HEADLINE, pdf)
        assert result.ok, result.error
        [got] = recorder.messages
        assert got.tls and got.authenticated and got.rcpt_tos == ["a@example.test"]
        assert recorder.logins and all(tls and ok for _, _, tls, ok in recorder.logins)
    finally:
        ctl.stop()


# --- 2. hostile headline text -------------------------------------------------------------


def test_hostile_headline_values_are_escaped_in_html(smtp_server, settings, pdf):
    _, recorder = smtp_server
    hostile = {
        "Top account": "<script>alert(1)</script>",
        "Logo": '<img src="file:///etc/passwd">',
        "<b>label</b>": "Tom & Jerry's",
    }
    result = send_report(settings, ["ceo@example.test"], "Hostile", hostile, pdf)
    assert result.ok, result.error

    parts = _parts(_parse(recorder.messages[0].content))
    body_html = parts["html"]
    assert "<script" not in body_html and "<img" not in body_html and "<b>" not in body_html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body_html
    assert "&lt;img src=&quot;file:///etc/passwd&quot;&gt;" in body_html
    assert "&lt;b&gt;label&lt;/b&gt;" in body_html
    assert "Tom &amp; Jerry&#x27;s" in body_html
    # The plain-text part shows the text as it is.
    assert "Top account: <script>alert(1)</script>" in parts["text"]


def test_build_message_structure_and_line_breaks_in_values(pdf):
    msg = build_message(
        "reports@example.test",
        ["a@example.test"],
        "KPIs",
        {"Revenue": "100\nFake KPI: 999"},
        pdf,
        body_intro="Hello <team>",
    )
    assert msg.get_content_type() == "multipart/mixed"
    parts = _parts(msg)
    assert "Revenue: 100 Fake KPI: 999" in parts["text"]
    assert "\nFake KPI" not in parts["text"]
    assert parts["text"].startswith("Hello <team>\n")
    assert "<p>Hello &lt;team&gt;</p>" in parts["html"]


# --- 3. header injection and bad input ----------------------------------------------------


@pytest.mark.parametrize(
    "subject",
    ["Report\r\nBcc: victim@evil.test", "Report\nX-Injected: 1", "Report\rX: 1"],
)
def test_subject_header_injection_is_rejected(settings, pdf, smtp_server, subject):
    with pytest.raises(DeliveryError, match="line break"):
        build_message("reports@example.test", ["a@example.test"], subject, HEADLINE, pdf)
    with pytest.raises(DeliveryError, match="line break"):
        send_report(settings, ["a@example.test"], subject, HEADLINE, pdf)
    assert smtp_server[1].messages == []


@pytest.mark.parametrize(
    "recipient",
    [
        "a@example.test\r\nBcc: victim@evil.test",
        "a@example.test\nSubject: pwned",
        "Name\r\n <a@example.test>",
    ],
)
def test_recipient_header_injection_is_rejected(settings, pdf, smtp_server, recipient):
    with pytest.raises(DeliveryError, match="line break"):
        build_message("reports@example.test", [recipient], "s", HEADLINE, pdf)
    with pytest.raises(DeliveryError, match="line break"):
        send_report(settings, ["ok@example.test", recipient], "s", HEADLINE, pdf)
    assert smtp_server[1].messages == []


def test_sender_header_injection_is_rejected(pdf):
    with pytest.raises(DeliveryError, match="line break"):
        build_message("r@example.test\r\nBcc: x@evil.test", ["a@example.test"], "s", {}, pdf)


@pytest.mark.parametrize(
    "recipients",
    [
        [],
        "a@example.test",
        ["not-an-address"],
        ["a@example.test, b@example.test"],
        ["@x"],
        ["a b@example.test"],
    ],
)
def test_invalid_recipients_are_rejected(settings, pdf, recipients):
    with pytest.raises(DeliveryError) as info:
        send_report(settings, recipients, "s", HEADLINE, pdf)
    assert isinstance(info.value, ReportingError)
    msg = str(info.value)
    if isinstance(recipients, str) or not recipients:  # not a list, or an empty one
        assert msg.startswith("no recipients: give a non-empty list") and repr(recipients) in msg
    else:  # the message names the entry and repeats what was given
        assert msg.startswith("recipient #1 is not a single e-mail address: "
                              f"{recipients[0]!r}")


def test_missing_pdf_is_a_delivery_error(settings, tmp_path):
    with pytest.raises(DeliveryError, match="cannot read the report PDF"):
        send_report(settings, ["a@example.test"], "s", HEADLINE, tmp_path / "nope.pdf")


def test_credentials_without_tls_are_refused(pdf):
    s = SmtpSettings(
        host=LOOPBACK, port=_closed_port(), username=USER, password=PASSWORD, starttls=False
    )
    with pytest.raises(DeliveryError, match="without TLS"):
        send_report(s, ["a@example.test"], "s", HEADLINE, pdf)


# --- 4. failing sends ---------------------------------------------------------------------


def test_stopped_server_gives_failed_result(tls_files, client_context, pdf):
    recorder = Recorder()
    ctl = _start(recorder, tls_context=_server_context(tls_files), require_starttls=True)
    port = ctl.port
    ctl.stop()
    s = SmtpSettings(
        host=LOOPBACK,
        port=port,
        username=USER,
        password=PASSWORD,
        timeout=5.0,
        ssl_context=client_context,
    )

    result = send_report(s, ["a@example.test"], "s", HEADLINE, pdf)

    assert isinstance(result, DeliveryResult)
    assert result.ok is False
    assert result.recipients == []
    assert f"{LOOPBACK}:{port}" in result.error and "connection refused" in result.error
    assert PASSWORD not in result.error


def test_closed_port_gives_failed_result(client_context, pdf):
    port = _closed_port()
    s = SmtpSettings(host=LOOPBACK, port=port, timeout=5.0, ssl_context=client_context)
    result = send_report(s, ["a@example.test"], "s", HEADLINE, pdf)
    assert result.ok is False and "connection refused" in result.error


def test_wrong_password_gives_failed_result(smtp_server, settings, pdf):
    _, recorder = smtp_server
    bad = SmtpSettings(**{**settings.__dict__, "password": "wrong"})
    result = send_report(bad, ["a@example.test"], "s", HEADLINE, pdf)
    assert result.ok is False
    assert "rejected the login" in result.error and USER in result.error
    assert "535" in result.error
    assert "wrong" not in result.error
    assert recorder.messages == []
    assert recorder.logins and all(tls and not ok for _, _, tls, ok in recorder.logins)


def test_untrusted_certificate_gives_failed_result(smtp_server, settings, pdf):
    """Verification stays on: a client that does not trust the cert refuses to go on."""
    _, recorder = smtp_server
    strict = ssl.create_default_context()  # system store only: the test cert is unknown
    s = SmtpSettings(**{**settings.__dict__, "ssl_context": strict})
    result = send_report(s, ["a@example.test"], "s", HEADLINE, pdf)
    assert result.ok is False
    assert "certificate verification failed" in result.error
    assert recorder.messages == [] and recorder.logins == []


def test_server_without_starttls_is_not_used_for_plain_sending(client_context, pdf):
    recorder = Recorder()
    ctl = _start(recorder)  # no TLS at all
    try:
        s = SmtpSettings(host=LOOPBACK, port=ctl.port, timeout=5.0, ssl_context=client_context)
        result = send_report(s, ["a@example.test"], "s", HEADLINE, pdf)
        assert result.ok is False and "does not offer STARTTLS" in result.error
        assert recorder.messages == []
    finally:
        ctl.stop()


# --- 5. deliver_once ----------------------------------------------------------------------


def _fake_sender(outcomes: list[bool]):
    calls = {"n": 0}

    def send() -> DeliveryResult:
        ok = outcomes[calls["n"]]
        calls["n"] += 1
        return DeliveryResult(
            ok=ok,
            recipients=["a@example.test"] if ok else [],
            message_id=f"<m{calls['n']}@example.test>",
            error=None if ok else "could not connect to the SMTP server x:25: connection refused",
            sent_at="2026-11-01T08:00:00+00:00",
        )

    return send, calls


def test_deliver_once_sends_once():
    manifest: dict = {}
    send, calls = _fake_sender([True, True])
    first = deliver_once(manifest, "2026-10/sales", send)
    assert calls["n"] == 1
    assert first == {
        "ok": True,
        "recipients": ["a@example.test"],
        "message_id": "<m1@example.test>",
        "error": None,
        "sent_at": "2026-11-01T08:00:00+00:00",
        "attempts": 1,
    }
    assert manifest["deliveries"]["2026-10/sales"] is first

    second = deliver_once(manifest, "2026-10/sales", send)
    assert calls["n"] == 1
    assert second == first


def test_deliver_once_retries_failures_and_counts_attempts():
    manifest: dict = {"deliveries": {}}
    send, calls = _fake_sender([False, False, True, True])
    r1 = deliver_once(manifest, "k", send)
    assert (r1["ok"], r1["attempts"], calls["n"]) == (False, 1, 1)
    assert "connection refused" in r1["error"]
    r2 = deliver_once(manifest, "k", send)
    assert (r2["ok"], r2["attempts"], calls["n"]) == (False, 2, 2)
    r3 = deliver_once(manifest, "k", send)
    assert (r3["ok"], r3["attempts"], r3["error"], calls["n"]) == (True, 3, None, 3)
    r4 = deliver_once(manifest, "k", send)
    assert calls["n"] == 3 and r4["attempts"] == 3
    # Other keys are independent.
    deliver_once(manifest, "other", send)
    assert calls["n"] == 4 and manifest["deliveries"]["other"]["attempts"] == 1


def test_deliver_once_records_an_attempt_that_raised():
    manifest: dict = {}

    def boom() -> DeliveryResult:
        raise DeliveryError("no recipients")

    with pytest.raises(DeliveryError):
        deliver_once(manifest, "k", boom)
    rec = manifest["deliveries"]["k"]
    assert rec["ok"] is False and rec["attempts"] == 1 and "no recipients" in rec["error"]


def test_deliver_once_with_real_server(smtp_server, settings, pdf):
    _, recorder = smtp_server
    manifest: dict = {}

    def send():
        return send_report(settings, ["ceo@example.test"], "Oct", HEADLINE, pdf)

    rec = deliver_once(manifest, "oct", send)
    rec2 = deliver_once(manifest, "oct", send)
    assert rec["ok"] and rec2 is rec
    assert len(recorder.messages) == 1


# --- 6. settings from the environment -----------------------------------------------------


def test_from_env_reads_variables():
    env = {
        "CRM_REPORT_SMTP_HOST": "smtp.example.test",
        "CRM_REPORT_SMTP_PORT": "2525",
        "CRM_REPORT_SMTP_USER": "bot",
        "CRM_REPORT_SMTP_PASSWORD": "pw",
        "CRM_REPORT_SMTP_FROM": "Reports <reports@example.test>",
        "CRM_REPORT_SMTP_STARTTLS": "0",
    }
    s = SmtpSettings.from_env(env)
    assert (s.host, s.port, s.username, s.password, s.sender, s.starttls) == (
        "smtp.example.test",
        2525,
        "bot",
        "pw",
        "Reports <reports@example.test>",
        False,
    )
    assert "pw" not in repr(s)


def test_from_env_defaults():
    s = SmtpSettings.from_env({"CRM_REPORT_SMTP_HOST": "mail.example.test"})
    assert s == SmtpSettings(host="mail.example.test")
    assert (s.port, s.username, s.password, s.sender, s.starttls) == (
        587,
        None,
        None,
        "reports@localhost",
        True,
    )


@pytest.mark.parametrize(
    "env", [{}, {"CRM_REPORT_SMTP_HOST": "  "}, {"CRM_REPORT_SMTP_PORT": "25"}]
)
def test_from_env_missing_host(env):
    with pytest.raises(DeliveryError, match="CRM_REPORT_SMTP_HOST"):
        SmtpSettings.from_env(env)


@pytest.mark.parametrize(
    ("extra", "variable"),
    [
        ({"CRM_REPORT_SMTP_PORT": "smtp"}, "CRM_REPORT_SMTP_PORT"),
        ({"CRM_REPORT_SMTP_PORT": "70000"}, "CRM_REPORT_SMTP_PORT"),
        ({"CRM_REPORT_SMTP_STARTTLS": "maybe"}, "CRM_REPORT_SMTP_STARTTLS"),
        ({"CRM_REPORT_SMTP_USER": "bot"}, "CRM_REPORT_SMTP_PASSWORD"),
    ],
)
def test_from_env_invalid_values(extra, variable):
    with pytest.raises(DeliveryError, match=variable):
        SmtpSettings.from_env({"CRM_REPORT_SMTP_HOST": "h", **extra})


@pytest.mark.slow
def test_run_due_delivers_each_report_once_and_retries_failures(
        smtp_server, settings, demo_store, tmp_path):
    """The scheduled path end to end against the real loopback server: a failed send is
    retried by the next run-due without regenerating the report; a sent one is not resent."""
    import dataclasses
    import shutil
    from datetime import date

    import yaml

    from reporting.delivery import send_report
    from reporting.scheduler import run_due

    from .conftest import PARAMS_DIR

    _, recorder = smtp_server
    params = tmp_path / "params"
    shutil.copytree(PARAMS_DIR, params)
    (params / "schedule.yaml").write_text(yaml.safe_dump({"reports": [{
        "name": "monthly-regional", "regions": ["EMEA"], "catch_up": 1,
        "deliver": {"enabled": True, "recipients": {"EMEA": ["emea-exec@example.test"]}}}]}))
    out = tmp_path / "reports"
    broken = dataclasses.replace(settings, port=_closed_port())
    first = run_due(date(2026, 10, 5), demo_store, out, params,
                    send=lambda r, s, h, p: send_report(broken, r, s, h, p))
    assert [r.status for r in first.results] == ["ok"]
    assert [d["ok"] for d in first.deliveries] == [False] and recorder.messages == []
    pdf_mtime = (out / "2026-09" / "emea" / "report.pdf").stat().st_mtime_ns

    def good(r, s, h, p):
        return send_report(settings, r, s, h, p)

    second = run_due(date(2026, 10, 5), demo_store, out, params, send=good)
    assert second.results == []  # not regenerated
    assert [d["ok"] for d in second.deliveries] == [True]
    assert (out / "2026-09" / "emea" / "report.pdf").stat().st_mtime_ns == pdf_mtime
    (msg,) = recorder.messages
    assert msg.rcpt_tos == ["emea-exec@example.test"] and msg.tls
    parsed = _parse(msg.content)
    assert "EMEA" in parsed["Subject"] and "September 2026" in parsed["Subject"]
    body = parsed.get_body(("plain",)).get_content()
    m = json.loads((out / "2026-09" / "emea" / "metrics.json").read_text())
    assert f"{m['headline']['win_rate']['value']:.0%}" in body
    manifest = json.loads((out / "2026-09" / "emea" / "manifest.json").read_text())
    (rec,) = manifest["deliveries"].values()
    assert rec["ok"] and rec["attempts"] == 2
    third = run_due(date(2026, 10, 5), demo_store, out, params, send=good)
    assert third.deliveries == [] and len(recorder.messages) == 1  # never sent twice


# --- 7. each recipient once (issue 12, item 9) ----------------------------------------------


class RefusingRecorder(Recorder):
    """Refuses the addresses in ``refuse`` at RCPT TO with 550, as a full mailbox or an
    unknown user does; accepts the others."""

    def __init__(self, refuse: set[str]) -> None:
        super().__init__()
        self.refuse = set(refuse)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def refusing_server(tls_files, client_context):
    recorder = RefusingRecorder({"flaky@example.test"})
    ctl = _start(recorder, tls_context=_server_context(tls_files), require_starttls=True)
    s = SmtpSettings(host=LOOPBACK, port=ctl.port, username=USER, password=PASSWORD,
                     sender="reports@example.test", timeout=5.0, ssl_context=client_context)
    try:
        yield s, recorder
    finally:
        ctl.stop()


def _finished_report(reports: Path, region: str, team: str = "all", title: str | None = None,
                     period: str = "2026-09") -> Path:
    """A report folder as run_report leaves it (no notebook run: only what delivery reads)."""
    from reporting.runner import output_dir_for

    folder = output_dir_for(reports, period, region, team)
    folder.mkdir(parents=True)
    (folder / "report.pdf").write_bytes(b"%PDF-1.7\n%%EOF\n")
    (folder / "metrics.json").write_text(json.dumps(
        {"region": region, "team": team, "currency": "USD",
         "headline": {"win_rate": {"value": 0.25}}}))
    manifest = {"report": "monthly-regional", "status": "ok", "deliveries": {},
                "parameters": {"region": region, "team": team, "period": period}}
    if title is not None:
        manifest["title"] = title
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def _schedule(recipients: dict, teams: list[str] | None = None):
    from reporting.schedule import Schedule

    return Schedule.model_validate({"reports": [{
        "name": "monthly-regional", "regions": ["EMEA"], "teams": teams or [], "catch_up": 1,
        "deliver": {"enabled": True, "recipients": recipients}}]})


def _via(settings):
    return lambda r, s, h, p: send_report(settings, r, s, h, p)


def test_a_refused_recipient_is_retried_alone(refusing_server, tmp_path):
    """Reproduction: one of two recipients refused at RCPT (550). Before: the next run-due
    sent the report to both again, so the accepted one got it twice. After: only the
    refused address is retried, and a sent report is never sent again."""
    from datetime import date

    from reporting.scheduler import deliver_pending

    settings, recorder = refusing_server
    reports = tmp_path / "reports"
    folder = _finished_report(reports, "EMEA", title="Acme Numbers")
    schedule = _schedule({"EMEA": ["ok@example.test", "flaky@example.test"]})
    today = date(2026, 10, 5)

    (first,) = deliver_pending(schedule, today, reports, _via(settings))
    assert [m.rcpt_tos for m in recorder.messages] == [["ok@example.test"]]
    recorder.refuse.clear()  # the mailbox is fixed
    (second,) = deliver_pending(schedule, today, reports, _via(settings))
    assert [m.rcpt_tos for m in recorder.messages] == [["ok@example.test"],
                                                        ["flaky@example.test"]]
    assert first["ok"] is False and first["accepted"] == ["ok@example.test"]
    assert "550" in first["refused"]["flaky@example.test"]
    assert second["ok"] is True and second["recipients"] == ["flaky@example.test"]
    m = json.loads((folder / "manifest.json").read_text())["deliveries"]
    assert m["flaky@example.test"]["ok"] is True and m["flaky@example.test"]["attempts"] == 2
    assert m["ok@example.test"]["ok"] is True and m["ok@example.test"]["attempts"] == 1

    assert deliver_pending(schedule, today, reports, _via(settings)) == []
    assert len(recorder.messages) == 2  # nobody got it twice
    assert all(_parse(x.content)["Subject"] == "Acme Numbers: EMEA September 2026"
               for x in recorder.messages)


def test_a_recipient_added_later_gets_only_their_copy(refusing_server, tmp_path):
    from datetime import date

    from reporting.scheduler import deliver_pending

    settings, recorder = refusing_server
    recorder.refuse.clear()
    reports = tmp_path / "reports"
    _finished_report(reports, "EMEA", title="T")
    today = date(2026, 10, 5)
    deliver_pending(_schedule({"EMEA": ["a@example.test"]}), today, reports, _via(settings))
    deliver_pending(_schedule({"EMEA": ["a@example.test", "b@example.test"]}), today, reports,
                    _via(settings))
    assert [m.rcpt_tos for m in recorder.messages] == [["a@example.test"], ["b@example.test"]]


def test_a_legacy_partial_delivery_is_not_repeated(refusing_server, tmp_path):
    """A manifest written before per-recipient records (one record for the whole list,
    naming the accepted addresses) is honoured: the accepted address is not sent again."""
    from datetime import date

    from reporting.scheduler import deliver_pending

    settings, recorder = refusing_server
    recorder.refuse.clear()
    reports = tmp_path / "reports"
    folder = _finished_report(reports, "EMEA", title="T")
    m = json.loads((folder / "manifest.json").read_text())
    m["deliveries"] = {"flaky@example.test,ok@example.test": {
        "ok": False, "recipients": ["ok@example.test"], "message_id": "<x@example.test>",
        "error": "partially delivered", "sent_at": "2026-10-05T08:00:00+00:00", "attempts": 1}}
    (folder / "manifest.json").write_text(json.dumps(m))
    deliver_pending(_schedule({"EMEA": ["ok@example.test", "flaky@example.test"]}),
                    date(2026, 10, 5), reports, _via(settings))
    assert [m.rcpt_tos for m in recorder.messages] == [["flaky@example.test"]]


def test_scheduled_team_reports_are_delivered(refusing_server, tmp_path):
    """Reproduction: a schedule with `teams: [EMEA/Team A]`; its report lives in its own
    folder beside the region's (`<period>/emea--team-a/`; it used to be `<period>/emea/team-a/`,
    which delivery never looked at, and which replacing the region's folder deleted).
    After: it goes to the team's recipients, with the team in the subject."""
    from datetime import date

    from reporting.scheduler import deliver_pending

    settings, recorder = refusing_server
    recorder.refuse.clear()
    reports = tmp_path / "reports"
    region = _finished_report(reports, "EMEA", title="T")
    team = _finished_report(reports, "EMEA", "Team A", title="T")
    assert team.name == "emea--team-a" and team.parent == region.parent
    schedule = _schedule({"EMEA": ["emea@example.test"], "EMEA/Team A": ["lead-a@example.test"]},
                         teams=["EMEA/Team A"])
    records = deliver_pending(schedule, date(2026, 10, 5), reports, _via(settings))
    assert sorted(r["report"] for r in records) == sorted([str(region), str(team)])
    got = {tuple(m.rcpt_tos): _parse(m.content)["Subject"] for m in recorder.messages}
    assert got == {("emea@example.test",): "T: EMEA September 2026",
                   ("lead-a@example.test",): "T: EMEA / Team A September 2026"}
    # a team without its own list gets its region's recipients, like the region report
    other = _finished_report(reports, "EMEA", "Team B", title="T")
    (rec,) = deliver_pending(schedule, date(2026, 10, 5), reports, _via(settings))
    assert rec["report"] == str(other) and rec["recipients"] == ["emea@example.test"]


def test_the_subject_uses_the_params_of_the_run(tmp_path):
    """Reproduction: a run with `--params` whose report.yaml has another title. Before: the
    e-mail subject came from the built-in params ("Monthly Sales Report"). After: from the
    title recorded by the run (or the given params folder for older manifests)."""
    from datetime import date

    from reporting.scheduler import deliver_pending

    from .conftest import PARAMS_DIR

    reports = tmp_path / "reports"
    _finished_report(reports, "EMEA", title="Northwind Pipeline Review")
    legacy_reports = tmp_path / "legacy"
    _finished_report(legacy_reports, "EMEA")  # a manifest from before the title was kept
    params = tmp_path / "params"
    shutil.copytree(PARAMS_DIR, params)
    text = (params / "report.yaml").read_text().replace("title: Monthly Sales Report",
                                                        "title: Contoso Sales Numbers")
    (params / "report.yaml").write_text(text)
    sent = []

    def send(recipients, subject, headline, pdf):
        sent.append(subject)
        return DeliveryResult(True, list(recipients), "<m@example.test>", None, "now")

    schedule = _schedule({"EMEA": ["a@example.test"]})
    deliver_pending(schedule, date(2026, 10, 5), reports, send)
    assert sent == ["Northwind Pipeline Review: EMEA September 2026"]
    deliver_pending(schedule, date(2026, 10, 5), legacy_reports, send, params_dir=params)
    assert sent[1] == "Contoso Sales Numbers: EMEA September 2026"
