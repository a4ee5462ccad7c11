"""Isolation and RBAC matrices generated from the route table, so a new route cannot escape them.

* Every ``/v1`` route with an id in its path answers 404 to an admin of another organisation, for ids that
  really exist (one fixture row per id kind; a new id kind without a fixture fails the test).
* Every ``/v1`` write route answers 403 to a viewer, naming the permission, except the self-service routes
  listed in ``SELF_SERVICE`` (sign-up/in, refresh, logout, own API keys, accepting an invitation).
* Every ``/v1`` route except the public ones answers 401 without credentials.
"""

from __future__ import annotations

import typing
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cloudoptima.domain.budgets import BudgetSpec
from cloudoptima.domain.inbox import InboxNotice
from cloudoptima.domain.notices import Notice, NoticeEventType, NoticeSeverity
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.allocation.dimensions import AllocationDimensions
from cloudoptima.services.api_keys import ApiKeyService
from cloudoptima.services.audit import AuditActor
from cloudoptima.services.budgets import BudgetService
from cloudoptima.services.cloud_accounts import CloudAccountService
from cloudoptima.services.cost_export_schedules import (
    ExportSchedules,
    check_request,
    exports_config_from_settings,
)
from cloudoptima.services.inbox import Inbox
from cloudoptima.services.invitations import InvitationService
from cloudoptima.services.notification_delivery import NotificationDelivery
from cloudoptima.services.notification_rules import NotificationRules
from cloudoptima.services.policies import PolicyService, validate_policy
from cloudoptima.services.report_schedules import ReportSchedules, validate_recurrence
from cloudoptima.services.reports import Reports, reports_config_from_settings
from cloudoptima.services.tickets import Tickets
from cloudoptima.settings import Settings
from cloudoptima.storage.models import Anomaly, PolicyExecution, Recommendation
from cloudoptima.storage.tenancy import scope
from cloudoptima_gateway.route_table import RouteEntry, api_routes
from tests.gateway.conftest import Org, make_org

PUBLIC = {
    "/v1/auth/register",
    "/v1/auth/login",
    "/v1/auth/refresh",
    "/v1/auth/invitations/accept",
    "/v1/auth/password-reset",
    "/v1/auth/password-reset/confirm",
    "/v1/auth/sso/login",
    "/v1/auth/sso/callback",
}
# Signed links: the signature in the link is the credential (a wrong or missing one is a 403 before any
# lookup, whoever asks), so they need no bearer token and their isolation is the signature's.
SIGNED_LINKS = {"/v1/reports/{report_id}/download"}
# Signed webhooks: the tracker's HMAC signature over the body is the credential (401 without it, whoever asks).
SIGNED_WEBHOOKS = {"/v1/ticket-trackers/{tracker_id}/webhook"}
PUBLIC |= SIGNED_LINKS | SIGNED_WEBHOOKS
SELF_SERVICE = PUBLIC | {
    "/v1/auth/logout",
    "/v1/auth/logout-all",
    "/v1/auth/password",
    "/v1/auth/api-keys",
    "/v1/auth/api-keys/{key_id}",
    # the caller's own inbox: every signed-in role marks its own notices read
    "/v1/notifications/{notification_id}/read",
    "/v1/notifications/read-all",
    # the caller's own digest subscription: every signed-in role manages its own
    "/v1/notifications/digest",
}
# POSTs that change nothing a viewer may not change: asking the assistant (its tools are read-only and bound
# to the caller's role; a remediation it requests still needs a permitted approver).
READ_ONLY_POSTS = {"/v1/chat"}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
POLICY = {
    "name": "stop idle",
    "trigger": {"type": "event", "config": {"event": "anomaly.detected"}},
    "conditions": [{"field": "resource_type", "operator": "eq", "value": "compute_instance"}],
    "actions": [{"type": "stop", "config": {}}],
}
BODIES: dict[str, dict[str, Any]] = {
    "BudgetIn": {"name": "Team budget", "amount": 100, "start_date": "2030-01-01", "end_date": "2031-01-01"},
    "PolicyIn": POLICY,
    "DismissIn": {"reason": "not now"},
    "AcceptIn": {"owner_user_id": "00000000-0000-4000-8000-000000000001", "due_date": "2099-01-01"},
    "SnoozeIn": {"until": "2099-01-01T00:00:00Z"},
    "FalsePositiveIn": {"reason": "the rule is wrong here"},
    "ReopenIn": {},
    "ApplyIn": {"dry_run": True},
    "DecisionIn": {"approve": True, "comment": "ok"},
    "DigestIn": {"frequency": "daily"},
    "AnomalyStatusUpdate": {"status": "resolved"},
    "AnomalyFeedbackIn": {"feedback": "yes"},
    "ExecuteIn": {"dry_run": True},
    "LogoutRequest": {},
    "ApiKeyCreate": {"name": "k"},
    "InvitationCreate": {"email": "someone@example.com", "role": "viewer"},
    "AwsConnect": {"role_arn": "arn:aws:iam::123456789012:role/X", "external_id": "ext-1"},
    "AzureConnect": {
        "subscription_id": str(uuid.uuid4()),
        "tenant_id": str(uuid.uuid4()),
        "client_id": str(uuid.uuid4()),
        "client_secret": "s",
    },
    "GcpConnect": {"project_id": "my-project-1", "service_account_json": "e30="},
    "BulkTagIn": {"resource_ids": ["i-1"], "tags": {"team": "a"}},
    "SettingsPatch": {"settings": {"regions": ["us-east-1"]}},
    "RegisterRequest": {
        "email": "x@example.com",
        "password": "long enough",
        "company_name": "X",
        "role": "cfo",
    },
    "LoginRequest": {"email": "x@example.com", "password": "x"},
    "RefreshRequest": {"refresh_token": "x"},
    "InvitationAccept": {"token": "x", "password": "long enough"},
    "ChatIn": {"message": "What did we spend last month?"},
    "SsoConfigIn": {
        "slug": "matrix",
        "issuer": "https://idp.example.com",
        "client_id": "c",
        "client_secret": "s",
    },
    "OrganizationPatch": {"settings": {"require_approval": True}},
    "UserPatch": {"role": "analyst"},
    "PasswordChange": {"current_password": "x", "new_password": "long enough pass"},
    "PasswordResetRequest": {"email": "nobody@example.com"},
    "PasswordResetConfirm": {"token": "x", "new_password": "long enough pass"},
    "ChannelIn": {"name": "matrix", "kind": "email", "target": "ops@example.com"},
    "ReportRequestIn": {"template_id": "monthly_cost_review", "format": "json"},
    "ReportScheduleIn": {
        "template_id": "monthly_cost_review",
        "format": "json",
        "schedule": {"frequency": "daily", "time": "08:00", "timezone": "UTC"},
    },
    "ReportSchedulePatch": {"schedule": {"time": "09:15"}},
    "ExportRunIn": {"dataset": "daily", "format": "csv", "start": "2030-01-01", "end": "2030-01-02"},
    "ExportScheduleIn": {"dataset": "daily", "schedule": {"frequency": "daily", "time": "08:00"}},
    "ExportSchedulePatch": {"schedule": {"time": "09:15"}},
    "RuleIn": {"name": "matrix rule", "event_type": "anomaly.detected", "recipients": {"roles": ["admin"]}},
    "RulePatch": {"enabled": False},
    "TagPolicyIn": {"required": [{"key": "team"}]},
    "DimensionIn": {"name": "matrix_dimension"},
    "DimensionPatch": {"description": "matrix"},
    "RuleSetIn": {"rules": [{"value": "web", "match": {"services": ["EC2"]}}]},
    "TrackerIn": {
        "name": "gh",
        "kind": "github",
        "base_url": "https://api.github.com",
        "project": "o/r",
        "token": "t",
    },
    "TicketIn": {},
    "TrackerPatch": {},
}


def _v1_routes(client: TestClient) -> list[RouteEntry]:
    return [e for e in api_routes(client.app.routes) if e.path.startswith("/v1/")]  # type: ignore[attr-defined]


def _body(route: APIRoute) -> dict[str, Any] | None:
    if route.body_field is None:
        return None
    annotation = route.body_field.field_info.annotation
    models = [
        a for a in (*typing.get_args(annotation), annotation) if isinstance(a, type) and a is not type(None)
    ]
    for model in models:
        if model.__name__ in BODIES:
            return BODIES[model.__name__]
    raise AssertionError(f"{route.path}: add a sample body for {annotation} to BODIES")


def _fixtures(engine: Engine, settings: Settings, org: Org) -> dict[str, uuid.UUID]:
    """One real row of every id kind the API takes, in ``org``."""
    cipher = CredentialCipher(settings.resolved_encryption_key)
    with Session(engine) as session:
        scope(session, org.id)
        budget = BudgetService(session, org.id).create(
            BudgetSpec(name="b", amount=Decimal(10), start_date=date(2030, 1, 1), end_date=date(2031, 1, 1))
        )
        rec = Recommendation(
            organization_id=org.id,
            fingerprint=uuid.uuid4().hex,
            title="Stop idle instance",
            category="compute",
            risk_level="low",
            affected_resources=[{"id": "i-1", "name": "i-1", "current_cost": "10"}],
            actions=[{"type": "stop", "resource_id": "i-1", "description": "stop", "parameters": {}}],
            status="active",
        )
        anomaly = Anomaly(organization_id=org.id, severity="high", fingerprint=uuid.uuid4().hex[:32])
        session.add_all([rec, anomaly])
        policy = PolicyService(session, org.id).create(validate_policy(POLICY))
        account = CloudAccountService(session, org.id, cipher).connect(
            "aws", "210987654321", "b", {"role_arn": "arn:aws:iam::210987654321:role/X"}
        )
        key = ApiKeyService(session, org.id).create(org.users["admin"], "b").row
        invitation = (
            InvitationService(session, org.id)
            .invite(f"inv-{uuid.uuid4().hex[:6]}@example.com", "viewer", org.users["admin"])
            .user
        )
        execution = PolicyExecution(
            organization_id=org.id,
            status="pending_approval",
            workflow_id=f"remediation-{uuid.uuid4()}",
            kind="recommendation",
            risk_level="low",
            plan={"title": "x", "approver_roles": ["engineer", "finops_manager", "admin"]},
            expires_at=datetime.now(UTC) + timedelta(days=1),
        )
        session.add(execution)
        session.flush()
        [notification] = Inbox(session, org.id).post(
            [org.users["admin"]],
            InboxNotice(event_type="matrix.notice", title="n"),
            idempotency_key="matrix",
            now=datetime.now(UTC),
        )
        deliveries = NotificationDelivery(session, org.id, cipher=cipher, smtp=None)
        channel = deliveries.create_channel(
            name=f"matrix-{uuid.uuid4().hex[:6]}",
            kind="email",
            target="ops@example.com",
            secret=None,
            now=datetime.now(UTC),
        )
        notice = Notice(
            event_type=NoticeEventType.DIGEST,
            severity=NoticeSeverity.INFO,
            title="matrix",
            summary="",
            organization_id=org.id,
            occurred_at=datetime.now(UTC),
            idempotency_key="matrix",
        )
        [delivery] = deliveries.enqueue(notice, [channel.id], datetime.now(UTC))
        report = Reports(session, org.id, reports_config_from_settings(settings)).request(
            "monthly_cost_review", {}, "json", None, now=datetime.now(UTC)
        )
        schedule = ReportSchedules(session, org.id, reports_config_from_settings(settings)).create(
            template_id="monthly_cost_review",
            parameters={},
            format="json",
            delivery=None,
            recipients=[],
            recurrence=validate_recurrence("daily", "08:00", "UTC"),
            now=datetime.now(UTC),
        )
        export_schedule = ExportSchedules(session, org.id, exports_config_from_settings(settings)).create(
            dataset="daily",
            format="csv",
            partition="month",
            destination={"kind": "folder"},
            recurrence=ExportSchedules.recurrence({"frequency": "daily", "time": "08:00"}),
            now=datetime.now(UTC),
        )
        export_run = ExportSchedules(session, org.id, exports_config_from_settings(settings)).queue_run(
            check_request("daily", "csv", "month", "2024-09-01", "2024-10-01"),
            {"kind": "folder", "path": "."},
            now=datetime.now(UTC),
        )
        rule = NotificationRules(session, org.id).create(
            name=f"matrix-{uuid.uuid4().hex[:6]}",
            event_type="anomaly.detected",
            recipients={"roles": ["admin"]},
            now=datetime.now(UTC),
        )
        dimension = AllocationDimensions(session, org.id).create(
            f"matrix_{uuid.uuid4().hex[:6]}", None, datetime.now(UTC)
        )
        tracker = Tickets(session, org.id, cipher=cipher, now=lambda: datetime.now(UTC)).add_tracker(
            name="matrix", kind="webhook", base_url="https://hooks.example.test/t", project="ops", token="t",
            login=None, actor=AuditActor(),
        )  # fmt: skip
        ids = {
            "tracker_id": tracker.id,
            "dimension_id": dimension.id,
            "channel_id": channel.id,
            "delivery_id": delivery.id,
            "rule_id": rule.id,
            "budget_id": budget.id,
            "recommendation_id": rec.id,
            "anomaly_id": anomaly.id,
            "policy_id": policy.id,
            "account_id": account.id,
            "key_id": key.id,
            "invitation_id": invitation.id,
            "execution_id": execution.id,
            "notification_id": notification.id,
            "user_id": org.users["engineer"],
            "report_id": report.id,
            "schedule_id": schedule.id,
            "export_schedule_id": export_schedule.id,
            "export_run_id": export_run.id,
        }
        session.commit()
    return ids


def _conversation(client: TestClient, org: Org) -> str:
    """A stored chat conversation of the organisation's admin (through the real chat route)."""
    conversation = f"matrix-{uuid.uuid4().hex[:12]}"
    response = client.post(
        "/v1/chat",
        headers=org.headers("admin"),
        json={"message": "What did we spend last month?", "conversation_id": conversation},
    )
    assert response.status_code == 200 and "event: done" in response.text, response.text
    return conversation


@pytest.fixture(scope="module")
def orgs(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> tuple[Org, Org, dict[str, Any], dict[str, Any]]:
    mine, theirs = (
        make_org(engine, gateway_settings, name="mine"),
        make_org(engine, gateway_settings, name="theirs"),
    )
    ids: list[dict[str, Any]] = []
    for org in (mine, theirs):
        found: dict[str, Any] = dict(_fixtures(engine, gateway_settings, org))
        found["conversation_id"] = _conversation(client, org)
        ids.append(found)
    return mine, theirs, ids[0], ids[1]


def _call(client: TestClient, entry: RouteEntry, ids: dict[str, Any], headers: dict[str, str]) -> Any:
    params = list(entry.route.param_convertors)
    missing = [p for p in params if p not in ids]
    assert not missing, f"{entry.path}: add a fixture row for {missing}"
    path = entry.path.format(**{p: ids[p] for p in params})
    method = sorted(entry.methods)[0]
    return client.request(method, path, headers=headers, json=_body(entry.route))


def test_every_id_route_hides_other_organisations(client: TestClient, orgs: Any) -> None:
    mine, _theirs, _my_ids, their_ids = orgs
    checked = []
    for route in _v1_routes(client):
        if not route.route.param_convertors or route.path in SIGNED_LINKS | SIGNED_WEBHOOKS:
            continue
        response = _call(client, route, their_ids, mine.headers("admin"))
        assert response.status_code == 404, (
            f"{route.methods} {route.path}: {response.status_code} {response.text}"
        )
        checked.append(route.path)
    assert len(checked) >= 12


def test_every_write_route_refuses_a_viewer(client: TestClient, orgs: Any) -> None:
    mine, _theirs, my_ids, _their_ids = orgs
    checked = []
    for route in _v1_routes(client):
        if not route.methods & WRITES or route.path in SELF_SERVICE | READ_ONLY_POSTS:
            continue
        response = _call(client, route, my_ids, mine.headers("viewer"))
        assert response.status_code == 403, (
            f"{route.methods} {route.path}: {response.status_code} {response.text}"
        )
        assert "permission '" in response.json()["detail"]
        checked.append(route.path)
    assert len(checked) >= 15


def test_read_only_posts_are_open_to_a_viewer(client: TestClient, orgs: Any) -> None:
    """The exemption above is real: those routes exist and a viewer may call them."""
    mine, _theirs, my_ids, _their_ids = orgs
    routes = {r.path: r for r in _v1_routes(client)}
    for path in READ_ONLY_POSTS:
        assert path in routes, f"{path} is exempted but not served"
        response = _call(client, routes[path], my_ids, mine.headers("viewer"))
        assert response.status_code == 200, response.text


def test_every_private_route_needs_credentials(client: TestClient, orgs: Any) -> None:
    _mine, _theirs, my_ids, _their_ids = orgs
    for route in _v1_routes(client):
        if route.path in PUBLIC:
            continue
        response = _call(client, route, my_ids, {})
        assert response.status_code == 401, f"{route.methods} {route.path}: {response.status_code}"


def test_risk_based_permission_on_apply(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings)
    with Session(engine) as session:
        rec = Recommendation(
            organization_id=org.id,
            fingerprint=uuid.uuid4().hex,
            title="Delete unattached disk",
            category="storage",
            risk_level="high",
            affected_resources=[],
            actions=[],
            status="active",
        )
        session.add(rec)
        session.flush()
        rec_id = rec.id
        session.commit()
    response = client.post(
        f"/v1/recommendations/{rec_id}/apply", headers=org.headers("finops_manager"), json={}
    )
    assert response.status_code == 403
    assert "apply:high_risk_recommendations" in response.json()["detail"]
    assert "finops_manager" in response.json()["detail"]
