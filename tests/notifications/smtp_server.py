"""A real local SMTP server for the email channel's tests (the edge of the world): aiosmtpd on 127.0.0.1
requiring STARTTLS (certificate from a throwaway ``trustme`` CA) and AUTH (PLAIN/LOGIN over TLS only) with
one account; it records every accepted message with whether the session was encrypted and authenticated."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

USERNAME = "notifier"
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Delivered:
    sender: str
    recipients: list[str]
    message: EmailMessage
    encrypted: bool
    authenticated: bool


@dataclass
class LocalSmtp:
    host: str
    port: int
    client_context: ssl.SSLContext
    messages: list[Delivered] = field(default_factory=list)


class _Handler:
    def __init__(self, smtp: LocalSmtp) -> None:
        self._smtp = smtp

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self._smtp.messages.append(
            Delivered(
                sender=str(envelope.mail_from),
                recipients=list(envelope.rcpt_tos),
                message=message,
                encrypted=session.ssl is not None,
                authenticated=bool(session.authenticated),
            )
        )
        return "250 OK"


def _authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USERNAME.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_smtp() -> Iterator[LocalSmtp]:
    """Starts the server (STARTTLS + AUTH required) and stops it on exit."""
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    smtp = LocalSmtp(host="127.0.0.1", port=_free_port(), client_context=client_context)
    controller = Controller(
        _Handler(smtp),
        hostname=smtp.host,
        port=smtp.port,
        tls_context=server_context,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=_authenticate,
    )
    controller.start()
    try:
        yield smtp
    finally:
        controller.stop()
