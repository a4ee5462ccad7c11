"""Policy validation, condition evaluation over stored resources (real Postgres), triggers and dry runs."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from cloudoptima.clouds.sandbox.provider import SandboxProvider
from cloudoptima.clouds.sandbox.state import SandboxEstateStore
from cloudoptima.domain.inventory import Resource, ResourceKind, ResourceState
from cloudoptima.services.policies import PolicyService, PolicyValidationError, validate_policy
from cloudoptima.services.remediation import RemediationService
from cloudoptima.storage.inventory_store import upsert_resources
from cloudoptima.storage.models import CloudAccount, Organization
from cloudoptima.storage.tenancy import scope
from tests.workflows.test_remediation_harness import sandbox_copy

NOW = datetime(2026, 1, 5, tzinfo=UTC)
BASE = {
    "name": "p",
    "trigger": {"type": "event", "config": {"event": "anomaly.detected"}},
    "actions": [{"type": "stop"}],
}


class Stored:
    def __init__(self, session: Session, state_dir: Path, name: str) -> None:
        store = SandboxEstateStore.open(state_dir)
        account = store.estate().accounts[0]
        org = Organization(name=name, subscription_tier="free", settings={})
        session.add(org)
        session.flush()
        row = CloudAccount(
            organization_id=org.id,
            provider=account.provider.value,
            account_identifier=account.account_id,
            credentials_encrypted="",
        )
        session.add(row)
        session.flush()
        self.resources: list[Resource] = [
            r for r in store.estate().account_resources(account.account_id) if r.deleted_at is None
        ]
        self.cpu = {
            r.resource_id: 3.0 + 7 * i
            for i, r in enumerate(self.resources)
            if r.kind is ResourceKind.COMPUTE_INSTANCE
        }
        metrics = {rid: {"cpu_percent": {"avg": cpu, "p95": cpu * 2}} for rid, cpu in self.cpu.items()}
        upsert_resources(session.connection(), org.id, row.id, self.resources, metrics, NOW, complete=True)
        self.org, self.account_row, self.account_id, self.state_dir = (
            org.id,
            row.id,
            account.account_id,
            state_dir,
        )

    def service(self, session: Session) -> PolicyService:
        return PolicyService(session, self.org, now=lambda: NOW)


@pytest.fixture
def stored(db_session: Session, tmp_path: Path) -> Stored:
    return Stored(db_session, sandbox_copy(tmp_path / "sandbox"), "policies-a")


def matched(service: PolicyService, conditions: list[dict[str, object]]) -> set[str]:
    definition = validate_policy({**BASE, "conditions": conditions})
    return {doc.resource_id for doc in service.matching_resources(definition)}


def test_validation_lists_every_problem() -> None:
    with pytest.raises(PolicyValidationError) as caught:
        validate_policy(
            {
                **BASE,
                "conditions": [{"field": "colour", "operator": "eq", "value": "red"}],
                "actions": [{"type": "resize"}, {"type": "tag", "config": {"tags": {}}}],
            }
        )
    problems = caught.value.problems
    assert any("colour" in p for p in problems) and any("resize needs config.size" in p for p in problems)
    assert any("tag needs config.tags" in p for p in problems)
    for bad in (
        {**BASE, "trigger": {"type": "schedule", "config": {}}},
        {**BASE, "trigger": {"type": "schedule", "config": {"cron": "every day"}}},
        {**BASE, "trigger": {"type": "threshold", "config": {"metric": "x", "value": "lots"}}},
        {**BASE, "conditions": [{"field": "region", "operator": "in", "value": "us-east-1"}]},
        {**BASE, "conditions": [{"field": "region", "operator": "matches", "value": "us"}]},
        {**BASE, "actions": [{"type": "terminate"}]},
        {**BASE, "safety_controls": {"max_resources_per_execution": 0}},
    ):
        with pytest.raises(PolicyValidationError):
            validate_policy(bad)
    ok = validate_policy({**BASE, "actions": [{"type": "stop"}, {"type": "snapshot_and_delete_disk"}]})
    assert ok.risk.value == "high", "the riskiest action sets the policy's risk"


def test_every_operator_over_stored_resources(db_session: Session, stored: Stored) -> None:
    service = stored.service(db_session)
    rs = stored.resources

    def ids(pick: Callable[[Resource], bool]) -> set[str]:
        return {r.resource_id for r in rs if pick(r)}

    instance = next(r for r in rs if r.kind is ResourceKind.COMPUTE_INSTANCE)
    cases: list[tuple[list[dict[str, object]], set[str]]] = [
        (
            [{"field": "resource_type", "operator": "eq", "value": "disk"}],
            ids(lambda r: r.kind is ResourceKind.DISK),
        ),
        (
            [{"field": "status", "operator": "ne", "value": "running"}],
            ids(lambda r: r.state is not ResourceState.RUNNING),
        ),
        ([{"field": "cost_monthly", "operator": "gt", "value": 100}], ids(lambda r: r.monthly_cost > 100)),
        ([{"field": "cost_monthly", "operator": "lte", "value": "8"}], ids(lambda r: r.monthly_cost <= 8)),
        (
            [
                {"field": "cost_monthly", "operator": "gte", "value": 8},
                {"field": "cost_monthly", "operator": "lt", "value": 20},
            ],
            ids(lambda r: Decimal(8) <= r.monthly_cost < 20),
        ),
        (
            [{"field": "tags.team", "operator": "in", "value": ["data", "search"]}],
            ids(lambda r: r.tags.get("team") in {"data", "search"}),
        ),
        (
            [{"field": "tags.team", "operator": "not_in", "value": ["data"]}],
            ids(lambda r: "team" in r.tags and r.tags["team"] != "data"),
        ),
        (
            [{"field": "tags", "operator": "contains", "value": "cost-center"}],
            ids(lambda r: "cost-center" in r.tags),
        ),
        (
            [{"field": "resource_name", "operator": "contains", "value": instance.name[:4]}],
            ids(lambda r: instance.name[:4] in r.name),
        ),
        (
            [{"field": "tags.owner", "operator": "exists", "value": False}],
            ids(lambda r: "owner" not in r.tags),
        ),
        ([{"field": "tags.team", "operator": "exists", "value": True}], ids(lambda r: "team" in r.tags)),
        (
            [{"field": "created_at", "operator": "older_than_days", "value": 200}],
            ids(lambda r: NOW - r.created_at > timedelta(days=200)),
        ),
        (
            [{"field": "metrics.cpu_percent.avg", "operator": "lt", "value": 20}],
            {rid for rid, cpu in stored.cpu.items() if cpu < 20},
        ),
        (
            [
                {
                    "field": "configuration.instance_type",
                    "operator": "eq",
                    "value": instance.attributes.model_dump().get("instance_type"),
                }
            ],
            ids(
                lambda r: (
                    r.attributes.model_dump().get("instance_type")
                    == instance.attributes.model_dump().get("instance_type")
                )
            ),
        ),
    ]
    for conditions, expected in cases:
        assert expected, f"the estate has no resource for {conditions}"
        assert matched(service, conditions) == expected, conditions
    assert len(matched(service, [])) == len(rs), "no condition matches every live resource"


def test_matching_is_scoped_to_the_organisation(db_session: Session, stored: Stored, tmp_path: Path) -> None:
    other = Stored(db_session, sandbox_copy(tmp_path / "other"), "policies-b")
    docs = stored.service(db_session).matching_resources(validate_policy(BASE))
    assert {d.organization_id for d in docs} == {stored.org}
    assert len(docs) == len(stored.resources), (
        "the other organisation's copies of the same ids are not matched"
    )
    scope(db_session, other.org)  # the first repository bound the session to the first organisation
    assert {
        d.organization_id for d in other.service(db_session).matching_resources(validate_policy(BASE))
    } == {other.org}


def test_dry_run_lists_the_resources_it_would_touch(db_session: Session, stored: Stored) -> None:
    service = stored.service(db_session)
    body = {
        **BASE,
        "conditions": [
            {"field": "resource_type", "operator": "eq", "value": "compute_instance"},
            {"field": "status", "operator": "eq", "value": "running"},
        ],
        "safety_controls": {"max_resources_per_execution": 100},
    }
    policy = service.create(validate_policy(body))
    provider = SandboxProvider(stored.state_dir, stored.account_id)
    remediation = RemediationService(db_session, stored.org, lambda _: provider, now=lambda: NOW)
    dry = service.dry_run(policy.id, remediation, requested_by_role="engineer")
    running = sorted(
        r.resource_id
        for r in stored.resources
        if r.kind is ResourceKind.COMPUTE_INSTANCE and r.state is ResourceState.RUNNING
    )
    assert dry.matched_resource_ids == running and [s.resource_id for s in dry.plan.steps] == running
    assert all(s.valid for s in dry.plan.steps) and dry.plan.valid
    assert dry.plan.impact.projected_monthly == 0
    assert dry.plan.impact.savings == sum(
        r.monthly_cost for r in stored.resources if r.resource_id in running
    )
    names = {r.resource_id: r.name for r in stored.resources}
    assert [(r.resource_id, r.resource_name, r.action, r.valid) for r in dry.resources] == [
        (rid, names[rid], "stop", True) for rid in running
    ]
    assert all(r.resource_type == "compute_instance" and r.monthly_cost_after == 0 for r in dry.resources)
    assert SandboxEstateStore.open(stored.state_dir).journal() == [], "a dry run changes nothing"
    assert uuid.UUID(dry.policy_id) == policy.id
