"""How a tool is declared and run: typed input and output, behaviour hints, permission and output budget.

Contract:
- A :class:`ToolSpec` names a pure-Python function ``(ToolContext, Input) -> Output`` over kernel services,
  pydantic in and pydantic out, and declares its behaviour: ``read_only``, ``destructive``, ``idempotent``,
  ``open_world`` (MCP tool annotations), the RBAC ``permission`` it needs and ``max_output_tokens``.
- :func:`run_tool` is the only way callers run a tool: it validates the input, checks the permission,
  serves cached results for ``cacheable`` tools, and bounds the output: a paged output (``items``) whose
  JSON is over budget loses rows from its end and gets a ``next_cursor`` that resumes exactly there.
  Tokens are estimated as JSON characters / 4; budgets are at most ``MAX_OUTPUT_BUDGET`` so that no MCP
  response is over ``HARD_TOKEN_LIMIT``.
- Errors a caller can act on are :class:`ToolError` subclasses with one clear message.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Generic, Literal, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cloudoptima_tools.context import ToolContext

HARD_TOKEN_LIMIT = 25_000
"""No tool response may be larger than this many (estimated) tokens."""
MAX_OUTPUT_BUDGET = 10_000
"""Largest budget a tool may declare: an MCP response carries the output twice (structured content and
its JSON text, escaped inside the JSON-RPC message), plus a summary line, and must stay under
``HARD_TOKEN_LIMIT``."""
DEFAULT_TOKEN_BUDGET = 8_000
Domain = Literal["cost", "compute", "storage", "iam", "platform"]
Provider = Literal["aws", "azure", "gcp"]

InputT = TypeVar("InputT", bound=BaseModel)
OutputT = TypeVar("OutputT", bound=BaseModel)


class ToolError(Exception):
    """A failure the caller can act on (bad input, missing permission, unknown id)."""


class ToolInputError(ToolError):
    """The arguments are invalid."""


class ToolPermissionError(ToolError):
    """The caller's role does not allow this."""


class ToolNotFoundError(ToolError):
    """The id does not exist in the caller's organisation (ids of other organisations look the same)."""


class ToolUnavailableError(ToolError):
    """A dependency the tool needs (Temporal, a service) is not configured."""


def estimate_tokens(text: str) -> int:
    """≈ characters / 4, the estimate the output budgets use."""
    return (len(text) + 3) // 4


# ---- common input and output pieces --------------------------------------------------------------------


class ToolInput(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CloudScope(ToolInput):
    """Which cloud and account a question is about (the per-cloud MCP servers fix ``provider``)."""

    provider: Provider | None = Field(default=None, description="Default: every cloud.")
    account: str | None = Field(
        default=None,
        description="AWS account id, Azure subscription id or GCP project id.",
    )


class PageInput(ToolInput):
    """Row limit and the opaque cursor of the previous page."""

    limit: int = Field(default=50, ge=1, le=500, description="Rows per page.")
    cursor: str | None = Field(default=None, description="next_cursor of the previous page.")


class DataSource(BaseModel):
    """Where the numbers came from and how fresh they are."""

    source: str = "local store"
    detail: str = "served from the local store (collected data), no paid cloud API call"
    cached: bool = False
    cache_age_seconds: float | None = None
    cache_ttl_seconds: float | None = None
    cache_state: dict[str, int] | None = None


class PagedOutput(BaseModel):
    """A page of rows. ``next_cursor`` is set when more rows exist (pass it as ``cursor``)."""

    items: list[Any]
    returned: int = 0
    total: int | None = Field(default=None, description="Rows matching the query (all pages).")
    next_cursor: str | None = None
    truncated_for_size: bool = Field(
        default=False, description="True when rows were held back to keep the response under its budget."
    )
    data: DataSource = Field(default_factory=DataSource)


ItemT = TypeVar("ItemT")


# ---- cursors -----------------------------------------------------------------------------------------


def _query_key(params: BaseModel) -> str:
    data = params.model_dump(mode="json", exclude={"cursor", "limit"})
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]


MAX_CURSOR_OFFSET = 10_000_000
"""No cursor this catalog writes points deeper; a crafted one that does is refused, never sent to the database."""


def encode_cursor(params: BaseModel, offset: int) -> str:
    raw = json.dumps({"o": offset, "q": _query_key(params)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(params: PageInput) -> int:
    """The row offset ``params.cursor`` points at (0 without a cursor)."""
    if not params.cursor:
        return 0
    try:
        padded = params.cursor + "=" * (-len(params.cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        offset, key = int(data["o"]), str(data["q"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ToolInputError("cursor is not a cursor this tool returned") from exc
    if not 0 <= offset <= MAX_CURSOR_OFFSET:
        raise ToolInputError("cursor is not a cursor this tool returned (its offset is out of range)")
    if key != _query_key(params):
        raise ToolInputError("cursor belongs to a different query: repeat the same filters or drop it")
    return offset


def page_of(
    params: PageInput, rows: list[Any], total: int | None, offset: int
) -> tuple[list[Any], str | None]:
    """``rows`` fetched with ``limit + 1`` from ``offset``: the page and the next cursor."""
    more = len(rows) > params.limit
    page = rows[: params.limit]
    return page, encode_cursor(params, offset + len(page)) if more else None


# ---- declaration and running --------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolSpec(Generic[InputT, OutputT]):
    """One tool of the catalog (see module contract)."""

    name: str
    domain: Domain
    title: str
    description: str
    """What it answers, units, and an example call."""
    input_model: type[InputT]
    output_model: type[OutputT]
    handler: Callable[[ToolContext, InputT], OutputT]
    permission: str
    read_only: bool = True
    destructive: bool = False
    idempotent: bool = True
    open_world: bool = False
    max_output_tokens: int = DEFAULT_TOKEN_BUDGET
    cacheable: bool = False
    cloud_scoped: bool = False
    """True when the input has ``provider``/``account`` (listed on the aws/azure/gcp servers too)."""
    long_running: bool = False
    example: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.max_output_tokens > MAX_OUTPUT_BUDGET:
            raise ValueError(f"{self.name}: budget {self.max_output_tokens} exceeds {MAX_OUTPUT_BUDGET}")
        if self.read_only and self.destructive:
            raise ValueError(f"{self.name}: a read-only tool cannot be destructive")


def _json(model: BaseModel) -> str:
    return model.model_dump_json()


def bound_output(spec: ToolSpec[Any, Any], params: BaseModel, output: BaseModel) -> BaseModel:
    """Trim a paged output to the tool's budget (see module contract); other outputs must already fit."""
    budget = spec.max_output_tokens
    if estimate_tokens(_json(output)) <= budget:
        return output
    if not isinstance(output, PagedOutput) or not isinstance(params, PageInput):
        raise ToolError(f"{spec.name} produced an output over its {budget}-token budget")
    offset = decode_cursor(params)
    items = list(output.items)
    low, high = 0, len(items)
    while low < high:  # largest prefix that fits
        middle = (low + high + 1) // 2
        trial = output.model_copy(update={"items": items[:middle], "returned": middle})
        if estimate_tokens(_json(trial)) + 64 <= budget:
            low = middle
        else:
            high = middle - 1
    if low == 0:
        raise ToolError(f"{spec.name}: a single row is over the {budget}-token budget")
    return output.model_copy(
        update={
            "items": items[:low],
            "returned": low,
            "next_cursor": encode_cursor(params, offset + low),
            "truncated_for_size": True,
        }
    )


def validate_input(spec: ToolSpec[InputT, Any], arguments: dict[str, Any] | BaseModel) -> InputT:
    if isinstance(arguments, spec.input_model):
        return arguments
    raw = arguments.model_dump() if isinstance(arguments, BaseModel) else arguments
    try:
        return spec.input_model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'input'}: {error['msg']}" for error in exc.errors()
        )
        raise ToolInputError(f"invalid arguments for {spec.name}: {problems}") from exc


def cached_output(
    spec: ToolSpec[InputT, OutputT], ctx: ToolContext, arguments: dict[str, Any] | BaseModel
) -> OutputT | None:
    """The cached answer of a cacheable tool, validated and authorised as :func:`run_tool` does, or None
    when the tool has to run (then call ``run_tool(..., check_cache=False)``: the miss is already counted).

    No I/O: a caller on an event loop may call it there and leave only the misses to a worker thread.
    """
    if not spec.cacheable:
        return None
    params = validate_input(spec, arguments)
    _authorise(spec, ctx)
    hit = ctx.cache.get(_cache_key(spec, ctx, params))
    if hit is None:
        return None
    cached, age = hit
    return cast(OutputT, _with_cache_info(cached, ctx, hit=True, age=age))


def _authorise(spec: ToolSpec[Any, Any], ctx: ToolContext) -> None:
    if not ctx.can(spec.permission):
        raise ToolPermissionError(f"role {ctx.role!r} lacks permission {spec.permission!r} for {spec.name}")


def _cache_key(spec: ToolSpec[Any, Any], ctx: ToolContext, params: BaseModel) -> tuple[str, str, str]:
    return (str(ctx.organization_id), spec.name, params.model_dump_json())


def run_tool(
    spec: ToolSpec[InputT, OutputT],
    ctx: ToolContext,
    arguments: dict[str, Any] | BaseModel,
    *,
    check_cache: bool = True,
) -> OutputT:
    """Validate, authorise, serve from cache or run, and bound the output (see module contract).

    ``check_cache=False`` skips the lookup (the caller asked :func:`cached_output` first); the result is
    still stored.
    """
    params = validate_input(spec, arguments)
    _authorise(spec, ctx)
    key = _cache_key(spec, ctx, params)
    if spec.cacheable and check_cache:
        hit = ctx.cache.get(key)
        if hit is not None:
            cached, age = hit
            return cast(OutputT, _with_cache_info(cached, ctx, hit=True, age=age))
    output = spec.handler(ctx, params)
    bounded = bound_output(spec, params, output)
    if spec.cacheable:
        ctx.cache.put(key, bounded)
        return cast(OutputT, _with_cache_info(bounded, ctx, hit=False, age=0.0))
    return cast(OutputT, bounded)


def _with_cache_info(output: Any, ctx: ToolContext, *, hit: bool, age: float) -> Any:
    data = getattr(output, "data", None)
    if not isinstance(data, DataSource):
        return output
    info = data.model_copy(
        update={
            "cached": hit,
            "cache_age_seconds": round(age, 3),
            "cache_ttl_seconds": ctx.cache.ttl_seconds,
            "cache_state": ctx.cache.state(),
        }
    )
    return output.model_copy(update={"data": info})


def day_range(start: date | None, end: date | None, today: date, default_days: int) -> tuple[date, date]:
    """``[start, end)`` with defaults: the ``default_days`` days before ``today``."""
    end_day = end or today
    start_day = start or end_day - timedelta(days=default_days)
    if end_day <= start_day:
        raise ToolInputError(f"end_date {end_day} must be after start_date {start_day} (end is exclusive)")
    if (end_day - start_day).days > 366:
        raise ToolInputError("a period may span at most 366 days")
    return start_day, end_day
