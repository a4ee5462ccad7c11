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
- ``main(name, argv)`` parses ``--transport stdio|http --read-only --toolsets --host --port``; the
  ``cloudoptima mcp`` command forwards its arguments here.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from fastmcp import FastMCP
from starlette.applications import Starlette

from cloudoptima.services.tokens import TokenIssuer
from cloudoptima.settings import Settings, SettingsError, load_settings
from cloudoptima_mcp.content import register_content
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
    register_tools(server, specs, scope, runtime, results, before_run=confirm_remediation)
    register_content(server, scope, runtime, results)
    return server


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
    selected = requested_toolsets(name, toolsets)
    runtime = runtime or runtime_from_settings(settings)
    keys = settings.resolved_jwt_keys
    issuer = TokenIssuer(
        keys.current.secret,
        algorithm=settings.jwt_algorithm,
        access_minutes=settings.access_token_minutes,
        keys=keys,
    )
    return build_server(
        name,
        runtime,
        read_only=read_only,
        auth=BearerVerifier(runtime.session_factory, issuer),
        toolsets=selected,
    )


def http_app_for(name: str, settings: Settings, runtime: Runtime | None = None, **kwargs: Any) -> Starlette:
    """The streamable-HTTP ASGI app of a server (mount it, or serve it with uvicorn); endpoint ``/mcp``."""
    server = http_server(
        name,
        settings,
        runtime,
        read_only=bool(kwargs.pop("read_only", False)),
        toolsets=kwargs.pop("toolsets", None),
    )
    return server.http_app(path=kwargs.pop("path", "/mcp"), transport="http", **kwargs)


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
            server = http_server(name, settings, read_only=args.read_only, toolsets=",".join(toolsets))
            server.run(
                transport="http",
                host=args.host or settings.host,
                port=args.port,
                path="/mcp",
                show_banner=False,
            )
    except (SettingsError, AuthenticationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc
