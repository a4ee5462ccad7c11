"""``anomaly.detected``: one notice per newly created cost anomaly incident (contract in the package)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloudoptima.domain.notices import Notice, NoticeEventType, NoticeSeverity
from cloudoptima.domain.notification_rules import DispatchContext
from cloudoptima.services.event_notices.common import cell, fact, send
from cloudoptima.services.events import Publish
from cloudoptima.services.notice_links import notice_links
from cloudoptima.services.notification_rules import DispatchResult
from cloudoptima.storage.models import Anomaly

ANOMALY_SEVERITY: Final[Mapping[str, NoticeSeverity]] = {
    "critical": NoticeSeverity.CRITICAL,
    "high": NoticeSeverity.WARNING,
    "medium": NoticeSeverity.INFO,
    "low": NoticeSeverity.INFO,
}
"""An anomaly's severity (``cloudoptima.domain.analytics.AnomalySeverity``) as a notice severity."""


def _top_driver(drivers: Mapping[str, Any] | None) -> str | None:
    best: tuple[Decimal, str] | None = None
    for kind in ("resources", "usage_types", "tags"):
        for row in (drivers or {}).get(kind) or []:
            change = Decimal(str(row.get("change") or 0))
            label = str(row.get("label") or row.get("key") or "")
            if label and (best is None or abs(change) > abs(best[0])):
                best = (change, label)
    if best is None:
        return None
    sign = "+" if best[0] >= 0 else ""
    return f"{best[1]} ({sign}{best[0]})"


def anomaly_notice(
    row: Anomaly,
    currency: str,
    *,
    now: datetime,
    console_url: str | None = None,
    public_url: str | None = None,
) -> tuple[Notice, DispatchContext, str]:
    """The ``anomaly.detected`` notice of a stored incident, its dispatch context and the inbox's link."""
    currency = currency.upper()
    scope = dict(row.scope or {})
    causes = list(row.contributions or [])
    top = dict(causes[0].get("dimensions") or {}) if causes else {}
    where = cell(scope)
    impact = row.impact_amount if row.impact_amount is not None else Decimal(0)
    sign = "+" if impact >= 0 else ""
    what = "Cost level change" if row.kind == "change" else "Cost anomaly"
    inbox_link, link = notice_links("anomaly", row.id, console_url, public_url)
    facts = [
        fact("Severity", row.severity),
        fact("Scope", where),
        fact("Period", f"{row.start_date} to {row.end_date}"),
        fact("Expected", f"{row.expected_spend} {currency}"),
        fact("Actual", f"{row.actual_spend} {currency}"),
    ]
    if row.deviation_percent is not None:
        facts.append(fact("Deviation", f"{row.deviation_percent}%"))
    if causes:
        facts.append(fact("Top cause", f"{cell(top)} ({causes[0].get('contribution')} {currency})"))
    driver = _top_driver(row.drivers)
    if driver is not None:
        facts.append(fact("Top driver", driver))
    notice = Notice(
        event_type=NoticeEventType.ANOMALY_DETECTED,
        severity=ANOMALY_SEVERITY.get(row.severity, NoticeSeverity.WARNING),
        title=f"{what}: {where} {sign}{impact} {currency}"[:200],
        summary=(row.root_cause or f"Spend of {where} differs from its expected level")[:2000],
        amount=impact,
        currency=currency,
        link=link,
        facts=tuple(facts),
        organization_id=row.organization_id,
        occurred_at=now,
        idempotency_key=f"anomaly.detected:{row.id}",
    )
    account = scope.get("account") or top.get("account")
    context = DispatchContext(
        account_id=str(account) if account and account not in ("(none)", "(other)") else None,
        service=row.service_name,
        region=row.region,
    )
    return notice, context, inbox_link


def notify_anomalies_detected(
    session: Session,
    organization_id: uuid.UUID,
    anomaly_ids: Iterable[uuid.UUID],
    *,
    currency: str,
    now: datetime,
    publish: Publish | None = None,
    console_url: str | None = None,
    public_url: str | None = None,
) -> list[DispatchResult]:
    """Dispatch ``anomaly.detected`` for each of these newly created incidents (of the organisation; amounts
    in ``currency``), largest impact first (module contract)."""
    ids = list(anomaly_ids)
    if not ids:
        return []
    rows = session.scalars(
        select(Anomaly)
        .where(Anomaly.organization_id == organization_id, Anomaly.id.in_(ids))
        .order_by(Anomaly.impact_amount.desc().nulls_last(), Anomaly.id)
    ).all()
    results = []
    for row in rows:
        notice, context, inbox_link = anomaly_notice(
            row, currency, now=now, console_url=console_url, public_url=public_url
        )
        results.append(send(session, organization_id, notice, context, inbox_link, now=now, publish=publish))
    return results
