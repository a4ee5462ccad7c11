"""Carries the log context of a REST request (request id, organisation) into the workflows it starts and
their activities, so the worker's JSON log lines name them (:mod:`cloudoptima.observability.log_context`).

Contract of :class:`LogContextInterceptor` (given to every client by :func:`cloudoptima_workflows.connection
.connect`; a worker built on such a client uses it too):

* Client side: starting a workflow (or signal-with-start, update-with-start) puts the bound ``request_id``
  and ``organization_id`` in the Temporal header :data:`HEADER` (nothing when none is bound).
* Workflow side: the header the workflow was started with is copied onto every activity it schedules
  (deterministic: only the workflow's own input is read).
* Activity side: the activity runs inside ``bind(...)`` of the header's fields, the organisation falling
  back to the ``organization_id`` of the activity's input (scheduled runs carry no request), so each log
  line also names the workflow and activity (read from the SDK by the log filter).
* While tracing is on (:mod:`cloudoptima_workflows.tracing`, whose interceptor runs outside this one), the
  client's ``StartWorkflow`` span and the activity's ``RunActivity`` span get the same fields as
  ``cloudoptima.request_id`` / ``cloudoptima.organization_id``.
"""

from __future__ import annotations

from typing import Any, Final

from temporalio import client, converter, worker
from temporalio.api.common.v1 import Payload

HEADER: Final = "cloudoptima-log-context"
_CARRIED: Final = ("request_id", "organization_id")


def _encode(fields: dict[str, str]) -> Payload:
    return converter.PayloadConverter.default.to_payloads([fields])[0]


def decode(payload: Payload | None) -> dict[str, str]:
    """The carried fields of a :data:`HEADER` payload (``{}`` when absent)."""
    if payload is None:
        return {}
    value = converter.PayloadConverter.default.from_payloads([payload])[0]
    return {k: str(v) for k, v in value.items() if k in _CARRIED} if isinstance(value, dict) else {}


def _with_context(headers: dict[str, Payload]) -> dict[str, Payload]:
    from cloudoptima.observability.log_context import current  # not imported in the workflow sandbox

    fields = {k: v for k, v in current().items() if k in _CARRIED}
    return {**headers, HEADER: _encode(fields)} if fields else headers


def _tag_span(fields: dict[str, str]) -> None:
    from cloudoptima.observability.tracing import tag_current_span

    tag_current_span(fields)


class _ClientOutbound(client.OutboundInterceptor):
    async def start_workflow(self, input: client.StartWorkflowInput) -> client.WorkflowHandle[Any, Any]:
        input.headers = _with_context(dict(input.headers))
        if HEADER in input.headers:
            _tag_span(decode(input.headers[HEADER]))
        return await super().start_workflow(input)


class _ActivityInbound(worker.ActivityInboundInterceptor):
    async def execute_activity(self, input: worker.ExecuteActivityInput) -> Any:
        from cloudoptima.observability.log_context import bind
        from cloudoptima_workflows.audit import organisation_of

        fields = decode(input.headers.get(HEADER))
        organisation = organisation_of(input.args)
        if "organization_id" not in fields and organisation is not None:
            fields["organization_id"] = str(organisation)
        _tag_span(fields)
        with bind(**fields):
            return await super().execute_activity(input)


class _WorkflowOutbound(worker.WorkflowOutboundInterceptor):
    def __init__(self, nxt: worker.WorkflowOutboundInterceptor, carried: dict[str, Payload]) -> None:
        super().__init__(nxt)
        self._carried = carried

    def start_activity(self, input: worker.StartActivityInput) -> Any:
        input.headers = {**self._carried, **input.headers}
        return super().start_activity(input)

    def start_local_activity(self, input: worker.StartLocalActivityInput) -> Any:
        input.headers = {**self._carried, **input.headers}
        return super().start_local_activity(input)


class _WorkflowInbound(worker.WorkflowInboundInterceptor):
    def init(self, outbound: worker.WorkflowOutboundInterceptor) -> None:
        self._carried: dict[str, Payload] = {}
        super().init(_WorkflowOutbound(outbound, self._carried))

    async def execute_workflow(self, input: worker.ExecuteWorkflowInput) -> Any:
        if HEADER in input.headers:
            self._carried[HEADER] = input.headers[HEADER]
        return await super().execute_workflow(input)


class LogContextInterceptor(client.Interceptor, worker.Interceptor):
    """See the module contract."""

    def intercept_client(self, next: client.OutboundInterceptor) -> client.OutboundInterceptor:
        return _ClientOutbound(next)

    def intercept_activity(
        self, next: worker.ActivityInboundInterceptor
    ) -> worker.ActivityInboundInterceptor:
        return _ActivityInbound(next)

    def workflow_interceptor_class(
        self, input: worker.WorkflowInterceptorClassInput
    ) -> type[worker.WorkflowInboundInterceptor] | None:
        return _WorkflowInbound
