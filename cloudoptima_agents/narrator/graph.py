"""The narrator graph: load → write → check (→ write again once) → done."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from cloudoptima_agents.narrator import nodes
from cloudoptima_agents.narrator.evidence import RecommendationEvidence
from cloudoptima_agents.narrator.state import NarratorState


def build_graph(
    model: BaseChatModel,
    tools: Callable[[str], RecommendationEvidence] | None = None,
    checkpointer: BaseCheckpointSaver[Any] | None = None,
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile the graph; ``tools`` loads a recommendation's evidence by id (optional with evidence input)."""
    graph = StateGraph(NarratorState)
    graph.add_node("load", cast(Any, nodes.load(tools)))
    graph.add_node("write", cast(Any, nodes.write(model)))
    graph.add_node("check", cast(Any, nodes.check(model)))
    graph.add_edge(START, "load")
    graph.add_edge("load", "write")
    graph.add_edge("write", "check")
    graph.add_conditional_edges("check", nodes.after_check, {"done": END, "write": "write"})
    return graph.compile(checkpointer=checkpointer)
