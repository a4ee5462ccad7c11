"""Email delivery: one small sender interface, an SMTP implementation and a log sender for embedded mode.

Contract:
- :class:`EmailSender` sends one :class:`EmailMessage` (plain text) or raises :class:`EmailDeliveryError`
  naming the server and the reason; it never retries (callers decide).
- :class:`SmtpSender` speaks SMTP through the standard library (``smtplib``): optional STARTTLS (verified
  with the system's CA store, or with the ``ssl_context`` given) and optional login. :meth:`SmtpSender.send_mime`
  hands over a ready MIME message (HTML alternatives, attachments); the error says whether a later attempt may
  succeed (``retryable``: connection failures, timeouts, 4xx replies) or not (5xx replies such as a refused
  login or recipient, a failed TLS handshake).
- :class:`LogSender` writes the whole message to the ``cloudoptima.mail`` log at WARNING, so an embedded
  installation without a mail server still shows a reset link to whoever runs it.
- :func:`sender_from_settings`: SMTP when ``SMTP_HOST`` is set; else the log sender in embedded mode; in
  production without SMTP there is no sender (None) and features that need one say so.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage as MimeMessage
from typing import Protocol

from cloudoptima.settings import Settings

_log = logging.getLogger("cloudoptima.mail")


@dataclass(frozen=True)
class EmailMessage:
    """A plain-text email to one recipient."""

    to: str
    subject: str
    body: str


class EmailDeliveryError(RuntimeError):
    """The message could not be handed to the mail server (the text names the server and the reason).

    ``retryable`` tells whether the same message may succeed later (see module contract).
    """

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class EmailSender(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class SmtpSender:
    """Hands messages to an SMTP server (see module contract)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        timeout_s: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self._username, self._password = username, password
        self._starttls, self._timeout = starttls, timeout_s
        self._ssl_context = ssl_context

    def send(self, message: EmailMessage) -> None:
        mime = MimeMessage()
        mime["From"] = self.sender
        mime["To"] = message.to
        mime["Subject"] = message.subject
        mime.set_content(message.body)
        self.send_mime(mime)

    def send_mime(self, mime: MimeMessage) -> None:
        """Hands one complete MIME message to the server (``From`` is set to the sender when missing)."""
        if "From" not in mime:
            mime["From"] = self.sender
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self._timeout) as smtp:
                if self._starttls:
                    smtp.starttls(context=self._ssl_context or ssl.create_default_context())
                if self._username:
                    smtp.login(self._username, self._password or "")
                smtp.send_message(mime)
        except (smtplib.SMTPException, OSError) as exc:
            raise EmailDeliveryError(
                f"SMTP server {self.host}:{self.port} refused the message: {exc}",
                retryable=_retryable(exc),
            ) from exc


def _retryable(exc: BaseException) -> bool:
    """4xx replies, timeouts and connection failures may pass later; 5xx replies and TLS failures will not."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, ssl.SSLError | ssl.CertificateError | smtplib.SMTPNotSupportedError):
        return False
    # SMTPServerDisconnected, SMTPConnectError without a code, timeouts, refused or reset connections.
    return isinstance(exc, smtplib.SMTPServerDisconnected | OSError)


class LogSender:
    """Writes messages to the log instead of sending them (embedded mode without a mail server)."""

    def __init__(self, logger: logging.Logger = _log) -> None:
        self._logger = logger

    def send(self, message: EmailMessage) -> None:
        self._logger.warning(
            "email (not sent: no SMTP_HOST configured) to %s — %s\n%s",
            message.to,
            message.subject,
            message.body,
        )


def sender_from_settings(settings: Settings) -> EmailSender | None:
    """The configured sender (see module contract)."""
    if settings.smtp_host:
        return SmtpSender(
            settings.smtp_host,
            settings.smtp_port,
            sender=settings.smtp_from,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
        )
    if settings.mode == "embedded":
        return LogSender()
    return None
