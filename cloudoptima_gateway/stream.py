"""``/v1/stream?token=…``: the seed's WebSocket API (§3.3) over Redis pub/sub.

Each connection subscribes to its own organisation's channel (``cloudoptima.services.events.channel``) on
its own Redis pub/sub connection, so any replica can serve any client and a client can only ever see its
own organisation's events; ``notifications`` events (inbox notices) reach only the sockets of the user they
name. Client frames: ``{"type": "subscribe" | "unsubscribe", "channel": name}``
(``ping`` is answered with ``pong``). Server frames: ``subscribed`` / ``unsubscribed`` acknowledgements,
``{"type": "message", "channel", "data", "ts"}`` for events of subscribed channels, and
``{"type": "error", "error": reason}`` for a bad frame (the socket stays open). A bad or revoked token
closes the socket with code 4401 before it is accepted. A socket whose token, sign-in or user is revoked
while it is open (``cloudoptima.services.revocation``) is closed with code 4401 and the reason
(``"revoked: <why>"``): at once on the revocation notice, and at the latest ``RECHECK_S`` seconds later
through a periodic re-check of the markers.

Chat over the same socket, when the app serves the chat (``app.state.socket_chat``, set by the chat
router): ``{"type": "chat", "message": str, "conversation_id"?: str}`` runs one turn of the assistant as the
token's user, with the same agent, tools and stored history as ``POST /v1/chat``; every event of the turn
arrives as ``{"type": "chat", "event": name, "data": {...}}`` (``conversation``, ``token``, ``tool_call``,
``tool_result``, ``message``, ``done`` or ``error``) while channel events keep flowing. One turn runs at a
time per socket; a second ``chat`` frame meanwhile gets an error frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from redis.asyncio.client import PubSub

from cloudoptima.services.events import EVENT_TYPES
from cloudoptima.services.events import channel as event_channel
from cloudoptima.services.revocation import Revocation, deny_keys, notice_channel
from cloudoptima.services.tokens import AccessClaims, TokenError
from cloudoptima_gateway.deps import Principal
from cloudoptima_gateway.revocation import marks
from cloudoptima_gateway.runtime import Runtime

router = APIRouter()
CHANNELS = EVENT_TYPES
"""Every event type anything publishes (``cloudoptima.services.events.EVENT_TYPES``) can be subscribed to."""
UNAUTHORISED = 4401
RECHECK_S = 5.0
"""An open socket re-reads its revocation markers this often (the notice normally closes it at once)."""
CHAT_PERMISSION = "read:costs"
MAX_CHAT_CHARS = 4000
CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")

SocketTurn = AsyncIterator[tuple[str, dict[str, Any]]]
SocketChat = Callable[[Principal, str, str | None], SocketTurn]
"""``(principal, message, conversation_id) -> (event, data)`` pairs of one chat turn."""


class _Revoked(Exception):
    """The socket's token, sign-in or user was revoked; the message is the reason."""


class _Socket:
    """One connection's state: serialised sends (several tasks write), subscriptions, the running turn."""

    def __init__(self, websocket: WebSocket, principal: Principal) -> None:
        self.websocket = websocket
        self.principal = principal
        self.subscribed: set[str] = set()
        self.turn: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def send(self, frame: dict[str, Any]) -> None:
        async with self._lock:
            await self.websocket.send_text(json.dumps(frame, default=str))


async def _authenticate(runtime: Runtime, token: str | None) -> AccessClaims | None:
    if not token:
        return None
    try:
        claims = runtime.issuer().verify(token)
    except TokenError:
        return None
    if await marks(runtime).revoked(_deny_keys(claims)):
        return None
    return claims


def _deny_keys(claims: AccessClaims) -> list[str]:
    return deny_keys(claims.user_id, jti=claims.jti, session_id=claims.session_id)


def _revoked_by(message: dict[str, Any], claims: AccessClaims) -> str | None:
    """The reason when ``message`` is a revocation notice that matches ``claims``."""
    if message.get("channel") != notice_channel(claims.organization_id):
        return None
    try:
        notice = Revocation.decode(message["data"])
    except ValueError:
        return None
    if notice.matches(claims.user_id, session_id=claims.session_id, jti=claims.jti):
        return notice.reason
    return None


def _chat_frame(frame: dict[str, Any]) -> tuple[str, str, str | None] | str:
    message = frame.get("message")
    if not isinstance(message, str) or not message.strip():
        return "chat needs a non-empty string 'message'"
    if "\x00" in message:
        return "chat 'message' must not contain NUL (\\x00) characters"
    if len(message) > MAX_CHAT_CHARS:
        return f"chat 'message' is longer than {MAX_CHAT_CHARS} characters"
    conversation = frame.get("conversation_id")
    if conversation is not None and (
        not isinstance(conversation, str) or not CONVERSATION_ID.fullmatch(conversation)
    ):
        return "chat 'conversation_id' must be 1-64 letters, digits, '_' or '-'"
    return ("chat", message, conversation)


def _parse(raw: str) -> tuple[str, str] | tuple[str, str, str | None] | str:
    """``(type, channel)`` or ``("chat", message, conversation_id)`` of a valid frame, or the error."""
    try:
        frame = json.loads(raw)
    except ValueError:
        return "frame is not JSON"
    if not isinstance(frame, dict):
        return "frame must be a JSON object"
    kind = frame.get("type")
    if kind == "ping":
        return ("ping", "")
    if kind == "chat":
        return _chat_frame(frame)
    if kind not in ("subscribe", "unsubscribe"):
        return "type must be subscribe, unsubscribe, chat or ping"
    name = frame.get("channel")
    if name not in CHANNELS:
        return f"channel must be one of {', '.join(sorted(CHANNELS))}"
    return (str(kind), str(name))


def _addressed_to(event: dict[str, Any], claims: AccessClaims) -> bool:
    """False for a per-user event (``notifications``) addressed to someone else: an inbox notice reaches only
    the sockets of the user it names (``data.user_id``); every other event reaches the whole organisation."""
    if event.get("type") != "notifications":
        return True
    data = event.get("data")
    return isinstance(data, dict) and data.get("user_id") == str(claims.user_id)


async def _forward(socket: _Socket, pubsub: PubSub, runtime: Runtime) -> None:
    claims = socket.principal.claims
    assert claims is not None  # sockets authenticate with access tokens only
    loop = asyncio.get_running_loop()
    recheck_at = loop.time() + RECHECK_S
    while True:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
        if loop.time() >= recheck_at:
            recheck_at = loop.time() + RECHECK_S
            if await marks(runtime).revoked(_deny_keys(claims)):
                raise _Revoked("session revoked")
        if message is None:
            continue
        reason = _revoked_by(message, claims)
        if reason is not None:
            raise _Revoked(reason)
        try:
            event: dict[str, Any] = json.loads(message["data"])
        except (TypeError, ValueError):
            continue
        kind = event.get("type")
        if kind in socket.subscribed and _addressed_to(event, claims):
            await socket.send(
                {"type": "message", "channel": kind, "data": event.get("data"), "ts": event.get("ts")}
            )


async def _chat(socket: _Socket, chat: SocketChat, message: str, conversation: str | None) -> None:
    try:
        async for event, data in chat(socket.principal, message, conversation):
            await socket.send({"type": "chat", "event": event, "data": data})
    except WebSocketDisconnect:
        raise
    except Exception as exc:  # the client must learn the turn failed; the socket stays usable
        await socket.send({"type": "chat", "event": "error", "data": {"message": type(exc).__name__}})


def _start_chat(socket: _Socket, message: str, conversation: str | None) -> str | None:
    """Start a turn in the background, or say why not."""
    chat: SocketChat | None = getattr(socket.websocket.app.state, "socket_chat", None)
    if chat is None:
        return "chat is not served by this gateway"
    if not socket.principal.can(CHAT_PERMISSION):
        return f"chat requires permission '{CHAT_PERMISSION}'"
    if socket.turn is not None and not socket.turn.done():
        return "a chat turn is already running on this socket; wait for its 'done' event"
    socket.turn = asyncio.create_task(_chat(socket, chat, message, conversation))
    return None


async def _receive(socket: _Socket) -> None:
    while True:
        raw = await socket.websocket.receive_text()
        parsed = _parse(raw)
        if isinstance(parsed, str):
            await socket.send({"type": "error", "error": parsed})
            continue
        if parsed[0] == "chat":
            _kind, message, conversation = parsed  # type: ignore[misc]
            refused = _start_chat(socket, message, conversation)
            if refused:
                await socket.send({"type": "error", "error": refused})
            continue
        kind, name = parsed[0], parsed[1]
        if kind == "ping":
            await socket.send({"type": "pong"})
        elif kind == "subscribe":
            socket.subscribed.add(name)
            await socket.send({"type": "subscribed", "channel": name})
        else:
            socket.subscribed.discard(name)
            await socket.send({"type": "unsubscribed", "channel": name})


@router.websocket("/v1/stream")
async def stream(websocket: WebSocket, token: str | None = None) -> None:
    runtime: Runtime = websocket.app.state.runtime
    claims = await _authenticate(runtime, token)
    if claims is None:
        await websocket.close(code=UNAUTHORISED, reason="invalid, expired or revoked token")
        return
    await websocket.accept()
    socket = _Socket(
        websocket, Principal(claims.user_id, claims.organization_id, claims.role, "token", claims=claims)
    )
    pubsub = runtime.redis().pubsub()
    await pubsub.subscribe(event_channel(claims.organization_id), notice_channel(claims.organization_id))
    # A revocation between the check above and the subscription would have no notice to deliver.
    revoked_meanwhile = await marks(runtime).revoked(_deny_keys(claims))
    tasks = [
        asyncio.create_task(_forward(socket, pubsub, runtime)),
        asyncio.create_task(_receive(socket)),
    ]
    try:
        if revoked_meanwhile:
            raise _Revoked("session revoked")
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            exc = task.exception()
            if exc is not None and not isinstance(exc, WebSocketDisconnect):
                raise exc
    except _Revoked as revoked:
        with contextlib.suppress(Exception):
            await websocket.close(code=UNAUTHORISED, reason=f"revoked: {revoked}")
    finally:
        if socket.turn is not None:
            tasks.append(socket.turn)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        with contextlib.suppress(Exception):
            await pubsub.unsubscribe()
            await pubsub.aclose()  # type: ignore[no-untyped-call]
