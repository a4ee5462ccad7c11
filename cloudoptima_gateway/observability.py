"""JSON structured logs with a request id, Prometheus metrics for every request, and the request's trace span
(while tracing is on: :func:`trace_app`)."""

from __future__ import annotations

import contextvars
import json
import logging
import time
import uuid
from collections.abc import Mapping, Sequence

from fastapi import FastAPI
from opentelemetry import trace
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cloudoptima.observability.log_context import bind, configure_json_logging, current
from cloudoptima.observability.tracing import active_provider, tag_current_span

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
NUL_IN_URL = "NUL (\\x00) characters are not allowed in the URL"
ROUTE_LABEL = "cloudoptima.route"
"""Scope key a middleware that answers before routing sets to the route template it served."""
UNTRACED_URLS = r"/metrics$,/health(/detailed)?$"
"""Requests without a span (the OpenTelemetry instrumentation's comma-separated regular expressions)."""


def trace_app(app: FastAPI) -> bool:
    """While a tracer provider is active (``cloudoptima.observability.tracing``), give every request but
    :data:`UNTRACED_URLS` a server span (OpenTelemetry's FastAPI instrumentation, outermost: it continues a
    ``traceparent`` it receives; no per-chunk send/receive spans). ``False`` (nothing done) while tracing is
    off."""
    provider = active_provider()
    if provider is None:
        return False
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, excluded_urls=UNTRACED_URLS, exclude_spans=["receive", "send"]
    )
    return True


def configure_logging(level: str) -> None:
    """Send every log record to stderr as one JSON object with ``request_id``, ``organization_id`` and the
    other context fields (:mod:`cloudoptima.observability.log_context`)."""
    configure_json_logging(level)


class Metrics:
    """Per-app registry so several apps (tests) never collide on metric names."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "cloudoptima_http_requests_total",
            "HTTP requests served",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "cloudoptima_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
        )


def _has_nul(scope: Scope) -> bool:
    query = bytes(scope.get("query_string") or b"").lower()
    return b"%00" in query or b"\x00" in query or "\x00" in str(scope.get("path", ""))


async def send_json(
    send: Send, status: int, body: bytes, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """Send a complete JSON response from an ASGI middleware that answers without the app."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-length", str(len(body)).encode()),
                (b"content-type", b"application/json"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestMiddleware:
    """Pure ASGI middleware (no ``call_next``: nothing buffers or re-wraps the response stream).

    For every HTTP request: assigns or propagates ``X-Request-ID`` (also set in the log context), adds the
    security headers that the response has not set itself, records the Prometheus counter and latency by
    route template, and logs one JSON access line (with the request id, and the organisation once authenticated). Streaming responses (SSE) pass through untouched.
    While tracing is on, the request's server span gets ``cloudoptima.request_id`` and
    ``cloudoptima.organization_id`` (once authenticated).
    """

    def __init__(self, app: ASGIApp, metrics: Metrics, security_headers: Mapping[str, str]) -> None:
        self.app = app
        self.metrics = metrics
        self.headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in security_headers.items()
        ]
        self.log = logging.getLogger("cloudoptima.gateway.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _has_nul(scope):
            await send_json(send, 400, json.dumps({"detail": NUL_IN_URL}).encode())
            return
        incoming = dict(scope.get("headers") or [])
        request_id = incoming.get(b"x-request-id", b"").decode("latin-1") or uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500
        span = trace.get_current_span()  # the server span while tracing is on; it ends with the response

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                tag_current_span(current(), span)  # the organisation is known once the route has run
                headers = list(message.get("headers") or [])
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in self.headers if h[0] not in present)
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        # the request's log context: authentication adds the organisation to it (deps.current_principal)
        with bind(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_headers)
            finally:
                elapsed = time.perf_counter() - started
                template = getattr(scope.get("route"), "path", None) or scope.get(ROUTE_LABEL, "unmatched")
                method = str(scope.get("method", ""))
                self.metrics.requests.labels(method, template, str(status)).inc()
                self.metrics.latency.labels(method, template).observe(elapsed)
                self.log.info(
                    "request",
                    extra={
                        "method": method,
                        "path": scope.get("path"),
                        "status": status,
                        "ms": elapsed * 1000,
                    },
                )
                REQUEST_ID.reset(token)
