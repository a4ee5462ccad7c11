"""The HTTP channels against a real local receiver: the generic webhook's signed JSON (verified by the
receiver with ``verify_signature``), Slack Block Kit and Teams Adaptive Card structure, the answer
classification (200/202 receipt; 429 with Retry-After, 500, 503, timeouts and refused connections retryable;
400, redirects and refused targets permanent), and the signature helper's refusals."""

from __future__ import annotations

import json
import socket
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import trustme

from cloudoptima.domain.notices import NoticeFact
from cloudoptima.notifications.channels import Channel, DeliveryError
from cloudoptima.notifications.slack import SlackChannel, slack_payload
from cloudoptima.notifications.teams import TeamsChannel
from cloudoptima.notifications.webhook import GenericWebhookChannel
from cloudoptima.notifications.webhook_signature import SignatureError, sign, verify_signature
from tests.notifications.notices import LINK, NOW, ORG, approval_notice
from tests.notifications.receiver import Receiver, running_receiver

SECRET = "whsec-0123456789abcdef"


@pytest.fixture(scope="module")
def signed() -> Iterator[Receiver]:
    with running_receiver(now=NOW + timedelta(seconds=20), secret=SECRET) as receiver:
        yield receiver


@pytest.fixture(scope="module")
def plain() -> Iterator[Receiver]:
    with running_receiver(now=NOW) as receiver:
        yield receiver


def _webhook(clock_at: datetime = NOW) -> GenericWebhookChannel:
    return GenericWebhookChannel(SECRET, clock=lambda: clock_at, allow_insecure_localhost=True, timeout_s=5)


def test_generic_webhook_sends_signed_json_the_receiver_verifies(signed: Receiver) -> None:
    before = len(signed.requests)
    receipt = _webhook().deliver(approval_notice(), signed.url("/ok"))

    assert (receipt.channel, receipt.status, receipt.detail) == ("webhook", 200, "ok")
    assert (
        receipt.target == f"{signed.base_url}/…" and receipt.idempotency_key == "approval.requested:3f2c0e1a"
    )
    [request] = signed.requests[before:]
    assert request.verification_error is None and request.status == 200
    assert request.headers["x-cloudoptima-timestamp"] == str(int(NOW.timestamp()))
    assert request.headers["x-cloudoptima-delivery"] == "approval.requested:3f2c0e1a"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body) == {
        "id": "approval.requested:3f2c0e1a",
        "type": "approval.requested",
        "occurred_at": "2026-12-07T09:30:00Z",
        "organization_id": str(ORG),
        "severity": "warning",
        "title": "Approval needed: stop 3 idle instances",
        "summary": "Remediation plan <prod-idle> & its 3 steps wait for a finance approver.",
        "amount": "1234.565",
        "currency": "USD",
        "link": LINK,
        "facts": [
            {"label": "Account", "value": "123456789012"},
            {"label": "Requested by", "value": "ops@example.com"},
        ],
    }


def test_a_retry_carries_the_same_delivery_id_and_a_fresh_timestamp(signed: Receiver) -> None:
    before = len(signed.requests)
    notice = approval_notice()
    _webhook(NOW).deliver(notice, signed.url("/ok"))
    _webhook(NOW + timedelta(seconds=30)).deliver(notice, signed.url("/ok"))
    first, second = signed.requests[before:]
    assert first.headers["x-cloudoptima-delivery"] == second.headers["x-cloudoptima-delivery"]
    assert (
        int(second.headers["x-cloudoptima-timestamp"]) - int(first.headers["x-cloudoptima-timestamp"]) == 30
    )
    assert first.body == second.body and first.verification_error is second.verification_error is None


def test_the_receiver_refuses_an_old_timestamp_and_the_error_is_permanent(signed: Receiver) -> None:
    before = len(signed.requests)
    with pytest.raises(DeliveryError) as caught:
        _webhook(NOW - timedelta(minutes=10)).deliver(approval_notice(), signed.url("/ok"))
    assert not caught.value.retryable and caught.value.status == 401
    [request] = signed.requests[before:]
    assert request.verification_error is not None and "stale or replayed" in request.verification_error


def test_a_wrong_secret_is_refused_by_the_receiver(signed: Receiver) -> None:
    channel = GenericWebhookChannel("another-secret-of-16+", clock=lambda: NOW, allow_insecure_localhost=True)
    before = len(signed.requests)
    with pytest.raises(DeliveryError, match="HTTP 401"):
        channel.deliver(approval_notice(), signed.url("/ok"))
    assert "does not match" in (signed.requests[before].verification_error or "")


@pytest.mark.parametrize(
    ("path", "status", "retry_after", "retry_at"),
    [
        ("/busy", 429, timedelta(seconds=7), None),
        ("/busy-date", 429, None, datetime(2026, 12, 9, 10, 0, tzinfo=UTC)),  # receiver.RETRY_AFTER_DATE
        ("/boom", 500, None, None),
        ("/unavailable", 503, timedelta(seconds=30), None),
    ],
)
def test_rate_limits_and_server_errors_are_retryable(
    signed: Receiver, path: str, status: int, retry_after: timedelta | None, retry_at: datetime | None
) -> None:
    with pytest.raises(DeliveryError) as caught:
        _webhook().deliver(approval_notice(), signed.url(path))
    error = caught.value
    assert (error.retryable, error.status, error.retry_after, error.retry_at) == (
        True,
        status,
        retry_after,
        retry_at,
    )
    assert error.channel == "webhook" and error.target == f"{signed.base_url}/…"


@pytest.mark.parametrize(
    ("path", "reason"), [("/bad", "HTTP 400: invalid_payload"), ("/redirect", "not followed")]
)
def test_client_errors_and_redirects_are_permanent(signed: Receiver, path: str, reason: str) -> None:
    before = len(signed.requests)
    with pytest.raises(DeliveryError) as caught:
        _webhook().deliver(approval_notice(), signed.url(path))
    assert not caught.value.retryable and reason in caught.value.reason
    assert [r.path for r in signed.requests[before:]] == [path]  # the redirect was not followed


def test_a_refused_connection_and_a_silent_server_are_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with pytest.raises(DeliveryError, match="connection failed") as refused:
        _webhook().deliver(approval_notice(), f"http://127.0.0.1:{closed_port}/hook")
    assert refused.value.retryable

    with socket.socket() as silent:  # accepts connections (kernel backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        channel = GenericWebhookChannel(
            SECRET, clock=lambda: NOW, allow_insecure_localhost=True, timeout_s=0.3
        )
        with pytest.raises(DeliveryError, match=r"no answer within 0\.3s") as timed_out:
            channel.deliver(approval_notice(), f"http://127.0.0.1:{silent.getsockname()[1]}/hook")
    assert timed_out.value.retryable


def test_an_untrusted_tls_certificate_is_permanent() -> None:
    ca = trustme.CA()  # a CA nobody trusts: the channel verifies with the system's store
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    with (
        running_receiver(now=NOW, secret=SECRET, tls_context=server_context) as receiver,
        pytest.raises(DeliveryError, match="TLS certificate refused") as caught,
    ):
        _webhook().deliver(approval_notice(), receiver.url("/ok"))
    assert not caught.value.retryable and receiver.requests == []


@pytest.mark.parametrize(
    ("channel", "url", "reason"),
    [
        (SlackChannel(), "https://evil.example.com/services/T/B/X", "not a slack webhook host"),
        (SlackChannel(), "https://hooks.slack.com.evil.example/services/T", "not a slack webhook host"),
        (SlackChannel(), "http://hooks.slack.com/services/T/B/X", "only https"),
        (TeamsChannel(), "https://hooks.slack.com/services/T/B/X", "not a teams webhook host"),
        (SlackChannel(), "http://127.0.0.1:9/hook", "only https"),  # localhost needs the flag
        (SlackChannel(allow_insecure_localhost=True), "http://10.0.0.5/hook", "only https"),
        (GenericWebhookChannel(SECRET, clock=lambda: NOW), "ftp://example.com/x", "only https"),
        (GenericWebhookChannel(SECRET, clock=lambda: NOW), "https://user:pw@example.com/x", "credentials"),
        (GenericWebhookChannel(SECRET, clock=lambda: NOW), "not a url", "whitespace"),
    ],
)
def test_targets_outside_the_allowed_hosts_are_refused_before_connecting(
    channel: Channel, url: str, reason: str
) -> None:
    with pytest.raises(DeliveryError) as caught:
        channel.deliver(approval_notice(), url)
    assert not caught.value.retryable and reason in caught.value.reason
    assert "/services/" not in str(caught.value)  # the secret path is never shown


def test_slack_block_kit_message(plain: Receiver) -> None:
    before = len(plain.requests)
    receipt = SlackChannel(allow_insecure_localhost=True).deliver(approval_notice(), plain.url("/ok"))
    assert receipt.status == 200
    body: dict[str, Any] = json.loads(plain.requests[before].body)
    blocks = body["blocks"]
    assert [b["type"] for b in blocks] == ["header", "section", "actions", "context"]
    assert blocks[0]["text"] == {
        "type": "plain_text",
        "text": "Approval needed: stop 3 idle instances",
        "emoji": False,
    }
    section = blocks[1]
    assert section["text"]["text"] == (
        "Remediation plan &lt;prod-idle&gt; &amp; its 3 steps wait for a finance approver."
    )
    assert [f["text"] for f in section["fields"]] == [
        "*Amount*\n1,234.56 USD",  # half-even
        "*Account*\n123456789012",
        "*Requested by*\nops@example.com",
    ]
    [button] = blocks[2]["elements"]
    assert button["type"] == "button" and button["url"] == LINK
    assert blocks[3]["elements"][0]["text"] == "Warning · approval.requested · 2026-12-07 09:30 UTC"
    assert body["text"].startswith("Approval needed")


def test_slack_splits_many_facts_into_sections_of_ten_and_omits_the_button_without_a_link() -> None:
    facts = tuple(NoticeFact(label=f"F{i}", value=str(i)) for i in range(14))
    blocks = slack_payload(approval_notice(facts=facts, link=None))["blocks"]
    assert [b["type"] for b in blocks] == ["header", "section", "section", "context"]
    assert [len(b["fields"]) for b in blocks[1:3]] == [10, 5]  # amount + 14 facts


def test_teams_adaptive_card(plain: Receiver) -> None:
    before = len(plain.requests)
    TeamsChannel(allow_insecure_localhost=True).deliver(approval_notice(), plain.url("/accepted"))
    body: dict[str, Any] = json.loads(plain.requests[before].body)
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    assert [b["type"] for b in card["body"]] == ["TextBlock", "TextBlock", "FactSet", "TextBlock"]
    assert card["body"][0]["text"] == "Approval needed: stop 3 idle instances"
    assert card["body"][2]["facts"][0] == {"title": "Amount", "value": "1,234.56 USD"}
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open in CloudOptima", "url": LINK}]


def test_teams_answer_500_is_retryable(plain: Receiver) -> None:
    with pytest.raises(DeliveryError) as caught:
        TeamsChannel(allow_insecure_localhost=True).deliver(approval_notice(), plain.url("/boom"))
    assert caught.value.retryable and caught.value.channel == "teams"


def test_vendor_hosts_pass_the_guard() -> None:
    from cloudoptima.notifications.channels import check_webhook_url
    from cloudoptima.notifications.slack import SLACK_HOSTS
    from cloudoptima.notifications.teams import TEAMS_HOSTS

    for url, hosts in [
        ("https://hooks.slack.com/services/T0/B0/XYZ", SLACK_HOSTS),
        ("https://contoso.webhook.office.com/webhookb2/abc", TEAMS_HOSTS),
        (
            "https://prod-01.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke",
            TEAMS_HOSTS,
        ),
    ]:
        check_webhook_url(url, channel="x", allowed_host_suffixes=hosts, allow_insecure_localhost=False)


class TestVerifySignature:
    body = b'{"id":"k"}'
    ts = int(NOW.timestamp())

    def test_accepts_within_tolerance_either_side(self) -> None:
        header = sign(SECRET, self.ts, self.body)
        for delta in (-300, 0, 300):
            verify_signature(SECRET, str(self.ts), self.body, header, NOW + timedelta(seconds=delta))

    @pytest.mark.parametrize("delta", [-301, 301, 3600])
    def test_refuses_old_or_future_timestamps(self, delta: int) -> None:
        header = sign(SECRET, self.ts, self.body)
        with pytest.raises(SignatureError, match="stale or replayed"):
            verify_signature(SECRET, str(self.ts), self.body, header, NOW + timedelta(seconds=delta))

    def test_refuses_a_tampered_body_a_moved_timestamp_and_malformed_headers(self) -> None:
        header = sign(SECRET, self.ts, self.body)
        with pytest.raises(SignatureError, match="does not match"):
            verify_signature(SECRET, str(self.ts), b'{"id":"K"}', header, NOW)
        with pytest.raises(SignatureError, match="does not match"):
            verify_signature(SECRET, str(self.ts + 1), self.body, header, NOW)
        with pytest.raises(SignatureError, match="sha256="):
            verify_signature(SECRET, str(self.ts), self.body, header.removeprefix("sha256="), NOW)
        with pytest.raises(SignatureError, match="Unix seconds"):
            verify_signature(SECRET, "2026-12-07T09:30:00Z", self.body, header, NOW)

    def test_signature_is_hmac_sha256_of_timestamp_dot_body(self) -> None:
        import hashlib
        import hmac

        expected = hmac.new(SECRET.encode(), f"{self.ts}.".encode() + self.body, hashlib.sha256).hexdigest()
        assert sign(SECRET, self.ts, self.body) == f"sha256={expected}"


def test_short_secrets_are_refused() -> None:
    with pytest.raises(ValueError, match="secret"):
        GenericWebhookChannel("short", clock=lambda: NOW)
