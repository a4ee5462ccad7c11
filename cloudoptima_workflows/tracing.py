"""Temporal's OpenTelemetry interceptor, on the provider ``cloudoptima.observability.tracing`` made active.

Contract:

* :func:`tracing_interceptors` is ``[]`` while tracing is off (nothing is added to any client or worker) and
  ``[TracingInterceptor]`` on the active provider otherwise; :func:`cloudoptima_workflows.connection.connect`
  puts it first (outermost) on every client, so the gateway's ``StartWorkflow`` span carries the trace into
  the Temporal header, and every worker built on such a client runs each workflow under a ``RunWorkflow``
  span and each activity under a ``RunActivity`` span of the same trace (Temporal's own span names).
* Workflow spans also carry ``cloudoptima.request_id`` / ``cloudoptima.organization_id`` read from the log
  context header the workflow was started with (:mod:`cloudoptima_workflows.tracing_interceptor`, imported
  only while tracing is on); client and activity spans get them in
  :mod:`cloudoptima_workflows.log_propagation` (``tag_current_span``).
* Workflow spans are made only for workflows started under a span (the SDK's default): a scheduled run's
  activities start their own traces.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cloudoptima.observability.tracing import active_provider

if TYPE_CHECKING:
    from temporalio.contrib.opentelemetry import TracingInterceptor


def tracing_interceptors() -> list[TracingInterceptor]:
    """The interceptor to put first on a client while tracing is on; empty (nothing imported) while it is off."""
    provider = active_provider()
    if provider is None:
        return []
    from cloudoptima_workflows.tracing_interceptor import CloudOptimaTracingInterceptor

    return [CloudOptimaTracingInterceptor(provider.get_tracer("temporalio.contrib.opentelemetry"))]
