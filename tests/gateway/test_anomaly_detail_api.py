"""``GET /v1/costs/anomalies/{id}``: one incident exactly as the list gives it, scoped to the caller's
organisation (another organisation's id is 404, like an unknown one) and a malformed id named in the 422."""

from __future__ import annotations

import uuid
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cloudoptima.settings import Settings
from cloudoptima.storage.models import Anomaly
from tests.gateway.conftest import make_org, recent_days


def _add_anomaly(engine: Engine, org: uuid.UUID, impact: str) -> uuid.UUID:
    day = recent_days(3)[0]
    driver = {"key": "i-gpu", "label": "gpu", "actual": impact, "expected": "0.00", "change": impact}
    with Session(engine) as session:
        row = Anomaly(
            organization_id=org, severity="high", fingerprint=uuid.uuid4().hex[:32], start_date=day,
            end_date=day, impact_amount=Decimal(impact), affected_resources=["i-gpu"], service_name="Amazon EC2",
            drivers={"resources": [{**driver, "share_percent": "100.0", "new": True}], "usage_types": [], "tags": []},
        )  # fmt: skip
        session.add(row)
        session.commit()
        return row.id


def test_one_anomaly_by_id_equals_its_list_row_and_stays_in_its_organisation(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings, name="detail-a")
    other = make_org(engine, gateway_settings, name="detail-b")
    mine = _add_anomaly(engine, org.id, "1800.00")
    theirs = _add_anomaly(engine, other.id, "900.00")

    one = client.get(f"/v1/costs/anomalies/{mine}", headers=org.headers("viewer"))
    assert one.status_code == 200, one.text
    listed = client.get("/v1/costs/anomalies", headers=org.headers()).json()["anomalies"]
    assert [row["id"] for row in listed] == [str(mine)]
    assert one.json() == listed[0]
    assert one.json()["impact_amount"] == 1800.0 and one.json()["service"] == "Amazon EC2"

    # A status change is visible through the detail at once.
    client.post(f"/v1/costs/anomalies/{mine}/status", json={"status": "resolved"}, headers=org.headers())
    assert client.get(f"/v1/costs/anomalies/{mine}", headers=org.headers()).json()["status"] == "resolved"

    foreign = client.get(f"/v1/costs/anomalies/{theirs}", headers=org.headers())
    assert foreign.status_code == 404 and "not found" in foreign.json()["detail"]
    unknown = client.get(f"/v1/costs/anomalies/{uuid.uuid4()}", headers=org.headers())
    assert unknown.status_code == 404
    assert (
        client.get(f"/v1/costs/anomalies/{theirs}", headers=other.headers()).json()["impact_amount"] == 900.0
    )

    malformed = client.get("/v1/costs/anomalies/not-a-uuid", headers=org.headers())
    assert malformed.status_code == 422
    assert malformed.json()["detail"][0]["loc"] == ["path", "anomaly_id"]


def test_triage_is_published_on_the_anomalies_channel_once_stored(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    """Another browser of the organisation refreshes when someone resolves or labels an incident."""
    org = make_org(engine, gateway_settings, name="triage-live")
    anomaly = _add_anomaly(engine, org.id, "300.00")
    with client.websocket_connect(f"/v1/stream?token={org.tokens['viewer']}") as socket:
        socket.send_json({"type": "subscribe", "channel": "anomalies"})
        assert socket.receive_json() == {"type": "subscribed", "channel": "anomalies"}

        resolved = client.post(
            f"/v1/costs/anomalies/{anomaly}/status", json={"status": "resolved"}, headers=org.headers()
        )
        assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
        event = socket.receive_json()
        assert (event["channel"], event["data"]) == (
            "anomalies",
            {"anomaly_id": str(anomaly), "status": "resolved", "feedback": None, "change": "status"},
        )
        # Committed before it was announced: a reload on the event sees the change.
        assert (
            client.get(f"/v1/costs/anomalies/{anomaly}", headers=org.headers()).json()["status"] == "resolved"
        )

        labelled = client.post(
            f"/v1/costs/anomalies/{anomaly}/feedback",
            json={"feedback": "planned_activity"},
            headers=org.headers(),
        )
        assert labelled.status_code == 200
        assert socket.receive_json()["data"] == {
            "anomaly_id": str(anomaly), "status": "resolved", "feedback": "planned_activity", "change": "feedback",
        }  # fmt: skip

        # Refused writes announce nothing: the next event is the next accepted change.
        assert client.post(
            f"/v1/costs/anomalies/{uuid.uuid4()}/status", json={"status": "ignored"}, headers=org.headers()
        ).status_code == 404  # fmt: skip
        assert client.post(
            f"/v1/costs/anomalies/{anomaly}/status", json={"status": "ignored"}, headers=org.headers("viewer")
        ).status_code == 403  # fmt: skip
        client.post(f"/v1/costs/anomalies/{anomaly}/status", json={"status": "active"}, headers=org.headers())
        assert socket.receive_json()["data"]["status"] == "active"
