"""Rollup tag keys through the admin API: invalid keys are refused naming the setting, and a change rebuilds
the organisation's daily rollup on the new keys (totals unchanged to the cent, other organisations untouched)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from cloudoptima.domain.organisation_settings import DEFAULT_ROLLUP_TAG_KEYS
from cloudoptima.services.rollup_rebuild import rebuild_cost_rollup
from cloudoptima.settings import Settings
from cloudoptima.storage.models import CostDaily, CostRow
from cloudoptima.storage.partitions import ensure_cost_partitions, months_between
from tests.gateway.conftest import make_org


def _row(org: uuid.UUID, day: date, cost: str, tags: dict[str, str]) -> CostRow:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return CostRow(
        id=uuid.uuid4(), organization_id=org, provider="aws", provider_name="AWS",
        charge_period_start=start, charge_period_end=start + timedelta(days=1),
        billing_period_start=datetime(day.year, day.month, 1, tzinfo=UTC),
        billing_period_end=datetime(day.year + (day.month == 12), day.month % 12 + 1, 1, tzinfo=UTC),
        billed_cost=Decimal(cost), effective_cost=Decimal(cost), billing_account_id="1", sub_account_id="1",
        billing_currency="USD", charge_category="Usage", service_name="EC2", region_id="us-east-1",
        resource_id="i-1", tags=tags,
    )  # fmt: skip


def _rollup(engine: Engine, org: uuid.UUID) -> dict[str, Decimal]:
    with Session(engine) as session:
        squad = CostDaily.tag_values["squad"].astext.label("squad")
        rows = session.execute(
            select(squad, func.sum(CostDaily.billed_cost))
            .where(CostDaily.organization_id == org)
            .group_by(squad)
        ).all()
    return {str(squad): Decimal(total) for squad, total in rows}


def test_rollup_keys_are_validated_and_a_change_rebuilds_the_rollup(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    mine, other = (
        make_org(engine, gateway_settings, name="rollup"),
        make_org(engine, gateway_settings, name="ro"),
    )
    with Session(engine) as session:
        ensure_cost_partitions(session.connection(), months_between(date(2026, 1, 1), date(2026, 4, 1)))
        for org in (mine.id, other.id):
            session.add_all(
                [
                    _row(org, date(2026, 1, 31), "1.10", {"squad": "red", "team": "a"}),
                    _row(org, date(2026, 2, 1), "2.25", {"squad": "blue"}),
                    _row(org, date(2026, 3, 15), "0.05", {"team": "a"}),
                ]
            )
        session.flush()
        for org in (mine.id, other.id):
            rebuild_cost_rollup(session.connection(), org, DEFAULT_ROLLUP_TAG_KEYS)
        session.commit()
    assert _rollup(engine, mine.id) == {"None": Decimal("3.40")}, "squad is not a default rollup key"

    for keys, problem in ((["team", "team"], "listed twice"), (["aws:x"], "reserved"), ([" a"], "spaces")):
        refused = client.patch(
            "/v1/organization", json={"settings": {"rollup_tag_keys": keys}}, headers=mine.headers("admin")
        )
        assert refused.status_code == 422, refused.text
        detail = refused.json()["detail"][0]
        assert detail["loc"] == ["body", "settings", "rollup_tag_keys"] and "rollup_tag_keys" in detail["msg"]
        assert problem in detail["msg"]

    changed = client.patch(
        "/v1/organization", json={"settings": {"rollup_tag_keys": ["team", "squad"]}}, headers=mine.headers()
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["changed"] == ["rollup_tag_keys"]
    assert _rollup(engine, mine.id) == {
        "red": Decimal("1.10"),
        "blue": Decimal("2.25"),
        "None": Decimal("0.05"),
    }
    assert _rollup(engine, other.id) == {"None": Decimal("3.40")}, "another organisation is untouched"
