"""The chat panel's socket: an offline answer arrives as tool_call/tool_result frames, then tokens and the
readable answer, over ``/v1/stream`` on the sandbox estate with a pinned clock."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cloudoptima.services.cost_analytics import CostAnalytics
from cloudoptima.settings import Settings
from cloudoptima_agents.offline import OfflineChatModel
from cloudoptima_agents.offline_answers import money
from cloudoptima_gateway.app import create_app
from cloudoptima_gateway.routes import chat


def test_offline_answer_streams_over_the_socket(
    tmp_path: Path, pg_url: str, redis_url: str, engine: Engine, sandbox_org: tuple[uuid.UUID, str]
) -> None:
    org = sandbox_org[0]
    settings = Settings(state_dir=tmp_path, database_url=pg_url, redis_url=redis_url, log_level="WARNING")
    app = create_app(settings)
    if not any(getattr(r, "path", "") == "/v1/chat" for r in app.routes):
        app.include_router(chat.router, prefix="/v1")
    now = datetime(2031, 2, 20, 9, tzinfo=UTC)
    with TestClient(app) as client:
        app.state.chat_runtime = chat.ChatRuntime(
            settings, app.state.runtime, model=OfflineChatModel(now=lambda: now)
        )
        token, _ = app.state.runtime.issuer().issue(uuid.uuid4(), org, "viewer")
        frames: list[dict[str, Any]] = []
        with client.websocket_connect(f"/v1/stream?token={token}") as socket:
            socket.send_json({"type": "chat", "message": "What did we spend most on last month?"})
            while not frames or frames[-1].get("event") not in ("done", "error"):
                frames.append(socket.receive_json())
    events = [f["event"] for f in frames if f["type"] == "chat"]
    assert events[0] == "conversation" and events[-1] == "done", frames
    assert (
        events.index("tool_call")
        < events.index("tool_result")
        < events.index("token")
        < events.index("message")
    )
    call = next(f["data"] for f in frames if f.get("event") == "tool_call")
    assert call["name"] == "cost_by_dimension"
    assert (call["args"]["start_date"], call["args"]["end_date"]) == ("2031-01-01", "2031-02-01")
    tokens = "".join(f["data"]["text"] for f in frames if f.get("event") == "token")
    final = next(f["data"]["text"] for f in frames if f.get("event") == "message")
    assert tokens.strip() == final.strip() and events.count("token") > 10
    with engine.connect() as connection:
        found = CostAnalytics.for_organisation(connection, org).groups(date(2031, 1, 1), date(2031, 2, 1))
    assert final.startswith("For last month, January 2031 (2031-01-01 to 2031-01-31) you spent ")
    assert money(found.total_billed_cost, found.currency) in final
    assert "{" not in final
