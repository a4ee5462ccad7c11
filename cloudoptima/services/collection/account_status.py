"""Recording a collection's outcome on the account: :func:`finish` (status, monthly spend, last sync, change
events) and :func:`mark_error` (refused credentials). A status change is audited in the same transaction
(``cloud_account.status_changed``, from/to, as the current actor); a change into ``error`` or ``degraded``
is also dispatched (``collection.failed``, once per occurrence) through the organisation's notification
rules in that transaction (:func:`cloudoptima.services.event_notices.notify_collection_failed`), as is a step
that failed for good with a provider error (:func:`record_failed_steps`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from cloudoptima.domain.permission_problems import PermissionProblem, distinct
from cloudoptima.services import audit
from cloudoptima.services.collection.context import CollectionContext, account_row
from cloudoptima.services.collection.results import AccountRef, CostStep, FinishStep, InventoryStep
from cloudoptima.services.event_notices import notify_collection_failed
from cloudoptima.storage.tenancy import tenant_session

SPEND_DAYS = 30


def finish(
    context: CollectionContext,
    ref: AccountRef,
    *,
    costs_complete: bool,
    cost_steps: Sequence[CostStep] = (),
    inventory: InventoryStep | None = None,
    connection: Connection | None = None,
    today: date | None = None,
    permission_problems: Sequence[PermissionProblem] = (),
) -> FinishStep:
    """Record the sync on the account and publish the change events.

    Sets ``status = 'active'`` (``'degraded'`` with ``permission_problems``, which replace — clear — the
    account's stored ones), ``monthly_spend`` and — when ``costs_complete`` — ``last_sync_at``; then
    publishes ``cost_updates`` (when ``cost_steps``) and ``resource_changes`` (when ``inventory``).

    ``monthly_spend`` covers the 30 days up to ``today`` inclusive: the day the collection runs "as of"
    (the same ``today`` its plan used), else the clock's date. ``last_sync_at`` is the clock's instant.
    """
    now = context.now()
    with context.tenant(ref, connection) as session:
        row = account_row(session, ref)
        spend = monthly_spend(session, ref, today or now.date())
        problems = distinct(permission_problems)
        previous, previous_sync = row.status, row.last_sync_at
        row.status = "degraded" if problems else "active"
        if row.status != previous:
            audit.stage(
                session,
                ref.organization_id,
                "cloud_account.status_changed",
                resource_type="cloud_account",
                resource_id=str(ref.cloud_account_id),
                details={"from": previous, "to": row.status, "permission_problems": len(problems)},
            )
        row.permission_problems = [problem.as_json() for problem in problems]
        row.monthly_spend = spend
        if costs_complete:
            row.last_sync_at = now
        if row.status == "degraded" and previous != "degraded":
            notify_collection_failed(
                session,
                row,
                status="degraded",
                steps=[str(problem.step) for problem in problems],
                error="; ".join(problem.message for problem in problems),
                last_success=previous_sync,
                now=now,
                publish=context.publish,
                public_url=context.public_url,
                console_url=context.console_url,
            )
        last_sync, provider, identifier = row.last_sync_at, row.provider, row.account_identifier
    events = 0
    if context.publish is not None:
        base = {
            "cloud_account_id": str(ref.cloud_account_id),
            "provider": provider,
            "account": identifier,
        }
        if cost_steps:
            context.publish(
                ref.organization_id,
                "cost_updates",
                {
                    **base,
                    "start": min(s.start for s in cost_steps).isoformat(),
                    "end": max(s.end for s in cost_steps).isoformat(),
                    "rows": sum(s.rows for s in cost_steps),
                    "billed_cost": str(sum((s.billed_total for s in cost_steps), Decimal(0))),
                    "monthly_spend": str(spend) if spend is not None else None,
                },
            )
            events += 1
        if inventory is not None:
            context.publish(
                ref.organization_id,
                "resource_changes",
                {**base, "resources": inventory.resources, "complete": inventory.complete},
            )
            events += 1
    return FinishStep(last_sync_at=last_sync, monthly_spend=spend, events=events)


def monthly_spend(session: Session, ref: AccountRef, today: date) -> Decimal | None:
    """The account's billed cost of the ``SPEND_DAYS`` days up to ``today`` inclusive, in its main currency
    (the one with the most rows); None without cost rows in those days."""
    rows = session.execute(
        text(
            "SELECT billing_currency, sum(billed_cost), sum(row_count) FROM cost_daily "
            # Written so only the account index fits (see storage.cost_loader.account_scope).
            "WHERE (organization_id = :org) IS TRUE AND cloud_account_id = :account "
            "AND usage_date >= :d0 AND usage_date < :d1 GROUP BY 1 ORDER BY 3 DESC, 1 LIMIT 1"
        ),
        {
            "org": ref.organization_id,
            "account": ref.cloud_account_id,
            "d0": today - timedelta(days=SPEND_DAYS - 1),
            "d1": today + timedelta(days=1),
        },
    ).first()
    return Decimal(rows[1]).quantize(Decimal("0.01")) if rows is not None else None


def mark_error(context: CollectionContext, ref: AccountRef, reason: str) -> None:
    """Mark the account ``error`` with ``reason`` (credentials rejected) and publish ``collection_failed``."""
    with tenant_session(context.sessions, ref.organization_id) as session:
        row = account_row(session, ref)
        previous = row.status
        row.status = "error"
        row.verification_status = "failed"
        row.verification_error = reason
        row.permission_problems = []
        audit.stage(
            session,
            ref.organization_id,
            "cloud_account.status_changed",
            result="failure",
            resource_type="cloud_account",
            resource_id=str(ref.cloud_account_id),
            details={"from": previous, "to": "error", "reason": reason[:500]},
        )
        if previous != "error":
            notify_collection_failed(
                session,
                row,
                status="error",
                steps=["credentials"],
                error=reason,
                last_success=row.last_sync_at,
                now=context.now(),
                publish=context.publish,
                public_url=context.public_url,
                console_url=context.console_url,
            )
    if context.publish is not None:
        context.publish(
            ref.organization_id,
            "collection_failed",
            {"cloud_account_id": str(ref.cloud_account_id), "reason": reason},
        )


def record_failed_steps(
    context: CollectionContext, ref: AccountRef, failures: Sequence[tuple[str, str]]
) -> None:
    """Dispatch ``collection.failed`` for steps of the account that failed for good with a provider error
    (``failures``: (step, reason) pairs; nothing for none), once per account, steps and last successful sync:
    a retried activity or a rerun failing the same way before a successful sync notifies no one again."""
    if not failures:
        return
    with tenant_session(context.sessions, ref.organization_id) as session:
        row = account_row(session, ref)
        notify_collection_failed(
            session,
            row,
            status="failed",
            steps=[step for step, _ in failures],
            error="; ".join(f"{step}: {reason}" for step, reason in failures),
            last_success=row.last_sync_at,
            now=context.now(),
            publish=context.publish,
            public_url=context.public_url,
            console_url=context.console_url,
        )
