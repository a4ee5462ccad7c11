"""Build and run a CloudOptima MCP server (the composition root of ``python -m cloudoptima_mcp.<name>``).

Contract:
- ``build_server(name, runtime, identity=..., read_only=..., toolsets=...)``: ``aws``, ``azure`` and ``gcp``
  list that cloud's cost, compute, storage (and IAM) tools with ``provider`` fixed; ``platform`` lists every
  tool of every cloud plus the platform tools. ``toolsets`` keeps the tools of those toolsets
  (:mod:`cloudoptima_mcp.toolsets`; None: every tool). ``read_only`` drops every tool that is not read-only.
  All servers carry the same resources and prompts.
- The entry points (``main`` and ``http_server``/``http_app_for``) list the server's default toolsets unless
  ``--toolsets`` (or ``CLOUDOPTIMA_MCP_TOOLSETS``) asks for others or ``all``; an unknown toolset is refused
  with a message naming it and the valid ones.
- stdio needs ``CLOUDOPTIMA_API_KEY``; HTTP requires a bearer (API key or gateway JWT) on every request.
- ``main(name, argv)`` parses ``--transport stdio|http --read-only --toolsets --host --port --workers
  --stateful --no-fast-calls``; the ``cloudoptima mcp`` command forwards its arguments here.
- Streamable HTTP is stateless with JSON responses by default: every POST is answered on its own, so any
  process (``--workers N``, or several replicas behind a load balancer, or the gateway's workers) can serve
  any request, and no session state is kept between calls. What that gives up: server-initiated requests on
  handshake-era (``2025-*``) connections, so confirmation of a state-changing tool takes the two-step
  ``confirm=true`` path there (``2026-07-28`` connections keep their ``input_required`` form), and progress
  notifications, which a JSON response cannot stream. ``--stateful`` keeps sessions and SSE streams (one
  process only: a session lives in the process that opened it).
- A stateless app answers a cached tool call before the SDK's session machinery, with the same response
  and audit row (:mod:`cloudoptima_mcp.fast_calls`); ``--no-fast-calls`` or ``CLOUDOPTIMA_MCP_FAST_CALLS=0``
  turns that off.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

import uvicorn
from fastmcp import FastMCP
from starlette.applications import Starlette
from starlette.middleware import Middleware

from cloudoptima.services.tokens import TokenIssuer
from cloudoptima.settings import Settings, SettingsError, load_settings
from cloudoptima_mcp.content import register_content
from cloudoptima_mcp.fast_calls import ENV_VAR as FAST_CALLS_ENV_VAR
from cloudoptima_mcp.fast_calls import CallTable, FastToolCalls
from cloudoptima_mcp.identity import AuthenticationError, BearerVerifier, Identity, identity_from_api_key
from cloudoptima_mcp.registration import ResultStore, ServerScope, register_tools
from cloudoptima_mcp.remediation import confirm_remediation
from cloudoptima_mcp.runtime import Runtime, runtime_from_settings
from cloudoptima_mcp.toolsets import (
    ALL,
    DEFAULTS,
    ENV_VAR,
    UnknownToolsetError,
    offered,
    parse_toolsets,
    requested_toolsets,
    tools_in,
)
from cloudoptima_tools import catalog
from cloudoptima_tools.spec import Provider

SERVER_NAMES: tuple[str, ...] = ("aws", "azure", "gcp", "platform")
_TITLES = {"aws": "AWS", "azure": "Azure", "gcp": "Google Cloud", "platform": "all clouds"}


def _instructions(name: str, toolsets: Sequence[str] | None = None) -> str:
    where = f"the {_TITLES[name]} estate" if name != "platform" else "every connected cloud"
    listed = ", ".join(toolsets if toolsets is not None else offered(name))
    return (
        f"CloudOptima FinOps tools for {where}: costs (billing currency, Decimal strings), forecasts, idle and "
        "oversized compute, storage waste, recommendations, anomalies, budgets. Data is served from the "
        "CloudOptima store (collected from the clouds), scoped to your organisation. Paged tools return "
        "items, returned, total and next_cursor (pass it as cursor); data says where numbers came from and "
        "how fresh they are. No tool changes a cloud (request_remediation only starts an approval-gated "
        f"workflow). Toolsets listed: {listed} (of {', '.join(offered(name))}; start the server with "
        f"--toolsets or {ENV_VAR} to choose)."
    )


def build_server(
    name: str,
    runtime: Runtime,
    *,
    identity: Identity | None = None,
    read_only: bool = False,
    auth: BearerVerifier | None = None,
    toolsets: Sequence[str] | None = None,
) -> FastMCP:
    """A configured server (see module contract); ``toolsets`` None lists every tool."""
    return _compose(name, runtime, identity=identity, read_only=read_only, auth=auth, toolsets=toolsets)[0]


def _compose(
    name: str,
    runtime: Runtime,
    *,
    identity: Identity | None,
    read_only: bool,
    auth: BearerVerifier | None,
    toolsets: Sequence[str] | None,
) -> tuple[FastMCP, CallTable]:
    """The server and the fast path's table of its cached tool calls."""
    if name not in SERVER_NAMES:
        raise ValueError(f"unknown MCP server {name!r}; expected one of {', '.join(SERVER_NAMES)}")
    selected = offered(name) if toolsets is None else parse_toolsets(name, toolsets)
    provider: Provider | None = None if name == "platform" else name  # type: ignore[assignment]
    scope = ServerScope(name=name, provider=provider, read_only=read_only, fixed_identity=identity)
    server = FastMCP(f"cloudoptima-{name}", instructions=_instructions(name, selected), auth=auth)
    specs = tools_in(
        catalog.catalog(read_only=read_only)
        if provider is None
        else catalog.for_provider(read_only=read_only),
        selected,
    )
    results = ResultStore()
    table = register_tools(server, specs, scope, runtime, results, before_run=confirm_remediation)
    register_content(server, scope, runtime, results)
    return server, table


def http_server(
    name: str,
    settings: Settings,
    runtime: Runtime | None = None,
    *,
    read_only: bool = False,
    toolsets: str | None = None,
) -> FastMCP:
    """A server that authenticates every HTTP request with a bearer token.

    ``toolsets`` (``cost,budgets`` or ``all``) defaults to ``CLOUDOPTIMA_MCP_TOOLSETS``, then to the server's
    default toolsets; an unknown name raises :class:`~cloudoptima_mcp.toolsets.UnknownToolsetError`.
    """
    return _http_server(name, settings, runtime, read_only=read_only, toolsets=toolsets)[0]


def _http_server(
    name: str,
    settings: Settings,
    runtime: Runtime | None,
    *,
    read_only: bool,
    toolsets: str | None,
) -> tuple[FastMCP, CallTable]:
    selected = requested_toolsets(name, toolsets)
    runtime = runtime or runtime_from_settings(settings)
    keys = settings.resolved_jwt_keys
    issuer = TokenIssuer(
        keys.current.secret,
        algorithm=settings.jwt_algorithm,
        access_minutes=settings.access_token_minutes,
        keys=keys,
    )
    return _compose(
        name,
        runtime,
        identity=None,
        read_only=read_only,
        auth=BearerVerifier(runtime.session_factory, issuer),
        toolsets=selected,
    )


def http_app_for(
    name: str,
    settings: Settings,
    runtime: Runtime | None = None,
    *,
    stateful: bool = False,
    fast_calls: bool | None = None,
    **kwargs: Any,
) -> Starlette:
    """The streamable-HTTP ASGI app of a server (mount it, or serve it with uvicorn); endpoint ``/mcp``.

    Stateless with JSON responses unless ``stateful`` (sessions and SSE streams; see module contract).
    A stateless app answers cached tool calls on its fast path (:mod:`cloudoptima_mcp.fast_calls`) unless
    ``fast_calls`` is False (None: ``CLOUDOPTIMA_MCP_FAST_CALLS``, on unless ``0``/``false``/``no``/``off``).
    """
    server, table = _http_server(
        name,
        settings,
        runtime,
        read_only=bool(kwargs.pop("read_only", False)),
        toolsets=kwargs.pop("toolsets", None),
    )
    path = kwargs.pop("path", "/mcp")
    middleware = list(kwargs.pop("middleware", None) or [])
    if not stateful:
        auth = server.auth
        middleware.append(
            Middleware(
                FastToolCalls,
                table=table,
                path=path,
                required_scopes=list(auth.required_scopes or []) if auth is not None else [],
                enabled=fast_calls_enabled(fast_calls, os.environ.get(FAST_CALLS_ENV_VAR)),
            )
        )
    return server.http_app(
        path=path,
        transport="http",
        stateless_http=not stateful,
        json_response=not stateful,
        middleware=middleware,
        **kwargs,
    )


def fast_calls_enabled(option: bool | None, environment: str | None) -> bool:
    """The fast path's switch: ``option`` if given, else ``CLOUDOPTIMA_MCP_FAST_CALLS`` (default on)."""
    if option is not None:
        return option
    return (environment or "").strip().lower() not in ("0", "false", "no", "off")


def _parser(name: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"python -m cloudoptima_mcp.{name}", description=_instructions(name, DEFAULTS[name])
    )
    parser.add_argument("--transport", choices=("stdio", "http"), default="stdio")
    parser.add_argument("--read-only", action="store_true", help="List only tools that change nothing.")
    parser.add_argument(
        "--toolsets",
        default=None,
        metavar="NAME,...",
        help=(
            f"Toolsets to list: {', '.join(offered(name))} or {ALL} "
            f"(default {ENV_VAR}, else {','.join(DEFAULTS[name])})."
        ),
    )
    parser.add_argument(
        "--host", default=None, help="HTTP bind address (default CLOUDOPTIMA_HOST or 127.0.0.1)."
    )
    parser.add_argument("--port", type=int, default=8765, help="HTTP port (default 8765).")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help=f"HTTP server processes (default {WORKERS_ENV_VAR} or 1); more than 1 needs stateless mode.",
    )
    parser.add_argument(
        "--no-fast-calls",
        action="store_true",
        help=f"Send cached tool calls through the SDK's full path too (default: {FAST_CALLS_ENV_VAR} or on).",
    )
    parser.add_argument(
        "--stateful",
        action="store_true",
        help="Keep MCP sessions and SSE streams over HTTP (one process; default: stateless, JSON responses).",
    )
    return parser


def parse_arguments(
    name: str, argv: Sequence[str] | None = None
) -> tuple[argparse.Namespace, tuple[str, ...]]:
    """The parsed command line and the toolsets it selects; an unknown toolset exits 2 with the valid names."""
    parser = _parser(name)
    args = parser.parse_args(argv)
    try:
        toolsets = requested_toolsets(name, args.toolsets)
    except UnknownToolsetError as exc:
        parser.error(str(exc))
    try:
        args.workers = http_workers_from(args.workers, os.environ.get(WORKERS_ENV_VAR))
    except ValueError as exc:
        parser.error(str(exc))
    if args.workers > 1 and args.stateful:
        parser.error("--workers above 1 needs stateless HTTP: a --stateful session lives in one process")
    return args, toolsets


def main(name: str, argv: Sequence[str] | None = None) -> None:
    """``python -m cloudoptima_mcp.<name> [--transport stdio|http] [--read-only] [--toolsets T] [--host H]
    [--port P]``."""
    args, toolsets = parse_arguments(name, argv)
    try:
        settings = load_settings()
        if args.transport == "stdio":
            runtime = runtime_from_settings(settings)
            identity = identity_from_api_key(runtime.session_factory, os.environ.get("CLOUDOPTIMA_API_KEY"))
            server = build_server(
                name, runtime, identity=identity, read_only=args.read_only, toolsets=toolsets
            )
            server.run(transport="stdio", show_banner=False)
        else:
            _serve_http(name, settings, args, toolsets)
    except (SettingsError, AuthenticationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc


WORKERS_ENV_VAR = "CLOUDOPTIMA_MCP_WORKERS"
MAX_WORKERS = 32


def http_workers_from(option: int | None, environment: str | None) -> int:
    """The HTTP worker count: ``--workers``, else ``CLOUDOPTIMA_MCP_WORKERS``, else 1 (1 to 32).

    A value out of range or not a whole number raises ``ValueError`` naming where it came from.
    """
    where, raw = ("--workers", str(option)) if option is not None else (WORKERS_ENV_VAR, environment)
    if raw is None or not raw.strip():
        return 1
    try:
        workers = int(raw)
    except ValueError:
        raise ValueError(f"{where} must be a whole number of processes, got {raw!r}") from None
    if not 1 <= workers <= MAX_WORKERS:
        raise ValueError(f"{where} must be between 1 and {MAX_WORKERS}, got {workers}")
    return workers


def _serve_http(name: str, settings: Settings, args: argparse.Namespace, toolsets: Sequence[str]) -> None:
    """Serve ``/mcp`` with uvicorn: the app itself in this process, or ``args.workers`` processes that each
    build it (:mod:`cloudoptima_mcp.http_workers`). Access lines are not logged (one per tool call)."""
    host = args.host or settings.host
    options = http_options(name, args.read_only, toolsets, stateful=args.stateful, host=host)
    if args.no_fast_calls:
        options["fast_calls"] = False
    config: dict[str, Any] = {
        "host": host,
        "port": args.port,
        "access_log": False,
        "log_level": settings.log_level.lower(),
        "timeout_graceful_shutdown": 2,
        "lifespan": "on",
    }
    if args.workers == 1:
        uvicorn.run(http_app_from_options(settings, options), **config)
        return
    http_server(name, settings, read_only=args.read_only, toolsets=",".join(toolsets))  # fails here, not in N
    os.environ[OPTIONS_ENV_VAR] = json.dumps(options)
    uvicorn.run(f"{__package__}.http_workers:app_factory", factory=True, workers=args.workers, **config)


OPTIONS_ENV_VAR = "CLOUDOPTIMA_MCP_HTTP_OPTIONS"
"""How :func:`_serve_http` hands the server's options to its worker processes."""
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def http_options(
    name: str, read_only: bool, toolsets: Sequence[str], *, stateful: bool, host: str
) -> dict[str, Any]:
    """What an HTTP server process needs besides settings (JSON-serialisable)."""
    return {
        "name": name,
        "read_only": read_only,
        "toolsets": ",".join(toolsets),
        "stateful": stateful,
        # As FastMCP's own runner does: a loopback-bound server checks Host (DNS rebinding).
        "allowed_hosts": [host] if host in _LOOPBACK else None,
    }


def http_app_from_options(settings: Settings, options: dict[str, Any]) -> Starlette:
    """The ``/mcp`` app described by :func:`http_options`."""
    extra: dict[str, Any] = {}
    if options.get("allowed_hosts"):
        extra["allowed_hosts"] = list(options["allowed_hosts"])
    return http_app_for(
        str(options["name"]),
        settings,
        read_only=bool(options["read_only"]),
        toolsets=str(options["toolsets"]),
        stateful=bool(options["stateful"]),
        fast_calls=options.get("fast_calls"),
        **extra,
    )
