"""The gateway's composition root: ``create_app(settings)``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.trustedhost import TrustedHostMiddleware
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool

import cloudoptima
from cloudoptima.clouds.registry import ProviderRegistry
from cloudoptima.observability.metrics import REGISTRY as BUSINESS_METRICS
from cloudoptima.observability.tracing import GATEWAY, active_provider, configure_tracing
from cloudoptima.services.operator_gauges import OperatorGauges
from cloudoptima.settings import Settings, load_settings
from cloudoptima.storage.tenancy import TenantViolation
from cloudoptima_gateway import health, stream
from cloudoptima_gateway.audit import AuditMiddleware
from cloudoptima_gateway.console import install_console, resolve_console_dir
from cloudoptima_gateway.docs_pages import DEFAULT_CSP, docs_router
from cloudoptima_gateway.edge_cache import CachedReadMiddleware
from cloudoptima_gateway.flat_routes import include_flat
from cloudoptima_gateway.list_cache import ListCacheMiddleware
from cloudoptima_gateway.observability import Metrics, RequestMiddleware, configure_logging, trace_app
from cloudoptima_gateway.process_metrics import exposition
from cloudoptima_gateway.routes.v1 import build_router
from cloudoptima_gateway.runtime import Runtime

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Content-Security-Policy": DEFAULT_CSP,
}
"""Sent with every response that does not set the header itself (the docs pages send their own CSP)."""


async def _not_found(_request: Request, _exc: Exception) -> Response:
    """A write that crossed organisations is answered as a missing resource (ids of others are unknown)."""
    return JSONResponse({"detail": "not found"}, status_code=404)


def create_app(
    settings: Settings | None = None,
    *,
    providers: ProviderRegistry | None = None,
    mounts: Mapping[str, Starlette] | None = None,
    routers: Sequence[APIRouter] = (),
) -> FastAPI:
    """Build the FastAPI app; connections are opened lazily and closed at shutdown.

    ``providers`` builds cloud clients of connected accounts (default: the registry over the configured
    credential key); tests pass one with strict fakes at the edge of the world. ``mounts`` are ASGI apps
    mounted at their path whose lifespans run inside the gateway's (the composition root in
    :mod:`cloudoptima_gateway.main` mounts the MCP server at ``/mcp``); ``routers`` are extra ``/v1`` routers (chat).
    """
    settings = settings or load_settings()
    settings.check_production_safety()
    configure_logging(settings.log_level)
    configure_tracing(settings, GATEWAY)  # off (nothing installed) unless OTEL_EXPORTER_OTLP_ENDPOINT is set
    runtime = Runtime(settings, providers=providers)
    metrics = Metrics()

    mounted = dict(mounts or {})

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for sub_app in mounted.values():
                await stack.enter_async_context(sub_app.router.lifespan_context(sub_app))
            yield
        await runtime.close()
        if (provider := active_provider()) is not None:
            await run_in_threadpool(provider.force_flush)  # the spans of the last requests

    app = FastAPI(
        title="CloudOptima API",
        version=cloudoptima.__version__,
        description="Multi-cloud FinOps: costs, forecasts, anomalies, recommendations, budgets, remediation.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.runtime = runtime
    app.state.metrics = metrics

    app.add_middleware(CachedReadMiddleware, runtime=runtime)
    app.add_middleware(ListCacheMiddleware, runtime=runtime)
    app.add_middleware(AuditMiddleware)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.trusted_hosts)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
    )

    app.add_middleware(RequestMiddleware, metrics=metrics, security_headers=SECURITY_HEADERS)
    # route by route: one flat list to match (cloudoptima_gateway.flat_routes)
    include_flat(app.router, health.router)
    include_flat(app.router, docs_router(app.openapi_url or "/openapi.json", app.title))
    include_flat(app.router, build_router())
    include_flat(app.router, stream.router)
    for extra in routers:
        include_flat(app.router, extra, prefix="/v1")
    for path, sub_app in mounted.items():
        app.mount(path, sub_app)
    # The web console answers the GET/HEAD requests that no route or mount matches (cloudoptima_gateway.console).
    install_console(app, resolve_console_dir(settings.console_dir))
    app.add_exception_handler(TenantViolation, _not_found)

    gauges = OperatorGauges(runtime.engine, lambda: datetime.now(UTC))
    metrics.registry.register(gauges)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        # HTTP metrics and the scrape-time gauges (one database read: off the event loop), then the business
        # metrics (cloudoptima.observability.metrics): this process's, or every gateway worker's summed.
        body = await run_in_threadpool(exposition, metrics.registry, BUSINESS_METRICS, gauges)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    trace_app(app)
    return app
