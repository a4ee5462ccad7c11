"""The email channel against a real local SMTP server (aiosmtpd) that requires STARTTLS (trustme CA, trusted
by the client) and AUTH: the message arrives encrypted and authenticated, multipart with a plain-text and an
HTML alternative and an intact attachment; a wrong password, a missing STARTTLS and an untrusted certificate
are permanent errors naming the server; an unreachable server is retryable; a bad address is refused before
connecting. The existing plain ``send`` keeps working through the same sender."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from cloudoptima.notifications.channels import DeliveryError
from cloudoptima.notifications.email import EmailMessage, SmtpSender
from cloudoptima.notifications.email_channel import Attachment, EmailChannel
from tests.notifications.notices import LINK, approval_notice
from tests.notifications.smtp_server import PASSWORD, USERNAME, LocalSmtp, running_smtp

FROM = "CloudOptima <alerts@finops.example.com>"


@pytest.fixture(scope="module")
def smtp() -> Iterator[LocalSmtp]:
    with running_smtp() as server:
        yield server


def _sender(smtp: LocalSmtp, *, password: str = PASSWORD, starttls: bool = True) -> SmtpSender:
    return SmtpSender(
        smtp.host,
        smtp.port,
        sender=FROM,
        username=USERNAME,
        password=password,
        starttls=starttls,
        timeout_s=5,
        ssl_context=smtp.client_context,
    )


def test_notice_arrives_over_tls_with_auth_html_alternative_and_intact_attachment(smtp: LocalSmtp) -> None:
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
    before = len(smtp.messages)
    receipt = EmailChannel(_sender(smtp)).deliver(
        approval_notice(),
        "cfo@example.com",
        attachments=[Attachment(filename="monthly-review.pdf", content=pdf, mime_type="application/pdf")],
    )

    assert (receipt.channel, receipt.target, receipt.status) == ("email", "cfo@example.com", 250)
    [got] = smtp.messages[before:]
    assert got.encrypted and got.authenticated
    assert got.recipients == ["cfo@example.com"] and got.sender == "alerts@finops.example.com"
    message = got.message
    assert message["Subject"] == "[Warning] Approval needed: stop 3 idle instances"
    assert message["X-CloudOptima-Delivery"] == "approval.requested:3f2c0e1a"
    assert message["Message-ID"].endswith("@finops.example.com>") and message["Message-ID"] in receipt.detail
    assert message.get_content_type() == "multipart/mixed"

    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    plain_text, html_text = text.get_content(), html.get_content()
    assert "1,234.56 USD" in plain_text and f"Open: {LINK}" in plain_text
    assert "Requested by  ops@example.com" in plain_text
    assert f'<a href="{LINK}">' in html_text and "1,234.56 USD" in html_text
    assert "&lt;prod-idle&gt; &amp; its 3 steps" in html_text  # escaped, not markup

    [attached] = list(message.iter_attachments())
    assert attached.get_filename() == "monthly-review.pdf"
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_payload(decode=True) == pdf


def test_the_same_notice_keeps_its_message_id(smtp: LocalSmtp) -> None:
    before = len(smtp.messages)
    channel = EmailChannel(_sender(smtp))
    channel.deliver(approval_notice(), "a@example.com")
    channel.deliver(approval_notice(), "a@example.com")
    channel.deliver(approval_notice(idempotency_key="other"), "a@example.com")
    ids = [d.message["Message-ID"] for d in smtp.messages[before:]]
    assert ids[0] == ids[1] != ids[2]
    assert smtp.messages[-1].message.get_content_type() == "multipart/alternative"  # no attachments


def test_a_wrong_password_is_a_permanent_error_naming_the_server(smtp: LocalSmtp) -> None:
    before = len(smtp.messages)
    with pytest.raises(DeliveryError) as caught:
        EmailChannel(_sender(smtp, password="wrong")).deliver(approval_notice(), "cfo@example.com")
    error = caught.value
    assert not error.retryable and error.channel == "email" and error.target == "cfo@example.com"
    assert f"{smtp.host}:{smtp.port}" in error.reason and "535" in error.reason
    assert len(smtp.messages) == before


def test_a_client_that_skips_starttls_is_refused_permanently(smtp: LocalSmtp) -> None:
    with pytest.raises(DeliveryError) as caught:
        EmailChannel(_sender(smtp, starttls=False)).deliver(approval_notice(), "cfo@example.com")
    assert not caught.value.retryable and f"{smtp.host}:{smtp.port}" in caught.value.reason


def test_an_untrusted_certificate_is_a_permanent_error(smtp: LocalSmtp) -> None:
    untrusting = SmtpSender(
        smtp.host, smtp.port, sender=FROM, username=USERNAME, password=PASSWORD, timeout_s=5
    )
    with pytest.raises(DeliveryError) as caught:
        EmailChannel(untrusting).deliver(approval_notice(), "cfo@example.com")
    assert not caught.value.retryable and "CERTIFICATE_VERIFY_FAILED" in caught.value.reason


def test_an_unreachable_server_is_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    sender = SmtpSender("127.0.0.1", closed_port, sender=FROM, timeout_s=2)
    with pytest.raises(DeliveryError) as caught:
        EmailChannel(sender).deliver(approval_notice(), "cfo@example.com")
    assert caught.value.retryable and f"127.0.0.1:{closed_port}" in caught.value.reason


@pytest.mark.parametrize(
    "target",
    ["", "cfo", "cfo@example.com, ceo@example.com", "cfo@example.com\r\nBcc: x@evil.test", "<cfo@x.com>"],
)
def test_a_bad_address_is_refused_before_connecting(target: str) -> None:
    sender = SmtpSender("192.0.2.1", 25, sender=FROM, timeout_s=0.1)  # would time out if contacted
    with pytest.raises(DeliveryError, match="not a single plain email address") as caught:
        EmailChannel(sender).deliver(approval_notice(), target)
    assert not caught.value.retryable


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"filename": "a/b.pdf", "content": b"", "mime_type": "application/pdf"}, "filename"),
        ({"filename": "a.pdf", "content": b"", "mime_type": "pdf"}, "mime_type"),
    ],
)
def test_bad_attachments_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        Attachment(**kwargs)  # type: ignore[arg-type]


def test_the_plain_send_used_for_password_resets_works_over_starttls_and_auth(smtp: LocalSmtp) -> None:
    before = len(smtp.messages)
    _sender(smtp).send(EmailMessage(to="user@example.com", subject="Reset", body="Your link: https://x/y\n"))
    [got] = smtp.messages[before:]
    assert got.encrypted and got.authenticated and got.message["Subject"] == "Reset"
    assert got.message.get_content_type() == "text/plain"
