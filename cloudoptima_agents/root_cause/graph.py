"""The root-cause graph: gather → write → check (→ write again once) → done."""

from __future__ import annotations

from typing import Any, cast

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from cloudoptima_agents.root_cause import nodes
from cloudoptima_agents.root_cause.state import RootCauseState


def build_graph(
    model: BaseChatModel,
    tools: nodes.RootCauseTools,
    checkpointer: BaseCheckpointSaver[Any] | None = None,
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile the graph over ``model`` and the evidence ``tools``; nothing runs until invoked."""
    graph = StateGraph(RootCauseState)
    graph.add_node("gather", cast(Any, nodes.gather(tools)))
    graph.add_node("write", cast(Any, nodes.write(model)))
    graph.add_node("check", cast(Any, nodes.check(model)))
    graph.add_edge(START, "gather")
    graph.add_edge("gather", "write")
    graph.add_edge("write", "check")
    graph.add_conditional_edges("check", nodes.after_check, {"done": END, "write": "write"})
    return graph.compile(checkpointer=checkpointer)
