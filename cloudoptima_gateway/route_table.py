"""The app's effective route table, flattened (FastAPI includes routers lazily, so ``app.routes`` holds
include entries rather than the routes themselves). Used by the route-table tests and the docs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import BaseRoute


@dataclass(frozen=True)
class RouteEntry:
    path: str
    methods: frozenset[str]
    route: APIRoute


def _walk(routes: Iterable[BaseRoute], prefix: str) -> Iterator[RouteEntry]:
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            yield from _walk(included.routes, prefix + str(getattr(context, "prefix", "") or ""))
        elif isinstance(route, APIRoute):
            yield RouteEntry(prefix + route.path, frozenset(route.methods or ()), route)
        elif isinstance(route, APIWebSocketRoute):
            continue


def api_routes(routes: Iterable[BaseRoute]) -> list[RouteEntry]:
    """Every HTTP API route with its full path and methods."""
    return list(_walk(routes, ""))
