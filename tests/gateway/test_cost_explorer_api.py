"""``/v1/costs/overview`` as the Cost explorer asks it: filters (cloud account, service, region, tag) narrow
every figure, the per-group series add up to the total series to the cent, and bad filters are a 422 naming
the parameter (another organisation's account id is refused exactly like an unknown one)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cloudoptima.settings import Settings
from cloudoptima.storage.models import CloudAccount, CostDaily
from tests.gateway.conftest import make_org

START = date(2030, 3, 1)
CENT = Decimal("0.01")
SPAN = {"start_date": str(START), "end_date": str(START + timedelta(days=14))}


def _account(engine: Engine, org: uuid.UUID, identifier: str, name: str) -> uuid.UUID:
    with Session(engine) as session:
        row = CloudAccount(
            organization_id=org,
            provider="aws",
            account_identifier=identifier,
            account_name=name,
            credentials_encrypted="x",
        )
        session.add(row)
        session.commit()
        return row.id


def _cost(
    engine: Engine,
    org: uuid.UUID,
    account: tuple[uuid.UUID, str],
    rows: list[tuple[int, str, str, str, str]],
) -> None:
    """``rows`` of (day offset from START, service, region, team tag, amount)."""
    with Session(engine) as session:
        for offset, service, region, team, amount in rows:
            session.add(
                CostDaily(
                    organization_id=org,
                    cloud_account_id=account[0],
                    usage_date=START + timedelta(days=offset),
                    provider="aws",
                    billing_account_id=account[1],
                    sub_account_id=account[1],
                    service_name=service,
                    region_id=region,
                    charge_category="Usage",
                    billing_currency="USD",
                    tag_values={"team": team},
                    billed_cost=Decimal(amount),
                    effective_cost=Decimal(amount),
                    list_cost=Decimal(amount),
                    row_count=1,
                )
            )
        session.commit()


def _overview(client: TestClient, headers: dict[str, str], **params: Any) -> Any:
    query = {"start_date": str(START), "end_date": str(START + timedelta(days=14)), **params}
    answer = client.get("/v1/costs/overview", params=query, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _cents(value: float) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def test_filters_narrow_and_group_series_add_up_to_the_total(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings)
    prod = (_account(engine, org.id, "111111111111", "Production"), "111111111111")
    dev = (_account(engine, org.id, "222222222222", "Development"), "222222222222")
    services = ["EC2", "S3", "RDS", "Lambda", "EKS"]
    rows = []
    for day in range(14):
        for i, service in enumerate(services):
            # thirds of a cent: the rollup holds more than cents, the series must still add up exactly
            rows.append((day, service, "us-east-1" if i % 2 else "eu-west-1", "web", f"{i + 1}.{day:02d}333"))
    _cost(engine, org.id, prod, rows)
    _cost(engine, org.id, dev, [(day, "EC2", "us-east-1", "data", "0.505") for day in range(0, 14, 2)])
    viewer = org.headers("viewer")

    for granularity in ("daily", "weekly", "monthly"):
        body = _overview(
            client,
            viewer,
            group_by="service",
            granularity=granularity,
            series_by_group="true",
            series_groups=3,
        )
        series = body["group_series"]
        assert [s["key"] for s in series] == [b["dimension"] for b in body["breakdown"][:3]] + ["(other)"]
        assert series[-1]["other"] is True
        for i, point in enumerate(body["time_series"]):
            assert sum(_cents(s["points"][i]["cost"]) for s in series) == _cents(point["cost"]), granularity
            assert all(s["points"][i]["date"] == point["date"] for s in series)
        assert sum(_cents(s["total"]) for s in series) == sum(_cents(p["cost"]) for p in body["time_series"])

    # a group's series equals the total series of the overview filtered to that group
    grouped = _overview(client, viewer, group_by="service", series_by_group="true", series_groups=3)
    alone = _overview(client, viewer, group_by="service", service="EKS")
    assert grouped["group_series"][0]["key"] == "EKS"
    assert [_cents(p["cost"]) for p in grouped["group_series"][0]["points"]] == [
        _cents(p["cost"]) for p in alone["time_series"]
    ]

    # account filter (repeatable or comma-separated), grouped by account with the accounts' names
    everything = _overview(client, viewer, group_by="account")
    only_dev = _overview(client, viewer, group_by="account", cloud_account_id=str(dev[0]))
    assert only_dev["total_cost"] == 3.54  # 7 × 0.505 = 3.535, half-even on the wire
    assert [(b["dimension"], b["name"]) for b in only_dev["breakdown"]] == [("222222222222", "Development")]
    both = _overview(client, viewer, group_by="account", cloud_account_id=f"{prod[0]},{dev[0]}")
    assert both["total_cost"] == everything["total_cost"]
    repeated = client.get(
        "/v1/costs/overview",
        params=[
            ("start_date", str(START)),
            ("end_date", str(START + timedelta(days=14))),
            ("cloud_account_id", str(prod[0])),
            ("cloud_account_id", str(dev[0])),
        ],
        headers=viewer,
    )
    assert repeated.json()["total_cost"] == everything["total_cost"]

    # service, region and tag filters all hold together; the previous period is narrowed too
    narrowed = _overview(
        client, viewer, group_by="service", service="EC2,S3", region="eu-west-1", tag="team:web"
    )
    assert [b["dimension"] for b in narrowed["breakdown"]] == ["EC2"]  # S3 is in us-east-1
    assert _cents(narrowed["total_cost"]) == sum(
        (Decimal(f"1.{day:02d}333") for day in range(14)), Decimal(0)
    ).quantize(CENT)
    assert narrowed["period_comparison"]["previous_period"] == 0
    data = _overview(client, viewer, group_by="service", tag="team:data")
    assert data["total_cost"] == only_dev["total_cost"]
    assert _overview(client, viewer, tag="team:nobody")["total_cost"] == 0


def test_bad_filters_are_refused_naming_the_parameter(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org, other = make_org(engine, gateway_settings), make_org(engine, gateway_settings)
    theirs = _account(engine, other.id, "333333333333", "Theirs")
    _cost(engine, other.id, (theirs, "333333333333"), [(0, "EC2", "us-east-1", "web", "999")])
    headers = org.headers("viewer")
    unknown = uuid.uuid4()
    cases = {
        "cloud_account_id": [{"cloud_account_id": "not-a-uuid"}, {"cloud_account_id": "a,,b"}],
        "tag": [{"tag": "team"}, {"tag": ":web"}, {"tag": "costcentre:42"}],
        "service": [{"service": ","}],
        "series_groups": [{"series_groups": "0"}, {"series_groups": "21"}],
    }
    for field, variants in cases.items():
        for params in variants:
            answer = client.get("/v1/costs/overview", params={**SPAN, **params}, headers=headers)
            assert answer.status_code == 422, (params, answer.text)
            assert answer.json()["detail"][0]["loc"][-1] == field, (params, answer.text)
    # another organisation's account: the same refusal as an id that exists nowhere (nothing leaks)
    messages = []
    for account in (theirs, unknown):
        answer = client.get(
            "/v1/costs/overview",
            params={**SPAN, "cloud_account_id": str(account)},
            headers=headers,
        )
        assert answer.status_code == 422 and answer.json()["detail"][0]["loc"][-1] == "cloud_account_id"
        messages.append(answer.json()["detail"][0]["msg"].replace(str(account), "<id>"))
    assert messages[0] == messages[1] == "unknown cloud account <id>"
