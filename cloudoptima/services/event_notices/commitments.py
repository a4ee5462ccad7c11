"""``commitment.expiring``: an owned commitment ends within a threshold (#22; contract in the package).

:func:`notify_commitments_expiring` looks at the organisation's owned commitments (the SDK inventory,
``owned_commitments``) in force at ``now`` (state ``active``, ``start <= now < end``) whose end is at most
``threshold`` days after ``now``, for each threshold of ``thresholds`` (default :data:`EXPIRY_THRESHOLDS`:
30 days), and sends one notice per commitment and threshold, ever: a row of ``commitment_expiry_notices``
records it in the caller's transaction (a rolled-back run notifies no one and is sent again). Severity
``warning`` (``critical`` at 7 days or fewer left); title ``<kind> <id> expires in <n> days``; facts
account, provider, kind, type, region, instance type and count, hourly commitment or CUD vCPU and memory,
term, start, end;
link ``/v1/commitments``; key ``commitment.expiring:<owned commitment row id>:<threshold>``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import text
from sqlalchemy.orm import Session

from cloudoptima.domain.notices import Notice, NoticeEventType, NoticeSeverity
from cloudoptima.domain.notification_rules import DispatchContext
from cloudoptima.services.event_notices.common import fact, send
from cloudoptima.services.events import Publish
from cloudoptima.services.notification_rules import DispatchResult

EXPIRY_THRESHOLDS: Final[tuple[int, ...]] = (30,)
"""Days ahead at which an owned commitment's coming end is announced (once per threshold)."""
CRITICAL_DAYS: Final = 7
_PATH: Final = "/v1/commitments"
_KIND = {
    "reserved_instance": "Reserved Instance",
    "savings_plan": "Savings Plan",
    "committed_use": "Committed Use Discount",
}


def notify_commitments_expiring(
    session: Session,
    organization_id: uuid.UUID,
    *,
    now: datetime,
    thresholds: Sequence[int] = EXPIRY_THRESHOLDS,
    publish: Publish | None = None,
    public_url: str | None = None,
) -> list[DispatchResult]:
    """Dispatch ``commitment.expiring`` for the commitments ending within a threshold, once per commitment
    and threshold (module contract); returns one result per notice sent now."""
    if now.tzinfo is None:
        raise ValueError("now: must be timezone-aware (UTC)")
    if not thresholds or any(not isinstance(t, int) or t < 1 for t in thresholds):
        raise ValueError("thresholds: must be whole days >= 1")
    base = (public_url or "").strip().rstrip("/")
    link = f"{base}{_PATH}" if base.startswith(("http://", "https://")) else None
    results = []
    for threshold in sorted(set(thresholds)):
        rows = session.execute(
            text(
                """
                SELECT o.* FROM owned_commitments o
                WHERE o.organization_id = :org AND o.state = 'active' AND o.start_at <= :now
                  AND o.end_at > :now AND o.end_at <= :horizon
                  AND NOT EXISTS (SELECT 1 FROM commitment_expiry_notices n
                                  WHERE n.owned_commitment_id = o.id AND n.threshold_days = :threshold)
                ORDER BY o.end_at, o.commitment_id
                """
            ),
            {
                "org": organization_id,
                "now": now,
                "horizon": now + timedelta(days=threshold),
                "threshold": threshold,
            },
        ).mappings()
        for row in list(rows):
            session.execute(
                text(
                    "INSERT INTO commitment_expiry_notices (organization_id, owned_commitment_id, threshold_days,"
                    " notified_at) VALUES (:org, :id, :threshold, :now)"
                ),
                {"org": organization_id, "id": row["id"], "threshold": threshold, "now": now},
            )
            days = (row["end_at"] - now).days
            kind = _KIND.get(row["kind"], row["kind"])
            size = (
                f"{row['instance_count']} x {row['instance_type']}"
                if row["instance_type"]
                else f"{row['hourly_commitment'].normalize()} {row['currency']}/h"
                if row["hourly_commitment"] is not None
                else f"{row['vcpus'] or 0} vCPU, {row['memory_mb'] or 0} MB of {row['instance_family'] or 'any'}"
            )
            notice = Notice(
                event_type=NoticeEventType.COMMITMENT_EXPIRING,
                severity=NoticeSeverity.CRITICAL if days <= CRITICAL_DAYS else NoticeSeverity.WARNING,
                title=f"{kind} {row['commitment_id']} expires in {days} days"[:200],
                summary=(
                    f"The {row['provider']} {kind} {row['commitment_id']} ({size}) of account "
                    f"{row['account_id']} ends on {row['end_at'].date().isoformat()}: renew it or plan for "
                    "on-demand prices."
                )[:3000],
                link=link,
                facts=(
                    fact("Account", row["account_id"]),
                    fact("Provider", row["provider"]),
                    fact("Kind", kind),
                    fact("Type", row["plan_type"] or "-"),
                    fact("Region", row["region"] or "any"),
                    fact("Covers", size),
                    fact("Term", f"{row['term_seconds'] // 86400} days"),
                    fact("Start", row["start_at"].isoformat()),
                    fact("End", row["end_at"].isoformat()),
                ),
                organization_id=organization_id,
                occurred_at=now,
                idempotency_key=f"commitment.expiring:{row['id']}:{threshold}",
            )
            context = DispatchContext(account_id=row["account_id"], region=row["region"])
            results.append(send(session, organization_id, notice, context, _PATH, now=now, publish=publish))
    return results
