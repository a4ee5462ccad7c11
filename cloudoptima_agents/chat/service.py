"""Running chat turns: streamed events, per-user conversations in a LangGraph checkpointer.

Contract:
- A conversation is the checkpointer thread ``chat:{organisation}:{user}:{conversation}``: the id is derived
  from the authenticated caller, so one user can never read or continue another user's conversation (an
  unknown or foreign id is simply empty).
- ``stream_turn(...)`` runs one turn and yields events: ``token`` (``{"text"}``, model output as it streams),
  ``tool_call`` (``{"id", "name", "args"}``), ``tool_result`` (``{"id", "name", "status", "content"}``),
  then ``message`` (``{"text", "offline"}``: the final answer, and whether the offline narrator wrote it) and ``done``. On failure it yields ``error``.
- ``history(...)`` returns the stored messages as ``{"role", "content", "tool_calls"?, "name"?}``.
- ``chat_model`` and ``chat_tools`` are re-exported so an app needs only this module (the gateway may
  import ``cloudoptima_agents.chat.*`` and nothing else of the agents).
- ``postgres_checkpointer(url)`` opens an ``AsyncPostgresSaver`` on a psycopg pool and runs its ``setup()``
  (it creates and migrates its own tables); close the returned pool when done.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool
from langgraph.checkpoint.base import BaseCheckpointSaver
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from cloudoptima_agents.chat.graph import build_graph
from cloudoptima_agents.models import chat_model
from cloudoptima_agents.toolkit import chat_tools

__all__ = [
    "ChatEvent",
    "chat_model",
    "chat_tools",
    "history",
    "postgres_checkpointer",
    "stream_turn",
    "thread_id",
]

MAX_MESSAGE_CHARS = 4000
TOOL_PREVIEW_CHARS = 2000


def thread_id(organization_id: uuid.UUID, user_id: uuid.UUID, conversation_id: str) -> str:
    return f"chat:{organization_id}:{user_id}:{conversation_id}"


def _text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(str(part.get("text", "")) if isinstance(part, dict) else str(part) for part in content)


@dataclass(frozen=True)
class ChatEvent:
    event: str
    data: dict[str, Any]


async def stream_turn(
    model: BaseChatModel,
    tools: Sequence[BaseTool],
    checkpointer: BaseCheckpointSaver[Any],
    *,
    organization_id: uuid.UUID,
    user_id: uuid.UUID,
    conversation_id: str,
    message: str,
) -> AsyncIterator[ChatEvent]:
    """One chat turn as events (see module contract)."""
    graph = build_graph(model, tools, checkpointer)
    config: Any = {
        "configurable": {"thread_id": thread_id(organization_id, user_id, conversation_id)},
        "recursion_limit": 25,
    }
    final = ""
    try:
        stream: AsyncIterator[Any] = graph.astream(
            {"messages": [HumanMessage(message[:MAX_MESSAGE_CHARS])]},
            config,
            stream_mode=["messages", "updates"],
        )
        async for mode, chunk in stream:
            if mode == "messages":
                piece, meta = chunk
                if isinstance(piece, AIMessageChunk) and meta.get("langgraph_node") == "agent":
                    text = _text(piece)
                    if text:
                        yield ChatEvent("token", {"text": text})
                continue
            for node, update in (chunk or {}).items():
                for item in (update or {}).get("messages", []):
                    if node == "agent" and isinstance(item, AIMessage):
                        for call in item.tool_calls:
                            yield ChatEvent(
                                "tool_call", {"id": call["id"], "name": call["name"], "args": call["args"]}
                            )
                        if not item.tool_calls:
                            final = _text(item)
                    elif node == "tools" and isinstance(item, ToolMessage):
                        yield ChatEvent(
                            "tool_result",
                            {
                                "id": item.tool_call_id,
                                "name": item.name,
                                "status": item.status,
                                "content": _text(item)[:TOOL_PREVIEW_CHARS],
                            },
                        )
    except Exception as exc:  # the stream must end with a readable event, whatever failed
        yield ChatEvent("error", {"message": f"{type(exc).__name__}: {exc}"[:500]})
        return
    yield ChatEvent("message", {"text": final, "offline": model._llm_type == "cloudoptima-offline"})
    yield ChatEvent("done", {"conversation_id": conversation_id})


def _as_dict(message: BaseMessage) -> dict[str, Any]:
    role = {"human": "user", "ai": "assistant", "tool": "tool", "system": "system"}.get(
        message.type, message.type
    )
    out: dict[str, Any] = {"role": role, "content": _text(message)}
    if isinstance(message, AIMessage) and message.tool_calls:
        out["tool_calls"] = [
            {"id": c["id"], "name": c["name"], "args": c["args"]} for c in message.tool_calls
        ]
    if isinstance(message, ToolMessage):
        out["name"] = message.name
        out["tool_call_id"] = message.tool_call_id
    return out


async def history(
    checkpointer: BaseCheckpointSaver[Any],
    *,
    organization_id: uuid.UUID,
    user_id: uuid.UUID,
    conversation_id: str,
) -> list[dict[str, Any]]:
    """The stored messages of one of the caller's conversations (empty when unknown)."""
    config: Any = {"configurable": {"thread_id": thread_id(organization_id, user_id, conversation_id)}}
    saved = await checkpointer.aget_tuple(config)
    if saved is None:
        return []
    messages = saved.checkpoint.get("channel_values", {}).get("messages", [])
    return [_as_dict(m) for m in messages if isinstance(m, BaseMessage)]


def _libpq_url(url: str) -> str:
    for prefix in ("postgresql+psycopg://", "postgres+psycopg://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


async def postgres_checkpointer(
    url: str, *, max_size: int = 5
) -> tuple[BaseCheckpointSaver[Any], AsyncConnectionPool[Any]]:
    """An ``AsyncPostgresSaver`` with its tables set up, and the pool to close (see module contract)."""
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        conninfo=_libpq_url(url),
        max_size=max_size,
        open=False,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
    )
    await pool.open()
    saver = AsyncPostgresSaver(pool)  # type: ignore[arg-type]
    await saver.setup()
    return saver, pool
