"""WebSocket ``/v1/stream``: two organisations at once, each sees only its own events; unsubscribe works;
a bad frame gets an error frame and the socket stays usable; a bad token is refused."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

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


def _chat_turn(socket: Any) -> list[dict[str, Any]]:
    """Frames of one chat turn, up to and including ``done`` (or ``error``)."""
    frames = []
    while True:
        frame = socket.receive_json()
        frames.append(frame)
        if frame["type"] == "chat" and frame["event"] in ("done", "error"):
            return frames


def test_chat_over_the_socket_shares_history_with_the_api(
    client: TestClient, engine: Engine, gateway_settings: Settings, redis_url: str
) -> None:
    org = make_org(engine, gateway_settings, name="ws-chat")
    publish = EventPublisher(redis.Redis.from_url(redis_url))
    with client.websocket_connect(f"/v1/stream?token={org.tokens['viewer']}") as socket:
        socket.send_json({"type": "subscribe", "channel": "anomalies"})
        assert socket.receive_json()["type"] == "subscribed"
        socket.send_json({"type": "chat", "message": "What are my top spenders?", "conversation_id": "ws-1"})
        frames = _chat_turn(socket)
        chat = [f for f in frames if f["type"] == "chat"]
        events = [f["event"] for f in chat]
        assert events[0] == "conversation" and chat[0]["data"] == {"conversation_id": "ws-1"}
        assert events[-1] == "done", frames
        assert "tool_call" in events and "tool_result" in events and "token" in events
        message = next(f["data"] for f in chat if f["event"] == "message")
        final = message["text"]
        assert message["offline"] is True and final and not final.startswith("[")

        socket.send_json({"type": "chat", "message": ""})
        assert "non-empty" in socket.receive_json()["error"]
        socket.send_json({"type": "chat", "message": "hi", "conversation_id": "../etc"})
        assert "conversation_id" in socket.receive_json()["error"]

        publish(org.id, "anomalies", {"n": 1})  # channel events still arrive after a turn
        assert socket.receive_json()["data"] == {"n": 1}
    publish.close()

    stored = client.get("/v1/chat/ws-1", headers=org.headers("viewer"))
    assert stored.status_code == 200
    messages = stored.json()["messages"]
    assert messages[0] == {"role": "user", "content": "What are my top spenders?"}
    assert messages[-1]["role"] == "assistant" and messages[-1]["content"] == final
    assert client.get("/v1/chat/ws-1", headers=org.headers("analyst")).status_code == 404  # per user


async def test_one_chat_turn_at_a_time_per_socket() -> None:
    from types import SimpleNamespace

    from cloudoptima_gateway.deps import Principal
    from cloudoptima_gateway.stream import _Socket, _start_chat

    gate = asyncio.Event()

    async def slow_chat(_principal: Principal, _message: str, _conversation: str | None) -> Any:
        await gate.wait()
        yield "done", {}

    websocket = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(socket_chat=slow_chat)))
    principal = Principal(uuid.uuid4(), uuid.uuid4(), "viewer", "token")
    socket = _Socket(websocket, principal)  # type: ignore[arg-type]
    assert _start_chat(socket, "first", None) is None
    refused = _start_chat(socket, "second", None)
    assert refused is not None and "already running" in refused
    gate.set()
    sent: list[Any] = []
    socket.send = lambda frame: _record(sent, frame)  # type: ignore[method-assign]
    assert socket.turn is not None
    await socket.turn
    assert sent == [{"type": "chat", "event": "done", "data": {}}]
    assert _start_chat(socket, "third", None) is None  # free again once the turn ended
    await socket.turn

    websocket.app.state.socket_chat = None
    assert _start_chat(_Socket(websocket, principal), "x", None) == "chat is not served by this gateway"  # type: ignore[arg-type]


async def _record(sent: list[Any], frame: Any) -> None:
    sent.append(frame)
