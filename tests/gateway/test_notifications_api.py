"""``/v1/notifications`` and the ``notifications`` WebSocket channel: the caller's own inbox only, newest
first in pages, unread counts, read marks (404 for anyone else's notice), and live pushes that reach only
the addressed user's sockets."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cloudoptima.domain.inbox import InboxNotice
from cloudoptima.services.events import EventPublisher
from cloudoptima.services.inbox import Inbox
from cloudoptima.settings import Settings
from cloudoptima.storage.tenancy import scope
from tests.gateway.conftest import Org, make_org

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
