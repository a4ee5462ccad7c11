"""``/v1/chat``: the streaming FinOps assistant.

- ``POST /chat`` with ``{"message", "conversation_id"?}`` streams Server-Sent Events: ``conversation``
  (the id, new or given), ``token`` (answer text as it is produced), ``tool_call``, ``tool_result``,
  ``message`` (the final answer), ``done``; ``error`` if the turn failed.
- ``GET /chat/{conversation_id}`` returns the caller's stored messages of that conversation (404 when the
  caller has none under that id: conversations are per user).
The agent sees only read-only catalog tools plus ``request_remediation`` (approval-gated), bound to the
caller's organisation and role. Conversations persist in Postgres through LangGraph's ``AsyncPostgresSaver``
(its own tables, created on first use). Include with ``app.include_router(chat.router, prefix="/v1")``;
its lifespan also offers the same chat over the WebSocket ``/v1/stream`` (``app.state.socket_chat``).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Request, status
from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool
from langgraph.checkpoint.base import BaseCheckpointSaver
from pydantic import BaseModel, Field
from sse_starlette import EventSourceResponse

from cloudoptima.services.embeddings import embedder_from_settings
from cloudoptima.services.reports import reports_config_from_settings
from cloudoptima.services.semantic_memory import MemoryKind, SemanticMemory
from cloudoptima.settings import Settings
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_agents.chat.service import (
    chat_model,
    chat_tools,
    history,
    postgres_checkpointer,
    stream_turn,
)
from cloudoptima_gateway.deps import Permission, Principal
from cloudoptima_gateway.remediation_requests import start_recommendation
from cloudoptima_gateway.runtime import Runtime
from cloudoptima_gateway.schemas.common import StrictBody
from cloudoptima_gateway.stream import SocketChat, SocketTurn
from cloudoptima_tools.catalog import catalog
from cloudoptima_tools.context import RemediationStart, RemediationStarted, RemediationStarter, ToolContext

CONVERSATION_ID = r"^[A-Za-z0-9_\-]{1,64}$"
REMEDIATION_START_SECONDS = 30.0


class ChatIn(StrictBody):
    message: str = Field(min_length=1, max_length=4000)
    conversation_id: str | None = Field(default=None, pattern=CONVERSATION_ID)


class ChatHistoryOut(BaseModel):
    conversation_id: str
    messages: list[dict[str, Any]]


class ChatRuntime:
    """The chat model and the Postgres checkpointer, created on first use and closed with the app."""

    def __init__(self, settings: Settings, runtime: Runtime, model: BaseChatModel | None = None) -> None:
        self.settings = settings
        self.runtime = runtime
        self.model = model or chat_model(settings)
        self._saver: BaseCheckpointSaver[Any] | None = None
        self._pool: Any = None
        self._lock = asyncio.Lock()

    async def checkpointer(self) -> BaseCheckpointSaver[Any]:
        async with self._lock:
            if self._saver is None:
                self._saver, self._pool = await postgres_checkpointer(self.settings.resolved_database_url())
            return self._saver

    def remediation_starter(self, principal: Principal) -> RemediationStarter:
        """Start the approval-gated workflow from a tool thread, on the request's event loop.

        ``approval_required`` is always true here: a chat request can never skip the human approval.
        """
        loop = asyncio.get_running_loop()

        def start(request: RemediationStart) -> RemediationStarted:
            work = start_recommendation(
                self.runtime,
                principal,
                str(request.recommendation_id),
                risk_level=request.risk_level,
                title=request.title,
                approval_required=True,
                dry_run=request.dry_run,
                schedule=None,
            )
            info = asyncio.run_coroutine_threadsafe(work, loop).result(REMEDIATION_START_SECONDS)
            return RemediationStarted(
                execution_id=info.execution_id,
                workflow_id=info.workflow_id,
                state=info.status,
                temporal_ui_url=info.temporal_ui_url,
            )

        return start

    def runbook_search(self, organization_id: uuid.UUID) -> Callable[[str, int], list[dict[str, Any]]]:
        def search(query: str, limit: int) -> list[dict[str, Any]]:
            with tenant_session(self.runtime.sessions(), organization_id) as session:
                memory = SemanticMemory(session, organization_id, embedder_from_settings(self.settings))
                if memory.count(MemoryKind.RUNBOOK) == 0:
                    return []
                found = memory.recall(query, kinds=[MemoryKind.RUNBOOK], limit=limit)
                return [{"slug": i.ref_id, "text": i.text, "similarity": i.similarity} for i in found]

        return search

    async def tools_for(self, principal: Principal) -> list[BaseTool]:
        ctx = ToolContext(
            organization_id=principal.organization_id,
            role=principal.role,
            session_factory=self.runtime.sessions(),
            start_remediation=self.remediation_starter(principal),
            reports=reports_config_from_settings(self.settings),
            principal=f"user:{principal.user_id}",
        )
        return chat_tools(ctx, catalog(), self.runbook_search(principal.organization_id))

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool, self._saver = None, None


def _runtime_of(state: Any) -> ChatRuntime:
    if getattr(state, "chat_runtime", None) is None:
        state.chat_runtime = ChatRuntime(state.settings, state.runtime)
    chat: ChatRuntime = state.chat_runtime
    return chat


async def _turn(
    chat: ChatRuntime, principal: Principal, conversation_id: str, message: str
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """One turn as ``(event, data)`` pairs, starting with ``conversation`` (shared by SSE and WebSocket)."""
    saver = await chat.checkpointer()
    tools = await chat.tools_for(principal)
    yield "conversation", {"conversation_id": conversation_id}
    async for event in stream_turn(
        chat.model,
        tools,
        saver,
        organization_id=principal.organization_id,
        user_id=principal.user_id,
        conversation_id=conversation_id,
        message=message,
    ):
        yield event.event, event.data


def socket_chat(app: FastAPI) -> SocketChat:
    """The chat as ``/v1/stream`` serves it (``{"type": "chat", ...}`` frames): same agent, same history."""

    def turn(principal: Principal, message: str, conversation_id: str | None) -> SocketTurn:
        return _turn(_runtime_of(app.state), principal, conversation_id or uuid.uuid4().hex, message)

    return turn


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.socket_chat = socket_chat(app)
    yield
    chat: ChatRuntime | None = getattr(app.state, "chat_runtime", None)
    if chat is not None:
        await chat.close()


router = APIRouter(prefix="/chat", tags=["chat"], lifespan=_lifespan)
ChatUser = Annotated[Principal, Permission("read:costs")]


def get_chat_runtime(request: Request) -> ChatRuntime:
    """The app's :class:`ChatRuntime` (``app.state.chat_runtime``, created on first use; tests may set it)."""
    return _runtime_of(request.app.state)


ChatRuntimeDep = Annotated[ChatRuntime, Depends(get_chat_runtime)]


@router.post("", summary="Ask the FinOps assistant (Server-Sent Events)")
async def post_chat(body: ChatIn, principal: ChatUser, chat: ChatRuntimeDep) -> EventSourceResponse:
    conversation_id = body.conversation_id or uuid.uuid4().hex
    await chat.checkpointer()  # fail before the stream starts if the store is unreachable

    async def events() -> AsyncIterator[dict[str, str]]:
        async for event, data in _turn(chat, principal, conversation_id, body.message):
            yield {"event": event, "data": json.dumps(data, default=str)}

    return EventSourceResponse(events(), headers={"X-Conversation-Id": conversation_id})


@router.get(
    "/{conversation_id}", response_model=ChatHistoryOut, summary="Messages of one of your conversations"
)
async def get_chat(
    conversation_id: Annotated[str, Path(pattern=CONVERSATION_ID)], principal: ChatUser, chat: ChatRuntimeDep
) -> ChatHistoryOut:
    saver = await chat.checkpointer()
    messages = await history(
        saver,
        organization_id=principal.organization_id,
        user_id=principal.user_id,
        conversation_id=conversation_id,
    )
    if not messages:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"conversation {conversation_id} not found")
    return ChatHistoryOut(conversation_id=conversation_id, messages=messages)


__all__ = ["ChatRuntime", "get_chat_runtime", "router", "socket_chat"]
