"""The action runner of one subscription: dry-run plans, validation against RBAC, execution once per key.

See the contract of :mod:`cloudoptima.clouds.azure.actions`; the planners of each action live beside this module.
"""

from __future__ import annotations

import threading

from azure.core.exceptions import ResourceNotFoundError

from cloudoptima.clouds.azure import ids
from cloudoptima.clouds.azure.actions.addresses import plan_release_ip
from cloudoptima.clouds.azure.actions.disks import plan_delete_snapshot, plan_restore_disk, plan_snapshot_disk
from cloudoptima.clouds.azure.actions.plan import DRY_RUN, TYPES, Plan, Planner
from cloudoptima.clouds.azure.actions.tags import plan_tag
from cloudoptima.clouds.azure.actions.vms import plan_power, plan_resize
from cloudoptima.clouds.azure.errors import azure_errors
from cloudoptima.clouds.azure.permissions import missing
from cloudoptima.clouds.azure.session import AzureSession
from cloudoptima.clouds.protocol import (
    ActionKind,
    ActionRefusedError,
    ActionRequest,
    ActionResult,
    ActionValidation,
    CredentialsError,
    RollbackPlan,
)

PLANNERS: dict[ActionKind, Planner] = {
    ActionKind.STOP: plan_power,
    ActionKind.START: plan_power,
    ActionKind.RESIZE: plan_resize,
    ActionKind.SNAPSHOT_AND_DELETE_DISK: plan_snapshot_disk,
    ActionKind.RESTORE_DISK: plan_restore_disk,
    ActionKind.DELETE_SNAPSHOT: plan_delete_snapshot,
    ActionKind.RELEASE_IP: plan_release_ip,
    ActionKind.TAG: plan_tag,
    ActionKind.UNTAG: plan_tag,
}
"""The planner of each action kind this provider supports."""


class ActionRunner:
    """Validates and executes :class:`ActionRequest` s against one subscription (see module contract)."""

    def __init__(self, session: AzureSession) -> None:
        self.session = session
        self._results: dict[str, ActionResult] = {}
        self._lock = threading.Lock()

    def validate(self, request: ActionRequest) -> ActionValidation:
        plan = self.plan(request)
        lacking = self._missing(request, plan)
        return ActionValidation(
            ok=not plan.problems and not lacking,
            problems=plan.problems + [f"missing permission {p}" for p in lacking],
            missing_permissions=lacking,
            current_state=plan.state,
            rollback=plan.rollback,
        )

    def execute(self, request: ActionRequest, idempotency_key: str) -> ActionResult:
        with self._lock:
            done = self._results.get(idempotency_key)
            if done is not None:
                if done.request != request:
                    raise ActionRefusedError(
                        f"idempotency key {idempotency_key} was used for another request"
                    )
                return done
            plan = self.plan(request, idempotency_key)
            if plan.problems or plan.run is None:
                raise ActionRefusedError(
                    "; ".join(plan.problems) or f"nothing to do for {request.resource_id}"
                )
            lacking = self._missing(request, plan)
            if lacking:
                raise CredentialsError(
                    f"missing permission {lacking[0]} on {request.resource_id}", lacking[0]
                )
            with azure_errors(f"{request.kind.value} {request.resource_id}"):
                after = plan.run()
            result = ActionResult(
                request=request,
                idempotency_key=idempotency_key,
                status="succeeded",
                before=plan.state,
                after=after,
                rollback=plan.rollback or RollbackPlan(),
            )
            self._results[idempotency_key] = result
            return result

    def _missing(self, request: ActionRequest, plan: Plan) -> list[str]:
        if plan.problems or not plan.permissions:
            return []
        with azure_errors(f"read permissions on {request.resource_id}"):
            return missing(self.session, plan.scope or request.resource_id, plan.permissions)

    # -- planning (read-only) --------------------------------------------------------------------------
    def plan(self, request: ActionRequest, key: str = DRY_RUN) -> Plan:
        """Read the target and describe the action; never changes anything."""
        arm = ids.parse(request.resource_id)
        wanted = TYPES.get(request.kind)
        if arm is None or (wanted is not None and not arm.is_type(wanted)):
            kind = wanted or "Azure resource"
            return Plan(problems=[f"resource {request.resource_id} is not a {kind} id"])
        with azure_errors(f"read {request.resource_id}"):
            try:
                return self._plan(request, arm, key)
            except ResourceNotFoundError:
                return Plan(problems=[f"resource {request.resource_id} was not found"])
            except ActionRefusedError as exc:
                return Plan(problems=[str(exc)])

    def _plan(self, request: ActionRequest, arm: ids.ArmId, key: str) -> Plan:
        return PLANNERS[request.kind](self.session, request, arm, key)
