"""Password change and reset end to end: the policy, other sign-ins ended at once (tokens and sockets), the
emailed one-time link through a local fake SMTP server (same answer for unknown addresses, hashed at rest,
single use, expiry with a pinned clock), and the senders chosen from settings."""

from __future__ import annotations

import hashlib
import logging
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from starlette.websockets import WebSocketDisconnect

from cloudoptima.notifications.email import (
    EmailDeliveryError,
    EmailMessage,
    LogSender,
    SmtpSender,
    sender_from_settings,
)
from cloudoptima.security.passwords import hash_password
from cloudoptima.services.passwords import InvalidResetTokenError, PasswordService
from cloudoptima.settings import Settings
from cloudoptima.storage.models import Organization, PasswordResetToken, User
from cloudoptima_gateway.routes.account import RESET_ANSWER
from tests.gateway.conftest import PASSWORD
from tests.gateway.fake_smtp import FakeSmtp, start_fake_smtp

NEW_PASSWORD = "a different long secret"
PUBLIC_URL = "https://finops.example.com"


@pytest.fixture(scope="module")
def smtp() -> Iterator[FakeSmtp]:
    fake, server = start_fake_smtp()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def gateway_settings(gateway_settings: Settings, smtp: FakeSmtp) -> Settings:
    """The module's gateway sends mail to the fake SMTP server."""
    return gateway_settings.model_copy(
        update={
            "smtp_host": smtp.host,
            "smtp_port": smtp.port,
            "smtp_starttls": False,
            "public_url": PUBLIC_URL + "/",
        }
    )


def _register(client: TestClient, email: str | None = None) -> dict[str, str]:
    email = email or f"pw-{uuid.uuid4().hex[:8]}@example.com"
    response = client.post(
        "/v1/auth/register",
        json={"email": email, "password": PASSWORD, "company_name": "Pw", "role": "cfo"},
    )
    assert response.status_code == 201, response.text
    return {**response.json(), "email": email}


def _text(message: Message) -> str:
    """The decoded body (the link may be sent quoted-printable, as mail clients expect)."""
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode().replace("\r\n", "\n")


def _wait_for(condition: Callable[[], bool]) -> None:
    """The email is sent after the answer: wait (bounded) until ``condition`` holds."""
    for _ in range(200):
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met within 10 s")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_password_change_enforces_the_policy_and_ends_other_sign_ins(client: TestClient) -> None:
    me = _register(client)
    here = _bearer(me["access_token"])
    other = client.post("/v1/auth/login", json={"email": me["email"], "password": PASSWORD}).json()
    change = "/v1/auth/password"

    wrong = client.post(change, headers=here, json={"current_password": "nope", "new_password": NEW_PASSWORD})
    assert wrong.status_code == 403 and wrong.json()["detail"] == "current password is incorrect"
    local = me["email"].split("@")[0]
    for weak, rule in (
        ("aaaaaaaaaa", "different characters"),
        (f"my {local} pass", "email address"),
        (PASSWORD, "differ from the current"),
        ("short", "at least 8 characters"),
    ):
        refused = client.post(change, headers=here, json={"current_password": PASSWORD, "new_password": weak})
        assert refused.status_code == 422 and rule in str(refused.json()["detail"]), (weak, refused.text)

    with client.websocket_connect(f"/v1/stream?token={other['access_token']}") as other_socket:
        other_socket.send_json({"type": "ping"})
        assert other_socket.receive_json() == {"type": "pong"}
        done = client.post(
            change, headers=here, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
        )
        assert done.status_code == 200 and done.json() == {"success": True, "revoked_sessions": 1}
        with pytest.raises(WebSocketDisconnect) as closed:
            other_socket.receive_json()
        assert closed.value.code == 4401 and closed.value.reason == "revoked: password changed"

    assert client.get("/v1/budgets", headers=_bearer(other["access_token"])).status_code == 401
    assert client.post("/v1/auth/refresh", json={"refresh_token": other["refresh_token"]}).status_code == 401
    assert client.get("/v1/budgets", headers=here).status_code == 200  # this sign-in stays
    assert client.post("/v1/auth/refresh", json={"refresh_token": me["refresh_token"]}).status_code == 200
    old = client.post("/v1/auth/login", json={"email": me["email"], "password": PASSWORD})
    assert old.status_code == 401
    assert (
        client.post("/v1/auth/login", json={"email": me["email"], "password": NEW_PASSWORD}).status_code
        == 200
    )


def test_password_reset_by_an_emailed_one_time_link(
    client: TestClient, engine: Engine, smtp: FakeSmtp, caplog: pytest.LogCaptureFixture
) -> None:
    me = _register(client)
    reset = "/v1/auth/password-reset"
    before = len(smtp.messages)
    unknown = client.post(reset, json={"email": f"nobody-{uuid.uuid4().hex[:6]}@example.com"})
    known = client.post(reset, json={"email": me["email"].upper()})
    assert unknown.status_code == known.status_code == 202
    assert unknown.json() == known.json() == {"detail": RESET_ANSWER}
    _wait_for(lambda: len(smtp.messages) == before + 1)
    mail = smtp.messages[-1]
    assert mail.recipients == [me["email"]] and mail.message["Subject"] == "Reset your CloudOptima password"
    found = re.search(
        rf"{re.escape(PUBLIC_URL)}/reset-password\?token=([A-Za-z0-9_\-]+)", _text(mail.message)
    )
    assert found is not None
    token = found.group(1)
    with Session(engine) as session:
        stored = session.scalars(
            select(PasswordResetToken.token_hash).where(
                PasswordResetToken.user_id == uuid.UUID(me["user_id"])
            )
        ).all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]  # only the hash is kept

    confirm = "/v1/auth/password-reset/confirm"
    weak = client.post(confirm, json={"token": token, "new_password": "aaaaaaaaaa"})
    assert weak.status_code == 422  # refused before the link is spent
    with client.websocket_connect(f"/v1/stream?token={me['access_token']}") as open_socket:
        open_socket.send_json({"type": "ping"})
        assert open_socket.receive_json() == {"type": "pong"}
        done = client.post(confirm, json={"token": token, "new_password": NEW_PASSWORD})
        assert done.status_code == 200, done.text
        with pytest.raises(WebSocketDisconnect) as closed:
            open_socket.receive_json()
        assert closed.value.reason == "revoked: password reset"
    again = client.post(confirm, json={"token": token, "new_password": "yet another secret"})
    assert again.status_code == 400 and "already used" in again.json()["detail"]
    assert client.get("/v1/budgets", headers=_bearer(me["access_token"])).status_code == 401
    assert (
        client.post("/v1/auth/login", json={"email": me["email"], "password": NEW_PASSWORD}).status_code
        == 200
    )

    # The SMTP server refusing the recipient is logged, and the caller still gets the same answer.
    refused = _register(client)
    smtp.refused.add(refused["email"])
    with caplog.at_level(logging.ERROR, logger="cloudoptima.gateway.account"):
        answer = client.post(reset, json={"email": refused["email"]})
        assert answer.status_code == 202 and answer.json() == {"detail": RESET_ANSWER}
        _wait_for(lambda: "password reset email could not be sent" in caplog.text)
    assert all(m.recipients != [refused["email"]] for m in smtp.messages)


def test_reset_links_expire_are_single_use_and_replace_each_other(db_session: Session) -> None:
    org = Organization(name="clock", subscription_tier="free", settings={})
    db_session.add(org)
    db_session.flush()
    user = User(
        organization_id=org.id,
        email=f"clock-{uuid.uuid4().hex[:6]}@example.com",
        password_hash=hash_password(PASSWORD),
        role="admin",
        is_active=True,
    )
    db_session.add(user)
    db_session.flush()
    start = datetime(2031, 3, 1, 12, 0, tzinfo=UTC)

    def service(at: datetime) -> PasswordService:
        return PasswordService(
            db_session, access_ttl=timedelta(minutes=30), reset_ttl=timedelta(minutes=30), now=lambda: at
        )

    expired = service(start).request_reset(user.email)
    assert expired is not None and expired.expires_at == start + timedelta(minutes=30)
    with pytest.raises(InvalidResetTokenError):
        service(start + timedelta(minutes=30)).confirm_reset(expired.secret, NEW_PASSWORD)
    replaced = service(start).request_reset(user.email)
    latest = service(start).request_reset(user.email)
    assert replaced is not None and latest is not None
    with pytest.raises(InvalidResetTokenError):
        service(start + timedelta(minutes=1)).confirm_reset(replaced.secret, NEW_PASSWORD)
    revocation = service(start + timedelta(minutes=29)).confirm_reset(latest.secret, NEW_PASSWORD)
    assert revocation.user_id == user.id and revocation.reason == "password reset"
    with pytest.raises(InvalidResetTokenError):
        service(start + timedelta(minutes=29)).confirm_reset(latest.secret, "yet another secret")
    user.is_active = False
    db_session.flush()
    assert service(start).request_reset(user.email) is None


def test_the_sender_follows_the_settings(
    gateway_settings: Settings, smtp: FakeSmtp, caplog: pytest.LogCaptureFixture
) -> None:
    sent = sender_from_settings(gateway_settings)
    assert isinstance(sent, SmtpSender) and (sent.host, sent.port) == (smtp.host, smtp.port)
    sent.send(EmailMessage(to="ops@example.com", subject="hello", body="line one\n.leading dot\n"))
    assert _text(smtp.messages[-1].message) == "line one\n.leading dot\n"

    embedded = gateway_settings.model_copy(update={"smtp_host": None})
    logged = sender_from_settings(embedded)
    assert isinstance(logged, LogSender)
    with caplog.at_level(logging.WARNING, logger="cloudoptima.mail"):
        logged.send(EmailMessage(to="ops@example.com", subject="Reset", body="open https://x/reset?token=t"))
    assert "ops@example.com" in caplog.text and "https://x/reset?token=t" in caplog.text
    assert sender_from_settings(embedded.model_copy(update={"mode": "production"})) is None

    with socket.socket() as probe:  # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with pytest.raises(EmailDeliveryError, match=f"127.0.0.1:{closed_port}"):
        SmtpSender("127.0.0.1", closed_port, sender="x@example.com", starttls=False, timeout_s=2).send(
            EmailMessage(to="ops@example.com", subject="s", body="b")
        )
