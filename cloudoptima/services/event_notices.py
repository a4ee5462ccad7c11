"""The notices of anomalies, recommendations, finished executions and failed collections, dispatched through
the organisation's notification rules (:func:`cloudoptima.services.notification_rules.dispatch`).

Each ``notify_*`` function is called by the place where its event becomes true, in the transaction that
records it (the caller commits: a rolled-back event notifies no one), with the caller's ``now`` and, when it
has one, the organisation's ``publish``. ``console_url`` (the web console's base URL, when configured) makes
the notice's ``link`` absolute (``{console_url}/anomalies/{id}`` …); without it the inbox links to the API
path and channels get no link (a channel link must be absolute).

What each event sends (idempotency keys are stable across retries of the activity that records the event):

- ``anomaly.detected`` (:func:`notify_anomalies_detected`), once per newly created incident (a re-detected
  incident updates its row and is not passed here): title ``Cost anomaly: <scope> +<impact> <currency>``
  (``Cost level change: …`` for a lasting change of level),
  summary the stored explanation (``root_cause``), amount the impact in the run's currency, facts severity,
  scope, period, expected, actual, deviation, top cause (the largest contribution's cell and amount), top
  driver (the resource, usage type or tag whose cost changed most, with its change); severity
  :data:`ANOMALY_SEVERITY` (``critical`` → critical, ``high`` → warning, ``medium`` / ``low`` → info); context
  account (identifier), service, region; key ``anomaly.detected:<anomaly id>``.
- ``recommendation.created`` (:func:`notify_recommendations_created`), once per new recommendation: title
  ``Recommendation: <title>``, amount the estimated monthly savings in the organisation's cost currency
  (:func:`cost_currency`), facts category, risk, provider, account, service (the billing service its
  resources were charged under, :func:`billed_services`, when known), region, resources, annual savings;
  severity ``info``; context account, service, region; key ``recommendation.created:<id>``. Rules' ``min_amount``
  makes "high-value recommendations".
- ``execution.succeeded`` / ``execution.failed`` (:func:`notify_execution_finished`) when a (non dry-run)
  execution reaches ``completed`` (succeeded, ``info``) or ``failed`` (``critical``), ``rolled_back``
  (``warning``) or ``refused`` (``warning``) (all three ``execution.failed``): title
  ``Remediation succeeded|failed|rolled back|refused: <plan title>``, facts plan, resources, outcome,
  error, risk, monthly savings; context amount (the plan's savings) and the account of its first step;
  key ``execution.<state>:<execution id>``.
- ``collection.failed`` (:func:`notify_collection_failed`) when an account's collection fails: refused
  credentials (the account turns ``error``; ``critical``), steps denied permissions (the account turns
  ``degraded``; ``warning``) — only on the account's change into that state — or steps that failed for
  good with a provider error (``failed``; ``warning``), once per failure occurrence, keyed
  ``collection.failed:<account id>:<error|degraded|failed:<steps>>:<last successful sync or "never">``
  (a retry or a rerun failing the same way before the next successful sync is the same occurrence);
  title ``Collection failed for <provider> account <name>``; facts account, provider, step, error, last
  successful sync; context account (identifier).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cloudoptima.domain.notices import Notice, NoticeEventType, NoticeFact, NoticeSeverity
from cloudoptima.domain.notification_rules import DispatchContext
from cloudoptima.domain.remediation import RemediationState
from cloudoptima.services.events import Publish
from cloudoptima.services.notification_rules import DispatchResult, dispatch, inbox_notice_of
from cloudoptima.storage.models import Anomaly, CloudAccount, PolicyExecution, Recommendation

DEFAULT_CURRENCY: Final = "USD"
ANOMALY_SEVERITY: Final[Mapping[str, NoticeSeverity]] = {
    "critical": NoticeSeverity.CRITICAL,
    "high": NoticeSeverity.WARNING,
    "medium": NoticeSeverity.INFO,
    "low": NoticeSeverity.INFO,
}
"""An anomaly's severity (``cloudoptima.domain.analytics.AnomalySeverity``) as a notice severity."""
EXECUTION_OUTCOMES: Final[Mapping[RemediationState, tuple[NoticeEventType, NoticeSeverity, str]]] = {
    RemediationState.COMPLETED: (NoticeEventType.EXECUTION_SUCCEEDED, NoticeSeverity.INFO, "succeeded"),
    RemediationState.FAILED: (NoticeEventType.EXECUTION_FAILED, NoticeSeverity.CRITICAL, "failed"),
    RemediationState.ROLLED_BACK: (NoticeEventType.EXECUTION_FAILED, NoticeSeverity.WARNING, "rolled back"),
    RemediationState.REFUSED: (NoticeEventType.EXECUTION_FAILED, NoticeSeverity.WARNING, "refused"),
}
"""The finished states that notify, with their event type, severity and word."""
COLLECTION_FAILURES: Final[Mapping[str, tuple[NoticeSeverity, str]]] = {
    "error": (NoticeSeverity.CRITICAL, "credentials were refused"),
    "degraded": (NoticeSeverity.WARNING, "permissions were denied"),
    "failed": (NoticeSeverity.WARNING, "steps failed"),
}
"""How a collection failed (the account turned ``error`` / ``degraded``, or steps failed for good)."""
_FACT = 1000


def _fact(label: str, value: object) -> NoticeFact:
    return NoticeFact(label=label, value=str(value)[:_FACT])


def _links(console_url: str | None, console_path: str, api_path: str) -> tuple[str, str | None]:
    """(the inbox's link, the notice's absolute link or None)."""
    if console_url:
        link = f"{console_url.rstrip('/')}{console_path}"
        return link, link if link.startswith(("http://", "https://")) else None
    return api_path, None


def _send(
    session: Session,
    organization_id: uuid.UUID,
    notice: Notice,
    context: DispatchContext,
    inbox_link: str,
    *,
    now: datetime,
    publish: Publish | None,
) -> DispatchResult:
    shown = inbox_notice_of(notice, context).model_copy(update={"link": inbox_link})
    context = context.model_copy(update={"inbox_notice": shown})
    return dispatch(session, organization_id, notice, context=context, now=now, publish=publish)


def _cell(dimensions: Mapping[str, Any]) -> str:
    parts = [f"{k.replace('_', ' ')} {v}" for k, v in dimensions.items() if v not in ("(none)", "(other)")]
    return ", ".join(parts) if parts else "total spend"


def cost_currency(session: Session, organization_id: uuid.UUID, now: datetime) -> str:
    """The organisation's cost currency: the billing currency of most of its ``cost_daily`` rows of the 30
    days before ``now``, ``USD`` (the list prices' currency) without any."""
    day = now.date()
    found = session.scalar(
        text(
            "SELECT billing_currency FROM cost_daily WHERE organization_id = :org AND usage_date >= :d0 "
            "AND usage_date < :d1 GROUP BY 1 ORDER BY sum(row_count) DESC, 1 LIMIT 1"
        ),
        {"org": organization_id, "d0": day - timedelta(days=30), "d1": day + timedelta(days=1)},
    )
    return str(found).upper() if found else DEFAULT_CURRENCY


# -- anomalies ----------------------------------------------------------------------------------------------


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
    row: Anomaly, currency: str, *, now: datetime, console_url: str | None = None
) -> tuple[Notice, DispatchContext, str]:
    """The ``anomaly.detected`` notice of a stored incident, its dispatch context and the inbox's link."""
    currency = currency.upper()
    scope = dict(row.scope or {})
    causes = list(row.contributions or [])
    top = dict(causes[0].get("dimensions") or {}) if causes else {}
    cell = _cell(scope)
    impact = row.impact_amount if row.impact_amount is not None else Decimal(0)
    sign = "+" if impact >= 0 else ""
    what = "Cost level change" if row.kind == "change" else "Cost anomaly"
    inbox_link, link = _links(console_url, f"/anomalies/{row.id}", "/v1/costs/anomalies")
    facts = [
        _fact("Severity", row.severity),
        _fact("Scope", cell),
        _fact("Period", f"{row.start_date} to {row.end_date}"),
        _fact("Expected", f"{row.expected_spend} {currency}"),
        _fact("Actual", f"{row.actual_spend} {currency}"),
    ]
    if row.deviation_percent is not None:
        facts.append(_fact("Deviation", f"{row.deviation_percent}%"))
    if causes:
        facts.append(_fact("Top cause", f"{_cell(top)} ({causes[0].get('contribution')} {currency})"))
    driver = _top_driver(row.drivers)
    if driver is not None:
        facts.append(_fact("Top driver", driver))
    notice = Notice(
        event_type=NoticeEventType.ANOMALY_DETECTED,
        severity=ANOMALY_SEVERITY.get(row.severity, NoticeSeverity.WARNING),
        title=f"{what}: {cell} {sign}{impact} {currency}"[:200],
        summary=(row.root_cause or f"Spend of {cell} differs from its expected level")[:2000],
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
        notice, context, inbox_link = anomaly_notice(row, currency, now=now, console_url=console_url)
        results.append(_send(session, organization_id, notice, context, inbox_link, now=now, publish=publish))
    return results


# -- recommendations ----------------------------------------------------------------------------------------


def billed_services(
    session: Session, organization_id: uuid.UUID, resource_ids: Iterable[str], now: datetime
) -> dict[str, str]:
    """The billing service (``cost_data.service_name``) each of these resources was charged under in the 62
    days before ``now``, by lower-case resource id (the most charged one when several)."""
    wanted = sorted({r.lower() for r in resource_ids if r})
    if not wanted:
        return {}
    rows = session.execute(
        text(
            "SELECT lower(resource_id), service_name FROM cost_data WHERE organization_id = :org "
            "AND charge_period_start >= :d0 AND charge_period_start < :d1 AND lower(resource_id) = ANY(:ids) "
            "AND service_name IS NOT NULL GROUP BY 1, 2 ORDER BY 1, sum(billed_cost) DESC, 2"
        ),
        {"org": organization_id, "d0": now - timedelta(days=62), "d1": now, "ids": wanted},
    ).all()
    found: dict[str, str] = {}
    for resource, service in rows:
        found.setdefault(str(resource), str(service))
    return found


def recommendation_notice(
    row: Recommendation,
    currency: str,
    *,
    now: datetime,
    console_url: str | None = None,
    service: str | None = None,
) -> tuple[Notice, DispatchContext, str]:
    """The ``recommendation.created`` notice of a stored recommendation, its context and the inbox's link."""
    savings = row.estimated_savings_monthly
    inbox_link, link = _links(console_url, f"/recommendations/{row.id}", f"/v1/recommendations/{row.id}")
    resources = [str(r) for r in row.resource_ids or []]
    facts = [
        _fact("Category", row.category),
        _fact("Risk", row.risk_level),
        _fact("Provider", row.provider or "unknown"),
        _fact("Account", row.account_identifier or "unknown"),
        _fact("Region", row.region or "global"),
        _fact(
            "Resources",
            ", ".join(resources[:10]) + (f" and {len(resources) - 10} more" if len(resources) > 10 else ""),
        ),
    ]
    if service is not None:
        facts.insert(4, _fact("Service", service))
    if row.estimated_savings_annual is not None:
        facts.append(_fact("Annual savings", f"{row.estimated_savings_annual} {currency}"))
    summary = (row.description or row.title)[:2000]
    notice = Notice(
        event_type=NoticeEventType.RECOMMENDATION_CREATED,
        severity=NoticeSeverity.INFO,
        title=f"Recommendation: {row.title}"[:200],
        summary=summary,
        amount=savings,
        currency=currency if savings is not None else None,
        link=link,
        facts=tuple(facts),
        organization_id=row.organization_id,
        occurred_at=now,
        idempotency_key=f"recommendation.created:{row.id}",
    )
    context = DispatchContext(account_id=row.account_identifier, service=service, region=row.region)
    return notice, context, inbox_link


def notify_recommendations_created(
    session: Session,
    organization_id: uuid.UUID,
    recommendation_ids: Iterable[uuid.UUID],
    *,
    now: datetime,
    publish: Publish | None = None,
    console_url: str | None = None,
    currency: str | None = None,
) -> list[DispatchResult]:
    """Dispatch ``recommendation.created`` for each of these new recommendations, largest saving first;
    amounts in ``currency`` (default: :func:`cost_currency`)."""
    ids = list(recommendation_ids)
    if not ids:
        return []
    currency = (currency or cost_currency(session, organization_id, now)).upper()
    rows = session.scalars(
        select(Recommendation)
        .where(Recommendation.organization_id == organization_id, Recommendation.id.in_(ids))
        .order_by(Recommendation.estimated_savings_monthly.desc().nulls_last(), Recommendation.id)
    ).all()
    services = billed_services(
        session, organization_id, (r for row in rows for r in row.resource_ids or []), now
    )
    results = []
    for row in rows:
        service = next(
            (services[r.lower()] for r in row.resource_ids or [] if r and r.lower() in services), None
        )
        notice, context, inbox_link = recommendation_notice(
            row, currency, now=now, console_url=console_url, service=service
        )
        results.append(_send(session, organization_id, notice, context, inbox_link, now=now, publish=publish))
    return results


# -- executions ---------------------------------------------------------------------------------------------


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
    inbox_link, link = _links(console_url, f"/executions/{row.id}", f"/v1/executions/{row.id}")
    facts = [
        _fact("Plan", title),
        _fact("Resources", ", ".join(resources[:10]) or "none"),
        _fact("Outcome", state.value),
    ]
    if reason:
        facts.append(_fact("Error", reason))
    facts.append(_fact("Risk", row.risk_level or "unknown"))
    if savings is not None:
        facts.append(_fact("Monthly savings", savings))
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
    return _send(session, row.organization_id, notice, context, inbox_link, now=now, publish=publish)


# -- collections --------------------------------------------------------------------------------------------


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
) -> DispatchResult:
    """Dispatch ``collection.failed`` for ``account`` that just turned ``status`` (``error``: credentials
    refused, critical; ``degraded``: steps denied permissions, warning) or whose ``steps`` failed for good
    (``failed``, warning), once per account and occurrence (``last_success``: the account's last successful
    sync before it; module contract)."""
    if status not in COLLECTION_FAILURES:
        raise ValueError(f"status: must be one of {', '.join(COLLECTION_FAILURES)}, not {status!r}")
    severity, what = COLLECTION_FAILURES[status]
    name = account.account_name or account.account_identifier
    inbox_link, link = _links(console_url, f"/accounts/{account.id}", f"/v1/cloud-accounts/{account.id}")
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
            _fact("Account", f"{name} ({account.account_identifier})"),
            _fact("Provider", account.provider),
            _fact("Step", step),
            _fact("Error", error),
            _fact("Last successful sync", last_success.isoformat() if last_success else "never"),
        ),
        organization_id=account.organization_id,
        occurred_at=now,
        idempotency_key=f"collection.failed:{account.id}:{kind}:{occurrence}"[:200],
    )
    context = DispatchContext(account_id=account.account_identifier)
    return _send(session, account.organization_id, notice, context, inbox_link, now=now, publish=publish)
