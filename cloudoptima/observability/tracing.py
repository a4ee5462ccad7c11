"""OpenTelemetry tracing of one process (the gateway or a worker): off unless an OTLP endpoint is configured.

Contract:

* :func:`configure_tracing` (``settings, service_name``) turns tracing on only when
  ``settings.otlp_traces_endpoint`` is set (``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``..._TRACES_ENDPOINT``, not
  ``OTEL_SDK_DISABLED``) or a test hands it an ``exporter``; otherwise it returns None and installs nothing: no
  SDK provider, no instrumentation, no interceptor, no per-request work beyond the API's no-op span lookups.
  On, it builds one ``TracerProvider`` whose resource names ``service.name`` (``cloudoptima-gateway`` /
  ``cloudoptima-worker``), ``service.version`` and ``service.namespace`` (plus ``OTEL_RESOURCE_ATTRIBUTES``,
  read by the SDK), whose sampler is the SDK's from ``OTEL_TRACES_SAMPLER`` / ``..._ARG`` (default: parent
  based, always on), with a ``BatchSpanProcessor`` (``OTEL_BSP_*``) over the OTLP/HTTP exporter
  (``OTEL_EXPORTER_OTLP_HEADERS`` / ``_TIMEOUT`` / ``_COMPRESSION`` read by the exporter) or the given one.
  That provider becomes the process's :func:`active_provider` (and, with ``install_global``, the API's
  global one — the SDK accepts that once per process), and botocore calls are traced on it. Configuring the
  same service and endpoint again returns the active provider (idempotent).
* :func:`instrument_engine` is called by the one engine factory (``cloudoptima.storage.engine``): while a
  provider is active, every SQL statement of that engine becomes a client span (statement text with its
  placeholders; parameter values are never recorded); otherwise it does nothing.
* :func:`tag_current_span` puts ``cloudoptima.request_id`` and ``cloudoptima.organization_id`` on the
  current (or a given) span when it is recording (the gateway's request span, Temporal's client and activity spans).
* :func:`current_ids` gives the current span's ``(trace_id, span_id)`` in W3C hex, for the JSON log lines.
* :func:`shutdown_tracing` flushes and shuts the active provider down and removes the botocore tracing.

The apps attach the rest to the active provider: the FastAPI app (``cloudoptima_gateway.observability``) and
Temporal's ``TracingInterceptor`` on every client and worker (``cloudoptima_workflows.tracing``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from opentelemetry import trace

if TYPE_CHECKING:  # the SDK is imported only when tracing is turned on
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from sqlalchemy import Engine

    from cloudoptima.settings import Settings

GATEWAY: Final = "cloudoptima-gateway"
WORKER: Final = "cloudoptima-worker"
ATTRIBUTE_PREFIX: Final = "cloudoptima."
TAGGED: Final = ("request_id", "organization_id")
"""Log-context fields put on spans as ``cloudoptima.<field>``."""

log = logging.getLogger(__name__)
_lock = threading.Lock()
_active: TracerProvider | None = None
_active_key: tuple[str, str] | None = None
_global_installed = False


def active_provider() -> TracerProvider | None:
    """The provider :func:`configure_tracing` made active in this process; None while tracing is off."""
    return _active


def configure_tracing(
    settings: Settings,
    service_name: str,
    *,
    exporter: SpanExporter | None = None,
    install_global: bool = True,
) -> TracerProvider | None:
    """Turn tracing on for this process when configured (see module contract); None when it stays off."""
    global _active, _active_key, _global_installed
    endpoint = settings.otlp_traces_endpoint
    if exporter is None and endpoint is None:
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    import cloudoptima

    key = (service_name, endpoint or f"exporter:{id(exporter)}")
    with _lock:
        if _active is not None and _active_key == key:
            return _active
        if exporter is None:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter(endpoint=endpoint)
        resource = Resource.create(
            {
                "service.name": service_name,
                "service.version": cloudoptima.__version__,
                "service.namespace": "cloudoptima",
            }
        )
        provider = TracerProvider(resource=resource)
        provider.add_span_processor(BatchSpanProcessor(exporter))
        previous, _active, _active_key = _active, provider, key
        if install_global and not _global_installed:
            trace.set_tracer_provider(provider)
            _global_installed = True
    if previous is not None:
        previous.shutdown()
    _trace_botocore(provider)
    log.info("tracing on: %s exports spans to %s", service_name, endpoint or type(exporter).__name__)
    return provider


def shutdown_tracing() -> None:
    """Flush and shut down the active provider (nothing when tracing is off); botocore calls stop being
    traced and :func:`active_provider` is None again."""
    global _active, _active_key
    with _lock:
        provider, _active, _active_key = _active, None, None
    if provider is None:
        return
    _untrace_botocore()
    provider.shutdown()


def instrument_engine(engine: Engine) -> None:
    """Trace ``engine``'s statements on the active provider; nothing while tracing is off."""
    provider = _active
    if provider is None:
        return
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.instrumentation.sqlalchemy.version import __version__ as version
    from opentelemetry.metrics import NoOpMeter

    tracer = provider.get_tracer("opentelemetry.instrumentation.sqlalchemy", version)
    # The instrumentation also counts pool connections as a metric; this process exports no OTel metrics.
    usage = NoOpMeter("cloudoptima").create_up_down_counter("db.client.connections.usage")
    EngineTracer(tracer, engine, usage)  # type: ignore[no-untyped-call]


def tag_current_span(fields: Mapping[str, str], span: trace.Span | None = None) -> None:
    """Put the :data:`TAGGED` fields of ``fields`` on ``span`` (default: the current one) when it records
    (else nothing)."""
    span = span or trace.get_current_span()
    if not span.is_recording():
        return
    span.set_attributes({ATTRIBUTE_PREFIX + name: fields[name] for name in TAGGED if fields.get(name)})


def current_ids() -> tuple[str, str] | None:
    """``(trace_id, span_id)`` of the current span as 32 and 16 hex digits; None outside any span."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def _trace_botocore(provider: TracerProvider) -> None:
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor

    instrumentor = BotocoreInstrumentor()  # type: ignore[no-untyped-call]
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()
    instrumentor.instrument(tracer_provider=provider)


def _untrace_botocore() -> None:
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor

    instrumentor = BotocoreInstrumentor()  # type: ignore[no-untyped-call]
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()
