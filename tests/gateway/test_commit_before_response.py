"""A request's database work is committed before its response is sent (#20: the browser tests accepted an
invitation right after the 201 and, under load, were told it did not exist). FastAPI runs the code after a
dependency's ``yield`` once the response has gone out unless the dependency is function-scoped; the sessions
of :data:`~cloudoptima_gateway.deps.TenantDb` and ``SystemDb`` are. Real app, real Postgres: the order of the
commit and of the ``http.response.start`` message is recorded on the ASGI boundary."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.types import Message, Receive, Scope, Send

from cloudoptima.settings import Settings
from cloudoptima_gateway import deps
from tests.gateway.conftest import make_org


def test_the_commit_precedes_the_response(
    client: TestClient, engine: Engine, gateway_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    finish = deps._finish

    async def recorded_finish(session: Session, *, commit: bool) -> None:
        await finish(session, commit=commit)
        events.append("commit" if commit else "rollback")

    monkeypatch.setattr(deps, "_finish", recorded_finish)

    async def recording(scope: Scope, receive: Receive, send: Send) -> None:
        async def traced(message: Message) -> None:
            if message["type"] == "http.response.start":
                events.append(f"response {message['status']}")
            await send(message)

        await app(scope, receive, traced)

    org = make_org(engine, gateway_settings)
    transport: Any = client._transport  # the fixture's portal and event loop, our ASGI boundary
    app = transport.app
    monkeypatch.setattr(transport, "app", recording)
    raw = client
    invited: Any = raw.post(
        "/v1/auth/invitations",
        json={"email": "order@example.com", "role": "viewer"},
        headers=org.headers("admin"),
    )
    assert invited.status_code == 201, invited.text
    assert events[-2:] == ["commit", "response 201"], events
    accepted = raw.post(
        "/v1/auth/invitations/accept",
        json={"token": invited.json()["invitation_token"], "password": "order-password-123"},
    )
    assert accepted.status_code == 200, accepted.text
    assert events[-1] == "response 200" and "commit" in events[events.index("response 201") :], events
