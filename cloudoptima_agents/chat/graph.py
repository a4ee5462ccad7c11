"""The chat graph: agent ⇄ tools, one conversation per checkpointer thread."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt import ToolNode

from cloudoptima_agents.chat import nodes
from cloudoptima_agents.chat.state import ChatState


def build_graph(
    model: BaseChatModel,
    tools: Sequence[BaseTool],
    checkpointer: BaseCheckpointSaver[Any] | None = None,
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile the chat graph over ``model`` and exactly ``tools`` (build them with
    :func:`cloudoptima_agents.toolkit.chat_tools` so only read-only tools and ``request_remediation`` are offered)."""
    graph = StateGraph(ChatState)
    graph.add_node("agent", cast(Any, nodes.agent(model, tools)))
    graph.add_node("tools", ToolNode(list(tools), handle_tool_errors=True))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", nodes.route, {"tools": "tools", "end": END})
    graph.add_edge("tools", "agent")
    return graph.compile(checkpointer=checkpointer)
