"""WebSocket ``/v1/stream``: two organisations at once, each sees only its own events; unsubscribe works;
a bad frame gets an error frame and the socket stays usable; a bad token is refused."""

from __future__ import annotations

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from starlette.websockets import WebSocketDisconnect

from cloudoptima.services.events import EventPublisher
from cloudoptima.settings import Settings
from tests.gateway.conftest import make_org


def test_each_organisation_sees_only_its_own_events(
    client: TestClient, engine: Engine, gateway_settings: Settings, redis_url: str
) -> None:
    first, second = make_org(engine, gateway_settings), make_org(engine, gateway_settings)
    publish = EventPublisher(redis.Redis.from_url(redis_url))
    with (
        client.websocket_connect(f"/v1/stream?token={first.tokens['viewer']}") as one,
        client.websocket_connect(f"/v1/stream?token={second.tokens['viewer']}") as two,
    ):
        for socket in (one, two):
            socket.send_json({"type": "subscribe", "channel": "anomalies"})
            assert socket.receive_json() == {"type": "subscribed", "channel": "anomalies"}
        two.send_json({"type": "subscribe", "channel": "cost_updates"})
        assert two.receive_json()["type"] == "subscribed"

        publish(first.id, "anomalies", {"n": 1})
        publish(second.id, "anomalies", {"n": 2})
        publish(second.id, "cost_updates", {"n": 3})
        publish(first.id, "cost_updates", {"n": 4})  # first is not subscribed to cost_updates
        publish(first.id, "anomalies", {"n": 5})

        assert one.receive_json()["data"] == {"n": 1}
        assert one.receive_json()["data"] == {"n": 5}  # nothing of the second organisation in between
        got = [two.receive_json(), two.receive_json()]
        assert [(m["channel"], m["data"]) for m in got] == [
            ("anomalies", {"n": 2}),
            ("cost_updates", {"n": 3}),
        ]

        two.send_json({"type": "unsubscribe", "channel": "anomalies"})
        assert two.receive_json() == {"type": "unsubscribed", "channel": "anomalies"}
        publish(second.id, "anomalies", {"n": 6})
        publish(second.id, "cost_updates", {"n": 7})
        assert two.receive_json()["data"] == {"n": 7}

        one.send_text("not json")
        assert one.receive_json()["type"] == "error"
        one.send_json({"type": "subscribe", "channel": "secrets"})
        error = one.receive_json()
        assert error["type"] == "error" and "channel must be one of" in error["error"]
        one.send_json({"type": "ping"})
        assert one.receive_json() == {"type": "pong"}
    publish.close()


def test_bad_token_is_refused(client: TestClient) -> None:
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect("/v1/stream?token=nope") as ws,
    ):
        ws.receive_json()
    assert refused.value.code == 4401
