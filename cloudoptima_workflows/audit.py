"""Writes made by workflows land in ``audit_logs`` (channel ``workflow``, actor ``system``): a worker
interceptor wraps every activity, present and future, in one place.

Contract of :class:`AuditInterceptor` (passed to ``Worker(interceptors=...)`` by ``worker.build_workers``):
- Every activity runs inside ``cloudoptima.services.audit.acting_as`` with actor ``system`` on the
  ``workflow`` channel and details ``workflow_id``, ``workflow_type``, ``activity``: rows a kernel service
  stages while it runs (e.g. a cloud account's status change) name the workflow.
- Each attempt of an activity that writes and acts for one organisation (its input carries
  ``organization_id``, directly or in ``request``) is recorded when it ends: action = the activity type,
  result ``success`` or ``failure`` (with the error), resource = the execution, resource, policy or cloud
  account it names, details = the workflow, the attempt, the duration, bounded and redacted summaries of
  the input and the result. Activities listed in :data:`NOT_AUDITED` are not recorded (each with its
  reason: they only read, or they load collected facts whose visible effect is audited where it happens);
  a new activity is recorded unless it is added there. A failure to write the row is logged and never fails
  the activity.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from typing import Any, Final

import anyio
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from cloudoptima.services.audit import SYSTEM_ACTOR, AuditActor, AuditEntry, AuditResult, acting_as, record
from cloudoptima.services.audit_summary import summarise

_log = logging.getLogger("cloudoptima.worker.audit")
MAX_ERROR_CHARS = 500

NOT_AUDITED: Final[dict[str, str]] = {
    "collection.list_accounts": "reads the accounts to collect",
    "collection.account": "loads collected facts; status changes are audited by the collection service",
    "collection.accounts": "loads collected facts; status changes are audited by the collection service",
    "collection.costs": "loads collected cost rows",
    "collection.inventory": "loads the collected inventory",
    "collection.utilisation": "loads collected utilisation",
    "collection.iam": "loads collected IAM facts",
    "collection.finish": "records the sync; status changes are audited by the collection service",
    "analysis.list_organisations": "reads the organisations to analyse",
    "analysis.anomalies": "recomputes derived findings every hour",
    "analysis.recommendations": "recomputes derived findings every hour",
    "analysis.budgets": "recomputes budget status every hour",
    "analysis.forecast": "recomputes forecasts",
    "analysis.publish": "publishes events; writes nothing",
    "policies.match": "reads the resources a policy matches",
    "policies.evaluate_triggers": "reads which policies fire",
    "remediation.verify_step": "re-reads a resource after a step",
    "remediation.verify_decision": "reads who decides (the decision is audited by remediation.audit_decision)",
    "remediation.audit_decision": "writes the decision's own audit_logs row (channel, user, verdict)",
    "prices.refresh_provider": "refreshes the shared price store (no organisation)",
    "maintenance.purge_expired_tokens": "deletes expired auth bookkeeping (no organisation)",
    "maintenance.prune_audit_logs": "records its own audit_logs.pruned row per organisation",
}
"""Activities not recorded, with the reason (see module contract)."""

_RESOURCE_FIELDS: Final[tuple[tuple[str, str], ...]] = (
    ("execution_id", "policy_execution"),
    ("resource_id", "resource"),
    ("policy_id", "policy"),
    ("recommendation_id", "recommendation"),
    ("cloud_account_id", "cloud_account"),
)


def _parts(arg: Any) -> list[Any]:
    """The input and the nested inputs that name what it acts on (``request``, ``step``)."""
    return [
        arg,
        *(getattr(arg, name) for name in ("request", "step") if getattr(arg, name, None) is not None),
    ]


def organisation_of(args: Sequence[Any]) -> uuid.UUID | None:
    """The organisation an activity acts for, from its first argument (None: none or several)."""
    if not args:
        return None
    for part in _parts(args[0]):
        value = getattr(part, "organization_id", None)
        if value:
            try:
                return uuid.UUID(str(value))
            except ValueError:
                return None
    return None


def resource_of(args: Sequence[Any]) -> tuple[str | None, str | None]:
    """``(resource_type, resource_id)`` the activity acts on (first named field wins)."""
    if not args:
        return None, None
    parts = _parts(args[0])
    for name, kind in _RESOURCE_FIELDS:
        for part in parts:
            value = getattr(part, name, None)
            if value:
                return kind, str(value)
    return None, None


def _summary(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return summarise(value.model_dump())
    if value is None:
        return None
    return summarise({"value": value})["value"]


class _AuditedActivity(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, sessions: sessionmaker[Session]) -> None:
        super().__init__(next)
        self._sessions = sessions

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        where = {
            "workflow_id": info.workflow_id,
            "workflow_type": info.workflow_type,
            "activity": info.activity_type,
        }
        org = organisation_of(input.args)
        audited = org is not None and info.activity_type not in NOT_AUDITED
        started = time.perf_counter()
        outcome: AuditResult = "success"
        details: dict[str, Any] = {**where, "attempt": info.attempt}
        with acting_as(AuditActor(channel="workflow", actor=SYSTEM_ACTOR, details=where)):
            try:
                result = await self.next.execute_activity(input)
            except BaseException as exc:
                outcome = "failure"
                details["error"] = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
                raise
            else:
                details["result"] = _summary(result)
                return result
            finally:
                if audited and org is not None:
                    details["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
                    details["input"] = _summary(input.args[0]) if input.args else None
                    kind, resource = resource_of(input.args)
                    entry = AuditEntry(
                        organization_id=org,
                        user_id=None,
                        action=info.activity_type,
                        result=outcome,
                        resource_type=kind,
                        resource_id=resource,
                        details=details,
                        channel="workflow",
                        actor=SYSTEM_ACTOR,
                    )
                    with anyio.CancelScope(shield=True):
                        await self._write(entry)

    async def _write(self, entry: AuditEntry) -> None:
        try:
            await anyio.to_thread.run_sync(record, self._sessions, entry)
        except Exception:
            _log.exception("audit record of an activity failed", extra={"activity": entry.action})


class AuditInterceptor(Interceptor):
    """Records workflow writes (see module contract)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _AuditedActivity(next, self._sessions)
