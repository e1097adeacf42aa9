"""Real mail servers for the e-mail channel's tests, on 127.0.0.1.

- IMAP: pymap (an IMAP4rev1 server in Python) with its in-memory "dict" backend,
  started as a separate process, once per test session. Each test works in its
  own mailbox (CREATE), and mail is delivered into it with IMAP APPEND — what a
  mail server's delivery agent does — through imaplib, over TCP.
- SMTP: aiosmtpd in a thread, recording each message it accepts, with AUTH and
  optionally STARTTLS (a self-signed certificate made here with `cryptography`,
  trusted by the adapter through the account's tls_ca_file).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import imaplib
import ipaddress
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from email import policy
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

IMAP_USER = "shop@baansuan.example"
IMAP_PASSWORD = "imap-pass-ภาษาไทย"
SMTP_USER = "shop@baansuan.example"
SMTP_PASSWORD = "smtp-pass"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


# --- IMAP ---------------------------------------------------------------------------------


@dataclass
class ImapServer:
    host: str
    port: int
    process: subprocess.Popen
    log: Path
    _admin: imaplib.IMAP4 | None = None

    def admin(self) -> imaplib.IMAP4:
        """One logged-in connection for setting up mailboxes and delivering (pymap's login costs ~1 s)."""
        if self._admin is None:
            self._admin = self.client()
        return self._admin

    def client(self) -> imaplib.IMAP4:
        from samphan.channels.adapters.mail import imap_login

        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        imap_login(conn, IMAP_USER, IMAP_PASSWORD)
        return conn

    def new_mailbox(self) -> str:
        name = f"T{uuid.uuid4().hex[:12]}"
        status, data = self.admin().create(name)
        assert status == "OK", data
        return name

    def deliver(self, mailbox: str, raw: bytes) -> int:
        """APPEND a mail to the mailbox, as a delivery agent would; returns its UID."""
        status, data = self.admin().append(f'"{mailbox}"', None, imaplib.Time2Internaldate(time.time()), raw)
        assert status == "OK", data
        # "[APPENDUID <uidvalidity> <uid>] APPEND completed."
        return int(data[0].split()[2].rstrip(b"]"))

    def uidvalidity(self, mailbox: str) -> int:
        status, data = self.admin().status(f'"{mailbox}"', "(UIDVALIDITY)")
        assert status == "OK", data
        return int(data[0].split(b"UIDVALIDITY ")[1].rstrip(b")"))

    def stop(self) -> None:
        if self._admin is not None:
            with contextlib.suppress(Exception):
                self._admin.logout()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_imap(tmp: Path, *, cert: tuple[Path, Path] | None = None) -> ImapServer:
    port = free_port()
    pymap = shutil.which("pymap", path=str(Path(sys.executable).parent)) or "pymap"
    args = [pymap, "--host", "127.0.0.1", "--port", str(port), "--no-service", "admin"]
    if cert is not None:
        args += ["--cert", str(cert[0]), "--key", str(cert[1])]
    args += ["dict", "--demo-user", IMAP_USER, "--demo-password", IMAP_PASSWORD]
    log = tmp / f"pymap-{port}.log"
    process = subprocess.Popen(args, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    server = ImapServer("127.0.0.1", port, process, log)
    deadline = time.monotonic() + 20
    while True:
        try:
            server.client().logout()
            return server
        except (OSError, imaplib.IMAP4.error):
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"pymap did not start:\n{log.read_text(errors='replace')[-3000:]}") from None
            time.sleep(0.1)


# --- SMTP ---------------------------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    login: str = ""

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.raw, policy=policy.default)


@dataclass
class SmtpRecorder:
    """aiosmtpd handler: keeps every message it accepts; `fail_with` answers DATA with an error instead."""

    received: list[Received] = field(default_factory=list)
    fail_with: list[str] = field(default_factory=list)  # e.g. ["451 4.3.0 try later"], one per DATA

    async def handle_DATA(self, server, session, envelope):
        if self.fail_with:
            return self.fail_with.pop(0)
        auth = getattr(session, "auth_data", None)
        login = auth.decode() if isinstance(auth, bytes) else ""
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content
                                      or envelope.content, login))
        return "250 2.0.0 OK queued"


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == SMTP_USER
          and auth_data.password.decode() == SMTP_PASSWORD)
    return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)


@dataclass
class SmtpServer:
    host: str
    port: int
    recorder: SmtpRecorder
    controller: Controller

    @property
    def received(self) -> list[Received]:
        return self.recorder.received

    def stop(self) -> None:
        self.controller.stop()


def start_smtp(*, cert: tuple[Path, Path] | None = None, auth: bool = True) -> SmtpServer:
    recorder = SmtpRecorder()
    port = free_port()
    kwargs: dict = {}
    if cert is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(cert[0]), str(cert[1]))
        kwargs.update(tls_context=context, require_starttls=True)
    if auth:
        kwargs.update(authenticator=_authenticator, auth_required=True, auth_require_tls=cert is not None)
    controller = Controller(recorder, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return SmtpServer("127.0.0.1", port, recorder, controller)
