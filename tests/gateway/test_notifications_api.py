"""``/v1/notifications`` and the ``notifications`` WebSocket channel: the caller's own inbox only, newest
first in pages, unread counts, read marks (404 for anyone else's notice), and live pushes that reach only
the addressed user's sockets."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from temporalio.testing import WorkflowEnvironment

from cloudoptima.domain.inbox import InboxNotice
from cloudoptima.services.events import EventPublisher
from cloudoptima.services.inbox import Inbox, notify_pending_approval
from cloudoptima.settings import Settings
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.tenancy import scope
from cloudoptima_workflows.remediation.activities import RemediationDeps
from tests.gateway.conftest import Org, make_org
from tests.gateway.test_approvals_api import headers_for, stop_recommendation
from tests.workflows.test_remediation_harness import (
    remediation_worker,
    sandbox_copy,
    sandbox_factory,
    tenant,
    until_recorded,
)

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def _post(
    engine: Engine,
    org: Org,
    role: str,
    title: str,
    *,
    key: str | None = None,
    at: datetime = NOW,
    publish: EventPublisher | None = None,
) -> uuid.UUID:
    with Session(engine) as session:
        scope(session, org.id)
        notice = InboxNotice(event_type="test.notice", severity="warning", title=title, link="/v1/budgets")
        [item] = Inbox(session, org.id, publish=publish).post(
            [org.users[role]], notice, idempotency_key=key or uuid.uuid4().hex, now=at
        )
        session.commit()
    return item.id


def test_inbox_pages_counts_and_read_marks(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings, name="inbox")
    ids = [_post(engine, org, "analyst", f"n{n}", at=NOW + timedelta(minutes=n)) for n in range(5)]
    _post(engine, org, "analyst", "n0 again", key="same", at=NOW)
    _post(engine, org, "analyst", "n0 again", key="same", at=NOW)  # idempotent: one row
    headers = org.headers("analyst")

    titles: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/v1/notifications", headers=headers, params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        assert body["unread_count"] == 6
        titles += [item["title"] for item in body["items"]]
        cursor = body.get("next_cursor")
        if not cursor:
            break
    assert titles[:4] == ["n4", "n3", "n2", "n1"]  # newest first; the two at NOW tie-break by id
    assert len(titles) == 6 and sorted(titles[4:]) == ["n0", "n0 again"]

    read = client.post(f"/v1/notifications/{ids[4]}/read", headers=headers)
    assert read.status_code == 200 and read.json()["read_at"] is not None
    again = client.post(f"/v1/notifications/{ids[4]}/read", headers=headers)
    assert again.json()["read_at"] == read.json()["read_at"]  # already read: unchanged
    assert client.get("/v1/notifications/unread-count", headers=headers).json() == {"unread_count": 5}
    unread = client.get("/v1/notifications", headers=headers, params={"unread": "true", "limit": 10}).json()
    assert [i["title"] for i in unread["items"]][:3] == ["n3", "n2", "n1"] and len(unread["items"]) == 5

    done = client.post("/v1/notifications/read-all", headers=headers)
    assert done.status_code == 200 and done.json() == {"marked": 5, "unread_count": 0}
    assert client.get("/v1/notifications", headers=headers, params={"unread": "true"}).json()["items"] == []

    bad = client.get("/v1/notifications", headers=headers, params={"cursor": "garbage"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "cursor"]
    assert client.get("/v1/notifications", headers=headers, params={"limit": 0}).status_code == 422
    assert client.get("/v1/notifications").status_code == 401


def test_another_users_or_organisations_notices_are_invisible(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org, other = make_org(engine, gateway_settings), make_org(engine, gateway_settings)
    mine = _post(engine, org, "viewer", "for the viewer")
    colleague = _post(engine, org, "admin", "for the admin")
    foreign = _post(engine, other, "viewer", "for another organisation")

    listed = client.get("/v1/notifications", headers=org.headers("viewer")).json()
    assert [i["id"] for i in listed["items"]] == [str(mine)] and listed["unread_count"] == 1
    for notice in (colleague, foreign, uuid.uuid4()):
        response = client.post(f"/v1/notifications/{notice}/read", headers=org.headers("viewer"))
        assert response.status_code == 404, response.text
        assert response.json()["detail"] == f"notification {notice} not found"
    # the admin of the organisation is refused another user's notice too; read-all touches only their own
    assert client.post(f"/v1/notifications/{mine}/read", headers=org.headers("admin")).status_code == 404
    assert client.post("/v1/notifications/read-all", headers=org.headers("admin")).json()["marked"] == 1
    assert (
        client.get("/v1/notifications/unread-count", headers=org.headers("viewer")).json()["unread_count"]
        == 1
    )
    assert (
        client.get("/v1/notifications/unread-count", headers=other.headers("viewer")).json()["unread_count"]
        == 1
    )


def test_a_posted_notice_is_pushed_to_the_addressed_user_only(
    client: TestClient, engine: Engine, gateway_settings: Settings, redis_url: str
) -> None:
    org, other = make_org(engine, gateway_settings), make_org(engine, gateway_settings)
    publish = EventPublisher(redis.Redis.from_url(redis_url))
    try:
        with (
            client.websocket_connect(f"/v1/stream?token={org.tokens['viewer']}") as viewer,
            client.websocket_connect(f"/v1/stream?token={org.tokens['admin']}") as admin,
            client.websocket_connect(f"/v1/stream?token={other.tokens['viewer']}") as stranger,
        ):
            for socket in (viewer, admin, stranger):
                socket.send_json({"type": "subscribe", "channel": "notifications"})
                assert socket.receive_json() == {"type": "subscribed", "channel": "notifications"}
            for_viewer = _post(engine, org, "viewer", "viewer only", publish=publish)
            for_admin = _post(engine, org, "admin", "admin only", publish=publish)
            for_stranger = _post(engine, other, "viewer", "stranger only", publish=publish)

            pushed = viewer.receive_json()
            assert pushed["channel"] == "notifications"
            assert pushed["data"]["user_id"] == str(org.users["viewer"])
            assert pushed["data"]["notification"]["id"] == str(for_viewer)
            assert pushed["data"]["notification"]["title"] == "viewer only"
            # each socket's first notice is its own: the earlier ones of other users were not forwarded
            assert admin.receive_json()["data"]["notification"]["id"] == str(for_admin)
            assert stranger.receive_json()["data"]["notification"]["id"] == str(for_stranger)
            _post(engine, org, "viewer", "second", publish=publish)
            assert viewer.receive_json()["data"]["notification"]["title"] == "second"
    finally:
        publish.close()


async def _inbox_of(client: TestClient, headers: dict[str, str], event_type: str) -> list[dict[str, Any]]:
    """The caller's notices of ``event_type``, once at least one arrived (bounded poll: the record activity
    posts right after it recorded the state the test waited for)."""
    for _ in range(200):
        body = (await asyncio.to_thread(client.get, "/v1/notifications", headers=headers)).json()
        found = [i for i in body["items"] if i["event_type"] == event_type]
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {event_type} notice arrived")


async def test_a_pending_approval_reaches_the_approvers_inbox_once(
    client: TestClient,
    engine: Engine,
    gateway_settings: Settings,
    temporal_env: WorkflowEnvironment,
    redis_url: str,
    tmp_path: Path,
) -> None:
    publish = EventPublisher(redis.Redis.from_url(redis_url))
    with tenant(engine, sandbox_copy(tmp_path / "sandbox"), name="inbox-approvals") as org:
        vm = org.running_instances(1)[0].resource_id
        recommendation = stop_recommendation(engine, org, vm)
        role_headers = {
            role: headers_for(engine, gateway_settings, org.users[role])
            for role in ("engineer", "finops_manager", "admin")
        }
        deps = RemediationDeps(
            sessions=session_factory(engine),
            providers=sandbox_factory(org),
            publish=publish,
            console_url="https://finops.example.com",
        )
        try:
            async with remediation_worker(temporal_env.client, deps):
                applied = await asyncio.to_thread(
                    client.post,
                    f"/v1/recommendations/{recommendation}/apply",
                    headers=role_headers["finops_manager"],
                    json={},
                )
                assert applied.status_code == 200, applied.text
                execution_id = str(applied.json()["execution_id"])
                await until_recorded(engine, execution_id, "pending_approval")
                [notice] = await _inbox_of(client, role_headers["admin"], "approval.pending")
                assert notice["link"] == f"https://finops.example.com/approvals/{execution_id}"
                assert notice["payload"]["execution_id"] == execution_id
                [manager_notice] = await _inbox_of(client, role_headers["finops_manager"], "approval.pending")
                roles = notice["payload"]["approver_roles"]
                assert "engineer" not in roles  # a medium-risk change: engineers may not decide it
                engineer = client.get("/v1/notifications", headers=role_headers["engineer"]).json()
                assert engineer["items"] == [] and manager_notice["id"] != notice["id"]
                # posting again for the same execution (a retried record activity) adds nothing
                with Session(engine) as session:
                    scope(session, org.organization_id)
                    again = notify_pending_approval(
                        session, org.organization_id, uuid.UUID(execution_id), now=NOW
                    )
                    session.commit()
                assert notice["id"] in {str(i.id) for i in again}
                admin = client.get("/v1/notifications", headers=role_headers["admin"]).json()
                assert len(admin["items"]) == 1 and admin["unread_count"] == 1
                await temporal_env.client.get_workflow_handle(f"remediation-{execution_id}").cancel()
        finally:
            publish.close()
