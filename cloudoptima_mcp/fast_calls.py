"""The fast path of the stateless MCP HTTP server: a cached tool call answered before the SDK's machinery.

Contract:
- :class:`FastToolCalls` is an ASGI middleware placed inside the app's authentication middleware (so the
  bearer is verified exactly as for every other request, by the same :class:`~cloudoptima_mcp.identity.
  BearerVerifier`) and in front of the ``/mcp`` route. It answers one request shape itself: a POST to the
  endpoint path of a stateless, JSON-response server, with an authenticated user that has the route's
  required scopes, ``Content-Type: application/json``, an ``Accept`` the SDK accepts for JSON responses, a
  handshake-era ``MCP-Protocol-Version`` (or none), no session id, a body within the SDK's size limit that
  is one JSON-RPC ``tools/call`` request (no batch) whose params the SDK's per-version surface accepts and
  carry at most a ``progressToken`` in ``_meta``, naming a cacheable, read-only, not long-running tool of
  this server, whose arguments FastMCP's validation of the tool's signature accepts, that the caller's role
  may run, and whose answer is in the tool cache (:func:`cloudoptima_tools.spec.cached_output`).
- Such a call is answered with the response the SDK path gives (status, headers, JSON body: the same
  ``CallToolResult`` built by the same code, shaped by the SDK's per-version result surface), after its
  audit row is committed through the same :func:`cloudoptima_mcp.audit.audited_call` (the group-committed
  writer). The cache counts the hit once.
- Anything else is passed to the SDK path unchanged (the body read so far is replayed): initialize,
  tools/list, notifications, batches, other tools, modern (``2026-*``) requests, invalid arguments, a
  role without the permission, a missing or unknown header value, a stateful server. A cache miss is
  passed on too, with the request marked (:data:`CACHE_CHECKED`) so the SDK path runs the tool without
  looking in the cache a second time (the miss is counted once).
- ``enabled=False`` (``CLOUDOPTIMA_MCP_FAST_CALLS=0`` or ``--no-fast-calls``) passes everything on.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pydantic_core
from fastmcp.server.auth import AccessToken
from fastmcp.utilities.types import get_cached_typeadapter
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.streamable_http import CONTENT_TYPE_JSON, MCP_SESSION_ID_HEADER, check_accept_headers
from mcp.server.transport_security import DEFAULT_MAX_REQUEST_BODY_SIZE
from mcp.shared.inbound import MCP_PROTOCOL_VERSION_HEADER
from mcp_types import DEFAULT_NEGOTIATED_VERSION, CallToolResult, JSONRPCRequest, JSONRPCResponse
from mcp_types.jsonrpc import jsonrpc_message_adapter
from mcp_types.methods import serialize_server_result, validate_client_request
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from pydantic import BaseModel, TypeAdapter
from starlette._utils import get_route_path  # what Route matching reads (a mount strips its prefix)
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cloudoptima_mcp.audit import audited_call
from cloudoptima_mcp.identity import AuthenticationError, Identity
from cloudoptima_mcp.runtime import Runtime
from cloudoptima_tools.spec import ToolError, ToolSpec, cached_output

CACHE_CHECKED = "cloudoptima.tool_cache_checked"
"""ASGI scope key the fast path sets when it looked in the tool cache and missed."""
ENV_VAR = "CLOUDOPTIMA_MCP_FAST_CALLS"
METHOD = "tools/call"
_META_KEYS = frozenset({"progressToken"})


@dataclass(frozen=True)
class FastTool:
    """What the fast path needs of one registered tool (built by :mod:`cloudoptima_mcp.registration`)."""

    spec: ToolSpec[Any, Any]
    parameters: tuple[inspect.Parameter, ...]
    """The tool function's MCP-visible parameters (``ctx`` excluded), as FastMCP validates them."""
    arguments_of: Any
    """``(validated kwargs) -> spec arguments`` (public names renamed, a fixed provider added)."""
    result_of: Any
    """``(output, identity, arguments) -> ToolResult``, the slow path's own result builder."""

    def validator(self) -> TypeAdapter[Any]:
        def kwargs(**given: Any) -> dict[str, Any]:
            return given

        kwargs.__signature__ = inspect.Signature(list(self.parameters))  # type: ignore[attr-defined]
        kwargs.__annotations__ = {p.name: p.annotation for p in self.parameters}
        return get_cached_typeadapter(kwargs)


@dataclass(frozen=True)
class CallTable:
    """The tools one server may answer on the fast path, and what their calls run with."""

    server: str
    runtime: Runtime
    tools: Mapping[str, FastTool]


def fast_eligible(spec: ToolSpec[Any, Any]) -> bool:
    """Cacheable, read-only (no confirmation to ask) and without progress notifications."""
    return spec.cacheable and spec.read_only and not spec.long_running


class _Pass(Exception):
    """The request is not one the fast path answers: hand it to the SDK path."""


class FastToolCalls:
    """ASGI middleware answering cached tool calls (see module contract)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        table: CallTable,
        path: str,
        required_scopes: list[str] | None = None,
        enabled: bool = True,
        max_body_size: int = DEFAULT_MAX_REQUEST_BODY_SIZE,
    ) -> None:
        self.app = app
        self._table = table
        self._path = path
        self._required = list(required_scopes or [])
        self._enabled = enabled
        self._max_body = max_body_size
        self._validators = {name: tool.validator() for name, tool in table.tools.items()}
        self.answered = 0
        """Calls answered here (tests read it)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (
            self._enabled
            and scope["type"] == "http"
            and scope["method"] == "POST"
            and get_route_path(scope) == self._path
        ):
            await self.app(scope, receive, send)
            return
        try:
            version = self._headers(scope)
        except _Pass:
            await self.app(scope, receive, send)
            return
        body, more, trailing = await self._read(receive)
        if not more and trailing is None and len(body) <= self._max_body:
            try:
                prepared = self._prepare(scope, body, version)
            except _Pass:
                prepared = None
            if prepared is not None:
                await self._answer(scope, receive, send, *prepared)
                return
        await self.app(scope, _replay(body, more, trailing, receive), send)

    def _headers(self, scope: Scope) -> str:
        """The protocol version of a request whose headers the fast path understands (else :class:`_Pass`)."""
        user = scope.get("user")
        if not isinstance(user, AuthenticatedUser) or not isinstance(user.access_token, AccessToken):
            raise _Pass
        granted = getattr(scope.get("auth"), "scopes", None)
        if self._required and (granted is None or any(s not in granted for s in self._required)):
            raise _Pass
        request = Request(scope)
        headers = request.headers
        if MCP_SESSION_ID_HEADER in headers:
            raise _Pass
        version = headers.get(MCP_PROTOCOL_VERSION_HEADER)
        if version is not None and version not in HANDSHAKE_PROTOCOL_VERSIONS:
            raise _Pass  # the SDK's modern entry point answers these
        has_json, _ = check_accept_headers(request)
        if not has_json:
            raise _Pass
        content_type = headers.get("content-type", "")
        if not any(p.strip() == CONTENT_TYPE_JSON for p in content_type.split(";")[0].split(",")):
            raise _Pass
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self._max_body):
            raise _Pass
        return version if version is not None else DEFAULT_NEGOTIATED_VERSION

    async def _read(self, receive: Receive) -> tuple[bytes, bool, Message | None]:
        """The body read (all of it, or until it is over the size limit), whether more of it is to come, and
        the message that is not body if one came (a disconnect) instead."""
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return bytes(body), True, message
            body.extend(message.get("body", b""))
            more = bool(message.get("more_body", False))
            if not more or len(body) > self._max_body:
                return bytes(body), more, None

    def _prepare(
        self, scope: Scope, body: bytes, version: str
    ) -> tuple[str, JSONRPCRequest, FastTool, Identity, dict[str, Any], BaseModel] | None:
        """The request, tool, caller, arguments and cached output of a call to answer here; None on a miss."""
        try:
            raw = pydantic_core.from_json(body)
            message = jsonrpc_message_adapter.validate_python(raw, by_name=False)
        except ValueError:  # ValidationError included
            raise _Pass from None
        if not isinstance(message, JSONRPCRequest) or message.method != METHOD:
            raise _Pass
        params = message.params
        if params is None or not isinstance(params.get("name"), str):
            raise _Pass
        meta = params.get("_meta")
        if meta is not None and (not isinstance(meta, dict) or not set(meta) <= _META_KEYS):
            raise _Pass
        tool = self._table.tools.get(params["name"])
        arguments = params.get("arguments")
        if tool is None or not (arguments is None or isinstance(arguments, dict)):
            raise _Pass
        try:
            validate_client_request(METHOD, version, params)
            kwargs = self._validators[tool.spec.name].validate_python(arguments or {})
        except (KeyError, ValueError):  # ValidationError included
            raise _Pass from None
        user = scope["user"]
        try:
            identity = Identity.from_claims(dict(user.access_token.claims))
        except AuthenticationError:
            raise _Pass from None
        spec_arguments: dict[str, Any] = tool.arguments_of(kwargs)
        try:
            output = cached_output(tool.spec, self._table.runtime.tool_context(identity), spec_arguments)
        except ToolError:
            raise _Pass from None  # refused before the cache was read: the SDK path refuses it too
        if output is None:
            scope[CACHE_CHECKED] = True
            return None
        return version, message, tool, identity, spec_arguments, output

    async def _answer(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        version: str,
        message: JSONRPCRequest,
        tool: FastTool,
        identity: Identity,
        arguments: dict[str, Any],
        output: BaseModel,
    ) -> None:
        result = tool.result_of(output, identity, arguments)
        # What FastMCP's tools/call handler and the SDK's runner make of the ToolResult.
        shaped = result.to_mcp_result()
        call = (
            shaped
            if isinstance(shaped, CallToolResult)
            else CallToolResult(content=shaped[0], structured_content=shaped[1])
            if isinstance(shaped, tuple)
            else CallToolResult(content=shaped)
        )
        dumped = call.model_dump(by_alias=True, mode="json", exclude_none=True)
        wire = serialize_server_result(METHOD, version, dumped)
        reply = JSONRPCResponse(jsonrpc="2.0", id=message.id, result=wire)
        response = Response(
            reply.model_dump_json(by_alias=True, exclude_unset=True),
            status_code=200,
            headers={"Content-Type": CONTENT_TYPE_JSON},
        )
        async with audited_call(
            self._table.runtime, self._table.server, tool.spec, identity, arguments
        ) as audit:
            audit.result = result
        self.answered += 1
        await response(scope, receive, send)


def _replay(body: bytes, more: bool, trailing: Message | None, receive: Receive) -> Receive:
    """A ``receive`` that hands out what the fast path already read, then the rest."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": more}]
    if trailing is not None:
        pending.append(trailing)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


def cache_checked(scope: Mapping[str, Any] | None) -> bool:
    """True when the fast path already looked up (and missed) this request's call in the tool cache."""
    return bool(scope and scope.get(CACHE_CHECKED))
