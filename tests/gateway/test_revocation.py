"""Revocation is immediate: a revoked sign-in's access tokens fail on their next request (REST and a new
WebSocket) and its open sockets are closed with code 4401 and the reason; other sign-ins keep working."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.gateway.conftest import PASSWORD


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_refresh_token_reuse_revokes_the_sign_in_everywhere_at_once(client: TestClient) -> None:
    email = f"reuse-{uuid.uuid4().hex[:8]}@example.com"
    registered = client.post(
        "/v1/auth/register",
        json={"email": email, "password": PASSWORD, "company_name": "Reuse", "role": "cfo"},
    ).json()
    stolen_access, stolen_refresh = registered["access_token"], registered["refresh_token"]
    other = client.post("/v1/auth/login", json={"email": email, "password": PASSWORD}).json()
    with (
        client.websocket_connect(f"/v1/stream?token={stolen_access}") as open_socket,
        client.websocket_connect(f"/v1/stream?token={other['access_token']}") as other_socket,
    ):
        for socket in (open_socket, other_socket):
            socket.send_json({"type": "subscribe", "channel": "anomalies"})
            assert socket.receive_json()["type"] == "subscribed"
        rotated = client.post("/v1/auth/refresh", json={"refresh_token": stolen_refresh}).json()
        assert client.get("/v1/budgets", headers=_bearer(rotated["access_token"])).status_code == 200

        reused = client.post("/v1/auth/refresh", json={"refresh_token": stolen_refresh})
        assert reused.status_code == 401 and "already used" in reused.json()["detail"]

        # The open socket of that sign-in is closed with the reason ...
        with pytest.raises(WebSocketDisconnect) as closed:
            open_socket.receive_json()
        assert closed.value.code == 4401 and closed.value.reason == "revoked: refresh token reused"
        # ... while the other sign-in's socket stays open and usable.
        other_socket.send_json({"type": "ping"})
        assert other_socket.receive_json() == {"type": "pong"}

    # Both access tokens of the revoked sign-in (the original and the rotated one) fail on the next request.
    for token in (stolen_access, rotated["access_token"]):
        refused = client.get("/v1/budgets", headers=_bearer(token))
        assert refused.status_code == 401 and refused.json()["detail"] == "access token has been revoked"
        with (
            pytest.raises(WebSocketDisconnect) as refused_socket,
            client.websocket_connect(f"/v1/stream?token={token}") as ws,
        ):
            ws.receive_json()
        assert refused_socket.value.code == 4401
    assert client.get("/v1/budgets", headers=_bearer(other["access_token"])).status_code == 200


def test_logout_closes_the_sign_ins_socket(client: TestClient) -> None:
    email = f"logout-{uuid.uuid4().hex[:8]}@example.com"
    registered = client.post(
        "/v1/auth/register",
        json={"email": email, "password": PASSWORD, "company_name": "Out", "role": "cfo"},
    ).json()
    token = registered["access_token"]
    rotated = client.post("/v1/auth/refresh", json={"refresh_token": registered["refresh_token"]}).json()
    with client.websocket_connect(f"/v1/stream?token={token}") as socket:
        socket.send_json({"type": "ping"})
        assert socket.receive_json() == {"type": "pong"}
        assert client.post("/v1/auth/logout", headers=_bearer(rotated["access_token"])).status_code == 200
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
        assert closed.value.code == 4401 and closed.value.reason == "revoked: signed out"
    # logging out one token ends its whole sign-in: the earlier token of the same family fails too
    assert client.get("/v1/budgets", headers=_bearer(token)).status_code == 401
