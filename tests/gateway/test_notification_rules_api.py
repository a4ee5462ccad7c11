"""The notification rules admin API end to end: defaults listed on a fresh organisation, CRUD, 422s naming
the field, 404s for unknown or other organisations' rules, admins only."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cloudoptima.settings import Settings
from tests.gateway.conftest import Org, make_org

SECRET = "a-webhook-signing-secret-42"
RULES = "/v1/notification-rules"


@pytest.fixture
def org(engine: Engine, gateway_settings: Settings) -> Org:
    return make_org(engine, gateway_settings, name="rules")


@pytest.fixture
def other(engine: Engine, gateway_settings: Settings) -> Org:
    return make_org(engine, gateway_settings, name="rules-other")


def _channel(client: TestClient, org: Org, name: str) -> str:
    body = {"name": name, "kind": "webhook", "target": f"https://hooks.example.com/{name}", "secret": SECRET}
    response = client.post("/v1/notification-channels", headers=org.headers(), json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _field(response: object) -> str:
    detail = response.json()["detail"]  # type: ignore[attr-defined]
    return ".".join(str(p) for p in detail[0]["loc"][1:])


def test_rules_crud_with_defaults_on_a_fresh_organisation(client: TestClient, org: Org) -> None:
    listed = client.get(RULES, headers=org.headers())
    assert listed.status_code == 200, listed.text
    defaults = {r["event_type"]: r for r in listed.json()["items"]}
    assert set(defaults) == {
        "budget.actual",
        "budget.forecasted",
        "approval.requested",
        "execution.failed",
        "collection.failed",
        "commitment.expiring",
        "recommendation.overdue",
    }
    assert defaults["budget.actual"]["recipients"] == {"roles": ["admin"], "user_ids": [], "owner": False}
    assert defaults["commitment.expiring"]["recipients"] == {
        "roles": ["admin", "finops_manager"],
        "user_ids": [],
        "owner": False,
    }
    assert defaults["recommendation.overdue"]["recipients"] == {"roles": [], "user_ids": [], "owner": True}
    assert defaults["budget.actual"]["channel_id"] is None and defaults["budget.actual"]["enabled"]
    hook = _channel(client, org, "ops")
    made = client.post(
        RULES,
        headers=org.headers(),
        json={
            "name": "big EC2 anomalies to ops",
            "event_type": "anomaly.detected",
            "min_severity": "warning",
            "min_amount": "500.00",
            "scope": {"services": ["AmazonEC2"], "regions": ["eu-west-1"]},
            "channel_id": hook,
            "quiet_hours": {"start": "22:00", "end": "07:00", "timezone": "Europe/Paris"},
        },
    )
    assert made.status_code == 201, made.text
    rule = made.json()
    assert rule["min_amount"] == "500.00" and rule["scope"] == {
        "services": ["AmazonEC2"],
        "regions": ["eu-west-1"],
    }
    assert rule["quiet_hours"]["timezone"] == "Europe/Paris"
    assert rule["created_by"] == str(org.users["admin"])
    patched = client.patch(
        f"{RULES}/{rule['id']}", headers=org.headers(), json={"enabled": False, "min_amount": "750"}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["enabled"] is False and patched.json()["min_amount"] == "750"
    assert patched.json()["scope"] == rule["scope"]  # fields not sent are kept
    to_inbox = client.patch(
        f"{RULES}/{defaults['budget.actual']['id']}",
        headers=org.headers(),
        json={"recipients": {"roles": ["admin", "finops_manager"], "user_ids": [str(org.users["analyst"])]}},
    )
    assert to_inbox.status_code == 200, to_inbox.text
    assert to_inbox.json()["recipients"]["user_ids"] == [str(org.users["analyst"])]
    gone = client.delete(f"{RULES}/{rule['id']}", headers=org.headers())
    assert gone.status_code == 200
    assert client.delete(f"{RULES}/{rule['id']}", headers=org.headers()).status_code == 404
    assert (
        client.patch(f"{RULES}/{rule['id']}", headers=org.headers(), json={"enabled": True}).status_code
        == 404
    )
    listed = client.get(RULES, headers=org.headers()).json()["items"]
    # the defaults are not re-created
    assert len(listed) == len(defaults) and rule["id"] not in {r["id"] for r in listed}


def test_bad_rules_are_422_naming_the_field(client: TestClient, org: Org, other: Org) -> None:
    hook = _channel(client, org, "ours")
    theirs = _channel(client, other, "theirs")
    base = {"name": "r", "event_type": "anomaly.detected", "recipients": {"roles": ["admin"]}}
    cases: list[tuple[dict[str, object], str]] = [
        ({"event_type": "digest"}, "event_type"),
        ({"min_severity": "loud"}, "min_severity"),
        ({"min_amount": "-5"}, "min_amount"),
        ({"scope": {"tags": ["team:a"]}}, "scope.tags"),
        ({"scope": {"budget_ids": ["not-a-uuid"]}}, "scope.budget_ids"),
        ({"channel_id": theirs, "recipients": {}}, "channel_id"),
        ({"recipients": {}}, "recipients"),
        ({"recipients": {"roles": ["root"]}}, "recipients.roles"),
        ({"recipients": {"user_ids": [str(other.users["admin"])]}}, "recipients.user_ids"),
        (
            {
                "channel_id": hook,
                "recipients": {},
                "quiet_hours": {"start": "22:00", "end": "25:00", "timezone": "UTC"},
            },
            "quiet_hours.end",
        ),
        (
            {
                "channel_id": hook,
                "recipients": {},
                "quiet_hours": {"start": "22:00", "end": "07:00", "timezone": "Nowhere/City"},
            },
            "quiet_hours.timezone",
        ),
        ({"colour": "red"}, "colour"),  # unknown body fields are refused too
    ]
    for change, field in cases:
        response = client.post(RULES, headers=org.headers(), json={**base, **change})
        assert response.status_code == 422, (change, response.text)
        assert _field(response) == field, (change, response.text)
    made = client.post(RULES, headers=org.headers(), json=base)
    assert made.status_code == 201
    duplicate = client.post(RULES, headers=org.headers(), json=base)
    assert duplicate.status_code == 422 and _field(duplicate) == "name"
    bad_patch = client.patch(
        f"{RULES}/{made.json()['id']}", headers=org.headers(), json={"scope": {"zone": ["a"]}}
    )
    assert bad_patch.status_code == 422 and _field(bad_patch) == "scope.zone"
    # another organisation's rule is unknown to this one; non-admins may not manage rules
    assert client.delete(f"{RULES}/{made.json()['id']}", headers=other.headers()).status_code == 404
    assert client.patch(f"{RULES}/{uuid.uuid4()}", headers=org.headers(), json={}).status_code == 404
    for role in ("viewer", "finops_manager"):
        assert client.get(RULES, headers=org.headers(role)).status_code == 403
        assert client.post(RULES, headers=org.headers(role), json=base).status_code == 403
