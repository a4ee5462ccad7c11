"""``POST /v1/chat`` streams Server-Sent Events; conversations persist per user in Postgres."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cloudoptima.settings import Settings
from cloudoptima_agents.offline import OfflineChatModel
from cloudoptima_gateway.app import create_app
from cloudoptima_gateway.deps import Principal, current_principal
from cloudoptima_gateway.routes import chat


def _events(raw: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for block in raw.replace("\r\n", "\n").split("\n\n"):
        lines = [line for line in block.split("\n") if line]
        kind = next((line[6:].strip() for line in lines if line.startswith("event:")), None)
        data = "".join(line[5:].strip() for line in lines if line.startswith("data:"))
        if kind:
            out.append((kind, json.loads(data)))
    return out


@pytest.fixture
def client(
    tmp_path: Path, pg_url: str, sandbox_org: tuple[uuid.UUID, str]
) -> Iterator[tuple[TestClient, dict[str, Principal]]]:
    settings = Settings(state_dir=tmp_path, database_url=pg_url)
    app = create_app(settings)
    if not any(getattr(r, "path", "") == "/v1/chat" for r in app.routes):
        app.include_router(chat.router, prefix="/v1")
    users = {
        "alice": Principal(uuid.uuid4(), sandbox_org[0], "analyst", "token"),
        "bob": Principal(uuid.uuid4(), sandbox_org[0], "analyst", "token"),
    }
    current = {"who": "alice"}
    app.dependency_overrides[current_principal] = lambda: users[current["who"]]
    with TestClient(app) as test_client:
        app.state.chat_runtime = chat.ChatRuntime(settings, app.state.runtime, model=OfflineChatModel())

        def as_user(name: str) -> None:
            current["who"] = name

        test_client.as_user = as_user  # type: ignore[attr-defined]
        yield test_client, users


def test_chat_streams_events_and_keeps_history_per_user(
    client: tuple[TestClient, dict[str, Principal]],
) -> None:
    http, _ = client
    with http.stream("POST", "/v1/chat", json={"message": "What are my top spenders?"}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = _events("".join(response.iter_text()))
    kinds = [k for k, _ in events]
    assert kinds[0] == "conversation" and kinds[-1] == "done"
    assert "tool_call" in kinds and "tool_result" in kinds and "token" in kinds
    conversation = events[0][1]["conversation_id"]
    message = next(d for k, d in events if k == "message")
    final = message["text"]
    assert message["offline"] is True and final and not final.startswith("[offline narrator]")
    assert "".join(d["text"] for k, d in events if k == "token").strip() == final.strip()

    with http.stream(
        "POST", "/v1/chat", json={"message": "and the forecast?", "conversation_id": conversation}
    ) as r2:
        _events("".join(r2.iter_text()))
    stored = http.get(f"/v1/chat/{conversation}")
    assert stored.status_code == 200
    roles = [m["role"] for m in stored.json()["messages"]]
    assert roles.count("user") == 2 and roles[0] == "user" and roles[-1] == "assistant"

    http.as_user("bob")  # type: ignore[attr-defined]
    assert http.get(f"/v1/chat/{conversation}").status_code == 404


def test_chat_rejects_empty_and_oversized_input(client: tuple[TestClient, dict[str, Principal]]) -> None:
    http, _ = client
    assert http.post("/v1/chat", json={"message": ""}).status_code == 422
    assert http.post("/v1/chat", json={"message": "x" * 4001}).status_code == 422
    assert http.post("/v1/chat", json={"message": "hi", "conversation_id": "../etc"}).status_code == 422
