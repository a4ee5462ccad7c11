"""``execution.succeeded`` / ``execution.failed``: a (non dry-run) remediation finished (contract in the
package)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloudoptima.domain.notices import Notice, NoticeEventType, NoticeSeverity
from cloudoptima.domain.notification_rules import DispatchContext
from cloudoptima.domain.remediation import RemediationState
from cloudoptima.services.event_notices.common import fact, send
from cloudoptima.services.events import Publish
from cloudoptima.services.notice_links import notice_links
from cloudoptima.services.notification_rules import DispatchResult
from cloudoptima.storage.models import CloudAccount, PolicyExecution

EXECUTION_OUTCOMES: Final[Mapping[RemediationState, tuple[NoticeEventType, NoticeSeverity, str]]] = {
    RemediationState.COMPLETED: (NoticeEventType.EXECUTION_SUCCEEDED, NoticeSeverity.INFO, "succeeded"),
    RemediationState.FAILED: (NoticeEventType.EXECUTION_FAILED, NoticeSeverity.CRITICAL, "failed"),
    RemediationState.ROLLED_BACK: (NoticeEventType.EXECUTION_FAILED, NoticeSeverity.WARNING, "rolled back"),
    RemediationState.REFUSED: (NoticeEventType.EXECUTION_FAILED, NoticeSeverity.WARNING, "refused"),
}
"""The finished states that notify, with their event type, severity and word."""


def _account_identifier(
    session: Session, organization_id: uuid.UUID, steps: Sequence[Mapping[str, Any]]
) -> str | None:
    """The provider identifier of the connected account of the plan's first step (rules scope by it)."""
    for step in steps:
        try:
            account_id = uuid.UUID(str(step.get("cloud_account_id")))
        except ValueError:
            continue
        found = session.scalar(
            select(CloudAccount.account_identifier).where(
                CloudAccount.organization_id == organization_id, CloudAccount.id == account_id
            )
        )
        return str(found) if found is not None else None
    return None


def notify_execution_finished(
    session: Session,
    row: PolicyExecution,
    state: RemediationState,
    *,
    error: str | None = None,
    now: datetime,
    publish: Publish | None = None,
    console_url: str | None = None,
    public_url: str | None = None,
) -> DispatchResult | None:
    """Dispatch ``execution.succeeded`` / ``execution.failed`` for ``row`` reaching ``state`` (module
    contract); None (nothing sent) for a dry run or a state that does not notify."""
    outcome = EXECUTION_OUTCOMES.get(state)
    if outcome is None or row.dry_run:
        return None
    event_type, severity, word = outcome
    plan = dict(row.plan or {})
    title = str(plan.get("title") or row.kind or "Remediation")
    steps = [dict(s) for s in plan.get("steps") or [] if isinstance(s, Mapping)]
    resources = list(dict.fromkeys(str(s.get("resource_id")) for s in steps if s.get("resource_id")))
    impact = dict(plan.get("impact") or {})
    savings = impact.get("savings")
    problems = [str(p) for p in plan.get("problems") or []]
    reason = error or ("; ".join(problems) if state is RemediationState.REFUSED else None)
    inbox_link, link = notice_links("execution", row.id, console_url, public_url)
    facts = [
        fact("Plan", title),
        fact("Resources", ", ".join(resources[:10]) or "none"),
        fact("Outcome", state.value),
    ]
    if reason:
        facts.append(fact("Error", reason))
    facts.append(fact("Risk", row.risk_level or "unknown"))
    if savings is not None:
        facts.append(fact("Monthly savings", savings))
    summary = f"Remediation {word}: {title}" + (f" ({reason})" if reason else "")
    notice = Notice(
        event_type=event_type,
        severity=severity,
        title=f"Remediation {word}: {title}"[:200],
        summary=summary[:2000],
        link=link,
        facts=tuple(facts),
        organization_id=row.organization_id,
        occurred_at=now,
        idempotency_key=f"execution.{state.value}:{row.id}",
    )
    context = DispatchContext(
        account_id=_account_identifier(session, row.organization_id, steps),
        region=next((str(s["region"]) for s in steps if s.get("region")), None),
        amount=Decimal(str(savings)) if savings is not None else None,
    )
    return send(session, row.organization_id, notice, context, inbox_link, now=now, publish=publish)
