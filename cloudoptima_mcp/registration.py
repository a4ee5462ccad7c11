"""Thin registration of catalog tools on a FastMCP server.

Contract:
- Each :class:`cloudoptima_tools.spec.ToolSpec` becomes one MCP tool with the spec's name, title, description,
  flat typed arguments (the input model's fields), typed output schema (structured content) and annotations
  (``readOnlyHint``, ``destructiveHint``, ``idempotentHint``, ``openWorldHint``). Both schemas are listed in
  their compact form (:mod:`cloudoptima_mcp.schemas`): ``tools/list`` is read into the client's context.
- On a single-cloud server ``provider`` is fixed and hidden, and ``account`` is named as that cloud names it
  (``account`` on AWS, ``subscription`` on Azure, ``project`` on GCP).
- Every call resolves the caller (fixed identity on stdio, bearer claims on HTTP), answers a cache hit on the
  event loop (:func:`cloudoptima_tools.spec.cached_output`) or else runs the tool in a worker thread through
  :func:`cloudoptima_tools.spec.run_tool` (permission, cache, output budget), reports progress
  for long-running tools, and turns :class:`cloudoptima_tools.spec.ToolError` into an MCP tool error. Every call of an
  identified caller is recorded in the audit log (:func:`cloudoptima_mcp.audit.audited_call`).
- A paged result with more rows also carries a resource link to ``cloudoptima://results/{id}``: reading it
  returns every row (up to ``FULL_RESULT_MAX_ROWS``) as JSON, for the same organisation only.
"""

from __future__ import annotations

import inspect
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

import anyio
import mcp_types
from fastmcp import Context, FastMCP
from fastmcp.exceptions import ToolError as McpToolError
from fastmcp.server.dependencies import get_access_token, get_http_request
from fastmcp.tools import FunctionTool, ToolResult
from pydantic import BaseModel, Field
from pydantic_core import PydanticUndefined

from cloudoptima_mcp.audit import audited_call
from cloudoptima_mcp.fast_calls import CallTable, FastTool, cache_checked, fast_eligible
from cloudoptima_mcp.identity import AuthenticationError, Identity
from cloudoptima_mcp.runtime import Runtime
from cloudoptima_mcp.schemas import compact_input, compact_output
from cloudoptima_tools.spec import PagedOutput, Provider, ToolError, ToolSpec, cached_output, run_tool

BeforeRun = Callable[
    [ToolSpec[Any, Any], dict[str, Any], Context, Identity],
    Awaitable[dict[str, Any] | mcp_types.InputRequiredResult],
]
"""Decides the arguments (e.g. asks the user to confirm) or returns an input request for the client."""
ACCOUNT_NAMES: dict[str, str] = {"aws": "account", "azure": "subscription", "gcp": "project"}
FULL_RESULT_MAX_ROWS = 5_000
RESULT_TTL_SECONDS = 3_600


@dataclass(frozen=True)
class ServerScope:
    """What one server exposes and who it serves."""

    name: str
    provider: Provider | None
    read_only: bool
    fixed_identity: Identity | None
    """Set on stdio (one API key per process); None on HTTP (per-request bearer)."""


def current_identity(scope: ServerScope) -> Identity:
    """The caller of the current request (see module contract)."""
    if scope.fixed_identity is not None:
        return scope.fixed_identity
    token = get_access_token()
    if token is None:
        raise McpToolError("authentication required: send Authorization: Bearer <API key or access token>")
    try:
        return Identity.from_claims(dict(token.claims))
    except AuthenticationError as exc:
        raise McpToolError(str(exc)) from exc


class ResultStore:
    """Arguments of paged results, so a resource can return all their rows later (TTL + LRU)."""

    def __init__(self, max_entries: int = 256) -> None:
        self._entries: OrderedDict[str, tuple[float, str, str, dict[str, Any]]] = OrderedDict()
        self._max = max_entries

    def put(self, identity: Identity, tool: str, arguments: dict[str, Any]) -> str:
        result_id = secrets.token_urlsafe(12)
        self._entries[result_id] = (time.monotonic(), str(identity.organization_id), tool, arguments)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return result_id

    def get(self, identity: Identity, result_id: str) -> tuple[str, dict[str, Any]] | None:
        entry = self._entries.get(result_id)
        if entry is None or time.monotonic() - entry[0] > RESULT_TTL_SECONDS:
            return None
        if entry[1] != str(identity.organization_id):
            return None  # another organisation's result looks exactly like a missing one
        return entry[2], entry[3]


def annotations_of(spec: ToolSpec[Any, Any]) -> mcp_types.ToolAnnotations:
    return mcp_types.ToolAnnotations(
        read_only_hint=spec.read_only,
        destructive_hint=spec.destructive,
        idempotent_hint=spec.idempotent,
        open_world_hint=spec.open_world,
    )


def _parameters(
    spec: ToolSpec[Any, Any], provider: Provider | None
) -> tuple[list[inspect.Parameter], dict[str, str]]:
    params: list[inspect.Parameter] = []
    paging: list[inspect.Parameter] = []
    renames: dict[str, str] = {}
    for name, info in spec.input_model.model_fields.items():
        if provider is not None and name == "provider":
            continue
        public = ACCOUNT_NAMES[provider] if provider is not None and name == "account" else name
        renames[public] = name
        description = info.description or ""
        if public != name:
            description = description.replace(
                "AWS account id, Azure subscription id or GCP project id", f"{provider} {public} id"
            )
        field = Field(description=description or None, **_constraints(info))
        default: Any = inspect.Parameter.empty
        if info.default is not PydanticUndefined:
            default = info.default
        elif info.default_factory is not None:
            default = info.default_factory()  # type: ignore[call-arg]
        (paging if name in ("limit", "cursor") else params).append(
            inspect.Parameter(
                public,
                inspect.Parameter.KEYWORD_ONLY,
                default=default,
                annotation=Annotated[info.annotation, field],
            )
        )
    return params + paging, renames


def _constraints(info: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in info.metadata:
        for key in ("ge", "gt", "le", "lt", "min_length", "max_length"):
            value = getattr(item, key, None)
            if value is not None:
                found[key] = value
    return found


def make_tool(
    spec: ToolSpec[Any, Any],
    scope: ServerScope,
    runtime: Runtime,
    results: ResultStore,
    before_run: BeforeRun | None = None,
) -> FunctionTool:
    """The MCP tool of one catalog spec (see module contract)."""
    params, renames = _parameters(spec, scope.provider)

    arguments_of = partial(_spec_arguments, spec, scope, renames)

    async def call(**kwargs: Any) -> ToolResult:
        ctx: Context = kwargs.pop("ctx")
        identity = current_identity(scope)
        arguments = arguments_of(kwargs)
        async with audited_call(runtime, scope.name, spec, identity, arguments) as audit:
            audit.result = await run(ctx, identity, arguments)
        return audit.result  # type: ignore[no-any-return]

    async def run(ctx: Context, identity: Identity, arguments: dict[str, Any]) -> ToolResult:
        if before_run is not None:
            decided = await before_run(spec, arguments, ctx, identity)
            if isinstance(decided, mcp_types.InputRequiredResult):
                return decided  # type: ignore[return-value]  # the client answers, then retries
            arguments = decided
        tool_ctx = runtime.tool_context(identity)
        if spec.long_running:
            await ctx.report_progress(0, 100, f"{spec.name}: started")
        try:
            # A cache hit needs no worker thread; the fast path may already have missed for this request.
            hit = None if _cache_checked() else cached_output(spec, tool_ctx, arguments)
            output = (
                hit
                if hit is not None
                else await anyio.to_thread.run_sync(
                    partial(run_tool, spec, tool_ctx, arguments, check_cache=False)
                )
            )
        except ToolError as exc:
            raise McpToolError(str(exc)) from exc
        if spec.long_running:
            await ctx.report_progress(100, 100, f"{spec.name}: done")
        return _result(spec, output, identity, arguments, results)

    params.append(inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context))
    call.__signature__ = inspect.Signature(params, return_annotation=spec.output_model)  # type: ignore[attr-defined]
    call.__annotations__ = {p.name: p.annotation for p in params} | {"return": spec.output_model}
    call.__name__ = spec.name
    tool = FunctionTool.from_function(
        call,
        name=spec.name,
        title=spec.title,
        description=spec.description,
        annotations=annotations_of(spec),
    )
    output_schema = compact_output(tool.output_schema) if tool.output_schema else None
    return tool.model_copy(
        update={"parameters": compact_input(tool.parameters), "output_schema": output_schema}
    )


def _spec_arguments(
    spec: ToolSpec[Any, Any], scope: ServerScope, renames: dict[str, str], kwargs: dict[str, Any]
) -> dict[str, Any]:
    """The spec's arguments of a call validated against the tool's MCP signature."""
    arguments = {renames[k]: v for k, v in kwargs.items()}
    if scope.provider is not None and "provider" in spec.input_model.model_fields:
        arguments["provider"] = scope.provider
    return arguments


def _cache_checked() -> bool:
    """True when this HTTP request's tool-cache lookup was already made (and missed) on the fast path."""
    try:
        request = get_http_request()
    except RuntimeError:  # stdio, in-memory
        return False
    return cache_checked(request.scope)


def fast_tool(spec: ToolSpec[Any, Any], scope: ServerScope, results: ResultStore) -> FastTool:
    """The fast path's view of the tool :func:`make_tool` registers for ``spec`` (same validation and
    arguments, same result)."""
    params, renames = _parameters(spec, scope.provider)
    return FastTool(
        spec=spec,
        parameters=tuple(params),
        arguments_of=partial(_spec_arguments, spec, scope, renames),
        result_of=lambda output, identity, arguments: _result(spec, output, identity, arguments, results),
    )


def _result(
    spec: ToolSpec[Any, Any],
    output: BaseModel,
    identity: Identity,
    arguments: dict[str, Any],
    results: ResultStore,
) -> ToolResult:
    structured = output.model_dump(mode="json")
    text = output.model_dump_json()
    content: list[Any] = [mcp_types.TextContent(type="text", text=text)]
    if isinstance(output, PagedOutput) and output.next_cursor:
        full = {k: v for k, v in arguments.items() if k not in ("cursor", "limit")}
        result_id = results.put(identity, spec.name, full)
        total = f"{output.total} rows" if output.total is not None else "more rows"
        content = [
            mcp_types.TextContent(
                type="text",
                text=(
                    f"{output.returned} of {total} shown; pass next_cursor for the next page or read the "
                    f"resource cloudoptima://results/{result_id} for all rows.\n{text}"
                ),
            ),
            mcp_types.ResourceLink(
                type="resource_link",
                uri=f"cloudoptima://results/{result_id}",
                name=f"{spec.name} full result",
                mime_type="application/json",
                description=f"Every row of this {spec.name} query (up to {FULL_RESULT_MAX_ROWS}).",
            ),
        ]
    return ToolResult(content=content, structured_content=structured)


def full_result(
    spec: ToolSpec[Any, Any], runtime: Runtime, identity: Identity, arguments: dict[str, Any]
) -> dict[str, Any]:
    """Every row of a paged query, page after page (bounded by ``FULL_RESULT_MAX_ROWS``)."""
    ctx = runtime.tool_context(identity)
    rows: list[Any] = []
    cursor: str | None = None
    first: dict[str, Any] | None = None
    while True:
        page = run_tool(spec, ctx, {**arguments, "limit": 500, "cursor": cursor})
        data = page.model_dump(mode="json")
        first = first or data
        rows.extend(data["items"])
        cursor = data.get("next_cursor")
        if not cursor or len(rows) >= FULL_RESULT_MAX_ROWS:
            break
    assert first is not None
    return {
        **first,
        "items": rows[:FULL_RESULT_MAX_ROWS],
        "returned": min(len(rows), FULL_RESULT_MAX_ROWS),
        "next_cursor": None,
    }


def register_tools(
    server: FastMCP,
    specs: list[ToolSpec[Any, Any]],
    scope: ServerScope,
    runtime: Runtime,
    results: ResultStore,
    before_run: BeforeRun | None = None,
) -> CallTable:
    """Add one tool per spec; returns the fast path's table of those it may answer
    (:mod:`cloudoptima_mcp.fast_calls`)."""
    for spec in specs:
        server.add_tool(make_tool(spec, scope, runtime, results, before_run))
    tools = {spec.name: fast_tool(spec, scope, results) for spec in specs if fast_eligible(spec)}
    return CallTable(server=scope.name, runtime=runtime, tools=tools)
