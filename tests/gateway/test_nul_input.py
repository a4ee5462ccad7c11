"""NUL characters (which Postgres cannot store) are refused with a clear 4xx, never a 500: in any body field
at any depth, in the URL, and in chat frames on the WebSocket. Found by the schema fuzzer."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cloudoptima.settings import Settings
from cloudoptima_gateway.schemas.common import nul_field
from tests.gateway.conftest import make_org


def test_nul_field_finds_the_path() -> None:
    assert nul_field({"name": "ok", "tags": {"team": "a\x00b"}}) == "tags.team"
    assert nul_field({"items": ["a", "b\x00"]}) == "items[1]"
    assert nul_field({"k\x00": 1}) == "k\x00"
    assert nul_field({"name": "fine", "n": 3, "list": [{"x": "y"}]}) is None


def test_nul_in_a_body_field_is_a_422_naming_it(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings)
    key = client.post("/v1/auth/api-keys", headers=org.headers(), json={"name": "bad\x00name"})
    assert key.status_code == 422, key.text
    assert "field 'name' must not contain NUL" in key.text
    tags = client.post(
        "/v1/resources/bulk-tag",
        headers=org.headers(),
        json={"resource_ids": ["i-1"], "tags": {"team": "a\x00"}},
    )
    assert tags.status_code == 422 and "tags.team" in tags.text
    chat = client.post("/v1/chat", headers=org.headers(), json={"message": "hi\x00"})
    assert chat.status_code == 422 and "message" in chat.text
    assert client.post("/v1/auth/api-keys", headers=org.headers(), json={"name": "fine"}).status_code == 201


def test_nul_in_the_url_is_a_400(client: TestClient, engine: Engine, gateway_settings: Settings) -> None:
    org = make_org(engine, gateway_settings)
    response = client.get("/v1/costs/overview?group_by=tag&tag_key=team%00x", headers=org.headers("viewer"))
    assert response.status_code == 400
    assert response.json()["detail"] == "NUL (\\x00) characters are not allowed in the URL"


def test_nul_in_a_chat_frame_is_an_error_frame(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings)
    with client.websocket_connect(f"/v1/stream?token={org.tokens['viewer']}") as socket:
        socket.send_json({"type": "chat", "message": "hi\x00"})
        error = socket.receive_json()
        assert error["type"] == "error" and "NUL" in error["error"]
        socket.send_json({"type": "ping"})
        assert socket.receive_json() == {"type": "pong"}
