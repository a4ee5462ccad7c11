"""``collection.failed``: an account's collection failed (contract in the package)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final

from sqlalchemy.orm import Session

from cloudoptima.domain.notices import Notice, NoticeEventType, NoticeSeverity
from cloudoptima.domain.notification_rules import DispatchContext
from cloudoptima.services.event_notices.common import fact, send
from cloudoptima.services.events import Publish
from cloudoptima.services.notice_links import notice_links
from cloudoptima.services.notification_rules import DispatchResult
from cloudoptima.storage.models import CloudAccount

COLLECTION_FAILURES: Final[Mapping[str, tuple[NoticeSeverity, str]]] = {
    "error": (NoticeSeverity.CRITICAL, "credentials were refused"),
    "degraded": (NoticeSeverity.WARNING, "permissions were denied"),
    "failed": (NoticeSeverity.WARNING, "steps failed"),
}
"""How a collection failed (the account turned ``error`` / ``degraded``, or steps failed for good)."""


def notify_collection_failed(
    session: Session,
    account: CloudAccount,
    *,
    status: str,
    steps: Sequence[str],
    error: str,
    last_success: datetime | None,
    now: datetime,
    publish: Publish | None = None,
    console_url: str | None = None,
    public_url: str | None = None,
) -> DispatchResult:
    """Dispatch ``collection.failed`` for ``account`` that just turned ``status`` (``error``: credentials
    refused, critical; ``degraded``: steps denied permissions, warning) or whose ``steps`` failed for good
    (``failed``, warning), once per account and occurrence (``last_success``: the account's last successful
    sync before it; module contract)."""
    if status not in COLLECTION_FAILURES:
        raise ValueError(f"status: must be one of {', '.join(COLLECTION_FAILURES)}, not {status!r}")
    severity, what = COLLECTION_FAILURES[status]
    name = account.account_name or account.account_identifier
    inbox_link, link = notice_links("account", account.id, console_url, public_url)
    names = list(dict.fromkeys(steps))
    step = ", ".join(names) or "collection"
    occurrence = last_success.strftime("%Y%m%dT%H%M%S") if last_success else "never"
    kind = status
    if status == "failed":
        kind += ":" + ".".join(sorted(re.sub(r"[^A-Za-z0-9_-]", "_", n) for n in names))
    notice = Notice(
        event_type=NoticeEventType.COLLECTION_FAILED,
        severity=severity,
        title=f"Collection failed for {account.provider} account {name}"[:200],
        summary=f"Collecting {account.provider} account {account.account_identifier}: {what}. {error}"[:2000],
        link=link,
        facts=(
            fact("Account", f"{name} ({account.account_identifier})"),
            fact("Provider", account.provider),
            fact("Step", step),
            fact("Error", error),
            fact("Last successful sync", last_success.isoformat() if last_success else "never"),
        ),
        organization_id=account.organization_id,
        occurred_at=now,
        idempotency_key=f"collection.failed:{account.id}:{kind}:{occurrence}"[:200],
    )
    context = DispatchContext(account_id=account.account_identifier)
    return send(session, account.organization_id, notice, context, inbox_link, now=now, publish=publish)
