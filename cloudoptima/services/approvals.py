"""Who may decide a remediation, checked against the database at decision time, and the audit of every decision.

Contract:

- ``verify`` judges one claimed decision (approve or reject) on a remediation of this organisation. It is
  accepted only when the claimed user id is a user of this organisation (looked up in ``users`` through the
  organisation-scoped session: an unknown id and a user of another organisation read the same), the user
  is active, and the user's role (read now, not from the claim) grants the plan's risk permission
  (``cloudoptima.domain.rbac.RISK_PERMISSION``). Separation of duties, from the organisation's settings
  (``OrganisationSettings``) as they are now: the requester may not approve their own request unless
  ``allow_self_approval`` is on (withdrawing it by rejecting is allowed), and a user who already approved
  cannot approve again. A decision from the Temporal UI (channel ``temporal_ui``, where nobody is signed in)
  must also carry the user's one-time approval code for this remediation (``security.approval_codes``; keys:
  the encryption key ring given as ``approval_keys``): a user id alone is not secret. A high-risk plan needs ``high_risk_approvers`` distinct approvals, any other plan
  one; the verdict says how many (``approvals_needed``). A rejection by any valid user ends the request.
- ``audit`` writes one ``audit_logs`` row per decision, accepted or refused: action
  ``remediation.approve`` / ``remediation.reject``, result ``success`` or ``denied``, resource the
  execution, ``channel`` (``rest``, ``mcp``, ``temporal_ui``; also in details), details with the claimed
  user id, the workflow id, the reason of a refusal, the comment (first 500 characters) and the approval
  count. ``user_id`` and ``actor`` (``user:<id>``) name the user only when they are a user of this
  organisation; any other claim is recorded with actor ``unverified:<claimed id>``. Given an ``entry_id``
  the write is idempotent (a retried activity writes the row once).
- ``pending(execution_id)`` is the remediation waiting for a decision, or why none is (not found in this
  organisation, not waiting): what every channel checks before it asks the workflow (which alone judges
  the approval's expiry, on its own clock).
- Reads and writes go through the caller's organisation-scoped session; the caller commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy.orm import Session

from cloudoptima.domain.organisation_settings import OrganisationSettings
from cloudoptima.domain.rbac import RISK_PERMISSION, has_permission, is_role
from cloudoptima.domain.remediation import PendingApproval, RemediationState
from cloudoptima.security.approval_codes import check_approval_code
from cloudoptima.services.audit import AUDIT_CHANNELS, user_actor
from cloudoptima.services.remediation import pending_approval_of
from cloudoptima.storage.models import AuditLog, Organization, PolicyExecution, User
from cloudoptima.storage.tenancy import TenantRepository

Channel = Literal["rest", "mcp", "temporal_ui"]
CHANNELS: tuple[Channel, ...] = ("rest", "mcp", "temporal_ui")
AUDIT_NAMESPACE = uuid.UUID("6f1d8a52-3c1e-4f7a-9a0e-5b1f0c2d7e41")
"""uuid5 namespace of the deterministic audit row ids of workflow decisions."""


@dataclass(frozen=True)
class DecisionClaim:
    """What a channel says: who decides (claimed, unverified), what, about which remediation."""

    user_id: str
    approve: bool
    channel: str
    execution_id: str
    workflow_id: str
    risk_level: str
    requested_by: str
    approved_by: Sequence[str] = ()
    """Users whose approval the remediation already accepted."""
    comment: str = ""
    approval_code: str = ""
    """The one-time approval code a Temporal-UI decision must carry (``security.approval_codes``)."""


@dataclass(frozen=True)
class DecisionVerdict:
    """The verdict on a claim: ``accepted`` or the ``reason`` it is refused; the user as stored."""

    accepted: bool
    reason: str
    user_id: str
    role: str
    email: str
    approvals_needed: int


class NotPendingError(LookupError):
    """The remediation does not exist in this organisation or is not waiting for a decision (the reason)."""


class _Executions(TenantRepository[PolicyExecution]):
    model = PolicyExecution


class _Users(TenantRepository[User]):
    model = User


class _Audit(TenantRepository[AuditLog]):
    model = AuditLog


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ApprovalService:
    """Decision checks and decision audit of one organisation over one session (the caller commits)."""

    def __init__(
        self,
        session: Session,
        organization_id: uuid.UUID,
        *,
        now: Callable[[], datetime] = _utcnow,
        approval_keys: Sequence[str] = (),
    ) -> None:
        self._session = session
        self._org = organization_id
        self._now = now
        self._approval_keys = tuple(approval_keys)
        self._users = _Users(session, organization_id)
        self._audit = _Audit(session, organization_id)

    def pending(self, execution_id: uuid.UUID) -> PendingApproval:
        """The remediation waiting for a decision; :class:`NotPendingError` (the reason) otherwise."""
        row = _Executions(self._session, self._org).get(execution_id)
        if row is None:
            raise NotPendingError(f"remediation {execution_id} not found")
        if row.status != RemediationState.PENDING_APPROVAL.value or not row.workflow_id:
            raise NotPendingError(
                f"remediation {execution_id} is not waiting for approval (state {row.status})"
            )
        return pending_approval_of(row)

    def settings(self) -> OrganisationSettings:
        """The organisation's settings as stored now."""
        row = self._session.get(Organization, self._org)
        return OrganisationSettings.of(row.settings if row is not None else None)

    def verify(self, claim: DecisionClaim) -> DecisionVerdict:
        """Judge ``claim`` against the users table and the settings as they are now (module contract)."""
        settings = self.settings()
        needed = settings.high_risk_approvers if claim.risk_level == "high" else 1
        refused = DecisionVerdict(
            accepted=False, reason="", user_id=claim.user_id, role="", email="", approvals_needed=needed
        )
        try:
            user_id = uuid.UUID(claim.user_id.strip().removeprefix("user:"))
        except (ValueError, AttributeError):
            return _refuse(refused, f"user {claim.user_id!r} is not a user of this organisation")
        user = self._users.get(user_id)
        if user is None:
            return _refuse(refused, f"user {claim.user_id!r} is not a user of this organisation")
        found = DecisionVerdict(
            accepted=False,
            reason="",
            user_id=str(user.id),
            role=user.role,
            email=user.email,
            approvals_needed=needed,
        )
        if not user.is_active:
            return _refuse(found, f"user {user.email} is deactivated")
        permission = RISK_PERMISSION.get(claim.risk_level, RISK_PERMISSION["high"])
        if not is_role(user.role) or not has_permission(user.role, permission):  # type: ignore[arg-type]
            return _refuse(
                found,
                f"role {user.role!r} may not decide a {claim.risk_level}-risk remediation "
                f"(needs permission {permission!r})",
            )
        if claim.approve and claim.requested_by == str(user.id) and not settings.allow_self_approval:
            return _refuse(
                found,
                "the requester may not approve their own request (separation of duties; the "
                "organisation setting allow_self_approval is off)",
            )
        if claim.approve and str(user.id) in claim.approved_by:
            return _refuse(
                found,
                f"{user.email} already approved; a high-risk remediation needs {needed} distinct approvers",
            )
        if claim.channel == "temporal_ui" and not check_approval_code(
            self._approval_keys, str(self._org), claim.execution_id, str(user.id), claim.approval_code
        ):
            return _refuse(
                found,
                "a Temporal UI decision must carry the approval code CloudOptima shows this user for this "
                "remediation (GET /v1/approvals, field temporal_ui_approval_code); "
                + ("the code given is wrong" if claim.approval_code.strip() else "none was given"),
            )
        return DecisionVerdict(
            accepted=True,
            reason="",
            user_id=str(user.id),
            role=user.role,
            email=user.email,
            approvals_needed=needed,
        )

    def audit(
        self,
        claim: DecisionClaim,
        *,
        accepted: bool,
        reason: str = "",
        approvals: int = 0,
        approvals_needed: int = 1,
        entry_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        """Write the audit row of one decision (module contract); returns its id."""
        if entry_id is not None and self._audit.get(entry_id) is not None:
            return entry_id
        try:
            member = self._users.get(uuid.UUID(claim.user_id.strip().removeprefix("user:")))
        except (ValueError, AttributeError):
            member = None
        details = {
            "channel": claim.channel,
            "claimed_user_id": claim.user_id,
            "workflow_id": claim.workflow_id,
            "execution_id": claim.execution_id,
            "risk_level": claim.risk_level,
            "approve": claim.approve,
            "comment": claim.comment[:500],
            "approvals": approvals,
            "approvals_needed": approvals_needed,
        }
        if not accepted:
            details["reason"] = reason
        actor = user_actor(member.id) if member is not None else f"unverified:{claim.user_id}"
        row = AuditLog(
            id=entry_id or uuid.uuid4(),
            organization_id=self._org,
            user_id=member.id if member is not None else None,
            timestamp=self._now(),
            action="remediation.approve" if claim.approve else "remediation.reject",
            resource_type="remediation",
            resource_id=claim.execution_id or claim.workflow_id,
            details=details,
            result="success" if accepted else "denied",
            channel=claim.channel if claim.channel in AUDIT_CHANNELS else "workflow",
            actor=actor[:128],
        )
        return self._audit.add(row).id


def _refuse(verdict: DecisionVerdict, reason: str) -> DecisionVerdict:
    return DecisionVerdict(
        accepted=False,
        reason=reason,
        user_id=verdict.user_id,
        role=verdict.role,
        email=verdict.email,
        approvals_needed=verdict.approvals_needed,
    )
