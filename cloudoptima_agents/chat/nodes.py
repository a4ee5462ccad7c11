"""Nodes of the chat graph: the model (with the allowed tools bound) and the tool executor.

Contract:
- ``agent`` sends the system prompt (safety rules first) and the recent conversation, cut at a human
  message so no tool result is orphaned, to the model with the tools bound.
- ``tools`` runs the tool calls with LangGraph's ``ToolNode`` over exactly the tools given to the graph: a
  call to any other name (e.g. a destructive tool an injected instruction asked for) is answered with an
  error message and runs nothing.
- ``route`` ends the turn when the model answered without tool calls, or after ``MAX_TOOL_ROUNDS`` rounds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage
from langchain_core.tools import BaseTool

from cloudoptima_agents.chat.state import ChatState
from cloudoptima_agents.safety import SYSTEM_RULES

MAX_TOOL_ROUNDS = 4
MAX_CONTEXT_MESSAGES = 24
PROMPT = (
    "You are CloudOptima's FinOps assistant. Answer questions about the organisation's cloud costs, "
    "anomalies, recommendations, budgets and resources using the tools; cite amounts, ids and dates exactly "
    "as the tools return them and say when data is missing. You may request a remediation for a "
    "recommendation only when the user explicitly asks for it; say that it waits for human approval."
)


def system_prompt() -> str:
    return f"{SYSTEM_RULES}\n\n{PROMPT}"


def recent(messages: Sequence[AnyMessage], limit: int = MAX_CONTEXT_MESSAGES) -> list[AnyMessage]:
    """The context sent to the model: the last ``limit`` messages starting at a human message, and never less
    than the current turn (the last human message and everything after it), so that no tool result is sent
    without the assistant message whose tool call it answers (vendors refuse such a request)."""
    last_human = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=0)
    start = min(max(len(messages) - limit, 0), last_human)
    for index in range(start, len(messages)):
        if isinstance(messages[index], HumanMessage):
            return list(messages[index:])
    return list(messages[start:])


def agent(
    model: BaseChatModel, tools: Sequence[BaseTool]
) -> Callable[[ChatState], Awaitable[dict[str, Any]]]:
    bound = model.bind_tools(list(tools)) if tools else model

    async def node(state: ChatState) -> dict[str, Any]:
        reply = await bound.ainvoke([SystemMessage(system_prompt()), *recent(state["messages"])])
        return {"messages": [reply]}

    return node


def route(state: ChatState) -> str:
    messages = state["messages"]
    last = messages[-1]
    if not isinstance(last, AIMessage) or not last.tool_calls:
        return "end"
    rounds = 0
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            break
        if isinstance(message, AIMessage) and message.tool_calls:
            rounds += 1
    return "tools" if rounds <= MAX_TOOL_ROUNDS else "end"
