"""The action runner of one project: validate (dry run), then execute once per idempotency key.

See the contract of :mod:`cloudoptima.clouds.gcp.actions`.
"""

from __future__ import annotations

import threading

from cloudoptima.clouds.gcp import targets
from cloudoptima.clouds.gcp.actions.checks import (
    PERMISSIONS,
    current_state,
    label_permission,
    preconditions,
    rollback_plan,
)
from cloudoptima.clouds.gcp.actions.mutations import act
from cloudoptima.clouds.gcp.actions.permissions import missing_permissions
from cloudoptima.clouds.gcp.actions.restore import validate_restore
from cloudoptima.clouds.gcp.session import GcpSession
from cloudoptima.clouds.gcp.targets import Target
from cloudoptima.clouds.protocol import (
    ActionKind,
    ActionRefusedError,
    ActionRequest,
    ActionResult,
    ActionValidation,
    CredentialsError,
)


class ActionRunner:
    """Validates and executes actions for one project; remembers results per idempotency key."""

    def __init__(self, session: GcpSession) -> None:
        self.session = session
        self._results: dict[str, ActionResult] = {}
        self._lock = threading.Lock()

    # ----- validation ----------------------------------------------------------------------------

    def missing_permissions(self, permissions: list[str]) -> list[str]:
        """Those of ``permissions`` the caller lacks on the project (``testIamPermissions``)."""
        return missing_permissions(self.session, permissions)

    def validate(self, request: ActionRequest) -> ActionValidation:
        """Permissions, preconditions and rollback plan of ``request``; changes nothing."""
        target = targets.resolve(self.session, request)
        if isinstance(target, str):
            return ActionValidation(ok=False, problems=[target])
        if request.kind == ActionKind.RESTORE_DISK:
            return validate_restore(self.session, request, target)
        needed = list(PERMISSIONS.get(request.kind, (label_permission(target),)))
        missing = self.missing_permissions(needed)
        problems = [f"missing permission {p} on projects/{self.session.project}" for p in missing]
        current = targets.fetch(self.session, target)
        if current is None:
            problems.append(f"{target.kind} {request.resource_id} not found")
            return ActionValidation(ok=False, problems=problems, missing_permissions=missing)
        state = current_state(target, current)
        problems.extend(preconditions(self.session, request, target, current))
        rollback = rollback_plan(request, target, current)
        return ActionValidation(
            ok=not problems,
            problems=problems,
            missing_permissions=missing,
            current_state=state,
            rollback=rollback,
        )

    # ----- execution -----------------------------------------------------------------------------

    def execute(self, request: ActionRequest, key: str) -> ActionResult:
        """Run ``request`` once for ``key`` (see module docstring)."""
        with self._lock:
            if key in self._results:
                return self._results[key]
            verdict = self.validate(request)
            if verdict.missing_permissions:
                raise CredentialsError(
                    f"{request.kind.value} on {request.resource_id}: missing {', '.join(verdict.missing_permissions)}",
                    permission=verdict.missing_permissions[0],
                )
            if not verdict.ok or verdict.rollback is None:
                raise ActionRefusedError("; ".join(verdict.problems) or f"{request.resource_id} refused")
            target = targets.resolve(self.session, request)
            assert isinstance(target, Target)
            after = act(self.session, request, target, key)
            result = ActionResult(
                request=request,
                idempotency_key=key,
                status="succeeded",
                before=verdict.current_state,
                after=after,
                rollback=verdict.rollback,
            )
            self._results[key] = result
            return result
