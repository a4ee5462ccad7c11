"""A notice as the channels' tests use it (an approval waiting, with an amount, a link and facts)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from cloudoptima.domain.notices import Notice, NoticeEventType, NoticeFact, NoticeSeverity

NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
ORG = uuid.UUID("5b0d9a4e-52c4-4a4c-9a55-3d1f1f3b2a10")
LINK = "https://finops.example.com/approvals/3f2c0e1a-8d7b-4b8e-9d55-0e5f6a7b8c9d"


def approval_notice(**changes: object) -> Notice:
    base: dict[str, object] = {
        "event_type": NoticeEventType.APPROVAL_REQUESTED,
        "severity": NoticeSeverity.WARNING,
        "title": "Approval needed: stop 3 idle instances",
        "summary": "Remediation plan <prod-idle> & its 3 steps wait for a finance approver.",
        "amount": Decimal("1234.565"),
        "currency": "USD",
        "link": LINK,
        "facts": (
            NoticeFact(label="Account", value="123456789012"),
            NoticeFact(label="Requested by", value="ops@example.com"),
        ),
        "organization_id": ORG,
        "occurred_at": NOW,
        "idempotency_key": "approval.requested:3f2c0e1a",
    }
    base.update(changes)
    return Notice.model_validate(base)
