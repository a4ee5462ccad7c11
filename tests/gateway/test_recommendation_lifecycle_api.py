"""``POST /v1/recommendations/{id}/accept|snooze|false-positive|reopen`` (#22): permissions, 422 naming the
field, 409 naming the current status, the history on GET, list filters by state and owner, false positives
counted per rule."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cloudoptima.settings import Settings
from cloudoptima.storage.models import Recommendation
from tests.gateway.conftest import make_org


def test_lifecycle_transitions_over_rest(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org, other = make_org(engine, gateway_settings, name="lifecycle"), make_org(engine, gateway_settings)
    with Session(engine) as session:
        rec = Recommendation(
            organization_id=org.id, fingerprint="fp-lifecycle", rule_id="idle_vm", provider="aws", title="stop",
            category="compute", risk_level="low", resource_ids=["i-1"], affected_resources=[], actions=[],
            status="active", estimated_savings_monthly=Decimal("12.50"), priority=Decimal(1),
        )  # fmt: skip
        session.add(rec)
        session.commit()
        rec_id = str(rec.id)
    base = f"/v1/recommendations/{rec_id}"
    owner = str(org.users["finops_manager"])
    accept = {"owner_user_id": owner, "due_date": "2099-12-31", "note": "mine"}

    assert client.post(f"{base}/accept", json=accept, headers=org.headers("viewer")).status_code == 403
    stranger = client.post(
        f"{base}/accept", json={**accept, "owner_user_id": str(other.users["admin"])}, headers=org.headers()
    )
    assert stranger.status_code == 422 and stranger.json()["detail"][0]["loc"] == ["body", "owner_user_id"]
    past = client.post(f"{base}/accept", json={**accept, "due_date": "2000-01-01"}, headers=org.headers())
    assert past.status_code == 422 and past.json()["detail"][0]["loc"] == ["body", "due_date"]
    refused = client.post(f"{base}/reopen", json={}, headers=org.headers())
    assert refused.status_code == 409 and "'active'" in refused.json()["detail"]
    missing = client.post(f"/v1/recommendations/{uuid.uuid4()}/accept", json=accept, headers=org.headers())
    assert missing.status_code == 404
    foreign = client.post(f"{base}/accept", json=accept, headers=other.headers())
    assert foreign.status_code == 404

    accepted = client.post(f"{base}/accept", json=accept, headers=org.headers("finops_manager"))
    assert accepted.status_code == 200, accepted.text
    assert accepted.json() | {"id": None} == {
        "id": None, "status": "accepted", "lifecycle": "accepted", "owner_user_id": owner,
        "due_date": "2099-12-31", "snoozed_until": None,
    }  # fmt: skip
    mine = client.get(
        "/v1/recommendations",
        params={"status": "accepted", "owner_user_id": owner},
        headers=org.headers("viewer"),
    ).json()
    assert [r["id"] for r in mine["recommendations"]] == [rec_id]
    nobody = client.get(
        "/v1/recommendations",
        params={"status": "accepted", "owner_user_id": str(uuid.uuid4())},
        headers=org.headers(),
    ).json()
    assert nobody["recommendations"] == []

    until = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    snoozed = client.post(
        f"{base}/snooze", json={"until": until.isoformat(), "reason": "freeze"}, headers=org.headers()
    )
    assert snoozed.status_code == 200 and snoozed.json()["lifecycle"] == "snoozed"
    naive = client.post(f"{base}/snooze", json={"until": "2099-01-01T00:00:00"}, headers=org.headers())
    assert naive.status_code == 409  # snoozed cannot be snoozed again: the graph is checked first
    marked = client.post(f"{base}/false-positive", json={"reason": "batch host"}, headers=org.headers())
    assert marked.status_code == 200 and marked.json()["status"] == "false_positive"
    assert (
        client.post(f"{base}/false-positive", json={"reason": ""}, headers=org.headers()).status_code == 422
    )
    dismissed = client.post(f"{base}/dismiss", json={"reason": "x"}, headers=org.headers())
    assert dismissed.status_code == 409 and "'false_positive'" in dismissed.json()["detail"]
    counts = client.get("/v1/recommendations/false-positives", headers=org.headers("viewer"))
    assert counts.json()["rules"] == {"idle_vm": 1}
    [profile] = counts.json()["profiles"]  # 1 of 1 decided: under the 3 false positives a profile needs
    assert (profile["rule_id"], profile["false_positives"], profile["decided"]) == ("idle_vm", 1, 1)
    assert (profile["rate_percent"], profile["lowered"]) == ("100.00", False)
    assert "at least 3 false positives making at least 25 %" in counts.json()["threshold"]
    foreign = client.get("/v1/recommendations/false-positives", headers=other.headers()).json()
    assert (foreign["rules"], foreign["profiles"]) == ({}, [])

    reopened = client.post(f"{base}/reopen", json={"reason": "rule fixed"}, headers=org.headers())
    assert reopened.json()["lifecycle"] == "open" and reopened.json()["owner_user_id"] is None
    detail = client.get(base, headers=org.headers("viewer")).json()
    assert detail["lifecycle"] == "open"
    admin = f"user:{org.users['admin']}"
    assert [(h["from_status"], h["to_status"], h["actor"], h["reason"]) for h in detail["history"]] == [
        ("active", "accepted", f"user:{owner}", "mine"),
        ("accepted", "snoozed", admin, "freeze"),
        ("snoozed", "false_positive", admin, "batch host"),
        ("false_positive", "active", admin, "rule fixed"),
    ]
    assert detail["history"][1]["details"] == {"until": until.isoformat()}
