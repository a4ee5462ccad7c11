"""Tickets (#22): a recommendation handed to GitHub Issues, Jira Cloud or a signed webhook over REST, against strict
local fakes on real sockets; idempotent; closes synced back (completed: applied-by-hand hint; not planned:
dismissed); auth failures name the tracker; a 5xx then success is retried visibly; Retry-After honoured."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.audit import AuditActor
from cloudoptima.services.ticket_clients import TicketDraft, TrackerClient, TrackerError
from cloudoptima.services.tickets import Tickets
from cloudoptima.settings import Settings
from cloudoptima.storage.models import AuditLog, Recommendation
from cloudoptima.storage.models.tickets import RecommendationTicketRow, TicketTrackerRow
from cloudoptima.storage.tenancy import scope
from tests.gateway.conftest import Org, make_org
from tests.gateway.fake_trackers import (
    GITHUB_TOKEN,
    HOOK_SECRET,
    JIRA_LOGIN,
    JIRA_TOKEN,
    PROJECT,
    REPO,
    FakeTrackers,
)


@pytest.fixture(scope="module")
def gateway_settings(gateway_settings: Settings) -> Settings:
    """The module's gateway accepts tracker URLs on localhost (the fakes)."""
    return gateway_settings.model_copy(update={"notifications_allow_insecure_localhost": True})


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTrackers]:
    with FakeTrackers() as server:
        yield server


def _recs(engine: Engine, org: Org, n: int) -> list[str]:
    with Session(engine) as session:
        rows = [
            Recommendation(
                organization_id=org.id,
                fingerprint=f"fp-ticket-{i}",
                rule_id="idle_vm",
                provider="aws",
                title=f"Stop idle VM {i}",
                category="compute",
                risk_level="low",
                resource_ids=[f"i-{i}"],
                affected_resources=[],
                actions=[],
                status="active",
                estimated_savings_monthly=Decimal("12.5"),
                priority=Decimal(1),
            )
            for i in range(n)
        ]
        session.add_all(rows)
        session.commit()
        return [str(r.id) for r in rows]


def _tracker(client: TestClient, org: Org, **body: str) -> str:
    response = client.post("/v1/ticket-trackers", json=body, headers=org.headers())
    assert response.status_code == 201, response.text
    assert "token" not in response.json() and response.json()["token_set"] is True
    return str(response.json()["id"])


def _audit(engine: Engine, org: Org, action: str) -> list[dict[str, object]]:
    with Session(engine) as session:
        rows = session.scalars(
            select(AuditLog).where(AuditLog.organization_id == org.id, AuditLog.action == action)
        ).all()
        return [dict(r.details or {}) for r in rows]


def test_github_ticket_idempotent_and_closes_synced(
    client: TestClient, engine: Engine, gateway_settings: Settings, fake: FakeTrackers
) -> None:
    org = make_org(engine, gateway_settings, name="tickets-gh")
    body = {"name": "gh", "kind": "github", "base_url": fake.url, "project": REPO, "token": GITHUB_TOKEN}
    assert client.post("/v1/ticket-trackers", json=body, headers=org.headers("viewer")).status_code == 403
    bad_repo = client.post("/v1/ticket-trackers", json={**body, "project": "no-slash"}, headers=org.headers())
    plain = client.post(
        "/v1/ticket-trackers", json={**body, "base_url": "http://tracker.example"}, headers=org.headers()
    )
    assert plain.status_code == 422 and plain.json()["detail"][0]["loc"] == ["body", "base_url"]
    assert bad_repo.status_code == 422 and bad_repo.json()["detail"][0]["loc"] == ["body", "project"]
    tracker = _tracker(client, org, **body)
    with Session(engine) as session:  # stored encrypted
        stored = session.get(TicketTrackerRow, uuid.UUID(tracker))
        assert stored is not None and GITHUB_TOKEN not in stored.token_encrypted
    listed = client.get("/v1/ticket-trackers", headers=org.headers("viewer")).json()["trackers"]
    assert [t["name"] for t in listed] == ["gh"] and "token" not in listed[0]

    done, declined, still_open = _recs(engine, org, 3)
    first = client.post(f"/v1/recommendations/{done}/ticket", json={}, headers=org.headers())
    assert first.status_code == 201, first.text
    ticket = first.json()
    assert ticket["kind"] == "github" and ticket["state"] == "open" and ticket["attempts"] == ["201"]
    issue = fake.state.github[int(ticket["external_key"])]
    assert ticket["url"] == issue["html_url"]
    assert issue["title"] == "[CloudOptima] Stop idle VM 0"
    assert "Estimated savings: 12.50 USD per month" in issue["body"] and "Resources: i-0" in issue["body"]
    assert f"/recommendations/{done}" in issue["body"]  # the console link

    creates = len(fake.state.github)
    again = client.post(f"/v1/recommendations/{done}/ticket", json={}, headers=org.headers())
    assert again.status_code == 200 and again.json()["external_key"] == ticket["external_key"]
    assert again.json()["created"] is False and len(fake.state.github) == creates  # tracker not called again
    declined_key = client.post(
        f"/v1/recommendations/{declined}/ticket", json={}, headers=org.headers()
    ).json()
    open_key = client.post(f"/v1/recommendations/{still_open}/ticket", json={}, headers=org.headers()).json()
    assert (
        client.get(f"/v1/recommendations/{still_open}/ticket", headers=org.headers("viewer")).json()[
            "external_key"
        ]
        == open_key["external_key"]
    )

    fake.state.github[int(ticket["external_key"])] |= {"state": "closed", "state_reason": "completed"}
    fake.state.github[int(declined_key["external_key"])] |= {"state": "closed", "state_reason": "not_planned"}
    synced = client.post("/v1/ticket-trackers/sync", headers=org.headers())
    assert synced.status_code == 200, synced.text
    assert synced.json() == {
        "checked": 3, "completed": [done], "not_planned": [declined], "reopened": [], "gone": [], "errors": [],
    }  # fmt: skip
    rec = client.get(f"/v1/recommendations/{declined}", headers=org.headers()).json()
    assert rec["status"] == "dismissed" and rec["history"][-1]["reason"] == "ticket closed as not planned"
    shown = client.get(f"/v1/recommendations/{done}", headers=org.headers()).json()
    assert shown["status"] == "active"
    assert shown["ticket"] == {
        "tracker_name": "gh", "kind": "github", "external_key": ticket["external_key"], "url": ticket["url"],
        "state": "completed",
    }  # fmt: skip
    closed = _audit(engine, org, "recommendation.ticket_closed")
    assert sorted(str(c["closed_as"]) for c in closed) == ["completed", "not_planned"]
    assert [c.get("hint") for c in closed if c["closed_as"] == "completed"] == ["applied_by_hand"]
    assert len(_audit(engine, org, "recommendation.dismiss")) == 1
    # closed tickets are read again for a reopen (within the window), and change nothing while closed
    again_synced = client.post("/v1/ticket-trackers/sync", headers=org.headers()).json()
    assert again_synced["checked"] == 3 and again_synced["completed"] == again_synced["not_planned"] == []

    bad = make_org(engine, gateway_settings, name="tickets-gh-bad")
    _tracker(client, bad, **{**body, "name": "gh-bad", "token": "wrong"})
    (rec_id,) = _recs(engine, bad, 1)
    refused = client.post(f"/v1/recommendations/{rec_id}/ticket", json={}, headers=bad.headers())
    assert refused.status_code == 502
    assert refused.json()["detail"].startswith("tracker 'gh-bad' (github): the token was refused (401)")
    assert client.get(f"/v1/recommendations/{rec_id}/ticket", headers=bad.headers()).status_code == 404


def test_jira_ticket_retried_idempotent_and_closes_synced(
    client: TestClient, engine: Engine, gateway_settings: Settings, fake: FakeTrackers
) -> None:
    org = make_org(engine, gateway_settings, name="tickets-jira")
    body = {"name": "jira", "kind": "jira", "base_url": fake.url, "project": PROJECT, "token": JIRA_TOKEN}
    missing_login = client.post("/v1/ticket-trackers", json=body, headers=org.headers())
    assert missing_login.status_code == 422 and missing_login.json()["detail"][0]["loc"] == ["body", "login"]
    _tracker(client, org, **body, login=JIRA_LOGIN)
    done, declined = _recs(engine, org, 2)

    fake.state.fail_next[:] = [503]  # a 5xx, then success: retried, and the attempts say so
    first = client.post(f"/v1/recommendations/{done}/ticket", json={}, headers=org.headers())
    assert first.status_code == 201, first.text
    assert first.json()["attempts"] == ["503", "201"]
    key = first.json()["external_key"]
    assert first.json()["url"] == f"{fake.url}/browse/{key}"
    description = fake.state.jira[key]["fields"]["description"]
    texts = [block["content"][0]["text"] for block in description["content"]]
    assert description["type"] == "doc" and "Estimated savings: 12.50 USD per month" in texts
    opened = _audit(engine, org, "recommendation.ticket_opened")
    assert [o["attempts"] for o in opened] == [["503", "201"]]
    again = client.post(f"/v1/recommendations/{done}/ticket", json={}, headers=org.headers())
    assert again.status_code == 200 and again.json()["external_key"] == key
    other = client.post(f"/v1/recommendations/{declined}/ticket", json={}, headers=org.headers()).json()

    fake.state.jira[key] |= {"status": "Done", "category": "done", "resolution": "Done"}
    fake.state.jira[other["external_key"]] |= {
        "status": "Closed",
        "category": "done",
        "resolution": "Won't Do",
    }
    synced = client.post("/v1/ticket-trackers/sync", headers=org.headers()).json()
    assert synced == {
        "checked": 2, "completed": [done], "not_planned": [declined], "reopened": [], "gone": [], "errors": [],
    }  # fmt: skip
    rec = client.get(f"/v1/recommendations/{declined}", headers=org.headers()).json()
    assert rec["status"] == "dismissed" and rec["history"][-1]["reason"] == "ticket closed as not planned"

    bad = make_org(engine, gateway_settings, name="tickets-jira-bad")
    _tracker(client, bad, **{**body, "name": "jira-bad", "token": "nope"}, login=JIRA_LOGIN)
    (rec_id,) = _recs(engine, bad, 1)
    refused = client.post(f"/v1/recommendations/{rec_id}/ticket", json={}, headers=bad.headers())
    assert refused.status_code == 502
    assert refused.json()["detail"].startswith("tracker 'jira-bad' (jira): the token was refused (401)")


def test_webhook_ticket_is_signed(
    client: TestClient, engine: Engine, gateway_settings: Settings, fake: FakeTrackers
) -> None:
    org = make_org(engine, gateway_settings, name="tickets-hook")
    hook = {
        "name": "hook",
        "kind": "webhook",
        "base_url": f"{fake.url}/hook",
        "project": "ops",
        "token": HOOK_SECRET,
    }
    _tracker(client, org, **hook)
    (rec_id,) = _recs(engine, org, 1)
    made = client.post(f"/v1/recommendations/{rec_id}/ticket", json={}, headers=org.headers())
    assert made.status_code == 201, made.text
    assert made.json()["external_key"] == f"WH-{len(fake.state.hooks)}"
    sent = fake.state.hooks[-1]
    assert sent["recommendation_id"] == rec_id and sent["savings_monthly"] == "12.50"

    wrong = make_org(engine, gateway_settings, name="tickets-hook-bad")
    _tracker(client, wrong, **{**hook, "name": "hook-bad", "token": "other-secret"})
    (bad_rec,) = _recs(engine, wrong, 1)
    refused = client.post(f"/v1/recommendations/{bad_rec}/ticket", json={}, headers=wrong.headers())
    assert refused.status_code == 502 and "tracker 'hook-bad' (webhook)" in refused.json()["detail"]


def test_retry_after_is_honoured(fake: FakeTrackers) -> None:
    waits: list[float] = []
    with httpx.Client(timeout=5) as http:
        client = TrackerClient(
            name="gh", kind="github", base_url=fake.url, project=REPO, token=GITHUB_TOKEN, login=None,
            http=http, sleep=waits.append,
        )  # fmt: skip
        fake.state.fail_next[:] = [429, 502]
        draft = TicketDraft("r", "t", None, "USD", [], None, None)
        key, _ = client.create(draft, idempotency_key="k")
        assert client.attempts == ["429", "502", "201"] and waits == [
            0.0,
            0.0,
        ]  # Retry-After: 0 read, not 1, 2
        fake.state.fail_next[:] = [503, 503, 503]
        with pytest.raises(Exception, match="tracker 'gh' \\(github\\): answered 503 3 times"):
            client.state(key)


def test_a_concurrent_first_call_answers_the_stored_ticket(
    engine: Engine, gateway_settings: Settings, fake: FakeTrackers
) -> None:
    """Another call stores its ticket while this one is at the tracker: this one answers the stored ticket."""
    org = make_org(engine, gateway_settings, name="tickets-race")
    (rec_id,) = _recs(engine, org, 1)
    cipher = CredentialCipher(gateway_settings.resolved_encryption_key)
    now = datetime.now(UTC)
    with Session(engine) as session:
        scope(session, org.id)
        tracker = Tickets(session, org.id, cipher=cipher, now=lambda: now, allow_insecure_localhost=True)
        tracker_id = tracker.add_tracker(
            name="gh", kind="github", base_url=fake.url, project=REPO, token=GITHUB_TOKEN, login=None,
            actor=AuditActor(),
        ).id  # fmt: skip
        session.commit()

    def other_call_wins(recommendation_id: uuid.UUID) -> str | None:
        with Session(engine) as other:
            other.add(
                RecommendationTicketRow(
                    organization_id=org.id, recommendation_id=recommendation_id, tracker_id=tracker_id,
                    external_key="first", url="https://github.com/acme/infra/issues/first", created_at=now,
                )
            )  # fmt: skip
            other.commit()
        return None

    with Session(engine) as session, httpx.Client(timeout=5) as http:
        scope(session, org.id)
        tickets = Tickets(session, org.id, cipher=cipher, now=lambda: now, http=http)
        view = tickets.open_ticket(
            uuid.UUID(rec_id), tracker_id=None, console_link=other_call_wins, actor=AuditActor()
        )
        session.commit()
    assert (view.external_key, view.created) == ("first", False)


def test_an_unreachable_tracker_is_retried_then_named() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    waits: list[float] = []
    with httpx.Client(timeout=2) as http:
        client = TrackerClient(
            name="jira", kind="jira", base_url=f"http://127.0.0.1:{port}", project=PROJECT, token=JIRA_TOKEN,
            login=JIRA_LOGIN, http=http, sleep=waits.append,
        )  # fmt: skip
        with pytest.raises(
            TrackerError, match=f"tracker 'jira' \\(jira\\): cannot reach http://127.0.0.1:{port}"
        ):
            client.state("OPS-1")
    assert client.attempts == ["error: ConnectError"] * 3 and waits == [1.0, 2.0]
