"""Event sources wired to the notification rules, on real Postgres over a sandbox estate: new anomalies and
new recommendations (the analysis activities) reach the rules' webhook with their facts and amount and the
in-app recipients, once (a second run notifies nobody); a finished execution (``ExecutionProgress.reached``)
notifies admins in-app by default, once, never for a dry run nor from a rolled-back transaction; a failed
collection (refused credentials, denied permissions) notifies admins once per occurrence, not per retry."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from cloudoptima.clouds.protocol import ProviderUnavailableError
from cloudoptima.clouds.registry import ProviderRegistry
from cloudoptima.domain.permission_problems import PermissionProblem
from cloudoptima.domain.remediation import RemediationState
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.collection import AccountRef, CollectionService
from cloudoptima.services.event_notices import ANOMALY_SEVERITY
from cloudoptima.services.execution_progress import ExecutionProgress
from cloudoptima.services.notification_delivery import NotificationDelivery
from cloudoptima.services.notification_rules import NotificationRules
from cloudoptima.services.sandbox_loading import generate_to, load_sandbox
from cloudoptima.settings import Settings
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import (
    Anomaly,
    CloudAccount,
    CostDaily,
    CostRow,
    IngestRun,
    Notification,
    NotificationDeliveryRow,
    Organization,
    PolicyExecution,
    QuarantinedRow,
    Recommendation,
    ResourceDocument,
    User,
)
from cloudoptima.storage.tenancy import scope, tenant_session
from cloudoptima_workflows.analysis.activities import AnalysisActivities
from cloudoptima_workflows.analysis.inputs import AnalyseOrganisationInput
from cloudoptima_workflows.collection.activities import CollectionActivities
from cloudoptima_workflows.collection.inputs import CollectAccountInput
from cloudoptima_workflows.queues import PROCESSING
from cloudoptima_workflows.worker import WorkerDeps, registrations

NOW = datetime(2031, 6, 1, 6, tzinfo=UTC)
END = date(2031, 6, 1)
CIPHER = CredentialCipher(Fernet.generate_key().decode())
ROLES = ("viewer", "engineer", "finops_manager", "admin")


@dataclass
class Tenant:
    id: uuid.UUID
    users: dict[str, uuid.UUID]


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[uuid.UUID, str, dict[str, Any]]] = []

    def __call__(self, organization_id: uuid.UUID, event_type: str, data: Any) -> int:
        self.events.append((organization_id, event_type, dict(data)))
        return 1


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


def _tenant(factory: sessionmaker[Session]) -> Tenant:
    with factory() as session, session.begin():
        org = Organization(name=f"events-{uuid.uuid4().hex[:8]}", subscription_tier="free", settings={})
        session.add(org)
        session.flush()
        users = {}
        for role in ROLES:
            user = User(
                organization_id=org.id,
                email=f"{role}-{uuid.uuid4().hex[:8]}@example.com",
                password_hash="x",
                role=role,
            )
            session.add(user)
            session.flush()
            users[role] = user.id
        return Tenant(org.id, users)


def _drop(engine: Engine, org: uuid.UUID) -> None:
    with engine.begin() as connection:
        for model in (
            Anomaly,
            Recommendation,
            QuarantinedRow,
            IngestRun,
            CostDaily,
            CostRow,
            ResourceDocument,
            PolicyExecution,
            CloudAccount,
        ):
            connection.execute(delete(model).where(model.organization_id == org))
        connection.execute(delete(Organization).where(Organization.id == org))


@pytest.fixture
def tenant(engine: Engine, factory: sessionmaker[Session]) -> Iterator[Tenant]:
    made = _tenant(factory)
    yield made
    _drop(engine, made.id)


@pytest.fixture
def estate(engine: Engine, factory: sessionmaker[Session], tmp_path: Path) -> Iterator[Tenant]:
    made = _tenant(factory)
    directory = tmp_path / "estate"
    generate_to(directory, seed=11, accounts=2, days=90, end=END)
    load_sandbox(engine, CIPHER, made.id, directory)
    yield made
    _drop(engine, made.id)


def _webhook(session: Session, org: uuid.UUID, name: str) -> uuid.UUID:
    return (
        NotificationDelivery(session, org, cipher=CIPHER, smtp=None)
        .create_channel(
            name=name,
            kind="webhook",
            target=f"https://hooks.example.com/{name}",
            secret="s3cret-signing-key-0123456789",
            now=NOW,
        )
        .id
    )


def _deliveries(session: Session, org: uuid.UUID, event_type: str) -> list[NotificationDeliveryRow]:
    rows = session.scalars(
        select(NotificationDeliveryRow).where(NotificationDeliveryRow.organization_id == org)
    ).all()
    return [r for r in rows if r.notice["event_type"] == event_type]


def _inbox(session: Session, org: uuid.UUID, event_type: str) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification).where(
                Notification.organization_id == org, Notification.event_type == event_type
            )
        )
    )


def _facts(notice: dict[str, Any]) -> dict[str, str]:
    return {f["label"]: f["value"] for f in notice["facts"]}


def test_new_anomalies_and_recommendations_reach_their_rules_once(
    factory: sessionmaker[Session], estate: Tenant
) -> None:
    org = estate.id
    with tenant_session(factory, org) as session:
        hook = _webhook(session, org, "anomalies")
        rules = NotificationRules(session, org)
        rules.create(name="anomalies to the webhook", event_type="anomaly.detected", channel_id=hook, now=NOW)
        rules.create(
            name="anomalies to finops",
            event_type="anomaly.detected",
            recipients={"roles": ["finops_manager"]},
            now=NOW,
        )
    published = Recorder()
    activities = AnalysisActivities(
        factory, published, now=lambda: NOW, console_url="https://console.example"
    )
    params = AnalyseOrganisationInput(organization_id=str(org), lookback_days=90, today="2031-05-31")
    first = activities.anomalies(params)
    assert first.created > 0
    with tenant_session(factory, org) as session:
        anomalies = {
            row.id: row for row in session.scalars(select(Anomaly).where(Anomaly.organization_id == org))
        }
        deliveries = _deliveries(session, org, "anomaly.detected")
        inbox = _inbox(session, org, "anomaly.detected")
    assert len(deliveries) == first.created == len(anomalies)
    assert {i.user_id for i in inbox} == {estate.users["finops_manager"]} and len(inbox) == first.created
    for delivery in deliveries:
        notice = delivery.notice
        anomaly_id = uuid.UUID(notice["idempotency_key"].removeprefix("anomaly.detected:"))
        row = anomalies[anomaly_id]
        assert Decimal(notice["amount"]) == row.impact_amount and notice["currency"] == "USD"
        assert notice["severity"] == ANOMALY_SEVERITY[row.severity].value
        kind = "Cost level change" if row.kind == "change" else "Cost anomaly"
        assert notice["title"].startswith(f"{kind}: ") and notice["title"].endswith(" USD")
        assert notice["link"] == f"https://console.example/anomalies/{row.id}"
        facts = _facts(notice)
        assert (
            facts["Expected"] == f"{row.expected_spend} USD" and facts["Actual"] == f"{row.actual_spend} USD"
        )
        assert facts["Severity"] == row.severity
        if row.contributions:
            assert facts["Top cause"].endswith(f"({row.contributions[0]['contribution']} USD)")
        assert notice["summary"] == (row.root_cause or "")[:2000]
    assert any("Top driver" in _facts(d.notice) for d in deliveries)
    in_app = [e for e in published.events if e[1] == "notifications"]
    assert in_app, "the in-app posts are announced on the organisation's channel"

    again = activities.anomalies(params)  # re-detection updates the rows and notifies nobody
    assert again.created == 0 and again.updated > 0
    with tenant_session(factory, org) as session:
        assert len(_deliveries(session, org, "anomaly.detected")) == len(deliveries)
        assert len(_inbox(session, org, "anomaly.detected")) == len(inbox)

    # The same estate's recommendations (one sandbox load for both sources).
    _high_value_recommendations_go_to_the_webhook_once(factory, estate)


def _high_value_recommendations_go_to_the_webhook_once(
    factory: sessionmaker[Session], estate: Tenant
) -> None:
    org = estate.id
    threshold = Decimal("20")
    with tenant_session(factory, org) as session:
        hook = _webhook(session, org, "savings")
        rules = NotificationRules(session, org)
        rules.create(
            name="high-value recommendations",
            event_type="recommendation.created",
            min_amount=threshold,
            channel_id=hook,
            now=NOW,
        )
        rules.create(
            name="recommendations to admins",
            event_type="recommendation.created",
            recipients={"roles": ["admin"]},
            now=NOW,
        )
    activities = AnalysisActivities(factory, now=lambda: NOW)
    params = AnalyseOrganisationInput(organization_id=str(org), lookback_days=90, today="2031-05-31")
    first = activities.recommendations(params)
    with tenant_session(factory, org) as session:
        recs = {
            r.id: r
            for r in session.scalars(select(Recommendation).where(Recommendation.organization_id == org))
        }
        deliveries = _deliveries(session, org, "recommendation.created")
        inbox = _inbox(session, org, "recommendation.created")
    big = {i for i, r in recs.items() if (r.estimated_savings_monthly or 0) >= threshold}
    assert first.created == len(recs) and big and len(big) < len(recs), "the estate has both kinds"
    assert {uuid.UUID(d.notice["idempotency_key"].split(":", 1)[1]) for d in deliveries} == big
    assert len(inbox) == len(recs) and {i.user_id for i in inbox} == {estate.users["admin"]}
    for delivery in deliveries:
        rec = recs[uuid.UUID(delivery.notice["idempotency_key"].split(":", 1)[1])]
        assert Decimal(delivery.notice["amount"]) == rec.estimated_savings_monthly
        assert delivery.notice["currency"] == "USD"
        facts = _facts(delivery.notice)
        assert facts["Account"] == rec.account_identifier and facts["Risk"] == rec.risk_level
        assert delivery.notice["link"] is None  # no console configured: channels get no relative link
    assert inbox[0].link is not None and inbox[0].link.startswith("/v1/recommendations/")
    # The billing service the resources were charged under is a fact and what rules scope by.
    served = [i for i in inbox if i.payload.get("service")]
    assert served, "the sandbox bills its resources under a service"
    for item in served:
        facts = {f["label"]: f["value"] for f in item.payload["facts"]}
        assert facts["Service"] == item.payload["service"]

    activities.recommendations(params)  # found again: updated, not created, nobody notified again
    with tenant_session(factory, org) as session:
        assert len(_deliveries(session, org, "recommendation.created")) == len(deliveries)
        assert len(_inbox(session, org, "recommendation.created")) == len(inbox)


def _worker_activity(engine: Engine, settings: Settings, name: str) -> Callable[..., Any]:
    """The processing-queue activity ``name`` as the worker registers it, wired from ``settings``."""
    deps = WorkerDeps(
        engine=engine,
        sessions=session_factory(engine),
        providers=ProviderRegistry(CIPHER),
        publish=None,
        public_url=settings.resolved_public_url,
    )
    _, activities = registrations(deps)[PROCESSING]
    return next(a for a in activities if getattr(a, "__name__", "") == name)


def test_the_worker_links_channel_notices_under_the_public_url(
    engine: Engine, factory: sessionmaker[Session], estate: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No console is configured: a channel gets the API link under ``Settings.resolved_public_url`` (the
    gateway's own address by default, ``CLOUDOPTIMA_PUBLIC_URL`` when set); the inbox keeps the API path."""
    org = estate.id
    with tenant_session(factory, org) as session:
        hook = _webhook(session, org, "links")
        rules = NotificationRules(session, org)
        for event_type in ("anomaly.detected", "recommendation.created"):
            rules.create(name=f"{event_type} out", event_type=event_type, channel_id=hook, now=NOW)
    params = AnalyseOrganisationInput(organization_id=str(org), lookback_days=90, today="2031-05-31")
    for variable in ("CLOUDOPTIMA_PUBLIC_URL", "CLOUDOPTIMA_HOST", "CLOUDOPTIMA_PORT"):
        monkeypatch.delenv(variable, raising=False)
    assert _worker_activity(engine, Settings(), "anomalies")(params).created > 0
    monkeypatch.setenv("CLOUDOPTIMA_PUBLIC_URL", "https://finops.example.com/")
    assert _worker_activity(engine, Settings(), "recommendations")(params).created > 0
    with tenant_session(factory, org) as session:
        anomalies = _deliveries(session, org, "anomaly.detected")
        recommendations = _deliveries(session, org, "recommendation.created")
    assert anomalies
    for delivery in anomalies:
        anomaly_id = delivery.notice["idempotency_key"].removeprefix("anomaly.detected:")
        assert delivery.notice["link"] == f"http://127.0.0.1:8000/v1/costs/anomalies/{anomaly_id}"
    assert recommendations
    for delivery in recommendations:
        rec_id = delivery.notice["idempotency_key"].removeprefix("recommendation.created:")
        assert delivery.notice["link"] == f"https://finops.example.com/v1/recommendations/{rec_id}"


def _execution(
    session: Session, org: uuid.UUID, account: CloudAccount | None, *, dry_run: bool = False
) -> PolicyExecution:
    steps = []
    if account is not None:
        steps = [
            {
                "index": 0,
                "cloud_account_id": str(account.id),
                "resource_id": "i-0abc",
                "action": "stop_instance",
                "region": "eu-west-1",
            }
        ]
    row = PolicyExecution(
        organization_id=org,
        status="executing",
        workflow_id=f"remediation-{uuid.uuid4()}",
        kind="manual",
        dry_run=dry_run,
        started_at=NOW,
        risk_level="medium",
        plan={"title": "Stop idle VM", "steps": steps, "impact": {"savings": "42.50"}},
    )
    session.add(row)
    session.flush()
    return row


def _account(session: Session, org: uuid.UUID, identifier: str = "123456789012") -> CloudAccount:
    account = CloudAccount(
        organization_id=org,
        provider="aws",
        account_identifier=identifier,
        account_name="Production",
        credentials_encrypted="x",
        settings={},
        status="active",
    )
    session.add(account)
    session.flush()
    return account


def test_a_failed_execution_reaches_the_admins_by_default_once_and_success_goes_to_a_rule(
    factory: sessionmaker[Session], tenant: Tenant
) -> None:
    org = tenant.id
    published = Recorder()
    with tenant_session(factory, org) as session:
        account = _account(session, org)
        failed = _execution(session, org, account)
        dry = _execution(session, org, account, dry_run=True)
        done = _execution(session, org, account)
        hook = _webhook(session, org, "executions")
        NotificationRules(session, org).create(
            name="successes in production",
            event_type="execution.succeeded",
            scope={"account_ids": ["123456789012"], "regions": ["eu-west-1"]},
            channel_id=hook,
            now=NOW,
        )
        ids = failed.id, dry.id, done.id
    for _ in range(2):  # a retried record activity
        with tenant_session(factory, org) as session:
            progress = ExecutionProgress(session, org, now=lambda: NOW, publish=published)
            progress.reached(ids[0], RemediationState.FAILED, error="step 0: InstanceNotFound")
            progress.reached(ids[1], RemediationState.FAILED, error="dry run refused")
            progress.reached(ids[2], RemediationState.COMPLETED)
    with tenant_session(factory, org) as session:
        [item] = _inbox(session, org, "execution.failed")
        assert item.user_id == tenant.users["admin"] and item.severity == "critical"
        assert item.title == "Remediation failed: Stop idle VM" and item.link == f"/v1/executions/{ids[0]}"
        facts = {f["label"]: f["value"] for f in item.payload["facts"]}
        assert facts["Plan"] == "Stop idle VM" and facts["Resources"] == "i-0abc"
        assert facts["Outcome"] == "failed" and facts["Error"] == "step 0: InstanceNotFound"
        assert item.payload["account_id"] == "123456789012"
        assert _inbox(session, org, "execution.succeeded") == []  # no in-app rule for successes
        [delivery] = _deliveries(session, org, "execution.succeeded")
        assert delivery.notice["idempotency_key"] == f"execution.completed:{ids[2]}"
        assert _facts(delivery.notice)["Monthly savings"] == "42.50"
    announced = [e[2]["notification"]["event_type"] for e in published.events if e[1] == "notifications"]
    assert announced == ["execution.failed"]

    with factory() as session, session.begin():  # a rolled-back failure notifies no one
        scope(session, org)
        other = _execution(session, org, None)
        ExecutionProgress(session, org, now=lambda: NOW).reached(other.id, RemediationState.FAILED, error="x")
        assert len(_inbox(session, org, "execution.failed")) == 2
        session.rollback()
    with tenant_session(factory, org) as session:
        assert len(_inbox(session, org, "execution.failed")) == 1


def test_a_failed_collection_notifies_the_admins_once_per_occurrence(
    engine: Engine, factory: sessionmaker[Session], tenant: Tenant
) -> None:
    org = tenant.id
    with tenant_session(factory, org) as session:
        account_id = _account(session, org).id
        hook = _webhook(session, org, "collections")
        NotificationRules(session, org).create(
            name="collection failures to the webhook",
            event_type="collection.failed",
            channel_id=hook,
            now=NOW,
        )
    published = Recorder()
    service = CollectionService(engine, lambda _: None, publish=published, now=lambda: NOW)  # type: ignore[arg-type,return-value]
    ref = AccountRef(org, account_id)
    service.mark_error(ref, "The security token included in the request is invalid")
    service.mark_error(ref, "The security token included in the request is invalid")  # retried / rerun
    with tenant_session(factory, org) as session:
        [item] = _inbox(session, org, "collection.failed")
        assert item.user_id == tenant.users["admin"] and item.severity == "critical"
        [delivery] = _deliveries(session, org, "collection.failed")
        assert delivery.notice["idempotency_key"] == f"collection.failed:{account_id}:error:never"
        facts = _facts(delivery.notice)
        assert facts["Account"] == "Production (123456789012)" and facts["Step"] == "credentials"
        assert facts["Error"] == "The security token included in the request is invalid"
        assert item.payload["account_id"] == "123456789012"

    denied = [PermissionProblem(step="costs", permission="ce:GetCostAndUsage", purpose="costs")]
    for _ in range(2):  # the finish activity retried
        service.finish(ref, costs_complete=False, permission_problems=denied)
    with tenant_session(factory, org) as session:
        degraded = [i for i in _inbox(session, org, "collection.failed") if i.severity == "warning"]
        assert len(degraded) == 1
        facts = {f["label"]: f["value"] for f in degraded[0].payload["facts"]}
        assert (
            facts["Step"] == "costs" and facts["Error"] == "missing permission ce:GetCostAndUsage for costs"
        )
        assert len(_deliveries(session, org, "collection.failed")) == 2
    service.finish(ref, costs_complete=True)  # healthy again: nothing to say
    with tenant_session(factory, org) as session:
        assert len(_inbox(session, org, "collection.failed")) == 2


class _Unavailable:
    """A provider whose inventory read fails with a retryable provider error (the cloud API is down)."""

    def inventory(self) -> Any:
        raise ProviderUnavailableError("ec2 DescribeInstances: 503 Service Unavailable")


def test_a_step_failing_for_good_notifies_once_and_a_retried_attempt_does_not(
    engine: Engine, factory: sessionmaker[Session], tenant: Tenant
) -> None:
    org = tenant.id
    with tenant_session(factory, org) as session:
        account_id = _account(session, org).id
    service = CollectionService(engine, lambda _: _Unavailable(), now=lambda: NOW)  # type: ignore[arg-type,return-value]
    activities = CollectionActivities(service)
    params = CollectAccountInput(organization_id=str(org), cloud_account_id=str(account_id))
    environment = ActivityEnvironment()
    policy = RetryPolicy(maximum_attempts=6)
    for attempt in (1, 2, 6, 6):  # retried attempts notify nothing; the last one does, once
        environment.info = dataclasses.replace(environment.info, attempt=attempt, retry_policy=policy)
        with pytest.raises(ApplicationError, match="503"):
            environment.run(activities.inventory, params)
        with tenant_session(factory, org) as session:
            items = _inbox(session, org, "collection.failed")
        assert len(items) == (1 if attempt == 6 else 0)
    [item] = items
    assert item.user_id == tenant.users["admin"] and item.severity == "warning"
    facts = {f["label"]: f["value"] for f in item.payload["facts"]}
    assert facts["Step"] == "inventory"
    assert (
        facts["Error"]
        == "inventory: ProviderUnavailableError: ec2 DescribeInstances: 503 Service Unavailable"
    )
