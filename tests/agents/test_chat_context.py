"""The chat agent's context window (``cloudoptima_agents.chat.nodes.recent``): older turns are dropped, the
current turn never is, so a tool result always travels with the tool call it answers."""

from __future__ import annotations

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage

from cloudoptima_agents.chat.nodes import recent


def _turn(question: str, tools: int) -> list[AnyMessage]:
    calls = [{"name": f"tool_{i}", "args": {}, "id": f"{question}-{i}"} for i in range(tools)]
    results: list[AnyMessage] = [
        ToolMessage(content="{}", tool_call_id=f"{question}-{i}") for i in range(tools)
    ]
    return [
        HumanMessage(question),
        AIMessage(content="", tool_calls=calls),
        *results,
        AIMessage(content="done"),
    ]


def test_older_turns_are_dropped_from_a_human_message() -> None:
    history = [*_turn("a", 3), *_turn("b", 3), *_turn("c", 3)]  # 6 messages each
    kept = recent(history, limit=10)
    assert kept == history[12:]  # the tail of 10 starts inside turn b: the context starts at c's question


def test_a_turn_longer_than_the_limit_is_kept_whole() -> None:
    history = [*_turn("a", 2), *_turn("b", 26)]
    kept = recent(history[:-1], limit=24)  # turn b before its answer: a question, 26 calls, 26 results
    assert isinstance(kept[0], HumanMessage) and kept[0].content == "b"
    called = {c["id"] for m in kept if isinstance(m, AIMessage) for c in m.tool_calls}
    answered = {m.tool_call_id for m in kept if isinstance(m, ToolMessage)}
    assert answered == called and len(answered) == 26


def test_a_short_history_is_sent_whole() -> None:
    history = _turn("a", 1)
    assert recent(history) == history
