"""``POST /v1/data/ingest`` (#21 K): an OpenCost export and a FOCUS 1.3 Contract Commitment file uploaded as the
request body; the CLI's errors as 422s naming file, line and column, nothing written; ``write:costs``."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from cloudoptima.services.contract_commitments import list_contract_commitments
from cloudoptima.settings import Settings
from tests.gateway.conftest import make_org

FIXTURES = Path(__file__).parents[1] / "fixtures"
OPENCOST_CSV = FIXTURES / "opencost" / "allocation_export.csv"
OPENCOST_JSON = FIXTURES / "opencost" / "allocation_api.json"
COMMITMENTS = FIXTURES / "focus_spec_examples" / "focus_1.3_contract_commitment.csv"


def _service_totals(engine: Engine, org: object) -> dict[str, Decimal]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT service_name, billing_currency, sum(billed_cost) FROM cost_data "
                "WHERE organization_id = :org GROUP BY 1, 2"
            ),
            {"org": org},
        ).all()
    return {f"{service} {currency}": Decimal(total) for service, currency, total in rows}


def test_upload_opencost_and_contract_commitments(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org, other = make_org(engine, gateway_settings), make_org(engine, gateway_settings)
    manager = org.headers("finops_manager")

    answer = client.post(
        "/v1/data/ingest",
        params={"filename": "cluster-one.json", "currency": "EUR"},
        content=OPENCOST_JSON.read_bytes(),
        headers={**manager, "Content-Type": "application/json"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["kind"] == "costs" and body["file"] == "cluster-one.json"
    assert body["files"] == [{"path": "cluster-one.json", "format": "opencost", "focus_version": None}]
    assert body["totals"][0]["billed_cost"] == "5.54236043" and body["totals"][0]["currency"] == "EUR"
    assert _service_totals(engine, org.id) == {
        "Kubernetes EUR": Decimal("2.21946043"),
        "Kubernetes idle capacity EUR": Decimal("3.3229"),
    }
    assert _service_totals(engine, other.id) == {}

    commitments = client.post(
        "/v1/data/ingest",
        params={"filename": "commitments.csv", "format": "contract-commitment"},
        content=COMMITMENTS.read_bytes(),
        headers={**manager, "Content-Type": "text/csv"},
    )
    assert commitments.status_code == 200, commitments.text
    assert commitments.json() == {
        "kind": "contract_commitments",
        "file": "commitments.csv",
        "contract_commitments": 2,
    }
    assert len(list_contract_commitments(engine, org.id)) == 2
    assert list_contract_commitments(engine, other.id) == []


def test_upload_errors_name_the_line_and_write_nothing(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings)
    admin = org.headers("admin")
    lines = OPENCOST_CSV.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(",0.006", ",six-tenths-of-a-cent")
    broken = client.post(
        "/v1/data/ingest",
        params={"filename": "../../etc/k8s.csv"},
        content=("\n".join(lines) + "\n").encode(),
        headers=admin,
    )
    assert broken.status_code == 422
    [detail] = broken.json()["detail"]
    assert detail["loc"] == ["body", "body"]
    assert detail["msg"] == "k8s.csv, line 4, column 'TotalCost': not a number: 'six-tenths-of-a-cent'"
    assert _service_totals(engine, org.id) == {}

    # a Contract Commitment file sent as cost rows: the CLI's message, telling which format to use
    wrong = client.post(
        "/v1/data/ingest", params={"filename": "c.csv"}, content=COMMITMENTS.read_bytes(), headers=admin
    )
    assert wrong.status_code == 422 and "Contract Commitment" in wrong.json()["detail"][0]["msg"]
    currency = client.post(
        "/v1/data/ingest",
        params={"filename": "a.csv", "currency": "XYZ"},
        content=OPENCOST_CSV.read_bytes(),
        headers=admin,
    )
    assert currency.status_code == 422
    assert (
        currency.json()["detail"][0]["msg"]
        == "a.csv, column 'currency': currency 'XYZ' is not an ISO 4217 currency code"
    )
    for params, field in (
        ({"filename": "a.txt"}, "filename"),
        ({"filename": "a.csv", "format": "xls"}, "format"),
    ):
        refused = client.post("/v1/data/ingest", params=params, content=b"x", headers=admin)
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["query", field]
    empty = client.post("/v1/data/ingest", params={"filename": "a.csv"}, content=b"", headers=admin)
    assert empty.status_code == 422 and empty.json()["detail"][0]["loc"] == ["body", "body"]

    nul = client.post(
        "/v1/data/ingest",
        params={"filename": "nul.csv"},
        content=OPENCOST_CSV.read_bytes().replace(b"kube-system", b"kube\x00system"),
        headers=admin,
    )
    assert nul.status_code == 422
    assert (
        nul.json()["detail"][0]["msg"]
        == "nul.csv, line 4, column 'Namespace': NUL character (not storable text)"
    )

    engineer = client.post(
        "/v1/data/ingest",
        params={"filename": "a.csv"},
        content=OPENCOST_CSV.read_bytes(),
        headers=org.headers("engineer"),
    )
    assert engineer.status_code == 403 and "write:costs" in engineer.text
    assert _service_totals(engine, org.id) == {}
