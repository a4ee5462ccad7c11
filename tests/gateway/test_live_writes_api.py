"""Writes through the API are published on the organisation's WebSocket channels once committed, so other
browsers refresh (``cloudoptima_gateway.live_writes``); refused writes publish nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.testclient import WebSocketTestSession

from cloudoptima.settings import Settings
from cloudoptima.storage.models import Recommendation
from tests.gateway.conftest import Org, make_org, recent_days


def _subscribe(socket: WebSocketTestSession, channel: str) -> None:
    socket.send_json({"type": "subscribe", "channel": channel})
    assert socket.receive_json() == {"type": "subscribed", "channel": channel}


def _budget(org: Org) -> dict[str, Any]:
    start = recent_days(1)[0].replace(day=1)
    return {
        "name": "live",
        "amount": 100,
        "period": "monthly",
        "start_date": str(start),
        "end_date": str(start + timedelta(days=400)),
        "scope": {"type": "account"},
        "alerts": [{"threshold": 80, "channels": ["email"]}],
    }


def test_budget_writes_are_published_on_budget_alerts_after_commit(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings, name="live-budgets")
    body = _budget(org)
    with client.websocket_connect(f"/v1/stream?token={org.tokens['viewer']}") as socket:
        _subscribe(socket, "budget_alerts")
        created = client.post("/v1/budgets", json=body, headers=org.headers("finops_manager"))
        assert created.status_code == 201, created.text
        budget_id = created.json()["budget_id"]
        event = socket.receive_json()
        assert (event["channel"], event["data"]) == (
            "budget_alerts",
            {"budget_id": budget_id, "change": "created"},
        )
        # committed before it was announced: a reload on the event sees it
        assert client.get(f"/v1/budgets/{budget_id}", headers=org.headers("viewer")).status_code == 200

        # refused writes publish nothing: the next event is the next accepted change
        assert client.post("/v1/budgets", json=body, headers=org.headers("viewer")).status_code == 403
        bad = client.put(f"/v1/budgets/{budget_id}", json={**body, "amount": 0}, headers=org.headers())
        assert bad.status_code == 422
        missing = client.put(f"/v1/budgets/{uuid.uuid4()}", json=body, headers=org.headers())
        assert missing.status_code == 404

        updated = client.put(f"/v1/budgets/{budget_id}", json={**body, "amount": 500}, headers=org.headers())
        assert updated.status_code == 200
        assert socket.receive_json()["data"] == {"budget_id": budget_id, "change": "updated"}
        assert client.get(f"/v1/budgets/{budget_id}", headers=org.headers()).json()["amount"] in (
            500,
            "500.00",
            500.0,
        )

        assert client.delete(f"/v1/budgets/{budget_id}", headers=org.headers()).status_code == 200
        assert socket.receive_json()["data"] == {"budget_id": budget_id, "change": "deleted"}
        assert client.get(f"/v1/budgets/{budget_id}", headers=org.headers()).status_code == 404


def test_recommendation_dismissals_and_policy_changes_are_published_after_commit(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings, name="live-recs")
    with Session(engine) as session:
        rec = Recommendation(
            organization_id=org.id, fingerprint="fp-live", provider="aws", title="stop idle", category="compute",
            risk_level="low", resource_ids=["i-1"], affected_resources=[], actions=[], status="active",
            estimated_savings_monthly=Decimal("12.50"), priority=Decimal(1),
        )  # fmt: skip
        session.add(rec)
        session.commit()
        rec_id = str(rec.id)
    policy = {
        "name": "stop search instances",
        "trigger": {
            "type": "event",
            "config": {"event": "anomaly.detected", "filters": {"severity": "high"}},
        },
        "conditions": [{"field": "resource_type", "operator": "eq", "value": "compute_instance"}],
        "actions": [{"type": "stop"}],
        "safety_controls": {"require_approval": True, "max_resources_per_execution": 10},
    }
    with client.websocket_connect(f"/v1/stream?token={org.tokens['viewer']}") as socket:
        _subscribe(socket, "recommendations")
        _subscribe(socket, "policies")
        dismiss = f"/v1/recommendations/{rec_id}/dismiss"
        assert client.post(dismiss, json={"reason": "x"}, headers=org.headers("viewer")).status_code == 403
        assert client.post(dismiss, json={"reason": ""}, headers=org.headers()).status_code == 422
        gone = client.post(
            f"/v1/recommendations/{uuid.uuid4()}/dismiss", json={"reason": "x"}, headers=org.headers()
        )
        assert gone.status_code == 404
        assert client.post(dismiss, json={"reason": "later"}, headers=org.headers()).status_code == 200
        event = socket.receive_json()
        assert (event["channel"], event["data"]) == (
            "recommendations", {"recommendation_id": rec_id, "change": "snoozed"},
        )  # fmt: skip
        assert client.get(f"/v1/recommendations/{rec_id}", headers=org.headers()).json()["status"] != "active"

        assert client.post("/v1/policies", json=policy, headers=org.headers("viewer")).status_code == 403
        created = client.post("/v1/policies", json=policy, headers=org.headers("finops_manager"))
        assert created.status_code == 201, created.text
        policy_id = created.json()["policy_id"]
        event = socket.receive_json()
        assert (event["channel"], event["data"]) == (
            "policies", {"policy_id": policy_id, "change": "created", "enabled": True},
        )  # fmt: skip
        off = client.put(
            f"/v1/policies/{policy_id}", json={**policy, "enabled": False}, headers=org.headers()
        )
        assert off.status_code == 200, off.text
        assert socket.receive_json()["data"] == {
            "policy_id": policy_id,
            "change": "updated",
            "enabled": False,
        }
        assert client.get(f"/v1/policies/{policy_id}", headers=org.headers()).json()["enabled"] is False
        assert client.delete(f"/v1/policies/{uuid.uuid4()}", headers=org.headers()).status_code == 404
        assert client.delete(f"/v1/policies/{policy_id}", headers=org.headers()).status_code == 200
        assert socket.receive_json()["data"] == {"policy_id": policy_id, "change": "deleted"}
