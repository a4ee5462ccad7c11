"""The offline narrator: a deterministic chat model that runs the same graphs when no LLM is configured.

Contract:
- It is a LangChain ``BaseChatModel``: ``bind_tools`` records the tool schemas, ``invoke``/``stream`` answer.
- Writing tasks: when the system prompt names ``TASK: root_cause`` or ``TASK: narrative`` and the last human
  message carries ``<evidence>JSON</evidence>``, it returns the task's template over that evidence.
- Chat (tools bound): after a new human message it routes the question to tools by keywords
  (:mod:`cloudoptima_agents.offline_chat`) and returns tool calls; once tool results follow, it writes the answer from
  templates over them. It never calls a tool that was not bound, so it can never do more than the graph
  allows.
- Writing-task answers (root cause, narratives) start with ``[offline narrator]``; chat answers carry no
  prefix (they read like an analyst's; the chat stream marks them ``offline``, and the tools used are shown as
  tool calls).
- ``now`` is its clock (UTC): named periods in chat questions ("last month") resolve against it; tests pin it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

from cloudoptima_agents import offline_chat

OFFLINE_LABEL = "[offline narrator]"
_TASK = re.compile(r"TASK:\s*([a-z_]+)")
_EVIDENCE = re.compile(r"<evidence>\s*(.*?)\s*</evidence>", re.DOTALL)


def _text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return " ".join(str(part.get("text", "")) if isinstance(part, dict) else str(part) for part in content)


def _writers() -> dict[str, Callable[[dict[str, Any]], str]]:
    from cloudoptima_agents.narrator.template import offline_narrative_json
    from cloudoptima_agents.root_cause.evidence import AnomalyEvidence
    from cloudoptima_agents.root_cause.template import offline_explanation

    return {
        "root_cause": lambda data: offline_explanation(AnomalyEvidence.model_validate(data)),
        "narrative": offline_narrative_json,
    }


class OfflineChatModel(BaseChatModel):
    """Deterministic routing and templates (see module contract)."""

    tool_schemas: list[dict[str, Any]] = []
    now: Callable[[], datetime] = lambda: datetime.now(UTC)

    @property
    def _llm_type(self) -> str:
        return "cloudoptima-offline"

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        schemas = [convert_to_openai_tool(tool)["function"] for tool in tools]
        return self.model_copy(update={"tool_schemas": schemas})

    def _answer(self, messages: list[BaseMessage]) -> AIMessage:
        system = " ".join(_text(m) for m in messages if isinstance(m, SystemMessage))
        task = _TASK.search(system)
        humans = [m for m in messages if isinstance(m, HumanMessage)]
        if task and humans:
            found = _EVIDENCE.search(_text(humans[-1]))
            writer = _writers().get(task.group(1))
            if found and writer:
                return AIMessage(content=writer(json.loads(found.group(1))))
        return offline_chat.respond(messages, self.tool_schemas, "", self.now().date())

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._answer(messages))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        answer = self._answer(messages)
        if answer.tool_calls:
            calls = AIMessageChunk(
                content="",
                tool_call_chunks=[
                    {
                        "name": call["name"],
                        "args": json.dumps(call["args"]),
                        "id": call["id"],
                        "index": i,
                        "type": "tool_call_chunk",
                    }
                    for i, call in enumerate(answer.tool_calls)
                ],
            )
            yield ChatGenerationChunk(message=calls)
            return
        text = _text(answer)
        for piece in re.findall(r"\S+\s*", text):
            token = ChatGenerationChunk(message=AIMessageChunk(content=piece))
            if run_manager is not None:
                run_manager.on_llm_new_token(piece, chunk=token)
            yield token
