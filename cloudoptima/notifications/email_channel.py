"""The email channel: a notice as a multipart email (plain text + HTML alternative, optional attachments).

Contract:
- :func:`notice_email` builds the message: ``Subject`` ``[<Severity>] <title>``; a plain-text part and an
  HTML alternative (every notice text HTML-escaped) with the summary, the facts table (amount first) and the
  link; then each :class:`Attachment` (bytes, file name, MIME type) as an attachment. ``Message-ID`` is derived
  from the idempotency key (the same on every attempt, so mail systems and people can spot duplicates) and
  ``X-CloudOptima-Delivery`` carries the key itself; ``Date`` is the notice's ``occurred_at``.
- :class:`EmailChannel` hands it to the configured :class:`~cloudoptima.notifications.email.SmtpSender`
  (STARTTLS and login as configured there) for one recipient, the ``target`` address. A target that is not a
  single plain address is refused (permanent) before connecting; SMTP failures map to
  :class:`~cloudoptima.notifications.channels.DeliveryError` with the sender's ``retryable`` verdict and a
  reason naming the server.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, parseaddr

from cloudoptima.domain.notices import Notice
from cloudoptima.notifications.channels import DeliveryError, DeliveryReceipt
from cloudoptima.notifications.email import EmailDeliveryError, SmtpSender
from cloudoptima.notifications.render import SEVERITY_LABELS, context_line, display_facts

_ADDRESS = re.compile(r"^[^\s@<>,;:\"()\[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?$")
_MIME_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+\-]*/[a-z0-9][a-z0-9!#$&^_.+\-]*$")


@dataclass(frozen=True)
class Attachment:
    """A file sent with the email: its bytes, the name the reader sees, and its MIME type (``type/subtype``)."""

    filename: str
    content: bytes
    mime_type: str

    def __post_init__(self) -> None:
        if not self.filename or any(ch in self.filename for ch in "\r\n/\\"):
            raise ValueError(f"filename: {self.filename!r} is not a plain file name")
        if not _MIME_TYPE.match(self.mime_type.lower()):
            raise ValueError(f"mime_type: {self.mime_type!r} is not 'type/subtype'")


def _message_id(notice: Notice, sender: str) -> str:
    domain = parseaddr(sender)[1].rpartition("@")[2] or "cloudoptima.invalid"
    digest = hashlib.sha256(notice.idempotency_key.encode()).hexdigest()[:40]
    return f"<{digest}@{domain}>"


def _plain_text(notice: Notice) -> str:
    lines = [notice.title, "", notice.summary, ""] if notice.summary else [notice.title, ""]
    facts = display_facts(notice)
    if facts:
        width = max(len(label) for label, _ in facts)
        lines += [f"{label.ljust(width)}  {value}" for label, value in facts] + [""]
    if notice.link:
        lines += [f"Open: {notice.link}", ""]
    lines.append(context_line(notice))
    return "\n".join(lines) + "\n"


def _html(notice: Notice) -> str:
    e = html.escape
    rows = "".join(
        f'<tr><th align="left" style="padding:2px 12px 2px 0">{e(label)}</th><td>{e(value)}</td></tr>'
        for label, value in display_facts(notice)
    )
    parts = [f"<h2>{e(notice.title)}</h2>"]
    if notice.summary:
        parts.append(f"<p>{e(notice.summary)}</p>")
    if rows:
        parts.append(f"<table>{rows}</table>")
    if notice.link:
        parts.append(f'<p><a href="{e(notice.link, quote=True)}">Open in CloudOptima</a></p>')
    parts.append(f'<p style="color:#666;font-size:small">{e(context_line(notice))}</p>')
    return "<!DOCTYPE html><html><body>" + "".join(parts) + "</body></html>\n"


def notice_email(
    notice: Notice, *, sender: str, to: str, attachments: Sequence[Attachment] = ()
) -> MimeMessage:
    """The MIME message for ``notice`` (see module contract)."""
    mime = MimeMessage()
    mime["From"] = sender
    mime["To"] = to
    mime["Subject"] = f"[{SEVERITY_LABELS[notice.severity]}] {notice.title}"
    mime["Date"] = format_datetime(notice.occurred_at)
    mime["Message-ID"] = _message_id(notice, sender)
    mime["X-CloudOptima-Delivery"] = notice.idempotency_key
    mime.set_content(_plain_text(notice))
    mime.add_alternative(_html(notice), subtype="html")
    for attachment in attachments:
        maintype, _, subtype = attachment.mime_type.lower().partition("/")
        mime.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return mime


class EmailChannel:
    """Delivers notices by email through one SMTP server (see module contract)."""

    name = "email"

    def __init__(self, sender: SmtpSender) -> None:
        self._sender = sender

    def deliver(
        self, notice: Notice, target: str, *, attachments: Sequence[Attachment] = ()
    ) -> DeliveryReceipt:
        """One SMTP transaction sending ``notice`` to the address ``target`` (channels.py contract)."""
        if not _ADDRESS.match(target):
            raise DeliveryError(
                retryable=False,
                reason="the target is not a single plain email address",
                channel=self.name,
                target=repr(target)[:100],
            )
        mime = notice_email(notice, sender=self._sender.sender, to=target, attachments=attachments)
        try:
            self._sender.send_mime(mime)
        except EmailDeliveryError as exc:
            raise DeliveryError(
                retryable=exc.retryable, reason=str(exc), channel=self.name, target=target
            ) from exc
        return DeliveryReceipt(
            channel=self.name,
            target=target,
            idempotency_key=notice.idempotency_key,
            status=250,
            detail=f"accepted by {self._sender.host}:{self._sender.port} as {mime['Message-ID']}",
        )
