"""Tag coverage from the coverage rollups equals the answer from the cost rows, exactly, on the same data —
the FOCUS sample's real tag spellings (``env``/``environment``, ``CostCenter``, `` org``), an inventory with
current tags, whole and partial periods — however the rollups were maintained: by ingestion (rows added, then
a re-ingest that replaced them) and by a policy change that rebuilt them. Each answer is compared with the same
service reading the cost rows (the rollups' state removed inside a rolled-back transaction)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, text
from sqlalchemy.orm import Session

from cloudoptima.domain.tag_policy import RequiredTag, TagPolicy
from cloudoptima.services.ingestion import ingest_path
from cloudoptima.services.tag_coverage_rollup import is_current
from cloudoptima.services.tag_governance import GROUP_BY, TagGovernance, TagGovernanceError
from cloudoptima.storage.models import CostRow, Organization, ResourceDocument
from cloudoptima.storage.partitions import ensure_cost_partitions, months_between

FOCUS_SAMPLE = Path(__file__).parents[1] / "fixtures" / "focus_official_sample" / "focus_1.0_sample_1000.csv"
POLICY = TagPolicy(
    required=(
        RequiredTag(key="env", aliases=("environment",), allowed_values=("prod", "dev", "staging")),
        RequiredTag(key="cost-center"),
        RequiredTag(key="ORG"),
        RequiredTag(key="application"),
    )
)
CHANGED = TagPolicy(
    required=(RequiredTag(key="environment"), RequiredTag(key="business_unit", aliases=("org",)))
)
PERIODS = [(date(2024, 9, 1), date(2024, 10, 1)), (date(2024, 9, 3), date(2024, 9, 17))]


@pytest.fixture
def org(engine: Engine) -> Iterator[uuid.UUID]:
    org_id = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            Organization.__table__.insert().values(
                id=org_id, name="tag-coverage", subscription_tier="free", settings={}
            )
        )
    yield org_id
    with engine.begin() as connection:
        for table in ("resources", "cost_daily", "cost_data", "ingest_quarantine", "ingest_runs"):
            connection.execute(text(f"DELETE FROM {table} WHERE organization_id = :o"), {"o": org_id})
        connection.execute(delete(Organization).where(Organization.id == org_id))


def _answers(session: Session, org: uuid.UUID, policy: TagPolicy) -> list[Any]:
    governance = TagGovernance(session, org)
    (start, end), partial = PERIODS
    found: list[Any] = [governance.coverage(start, end), governance.coverage(*partial)]
    first = policy.required[0].key
    found.append(governance.untagged_resources(first, start, end, limit=7))
    found.append(governance.untagged_resources(first.upper(), start, end, limit=7, offset=7))
    found.append(governance.untagged_resources(first, *partial, limit=7))
    for rule in policy.required:
        found += [governance.untagged_spend(rule.key, start, end, group_by=g) for g in GROUP_BY]
    found += [governance.untagged_resources(rule.key, start, end, limit=5) for rule in policy.required[1:]]
    return found


def _assert_rollup_equals_rows(engine: Engine, org: uuid.UUID, policy: TagPolicy) -> list[Any]:
    with Session(engine) as session:
        assert is_current(session, org, policy)
        from_rollup = _answers(session, org, policy)
        session.execute(text("DELETE FROM cost_tag_coverage_state WHERE organization_id = :o"), {"o": org})
        assert not is_current(session, org, policy)
        from_rows = _answers(session, org, policy)
        session.rollback()
    assert from_rollup == from_rows
    return from_rollup


def _write_policy(engine: Engine, org: uuid.UUID, policy: TagPolicy) -> None:
    with Session(engine) as session:
        TagGovernance(session, org).write_policy(policy)
        session.commit()


def test_rollup_answers_equal_the_cost_rows_through_ingest_replacement_and_policy_change(
    engine: Engine, org: uuid.UUID
) -> None:
    _write_policy(engine, org, POLICY)  # no cost rows yet: the (empty) rollups now hold this policy's masks
    ingest_path(engine, FOCUS_SAMPLE, org)  # rows added: the loader refreshes the loaded days
    with engine.begin() as connection:
        billed = list(
            connection.execute(
                text(
                    "SELECT DISTINCT resource_id FROM cost_data WHERE organization_id = :o "
                    "AND resource_id IS NOT NULL ORDER BY 1 LIMIT 3"
                ),
                {"o": org},
            ).scalars()
        )
    with Session(engine) as session:
        session.add_all(
            [
                ResourceDocument(
                    organization_id=org, resource_id=billed[0], provider="azure", status="running", resource_type="vm",
                    tags={"Env": "prod", "CostCenter": "42"},
                ),
                ResourceDocument(
                    organization_id=org, resource_id=billed[1], provider="azure", status="deleted", resource_type="vm",
                    tags={},
                ),
                ResourceDocument(
                    organization_id=org, resource_id="not-billed", provider="aws", status="running", resource_type="vm",
                    tags={"environment": "Staging"},
                ),
            ]
        )  # fmt: skip
        session.commit()
    added = _assert_rollup_equals_rows(engine, org, POLICY)
    coverage = added[0]
    assert coverage.total_spend > 0 and coverage.untagged_spend > 0 and coverage.resources > 3
    assert [k.key for k in coverage.keys] == ["env", "cost-center", "ORG", "application"]
    # the sample has every key (and credits: a key's tagged spend may exceed the net total)
    assert all(k.tagged_spend and 0 < k.tagged_resources < coverage.resources for k in coverage.keys)
    assert added[2].total > 7 and len(added[2].items) == 7 and added[3].items
    assert sum(item.untagged_spend for item in added[5].items) == added[5].untagged_spend

    report = ingest_path(engine, FOCUS_SAMPLE, org)  # the same export again: replaces its rows
    assert report.load.rows_replaced == report.summary.rows_accepted
    assert _assert_rollup_equals_rows(engine, org, POLICY) == added

    _write_policy(engine, org, CHANGED)  # other keys and aliases: the rollups are rebuilt at once
    changed = _assert_rollup_equals_rows(engine, org, CHANGED)
    assert [k.key for k in changed[0].keys] == ["environment", "business_unit"]


def test_untagged_spend_names_a_bad_key_or_grouping(org: uuid.UUID, db_session: Session) -> None:
    governance = TagGovernance(db_session, org)
    governance.write_policy(POLICY)
    start, end = PERIODS[0]
    for key, group_by, field in [
        ("owner", "account", "key"),
        ("aws:env", "account", "key"),
        ("env", "region", "group_by"),
    ]:
        with pytest.raises(TagGovernanceError) as caught:
            governance.untagged_spend(key, start, end, group_by=group_by)
        assert caught.value.field == field, (key, group_by)
    empty = governance.untagged_spend("Environment", start, end, group_by="service")
    assert (empty.key, empty.currency, empty.items, empty.untagged_spend) == ("env", None, [], 0)


def _cost(org: uuid.UUID, day: int, rid: str, cost: str, tags: dict[str, str]) -> CostRow:
    start = datetime(2024, 9, day, tzinfo=UTC)
    return CostRow(
        id=uuid.uuid4(), organization_id=org, provider="aws", provider_name="AWS", charge_period_start=start,
        charge_period_end=start + timedelta(days=1), billing_period_start=datetime(2024, 9, 1, tzinfo=UTC),
        billing_period_end=datetime(2024, 10, 1, tzinfo=UTC), billed_cost=Decimal(cost),
        effective_cost=Decimal(cost), billing_account_id="a", billing_currency="USD", charge_category="Usage",
        service_name="EC2", resource_id=rid, tags=tags,
    )  # fmt: skip


def test_a_resource_whose_tags_changed_shows_its_latest_tags_on_both_paths(
    org: uuid.UUID, db_session: Session
) -> None:
    ensure_cost_partitions(db_session.connection(), months_between(date(2024, 9, 1), date(2024, 10, 1)))
    db_session.add_all(
        [
            _cost(org, 20, "r-1", "1.10", {"env": "qa", "team": "late"}),  # charged last: its values win
            _cost(org, 2, "r-1", "2.20", {"env": "prod-x", "team": "early", "owner": "x"}),
            _cost(org, 9, "r-2", "0.30", {"Team": "t"}),
        ]
    )
    db_session.flush()
    governance = TagGovernance(db_session, org)
    governance.write_policy(POLICY)
    start, end = PERIODS[0]
    from_rollup = governance.untagged_resources("env", start, end)
    beyond = governance.untagged_resources("env", start, end, offset=5)
    assert (beyond.total, beyond.items) == (2, [])
    db_session.execute(text("DELETE FROM cost_tag_coverage_state WHERE organization_id = :o"), {"o": org})
    assert governance.untagged_resources("env", start, end) == from_rollup
    assert [(r.resource_id, r.cost, r.tags) for r in from_rollup.items] == [
        ("r-1", Decimal("3.30"), {"env": "qa", "team": "late", "owner": "x"}),
        ("r-2", Decimal("0.30"), {"Team": "t"}),
    ]


def test_without_required_keys_nothing_is_kept_and_coverage_reads_the_rows(
    org: uuid.UUID, db_session: Session
) -> None:
    ensure_cost_partitions(db_session.connection(), months_between(date(2024, 9, 1), date(2024, 10, 1)))
    db_session.add_all([_cost(org, 3, "r-1", "1.25", {"env": "prod"}), _cost(org, 4, "r-2", "2.00", {})])
    db_session.flush()
    governance = TagGovernance(db_session, org)
    governance.write_policy(POLICY)
    kept = "SELECT (SELECT count(*) FROM {0} WHERE organization_id = :o) FROM (VALUES (1)) v"
    tables = ("cost_tag_coverage_daily", "cost_tag_resource_days", "cost_tag_coverage_state")
    assert [db_session.execute(text(kept.format(t)), {"o": org}).scalar() for t in tables] == [2, 2, 1]
    governance.write_policy(TagPolicy())
    assert [db_session.execute(text(kept.format(t)), {"o": org}).scalar() for t in tables] == [0, 0, 0]
    coverage = governance.coverage(*PERIODS[0])
    assert (coverage.total_spend, coverage.untagged_spend, coverage.resources, coverage.keys) == (
        Decimal("3.25"),
        0,
        2,
        [],
    )
