"""``/v1/notifications/digest``: each signed-in user manages only their own digest; bad input is a 422 naming
the field; the inbox routes beside it still answer."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cloudoptima.settings import Settings
from tests.gateway.conftest import make_org

PATH = "/v1/notifications/digest"


def test_each_user_manages_only_their_own_digest(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings, name="digest-api")
    other = make_org(engine, gateway_settings, name="digest-api-other")
    admin, viewer = org.headers("admin"), org.headers("viewer")

    assert client.get(PATH, headers=admin).status_code == 404
    created = client.put(
        PATH,
        headers=admin,
        json={"frequency": "weekly", "day_of_week": 0, "time_of_day": "09:30", "timezone": "Europe/Berlin"},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["frequency"] == "weekly" and body["day_of_week"] == 0 and body["channel"] == "email"
    assert body["last_sent_at"] is None and body["last_error"] is None and body["next_send_at"]

    replaced = client.put(PATH, headers=admin, json={"frequency": "daily", "channel": "in_app"})
    assert replaced.status_code == 200 and replaced.json()["id"] == body["id"]
    got = client.get(PATH, headers=admin).json()
    assert (got["frequency"], got["day_of_week"], got["time_of_day"], got["timezone"], got["channel"]) == (
        "daily",
        None,
        "08:00",
        "UTC",
        "in_app",
    )

    # nobody else sees or removes it: the viewer and another organisation's admin have none of their own
    assert client.get(PATH, headers=viewer).status_code == 404
    assert client.get(PATH, headers=other.headers("admin")).status_code == 404
    assert client.delete(PATH, headers=viewer).status_code == 404
    mine = client.put(PATH, headers=viewer, json={"frequency": "daily", "time_of_day": "07:00"})
    assert mine.status_code == 201 and mine.json()["id"] != body["id"]
    assert client.delete(PATH, headers=admin).json() == {"success": True}
    assert client.get(PATH, headers=admin).status_code == 404
    assert client.get(PATH, headers=viewer).json()["time_of_day"] == "07:00"
    assert client.delete(PATH, headers=admin).status_code == 404
    # the inbox beside it still answers
    assert client.get("/v1/notifications", headers=admin).status_code == 200
    assert client.get(PATH).status_code == 401


def test_bad_digest_input_names_the_field(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings, name="digest-bad")
    headers = org.headers("analyst")
    cases = [
        ({"frequency": "monthly"}, "frequency"),
        ({"frequency": "weekly"}, "day_of_week"),
        ({"frequency": "weekly", "day_of_week": 9}, "day_of_week"),
        ({"frequency": "daily", "day_of_week": 2}, "day_of_week"),
        ({"frequency": "daily", "time_of_day": "25:00"}, "time_of_day"),
        ({"frequency": "daily", "timezone": "Nowhere/Special"}, "timezone"),
        ({"frequency": "daily", "channel": "pager"}, "channel"),
        ({"frequency": "daily", "user_id": "someone-else"}, "user_id"),
    ]
    for payload, field in cases:
        answer = client.put(PATH, headers=headers, json=payload)
        assert answer.status_code == 422, (payload, answer.text)
        [error] = answer.json()["detail"]
        assert error["loc"][-1] == field, (payload, error)
    assert client.get(PATH, headers=headers).status_code == 404  # nothing was stored
