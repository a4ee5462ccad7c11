"""``cloudoptima savings``: a change whose true saving is known (8.00/day before, 2.00/day after) measured from
the database, as JSON and as a table; a bad window is refused naming the option."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cloudoptima.storage.models import CostRow, Organization, Recommendation, User
from cloudoptima.storage.partitions import ensure_cost_partitions, months_between
from cloudoptima_cli.app import app


@pytest.fixture
def org(engine: Engine) -> Iterator[uuid.UUID]:
    org_id = uuid.uuid4()
    with Session(engine) as session:
        session.add(Organization(id=org_id, name=f"cli-{org_id}", subscription_tier="free", settings={}))
        session.flush()
        ensure_cost_partitions(session.connection(), months_between(date(2025, 6, 1), date(2025, 7, 1)))
        for i in range(15):  # change on 2025-06-08
            start = datetime(2025, 6, 1 + i, tzinfo=UTC)
            cost = Decimal("8.00") if i < 7 else Decimal("2.00")
            session.add(
                CostRow(
                    organization_id=org_id, provider="aws", provider_name="AWS", charge_period_start=start,
                    charge_period_end=start + timedelta(days=1), billing_period_start=datetime(2025, 6, 1, tzinfo=UTC),
                    billing_period_end=datetime(2025, 7, 1, tzinfo=UTC), billed_cost=cost, effective_cost=cost,
                    billing_account_id="111111111111", sub_account_id="111111111111", billing_currency="USD",
                    charge_category="Usage", service_name="EC2", region_id="us-east-1", resource_id="i-1",
                    resource_name="i-1", tags={},
                )
            )  # fmt: skip
        session.add(
            Recommendation(
                organization_id=org_id, fingerprint=uuid.uuid4().hex, provider="aws", title="Stop i-1",
                rule_id="idle-stop", category="compute", risk_level="low", resource_ids=["i-1"],
                affected_resources=[], actions=[], status="completed",
                estimated_savings_monthly=Decimal("150.00"), applied_at=datetime(2025, 6, 8, 9, tzinfo=UTC),
            )
        )  # fmt: skip
        owner = User(
            organization_id=org_id, email=f"owner-{org_id}@example.com", password_hash="-", role="engineer"
        )
        session.add(owner)
        session.flush()
        session.add(  # overdue (due in 2020) whatever the wall clock says
            Recommendation(
                organization_id=org_id, fingerprint=uuid.uuid4().hex, provider="aws", title="Resize i-2",
                rule_id="rightsize", category="compute", risk_level="low", resource_ids=["i-2"],
                affected_resources=[], actions=[], status="accepted", owner_user_id=owner.id,
                due_date=date(2020, 1, 31), estimated_savings_monthly=Decimal("40.00"),
            )
        )  # fmt: skip
        session.commit()
    yield org_id
    with Session(engine) as session:
        for model in (CostRow, Recommendation, User):
            session.execute(delete(model).where(model.organization_id == org_id))
        session.execute(delete(Organization).where(Organization.id == org_id))
        session.commit()


def test_savings_prints_the_measured_change(
    org: uuid.UUID, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    state = ["--state-dir", str(tmp_path / "state")]
    answer = CliRunner().invoke(app, ["savings", "--org", str(org), "--json", *state])
    assert answer.exit_code == 0, answer.output
    body = json.loads(answer.output)
    [row] = body["ledger"]["items"]
    assert (row["measurement"]["realised_monthly"], row["measurement"]["error_percent"]) == (
        "182.62",
        "21.75",
    )
    assert body["by_rule"]["rules"][0]["measured"] == 1
    table = CliRunner().invoke(app, ["savings", "--org", str(org), *state])
    assert table.exit_code == 0, table.output
    assert "realised USD 182.62/month" in table.output and "21.75%" in table.output
    assert (
        f"accepted: 1 recommendations, estimated 40.00/month, owners owner-{org}@example.com 1, 1 overdue"
        in (table.output.replace("\n", ""))
    )
    assert body["ledger"]["buckets"]["accepted"]["overdue"] == 1
    bad = CliRunner().invoke(app, ["savings", "--org", str(org), "--window-days", "0", *state])
    assert bad.exit_code == 1 and "--window-days" in bad.output
