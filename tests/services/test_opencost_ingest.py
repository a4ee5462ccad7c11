"""OpenCost allocation exports (#21 K): Kubernetes cost by namespace, workload and label, idle as its own line.

Fixtures and where their shapes come from: tests/fixtures/opencost/README.md.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select, text
from sqlalchemy.orm import Session

from cloudoptima.services.allocation.dimensions import AllocationDimensions
from cloudoptima.services.allocation.engine import activate_version
from cloudoptima.services.ingestion import IngestError, ingest_path
from cloudoptima.storage.models import CostDaily, CostRow, IngestRun, Organization, QuarantinedRow

FIXTURES = Path(__file__).parents[1] / "fixtures" / "opencost"
CSV_EXPORT = FIXTURES / "allocation_export.csv"
API_JSON = FIXTURES / "allocation_api.json"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def org(engine: Engine) -> Iterator[uuid.UUID]:
    org_id = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            Organization.__table__.insert().values(
                id=org_id, name="opencost", subscription_tier="free", settings={}
            )
        )
    yield org_id
    with engine.begin() as connection:
        for model in (QuarantinedRow, IngestRun, CostDaily, CostRow):
            connection.execute(delete(model).where(model.organization_id == org_id))
        connection.execute(delete(Organization).where(Organization.id == org_id))


def _by_service(engine: Engine, org: uuid.UUID) -> dict[str, Decimal]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT service_name, sum(billed_cost) FROM cost_data WHERE organization_id = :org GROUP BY 1"
            ),
            {"org": org},
        ).all()
    return {name: Decimal(total) for name, total in rows}


def test_csv_export_ingests_to_the_exact_total_of_total_cost(engine: Engine, org: uuid.UUID) -> None:
    report = ingest_path(engine, CSV_EXPORT, org)  # auto-detected from its header
    assert [f.format for f in report.summary.files] == ["opencost"]
    assert report.summary.rows_accepted == 5 and report.summary.rows_quarantined == 0
    assert _by_service(engine, org) == {"Kubernetes": Decimal("13.2298000000000007")}
    with engine.connect() as connection:
        daily = connection.execute(
            select(CostDaily.billed_cost, CostDaily.billing_currency).where(CostDaily.organization_id == org)
        ).all()
        row = connection.execute(
            select(CostRow.tags, CostRow.charge_description, CostRow.extensions, CostRow.resource_type).where(
                CostRow.organization_id == org, CostRow.billed_cost == Decimal("4.65")
            )
        ).one()
    assert sum((Decimal(v) for v, _ in daily), Decimal(0)) == Decimal("13.2298000000000007")
    assert {currency for _, currency in daily} == {"USD"}
    assert row.tags == {
        "k8s_namespace": "payments",
        "k8s_controller_kind": "deployment",
        "k8s_controller": "api",
        "k8s_pod": "api-7d9f8c6b5-x2x4k",
        "k8s_container": "api",
        "k8s_label_app": "api",
        "k8s_label_team": "payments",
    }
    assert row.charge_description == "OpenCost allocation: cpu 0.3, gpu 0.8, ram 0.6, pv 2, network 0.95"
    extensions = row.extensions if isinstance(row.extensions, dict) else json.loads(row.extensions)
    assert extensions["x_opencost_network_cost"] == "0.95"
    assert row.resource_type == "Kubernetes container"


def test_api_json_keeps_idle_as_its_own_line_in_the_given_currency(engine: Engine, org: uuid.UUID) -> None:
    ingest_path(engine, API_JSON, org, currency="eur")
    assert _by_service(engine, org) == {
        "Kubernetes": Decimal("2.21946043"),
        "Kubernetes idle capacity": Decimal("3.3229"),
    }
    with engine.connect() as connection:
        idle = connection.execute(
            select(CostRow.tags, CostRow.billing_currency, CostRow.sub_account_id, CostRow.resource_id).where(
                CostRow.organization_id == org, CostRow.service_name == "Kubernetes idle capacity"
            )
        ).one()
    assert idle.tags == {"k8s_cluster": "cluster-one", "k8s_namespace": "__idle__"}
    assert (idle.billing_currency, idle.sub_account_id, idle.resource_id) == (
        "EUR",
        "cluster-one",
        "cluster-one/__idle__",
    )


def test_label_team_allocates_namespace_costs_and_idle_stays_unallocated(
    engine: Engine, org: uuid.UUID
) -> None:
    with Session(engine) as session, session.begin():
        service = AllocationDimensions(session, org)
        dimension = service.create("team", None, NOW)
        service.save_rules(dimension.id, {"rules": [{"value_from_tag": "k8s_label_team"}]}, None, NOW)
        activate_version(session.connection(), org, dimension.id, 1, NOW)
        with_idle = service.create("team_or_idle", None, NOW)
        rules = [
            {"value": "idle", "match": {"services": ["Kubernetes idle capacity"]}},
            {"value_from_tag": "k8s_label_team"},
        ]
        service.save_rules(with_idle.id, {"rules": rules}, None, NOW)
        activate_version(session.connection(), org, with_idle.id, 1, NOW)
    ingest_path(engine, API_JSON, org)

    def allocated(dimension_id: uuid.UUID) -> dict[str, Decimal]:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT value, sum(billed_cost) FROM cost_allocated_totals WHERE organization_id = :org "
                    "AND dimension_id = :dim GROUP BY 1"
                ),
                {"org": org, "dim": dimension_id},
            ).all()
        return {value: Decimal(total) for value, total in rows}

    assert allocated(dimension.id) == {
        "payments": Decimal("0.23306"),
        "search": Decimal("1.9864"),
        "unallocated": Decimal("3.32290043"),  # idle capacity + kube-system (no team label)
    }
    assert allocated(with_idle.id) == {
        "payments": Decimal("0.23306"),
        "search": Decimal("1.9864"),
        "idle": Decimal("3.3229"),
        "unallocated": Decimal("0.00000043"),  # kube-system
    }


def test_a_broken_row_is_named_by_line_and_column_and_nothing_is_written(
    engine: Engine, org: uuid.UUID, tmp_path: Path
) -> None:
    lines = CSV_EXPORT.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(",0.006", ",six-tenths-of-a-cent")  # line 4: kube-proxy's TotalCost
    broken = tmp_path / "broken.csv"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(IngestError, match=r"broken\.csv, line 4, column 'TotalCost': not a number"):
        ingest_path(engine, broken, org, fmt="opencost")
    assert _by_service(engine, org) == {}
    with engine.connect() as connection:
        status = connection.execute(select(IngestRun.status).where(IngestRun.organization_id == org)).all()
    assert [s for (s,) in status] == ["failed"]


def test_unknown_currency_and_bad_labels_are_refused(engine: Engine, org: uuid.UUID, tmp_path: Path) -> None:
    with pytest.raises(IngestError, match=r"currency 'XYZ' is not an ISO 4217 currency code"):
        ingest_path(engine, API_JSON, org, currency="XYZ")
    document = json.loads(API_JSON.read_text(encoding="utf-8"))
    first = next(iter(document["data"][0].values()))
    first["properties"]["labels"] = ["team", "payments"]
    bad = tmp_path / "labels.json"
    bad.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(IngestError, match=r"properties\.labels'?: not a JSON object of labels"):
        ingest_path(engine, bad, org)
    assert _by_service(engine, org) == {}


def test_focus_13_split_rows_allocate_the_node_to_teams(engine: Engine, org: uuid.UUID) -> None:
    focus_13 = Path(__file__).parents[1] / "fixtures" / "focus_spec_examples" / "focus_1.3_cost_and_usage.csv"
    with Session(engine) as session, session.begin():
        service = AllocationDimensions(session, org)
        dimension = service.create("team", None, NOW)
        service.save_rules(dimension.id, {"rules": [{"value_from_tag": "allocated_team"}]}, None, NOW)
        activate_version(session.connection(), org, dimension.id, 1, NOW)
    ingest_path(engine, focus_13, org)
    with engine.connect() as connection:
        allocated = connection.execute(
            text(
                "SELECT value, sum(billed_cost) FROM cost_allocated_totals WHERE organization_id = :org "
                "AND dimension_id = :dim GROUP BY 1"
            ),
            {"org": org, "dim": dimension.id},
        ).all()
    assert {value: Decimal(total) for value, total in allocated} == {
        "team-a": Decimal("6.00"),
        "team-b": Decimal("4.00"),
        "unallocated": Decimal("8760.00"),
    }
