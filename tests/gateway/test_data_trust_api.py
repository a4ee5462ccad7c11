"""``/v1/data``: freshness, reconciliation and the days a chart should flag, over a really ingested CUR file."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cloudoptima.services.cache import bump_cost_version
from cloudoptima.services.ingestion import ingest_path
from cloudoptima.settings import Settings
from tests.gateway.conftest import make_org

AWS_CUR = Path(__file__).parents[1] / "fixtures" / "focus_converters" / "aws_cur_v1_anonymized_2023-11.csv"


def test_reconciliation_freshness_and_flagged_days(
    client: TestClient, engine: Engine, gateway_settings: Settings, tmp_path: Path, redis_url: str
) -> None:
    org, other = make_org(engine, gateway_settings), make_org(engine, gateway_settings)
    folder = tmp_path / "export"
    folder.mkdir()
    shutil.copy(AWS_CUR, folder / "a.csv")
    shutil.copy(AWS_CUR, folder / "b.csv")
    ingest_path(engine, folder, org.id)
    viewer = org.headers("viewer")

    answer = client.get("/v1/data/reconciliation", params={"month": "2023-11"}, headers=viewer)
    assert answer.status_code == 200, answer.text
    [item] = answer.json()["accounts"]
    assert item["status"] == "mismatch" and item["basis"] == "billed"
    assert Decimal(item["our_total"]) == 2 * Decimal(item["provider_total"])
    assert Decimal(item["delta"]) == Decimal(item["provider_total"])
    assert [f["kind"] for f in item["findings"]] == ["duplicate_file", "missing_edge_day"]  # rows end 11-14
    days = client.get(
        "/v1/data/unreconciled-days",
        params={"start_date": "2023-11-01", "end_date": "2023-11-03"},
        headers=viewer,
    ).json()
    assert days["unreconciled_days"] == ["2023-11-01", "2023-11-02"]
    assert "does not match the provider total" in days["reasons"]["2023-11-01"][0]
    again = client.get("/v1/data/reconciliation", params={"month": "2023-11"}, headers=viewer)
    assert (answer.headers["X-Cache"], again.headers["X-Cache"]) == ("miss", "hit")
    ingest_path(engine, AWS_CUR, org.id)  # one copy again: replaces both stored copies
    assert (
        client.get("/v1/data/reconciliation", params={"month": "2023-11"}, headers=viewer).json()
        == answer.json()
    )
    connection = redis.Redis.from_url(redis_url)
    bump_cost_version(connection, org.id)  # what an ingest announces (cost_updates)
    connection.close()
    fixed = client.get("/v1/data/reconciliation", params={"month": "2023-11"}, headers=viewer).json()
    assert [i["status"] for i in fixed["accounts"]] == ["reconciled"]
    other_answer = client.get(
        "/v1/data/reconciliation", params={"month": "2023-11"}, headers=other.headers("viewer")
    )
    assert other_answer.json()["accounts"] == []

    fresh = client.get("/v1/data/freshness", headers=viewer).json()
    assert [a["latest_usage_day"] for a in fresh["accounts"]] == ["2023-11-14"]

    days_after = client.get(
        "/v1/data/unreconciled-days",
        params={"start_date": "2023-11-01", "end_date": "2023-11-03"},
        headers=viewer,
    ).json()
    assert days_after["unreconciled_days"] == []  # reconciled once the duplicate was replaced


def test_bad_input_is_a_422_naming_the_field(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings)
    viewer = org.headers("viewer")
    cases = [
        ("/v1/data/reconciliation", {}, "month"),
        ("/v1/data/reconciliation", {"month": "2023-13"}, "month"),
        ("/v1/data/reconciliation", {"month": "2023-11", "tolerance_percent": "-1"}, "tolerance_percent"),
        (
            "/v1/data/reconciliation",
            {"month": "2023-11", "tolerance_amount": "1e999999999"},
            "tolerance_amount",
        ),
        ("/v1/data/freshness", {"restatement_days": "99"}, "restatement_days"),
        ("/v1/data/unreconciled-days", {"start_date": "2023-11-05", "end_date": "2023-11-01"}, "end_date"),
    ]
    for path, params, field in cases:
        answer = client.get(path, params=params, headers=viewer)
        assert answer.status_code == 422, (path, params, answer.text)
        assert answer.json()["detail"][0]["loc"][-1] == field
    assert client.get("/v1/data/freshness").status_code == 401


def test_the_organisations_trust_settings_decide_the_answers_and_bad_ones_are_named(
    client: TestClient, engine: Engine, gateway_settings: Settings, tmp_path: Path
) -> None:
    """PATCH /v1/organization's trust_* settings: validated with the setting named; the reconciliation,
    freshness and flagged days then use them (a request's own value still wins)."""
    org = make_org(engine, gateway_settings)
    folder = tmp_path / "twice"
    folder.mkdir()
    shutil.copy(AWS_CUR, folder / "a.csv")
    shutil.copy(AWS_CUR, folder / "b.csv")  # double counted: delta = the file's total (~3.36)
    ingest_path(engine, folder, org.id)
    admin, viewer = org.headers(), org.headers("viewer")
    for bad, value in (("trust_restatement_days", 63), ("trust_tolerance_percent", "x")):
        refused = client.patch("/v1/organization", headers=admin, json={"settings": {bad: value}})
        assert refused.status_code == 422 and f"'{bad}'" in refused.json()["detail"][0]["msg"]
    month = {"month": "2023-11"}
    assert (
        client.get("/v1/data/reconciliation", params=month, headers=viewer).json()["accounts"][0]["status"]
        == "mismatch"
    )
    saved = client.patch(
        "/v1/organization",
        headers=admin,
        json={"settings": {"trust_tolerance_amount": "5", "trust_restatement_days": 10}},
    )
    assert saved.status_code == 200, saved.text
    answer = client.get("/v1/data/reconciliation", params=month, headers=viewer).json()
    assert answer["policy"]["tolerance_amount"] == "5" and answer["policy"]["restatement_days"] == 10
    assert answer["accounts"][0]["status"] == "reconciled" and answer["accounts"][0]["tolerance"] == "5"
    assert client.get("/v1/data/freshness", headers=viewer).json()["restatement_days"] == 10
    strict = client.get(
        "/v1/data/reconciliation", params=month | {"tolerance_amount": "0.01"}, headers=viewer
    )
    assert strict.json()["accounts"][0]["status"] == "mismatch"  # the request's override wins
    days = client.get(
        "/v1/data/unreconciled-days",
        params={"start_date": "2023-11-01", "end_date": "2023-11-03"},
        headers=viewer,
    ).json()
    assert days["unreconciled_days"] == []  # within the organisation's tolerance: nothing to flag
