"""The notification channels admin API end to end: CRUD with write-only (redacted) targets, 422s naming the
field, a test send against a real local receiver, dead letters and replay, organisation isolation."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.notification_delivery import NotificationDelivery
from cloudoptima.settings import Settings
from cloudoptima.storage.tenancy import scope
from tests.gateway.conftest import Org, make_org
from tests.notifications.notices import approval_notice
from tests.notifications.receiver import Receiver, running_receiver

SECRET = "a-webhook-signing-secret-42"


@pytest.fixture(scope="module")
def gateway_settings(gateway_settings: Settings) -> Settings:
    """The module's gateway accepts channel URLs on localhost (the test receiver)."""
    return gateway_settings.model_copy(update={"notifications_allow_insecure_localhost": True})


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver(datetime.now(UTC), secret=SECRET) as r:
        yield r


@pytest.fixture
def org(engine: Engine, gateway_settings: Settings) -> Org:
    return make_org(engine, gateway_settings, name="channels")


def _create(client: TestClient, org: Org, **body: object) -> dict[str, object]:
    response = client.post("/v1/notification-channels", headers=org.headers(), json=body)
    assert response.status_code == 201, response.text
    result: dict[str, object] = response.json()
    return result


def test_channels_crud_never_echoes_the_target_or_secret(
    client: TestClient, org: Org, receiver: Receiver
) -> None:
    port = receiver.base_url.rsplit(":", 1)[1]
    made = _create(client, org, name="ops hook", kind="webhook", target=receiver.url("/ok"), secret=SECRET)
    assert made["target"] == f"http://127.0.0.1:{port}/…" and made["kind"] == "webhook"
    mail = _create(client, org, name="finance", kind="email", target="finance@example.com")
    assert mail["target"] == "f…@example.com"
    listed = client.get("/v1/notification-channels", headers=org.headers())
    assert listed.status_code == 200
    assert [c["name"] for c in listed.json()["items"]] == ["ops hook", "finance"]
    assert "/ok" not in listed.text and SECRET not in listed.text and "finance@" not in listed.text
    gone = client.delete(f"/v1/notification-channels/{made['id']}", headers=org.headers())
    assert gone.status_code == 200
    again = client.delete(f"/v1/notification-channels/{made['id']}", headers=org.headers())
    assert again.status_code == 404
    listed = client.get("/v1/notification-channels", headers=org.headers())
    assert [c["name"] for c in listed.json()["items"]] == ["finance"]
    viewer = client.get("/v1/notification-channels", headers=org.headers("viewer"))
    assert viewer.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "pager", "target": "https://example.com/x"}, "kind"),
        ({"kind": "webhook", "target": "ftp://example.com/TOPSECRET", "secret": SECRET}, "target"),
        ({"kind": "slack", "target": "https://hooks.example.com/services/TOPSECRET"}, "target"),
        ({"kind": "webhook", "target": "https://example.com/TOPSECRET", "secret": "short"}, "secret"),
        ({"kind": "email", "target": "not an address"}, "target"),
    ],
)
def test_bad_channels_are_422_naming_the_field(
    client: TestClient, org: Org, body: dict[str, object], field: str
) -> None:
    response = client.post("/v1/notification-channels", headers=org.headers(), json={"name": "x", **body})
    assert response.status_code == 422, response.text
    assert [e["loc"][-1] for e in response.json()["detail"]] == [field]
    assert "TOPSECRET" not in response.text


def test_test_send_answers_the_receipt_or_the_error(client: TestClient, org: Org, receiver: Receiver) -> None:
    ok = _create(client, org, name="ok", kind="webhook", target=receiver.url("/ok"), secret=SECRET)
    bad = _create(client, org, name="bad", kind="webhook", target=receiver.url("/bad"), secret=SECRET)
    sent = client.post(f"/v1/notification-channels/{ok['id']}/test", headers=org.headers())
    assert sent.status_code == 200
    assert sent.json() | {"target": "-"} == {
        "delivered": True,
        "channel": "webhook",
        "target": "-",
        "status": 200,
        "detail": sent.json()["detail"],
        "retryable": None,
    }
    refused = client.post(f"/v1/notification-channels/{bad['id']}/test", headers=org.headers())
    assert refused.status_code == 200
    assert (refused.json()["delivered"], refused.json()["status"], refused.json()["retryable"]) == (
        False,
        400,
        False,
    )
    assert "/bad" not in refused.text
    assert [(r.path, r.verification_error) for r in receiver.requests] == [("/ok", None), ("/bad", None)]


def test_dead_letters_replay_and_isolation(
    client: TestClient, org: Org, engine: Engine, gateway_settings: Settings, receiver: Receiver
) -> None:
    channel = _create(client, org, name="bad", kind="slack", target=receiver.url("/bad"))
    cipher = CredentialCipher(gateway_settings.resolved_encryption_key)
    now = datetime.now(UTC)
    with Session(engine) as session:
        scope(session, org.id)
        service = NotificationDelivery(
            session, org.id, cipher=cipher, smtp=None, allow_insecure_localhost=True
        )
        notice = approval_notice(organization_id=org.id, occurred_at=now)
        [delivery] = service.enqueue(notice, [uuid.UUID(str(channel["id"]))], now)
        service.deliver_due(now)
        session.commit()
    dead = client.get("/v1/notification-deliveries", params={"status": "dead"}, headers=org.headers())
    assert dead.status_code == 200
    [item] = dead.json()["items"]
    assert item["id"] == str(delivery.id) and item["attempts"] == 1
    assert "slack channel 'bad'" in item["last_error"] and "/bad" not in item["last_error"]
    assert client.get(
        "/v1/notification-deliveries", params={"status": "pending"}, headers=org.headers()
    ).json() == {"items": []}
    assert (
        client.get(
            "/v1/notification-deliveries", params={"status": "lost"}, headers=org.headers()
        ).status_code
        == 422
    )
    other = make_org(engine, gateway_settings, name="channels-other")
    assert client.get("/v1/notification-deliveries", headers=other.headers()).json() == {"items": []}
    foreign = client.post(f"/v1/notification-deliveries/{delivery.id}/replay", headers=other.headers())
    assert foreign.status_code == 404
    replayed = client.post(f"/v1/notification-deliveries/{delivery.id}/replay", headers=org.headers())
    assert replayed.status_code == 200
    assert (replayed.json()["status"], replayed.json()["attempts"]) == ("pending", 0)
    twice = client.post(f"/v1/notification-deliveries/{delivery.id}/replay", headers=org.headers())
    assert twice.status_code == 409
    assert client.get(
        "/v1/notification-deliveries", params={"status": "dead"}, headers=org.headers()
    ).json() == {"items": []}
