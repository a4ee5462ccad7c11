"""``/v1/stream?token=…``: the seed's WebSocket API (§3.3) over Redis pub/sub.

Each connection subscribes to its own organisation's channel (``cloudoptima.services.events.channel``) on
its own Redis pub/sub connection, so any replica can serve any client and a client can only ever see its
own organisation's events. Client frames: ``{"type": "subscribe" | "unsubscribe", "channel": name}``
(``ping`` is answered with ``pong``). Server frames: ``subscribed`` / ``unsubscribed`` acknowledgements,
``{"type": "message", "channel", "data", "ts"}`` for events of subscribed channels, and
``{"type": "error", "error": reason}`` for a bad frame (the socket stays open). A bad or revoked token
closes the socket with code 4401 before it is accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from redis.asyncio.client import PubSub

from cloudoptima.services.events import channel as event_channel
from cloudoptima.services.tokens import AccessClaims, TokenError
from gateway.deps import revoked_key
from gateway.runtime import Runtime

router = APIRouter()
CHANNELS = frozenset(
    {"cost_updates", "anomalies", "recommendations", "policy_executions", "resource_changes"}
)
UNAUTHORISED = 4401


async def _authenticate(runtime: Runtime, token: str | None) -> AccessClaims | None:
    if not token:
        return None
    try:
        claims = runtime.issuer().verify(token)
    except TokenError:
        return None
    if await runtime.redis().exists(revoked_key(claims.jti)):
        return None
    return claims


def _parse(raw: str) -> tuple[str, str] | str:
    """``(type, channel)`` of a valid client frame, or the error to send back."""
    try:
        frame = json.loads(raw)
    except ValueError:
        return "frame is not JSON"
    if not isinstance(frame, dict):
        return "frame must be a JSON object"
    kind = frame.get("type")
    if kind == "ping":
        return ("ping", "")
    if kind not in ("subscribe", "unsubscribe"):
        return "type must be subscribe, unsubscribe or ping"
    name = frame.get("channel")
    if name not in CHANNELS:
        return f"channel must be one of {', '.join(sorted(CHANNELS))}"
    return (str(kind), str(name))


async def _forward(websocket: WebSocket, pubsub: PubSub, subscribed: set[str]) -> None:
    while True:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
        if message is None:
            continue
        try:
            event: dict[str, Any] = json.loads(message["data"])
        except (TypeError, ValueError):
            continue
        kind = event.get("type")
        if kind in subscribed:
            await websocket.send_json(
                {"type": "message", "channel": kind, "data": event.get("data"), "ts": event.get("ts")}
            )


async def _receive(websocket: WebSocket, subscribed: set[str]) -> None:
    while True:
        raw = await websocket.receive_text()
        parsed = _parse(raw)
        if isinstance(parsed, str):
            await websocket.send_json({"type": "error", "error": parsed})
            continue
        kind, name = parsed
        if kind == "ping":
            await websocket.send_json({"type": "pong"})
        elif kind == "subscribe":
            subscribed.add(name)
            await websocket.send_json({"type": "subscribed", "channel": name})
        else:
            subscribed.discard(name)
            await websocket.send_json({"type": "unsubscribed", "channel": name})


@router.websocket("/v1/stream")
async def stream(websocket: WebSocket, token: str | None = None) -> None:
    runtime: Runtime = websocket.app.state.runtime
    claims = await _authenticate(runtime, token)
    if claims is None:
        await websocket.close(code=UNAUTHORISED, reason="invalid, expired or revoked token")
        return
    await websocket.accept()
    pubsub = runtime.redis().pubsub()
    await pubsub.subscribe(event_channel(claims.organization_id))
    subscribed: set[str] = set()
    tasks = [
        asyncio.create_task(_forward(websocket, pubsub, subscribed)),
        asyncio.create_task(_receive(websocket, subscribed)),
    ]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            exc = task.exception()
            if exc is not None and not isinstance(exc, WebSocketDisconnect):
                raise exc
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        with contextlib.suppress(Exception):
            await pubsub.unsubscribe()
            await pubsub.aclose()  # type: ignore[no-untyped-call]
