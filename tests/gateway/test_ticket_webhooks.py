"""Tickets kept in sync (#22): signed tracker webhooks (GitHub ``issues``, Jira ``jira:issue_updated``, the generic
callback) close, reopen and delete tickets exactly once per delivery; the sync finds reopened and deleted issues;
per-tracker sync errors stay visible. Real database, strict local tracker fakes, signatures checked for real."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cloudoptima.notifications.webhook_signature import sign
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.audit import AuditActor
from cloudoptima.services.ticket_clients import TrackerClient, TrackerError
from cloudoptima.services.tickets import Tickets
from cloudoptima.settings import Settings
from cloudoptima.storage.models import Recommendation
from cloudoptima.storage.models.tickets import TicketTrackerRow, TicketWebhookDeliveryRow
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
    github_delivery,
    jira_delivery,
)
from tests.gateway.test_tickets_api import _audit, _recs

SECRET = "whsec-0123456789abcdef"


@pytest.fixture(scope="module")
def gateway_settings(gateway_settings: Settings) -> Settings:
    return gateway_settings.model_copy(update={"notifications_allow_insecure_localhost": True})


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTrackers]:
    with FakeTrackers() as server:
        yield server


def _status(engine: Engine, rec_id: str) -> str:
    with Session(engine) as session:
        row = session.get(Recommendation, uuid.UUID(rec_id))
        assert row is not None
        return row.status


def _issue(number: int, action: str, *, reason: str | None = None, repo: str = REPO) -> dict[str, Any]:
    state = "closed" if action == "closed" else "open"
    return {
        "action": action,
        "issue": {"number": number, "state": state, "state_reason": reason},
        "repository": {"full_name": repo},
    }


def test_github_webhook_closes_reopens_deletes_once(
    client: TestClient, engine: Engine, gateway_settings: Settings, fake: FakeTrackers
) -> None:
    org = make_org(engine, gateway_settings, name="tickets-hooks-gh")
    body = {"name": "gh", "kind": "github", "base_url": fake.url, "project": REPO, "token": GITHUB_TOKEN}
    short = client.post(
        "/v1/ticket-trackers", json={**body, "webhook_secret": "short"}, headers=org.headers()
    )
    assert short.status_code == 422 and short.json()["detail"][0]["loc"] == ["body", "webhook_secret"]
    created = client.post(
        "/v1/ticket-trackers", json={**body, "webhook_secret": SECRET}, headers=org.headers()
    )
    assert created.status_code == 201, created.text
    tracker = created.json()
    assert tracker["webhook_secret"] == SECRET and tracker["webhook_secret_set"] is True
    hook = tracker["webhook_url_path"]
    assert hook == f"/v1/ticket-trackers/{tracker['id']}/webhook"
    listed = client.get("/v1/ticket-trackers", headers=org.headers()).json()["trackers"]
    assert "webhook_secret" not in listed[0] and listed[0]["webhook_secret_set"] is True
    with Session(engine) as session:  # encrypted at rest
        stored = session.get(TicketTrackerRow, uuid.UUID(tracker["id"]))
        assert stored is not None and stored.webhook_secret_encrypted
        assert SECRET not in stored.webhook_secret_encrypted

    declined, done, other = _recs(engine, org, 3)
    keys = [
        int(
            client.post(f"/v1/recommendations/{r}/ticket", json={}, headers=org.headers()).json()[
                "external_key"
            ]
        )
        for r in (declined, done, other)
    ]

    raw, headers = github_delivery(SECRET, "issues", _issue(keys[0], "closed", reason="not_planned"), "d-1")
    unsigned = {k: v for k, v in headers.items() if k != "X-Hub-Signature-256"}
    missing = client.post(hook, content=raw, headers=unsigned)
    assert missing.status_code == 401 and "X-Hub-Signature-256 is missing" in missing.json()["detail"]
    _, forged = github_delivery("not-the-secret", "issues", _issue(keys[0], "closed"), "d-1")
    wrong = client.post(hook, content=raw, headers=forged)
    assert wrong.status_code == 401 and "X-Hub-Signature-256 does not match" in wrong.json()["detail"]
    nowhere = client.post(f"/v1/ticket-trackers/{uuid.uuid4()}/webhook", content=raw, headers=headers)
    assert nowhere.status_code == 401
    huge = client.post(hook, content=b"x" * (1_048_576 + 1), headers=headers)
    assert huge.status_code == 413
    assert _status(engine, declined) == "active"  # nothing refused changed anything

    answer = client.post(hook, content=raw, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "delivery": "d-1", "event": "issues", "outcome": "not_planned", "recommendation_id": declined,
    }  # fmt: skip
    assert _status(engine, declined) == "dismissed"
    replay = client.post(hook, content=raw, headers=headers)
    assert replay.status_code == 200 and replay.json()["outcome"] == "duplicate"
    assert len(_audit(engine, org, "recommendation.dismiss")) == 1

    def send(payload: dict[str, Any], delivery: str, event: str = "issues") -> str:
        raw, headers = github_delivery(SECRET, event, payload, delivery)
        response = client.post(hook, content=raw, headers=headers)
        assert response.status_code == 200, response.text
        return str(response.json()["outcome"])

    assert send(_issue(keys[0], "reopened"), "d-2") == "reopened"
    assert _status(engine, declined) == "active"  # dismissed by the ticket → open again
    assert send(_issue(keys[1], "closed", reason="completed"), "d-3") == "completed"
    assert send(_issue(keys[1], "reopened"), "d-4") == "reopened"
    reopened = _audit(engine, org, "recommendation.ticket_reopened")
    assert sorted(str(r["was"]) for r in reopened) == ["completed", "not_planned"]
    assert [r.get("hint_withdrawn") for r in reopened if r["was"] == "completed"] == ["applied_by_hand"]
    assert [r.get("recommendation") for r in reopened if r["was"] == "not_planned"] == ["reopened"]
    history = client.get(f"/v1/recommendations/{declined}", headers=org.headers()).json()["history"]
    assert [h["to_status"] for h in history][-2:] == ["dismissed", "active"]

    assert send(_issue(keys[2], "closed"), "d-5", event="ping") == "ignored: ping"
    assert send(_issue(keys[2], "labeled"), "d-6") == "ignored: action labeled"
    assert send(_issue(keys[2], "closed", repo="acme/other"), "d-7") == "ignored: repository acme/other"
    assert send(_issue(999, "closed"), "d-8") == "ignored: no ticket 999"
    assert send(_issue(keys[2], "transferred"), "d-9") == "gone"
    assert send(_issue(keys[2], "reopened"), "d-10") == "unchanged"  # gone is final
    ticket = client.get(f"/v1/recommendations/{other}/ticket", headers=org.headers()).json()
    assert ticket["state"] == "gone"
    with Session(engine) as session:
        scope(session, org.id)
        seen = session.scalars(select(TicketWebhookDeliveryRow.delivery_id)).all()
        assert sorted(seen) == sorted(f"d-{i}" for i in range(1, 11))


def test_jira_and_generic_webhooks_are_signed(
    client: TestClient, engine: Engine, gateway_settings: Settings, fake: FakeTrackers
) -> None:
    org = make_org(engine, gateway_settings, name="tickets-hooks-jira")
    jira = client.post(
        "/v1/ticket-trackers",
        json={"name": "jira", "kind": "jira", "base_url": fake.url, "project": PROJECT, "token": JIRA_TOKEN,
              "login": JIRA_LOGIN},
        headers=org.headers(),
    ).json()  # fmt: skip
    made_secret = jira["webhook_secret"]
    assert len(made_secret) >= 32  # made for the admin when none was given
    (rec,) = _recs(engine, org, 1)
    key = client.post(f"/v1/recommendations/{rec}/ticket", json={}, headers=org.headers()).json()[
        "external_key"
    ]
    issue = {
        "key": key,
        "fields": {"status": {"statusCategory": {"key": "done"}}, "resolution": {"name": "Won't Do"}},
    }
    payload = {"webhookEvent": "jira:issue_updated", "issue": issue}
    raw, headers = jira_delivery(made_secret, payload, "j-1")
    bad_raw, bad_headers = jira_delivery("guess", payload, "j-1")
    refused = client.post(jira["webhook_url_path"], content=raw, headers=bad_headers)
    assert refused.status_code == 401 and "X-Hub-Signature does not match" in refused.json()["detail"]
    assert bad_raw == raw
    answer = client.post(jira["webhook_url_path"], content=raw, headers=headers)
    assert answer.status_code == 200 and answer.json()["outcome"] == "not_planned", answer.text
    assert _status(engine, rec) == "dismissed"
    reopened = {"webhookEvent": "jira:issue_updated", "issue": {"key": key, "fields": {"status": {
        "statusCategory": {"key": "indeterminate"}}, "resolution": None}}}  # fmt: skip
    raw, headers = jira_delivery(made_secret, reopened, "j-2")
    assert client.post(jira["webhook_url_path"], content=raw, headers=headers).json()["outcome"] == "reopened"
    assert _status(engine, rec) == "active"

    hook = client.post(
        "/v1/ticket-trackers",
        json={"name": "hook", "kind": "webhook", "base_url": f"{fake.url}/hook", "project": "ops",
              "token": HOOK_SECRET, "webhook_secret": SECRET},
        headers=org.headers(),
    ).json()  # fmt: skip
    rec2 = _recs_more(engine, org)
    key2 = client.post(
        f"/v1/recommendations/{rec2}/ticket", json={"tracker_id": hook["id"]}, headers=org.headers()
    ).json()["external_key"]

    def callback(body: dict[str, Any], delivery: str, stamp: int) -> Any:
        raw = json.dumps(body).encode()
        headers = {
            "X-CloudOptima-Signature": sign(SECRET, stamp, raw),
            "X-CloudOptima-Timestamp": str(stamp),
            "X-CloudOptima-Delivery": delivery,
        }
        return client.post(hook["webhook_url_path"], content=raw, headers=headers)

    stale = callback({"event": "ticket.updated", "key": key2, "state": "completed"}, "w-1", 1_000_000_000)
    assert stale.status_code == 401 and "stale or replayed" in stale.json()["detail"]
    fresh = int(
        time.time()
    )  # the route checks the timestamp against its own clock (five minutes either side)
    bad = callback({"event": "ticket.updated", "key": key2, "state": "finished"}, "w-2", fresh)
    assert bad.status_code == 400 and bad.json()["detail"].startswith("state: one of")
    done = callback({"event": "ticket.updated", "key": key2, "state": "completed"}, "w-3", fresh)
    assert done.status_code == 200 and done.json()["outcome"] == "completed", done.text
    closed = [c for c in _audit(engine, org, "recommendation.ticket_closed") if c["key"] == key2]
    assert closed and closed[0]["via"] == "webhook" and closed[0]["hint"] == "applied_by_hand"


_extra = iter(range(100, 200))


def _recs_more(engine: Engine, org: Org) -> str:
    """One more recommendation (distinct fingerprint from ``_recs``)."""
    with Session(engine) as session:
        row = Recommendation(
            organization_id=org.id, fingerprint=f"fp-ticket-more-{next(_extra)}", rule_id="idle_vm",
            provider="aws", title="Delete unattached disk", category="storage", risk_level="low",
            resource_ids=["vol-1"], affected_resources=[], actions=[], status="active",
        )  # fmt: skip
        session.add(row)
        session.commit()
        return str(row.id)


def test_sync_sees_reopened_and_deleted_issues(
    engine: Engine, gateway_settings: Settings, fake: FakeTrackers
) -> None:
    """Pinned clock: closed, then reopened within the window, then deleted (410): gone, and not read again."""
    org = make_org(engine, gateway_settings, name="tickets-sync-reopen")
    cipher = CredentialCipher(gateway_settings.resolved_encryption_key)
    clock = [datetime(2031, 3, 1, 12, tzinfo=UTC)]
    done, declined = (uuid.UUID(r) for r in _recs(engine, org, 2))

    def tickets(session: Session, http: httpx.Client) -> Tickets:
        scope(session, org.id)
        return Tickets(
            session, org.id, cipher=cipher, now=lambda: clock[0], http=http, allow_insecure_localhost=True
        )

    with Session(engine) as session, httpx.Client(timeout=5) as http:
        service = tickets(session, http)
        service.add_tracker(
            name="gh", kind="github", base_url=fake.url, project=REPO, token=GITHUB_TOKEN, login=None,
            actor=AuditActor(),
        )  # fmt: skip
        numbers = [
            int(
                service.open_ticket(
                    r, tracker_id=None, console_link=lambda _r: None, actor=AuditActor()
                ).external_key
            )
            for r in (done, declined)
        ]
        session.commit()
    fake.state.github[numbers[0]] |= {"state": "closed", "state_reason": "completed"}
    fake.state.github[numbers[1]] |= {"state": "closed", "state_reason": "not_planned"}
    with Session(engine) as session, httpx.Client(timeout=5) as http:
        first = tickets(session, http).sync(actor=AuditActor())
        session.commit()
    assert (first.completed, first.not_planned) == ([done], [declined])

    clock[0] += timedelta(days=29)  # within the reopen window
    fake.state.github[numbers[1]] |= {"state": "open", "state_reason": "reopened"}
    fake.state.github[numbers[0]]["gone"] = 410
    with Session(engine) as session, httpx.Client(timeout=5) as http:
        second = tickets(session, http).sync(actor=AuditActor())
        session.commit()
    assert (second.checked, second.reopened, second.gone, second.errors) == (2, [declined], [done], [])
    assert _status(engine, str(declined)) == "active"
    with Session(engine) as session, httpx.Client(timeout=5) as http:
        third = tickets(session, http).sync(actor=AuditActor())
        trackers = tickets(session, http).trackers()
        session.commit()
    assert third.checked == 1 and third.gone == []  # the deleted issue is not read again
    assert trackers[0].last_synced_at == clock[0] and trackers[0].last_sync_error is None
    gone = _audit(engine, org, "recommendation.ticket_gone")
    assert [g["was"] for g in gone] == ["completed"]


def test_a_404_is_gone_only_while_the_project_still_reads(fake: FakeTrackers) -> None:
    """An unknown issue in a readable repo/project is gone; when the token lost the repo (404 everywhere) the read
    fails naming the tracker instead of marking every ticket gone."""
    with httpx.Client(timeout=5) as http:
        github = TrackerClient(
            name="gh",
            kind="github",
            base_url=fake.url,
            project=REPO,
            token=GITHUB_TOKEN,
            login=None,
            http=http,
        )
        jira = TrackerClient(
            name="jira", kind="jira", base_url=fake.url, project=PROJECT, token=JIRA_TOKEN, login=JIRA_LOGIN,
            http=http,
        )  # fmt: skip
        assert github.state("9999") == "gone" and jira.state(f"{PROJECT}-9999") == "gone"
        fake.state.repo_hidden = True
        try:
            with pytest.raises(TrackerError, match="tracker 'gh' \\(github\\): not found \\(404\\)"):
                github.state("9999")
        finally:
            fake.state.repo_hidden = False


def test_editing_a_tracker_checks_fields_and_rotates_the_secret(
    client: TestClient, engine: Engine, gateway_settings: Settings, fake: FakeTrackers
) -> None:
    org = make_org(engine, gateway_settings, name="tickets-edit")
    body = {"name": "gh", "kind": "github", "base_url": fake.url, "project": REPO, "token": "old-token"}
    tracker = client.post(
        "/v1/ticket-trackers", json={**body, "webhook_secret": SECRET}, headers=org.headers()
    ).json()
    path = f"/v1/ticket-trackers/{tracker['id']}"
    assert client.patch(path, json={"token": GITHUB_TOKEN}, headers=org.headers("viewer")).status_code == 403
    bad = client.patch(path, json={"project": "no-slash", "token": GITHUB_TOKEN}, headers=org.headers())
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "project"]
    with Session(engine) as session:  # nothing changed by the refused edit
        row = session.get(TicketTrackerRow, uuid.UUID(tracker["id"]))
        assert row is not None and row.project == REPO
        cipher = CredentialCipher(gateway_settings.resolved_encryption_key)
        assert cipher.decrypt(row.token_encrypted)["token"] == "old-token"
    rotated = client.patch(
        path, json={"token": GITHUB_TOKEN, "rotate_webhook_secret": True}, headers=org.headers()
    )
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["webhook_secret"]
    assert new_secret and new_secret != SECRET
    assert client.patch(path, json={}, headers=org.headers()).json()["webhook_secret"] is None

    (rec,) = _recs(engine, org, 1)  # the new token works: the tracker accepts it
    key = client.post(f"/v1/recommendations/{rec}/ticket", json={}, headers=org.headers()).json()[
        "external_key"
    ]
    payload = _issue(int(key), "closed", reason="completed")
    raw, old_headers = github_delivery(SECRET, "issues", payload, "e-1")
    assert client.post(tracker["webhook_url_path"], content=raw, headers=old_headers).status_code == 401
    raw, headers = github_delivery(new_secret, "issues", payload, "e-1")
    assert (
        client.post(tracker["webhook_url_path"], content=raw, headers=headers).json()["outcome"]
        == "completed"
    )
    updated = _audit(engine, org, "ticket_tracker.updated")
    assert [u["changed"] for u in updated] == [["token", "webhook_secret"]]
