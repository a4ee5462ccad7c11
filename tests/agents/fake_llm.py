"""A strict local fake of the Anthropic Messages API and the OpenAI Chat Completions API.

The real SDKs talk to it through ``base_url``. It checks what a real server checks before answering:
the API key (``x-api-key`` or ``Authorization: Bearer`` for Anthropic, ``Authorization: Bearer`` for
OpenAI), required fields (``model``, ``messages``, Anthropic's ``max_tokens``), and that every tool call of
an assistant message is answered by a tool result in the next message(s); else 401 / 400 with the vendor's
error shape. It answers from a script — a function of the request body returning ``Reply`` — as JSON or as
the vendor's SSE stream (Anthropic ``message_start`` … ``message_stop``; OpenAI ``chat.completion.chunk``
lines then ``[DONE]``). Every request (path, headers, body) is recorded.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    text: str = ""
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    raw: str


Script = Callable[[dict[str, Any]], Reply]


def _anthropic_problem(body: dict[str, Any]) -> str | None:
    for key in ("model", "max_tokens", "messages"):
        if key not in body:
            return f"{key}: Field required"
    messages = body["messages"]
    for index, message in enumerate(messages):
        content = message.get("content")
        if message.get("role") != "assistant" or not isinstance(content, list):
            continue
        uses = {b["id"] for b in content if b.get("type") == "tool_use"}
        if not uses:
            continue
        following = messages[index + 1] if index + 1 < len(messages) else {}
        results = {
            b.get("tool_use_id")
            for b in following.get("content", [])
            if isinstance(following.get("content"), list) and b.get("type") == "tool_result"
        }
        if not uses <= results:
            return "messages: tool_use ids were found without tool_result blocks immediately after"
    return None


def _openai_problem(body: dict[str, Any]) -> str | None:
    for key in ("model", "messages"):
        if key not in body:
            return f"Missing required parameter: '{key}'."
    messages = body["messages"]
    for index, message in enumerate(messages):
        calls = {c["id"] for c in message.get("tool_calls") or []}
        if message.get("role") != "assistant" or not calls:
            continue
        answered = set()
        for later in messages[index + 1 :]:
            if later.get("role") != "tool":
                break
            answered.add(later.get("tool_call_id"))
        if not calls <= answered:
            return "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'."
    return None


class FakeLLMServer:
    """Serve both vendors' APIs on 127.0.0.1 (see module docstring)."""

    def __init__(self, script: Script, api_key: str = "test-key") -> None:
        self.script = script
        self.api_key = api_key
        self.requests: list[Recorded] = []
        self._counter = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeLLMServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def next_id(self) -> int:
        with self._lock:
            self._counter += 1
            return self._counter

    def everything_sent(self) -> str:
        """All request bodies as one string (what a model provider would have seen)."""
        return "\n".join(r.raw for r in self.requests)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _json(self, code: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _sse(self, events: Iterator[str]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                for event in events:
                    self.wfile.write(event.encode())
                    self.wfile.flush()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length).decode()
                try:
                    body = json.loads(raw)
                except ValueError:
                    self._json(400, {"error": {"message": "invalid JSON", "type": "invalid_request_error"}})
                    return
                server.requests.append(Recorded(self.path, dict(self.headers.items()), body, raw))
                if self.path.endswith("/messages"):
                    self._anthropic(body)
                elif self.path.endswith("/chat/completions"):
                    self._openai(body)
                else:
                    self._json(404, {"error": {"message": f"unknown path {self.path}"}})

            def _anthropic(self, body: dict[str, Any]) -> None:
                given = self.headers.get("x-api-key") or (
                    self.headers.get("Authorization") or ""
                ).removeprefix("Bearer ")
                if given != server.api_key:
                    self._json(
                        401,
                        {
                            "type": "error",
                            "error": {"type": "authentication_error", "message": "invalid x-api-key"},
                        },
                    )
                    return
                problem = _anthropic_problem(body)
                if problem:
                    self._json(
                        400, {"type": "error", "error": {"type": "invalid_request_error", "message": problem}}
                    )
                    return
                reply = server.script(body)
                n = server.next_id()
                blocks: list[dict[str, Any]] = []
                if reply.text:
                    blocks.append({"type": "text", "text": reply.text})
                for i, (name, args) in enumerate(reply.tool_calls):
                    blocks.append({"type": "tool_use", "id": f"toolu_{n}_{i}", "name": name, "input": args})
                stop = "tool_use" if reply.tool_calls else "end_turn"
                message = {
                    "id": f"msg_{n}",
                    "type": "message",
                    "role": "assistant",
                    "model": body["model"],
                    "content": blocks,
                    "stop_reason": stop,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 12, "output_tokens": 7},
                }
                if not body.get("stream"):
                    self._json(200, message)
                    return

                def events() -> Iterator[str]:
                    def ev(kind: str, data: dict[str, Any]) -> str:
                        return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n"

                    start = {
                        **message,
                        "content": [],
                        "stop_reason": None,
                        "usage": {"input_tokens": 12, "output_tokens": 1},
                    }
                    yield ev("message_start", {"message": start})
                    for index, block in enumerate(blocks):
                        if block["type"] == "text":
                            yield ev(
                                "content_block_start",
                                {"index": index, "content_block": {"type": "text", "text": ""}},
                            )
                            words = block["text"].split(" ")
                            for w, word in enumerate(words):
                                piece = word if w == len(words) - 1 else word + " "
                                yield ev(
                                    "content_block_delta",
                                    {"index": index, "delta": {"type": "text_delta", "text": piece}},
                                )
                        else:
                            head = {**block, "input": {}}
                            yield ev("content_block_start", {"index": index, "content_block": head})
                            text = json.dumps(block["input"])
                            for cut in range(0, len(text), 7):
                                yield ev(
                                    "content_block_delta",
                                    {
                                        "index": index,
                                        "delta": {
                                            "type": "input_json_delta",
                                            "partial_json": text[cut : cut + 7],
                                        },
                                    },
                                )
                        yield ev("content_block_stop", {"index": index})
                    yield ev(
                        "message_delta",
                        {
                            "delta": {"stop_reason": stop, "stop_sequence": None},
                            "usage": {"output_tokens": 7},
                        },
                    )
                    yield ev("message_stop", {})

                self._sse(events())

            def _openai(self, body: dict[str, Any]) -> None:
                if self.headers.get("Authorization") != f"Bearer {server.api_key}":
                    self._json(
                        401,
                        {
                            "error": {
                                "message": "Incorrect API key provided",
                                "type": "invalid_request_error",
                                "code": "invalid_api_key",
                            }
                        },
                    )
                    return
                problem = _openai_problem(body)
                if problem:
                    self._json(400, {"error": {"message": problem, "type": "invalid_request_error"}})
                    return
                reply = server.script(body)
                n = server.next_id()
                calls: list[dict[str, Any]] = [
                    {
                        "id": f"call_{n}_{i}",
                        "type": "function",
                        "function": {"name": name, "arguments": json.dumps(args)},
                    }
                    for i, (name, args) in enumerate(reply.tool_calls)
                ]
                finish = "tool_calls" if calls else "stop"
                base = {"id": f"chatcmpl-{n}", "created": 1700000000, "model": body["model"]}
                if not body.get("stream"):
                    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
                    if calls:
                        message["tool_calls"] = calls
                    self._json(
                        200,
                        {
                            **base,
                            "object": "chat.completion",
                            "choices": [
                                {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
                            ],
                            "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
                        },
                    )
                    return

                def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> str:
                    data = {
                        **base,
                        "object": "chat.completion.chunk",
                        "choices": [
                            {"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}
                        ],
                    }
                    return f"data: {json.dumps(data)}\n\n"

                def events() -> Iterator[str]:
                    yield chunk({"role": "assistant", "content": ""})
                    if reply.text:
                        words = reply.text.split(" ")
                        for w, word in enumerate(words):
                            yield chunk({"content": word if w == len(words) - 1 else word + " "})
                    for i, call in enumerate(calls):
                        head = {
                            "index": i,
                            "id": call["id"],
                            "type": "function",
                            "function": {"name": call["function"]["name"], "arguments": ""},
                        }
                        yield chunk({"tool_calls": [head]})
                        text = call["function"]["arguments"]
                        for cut in range(0, len(text), 7):
                            yield chunk(
                                {"tool_calls": [{"index": i, "function": {"arguments": text[cut : cut + 7]}}]}
                            )
                    yield chunk({}, finish)
                    if (body.get("stream_options") or {}).get("include_usage"):
                        usage = {
                            **base,
                            "object": "chat.completion.chunk",
                            "choices": [],
                            "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
                        }
                        yield f"data: {json.dumps(usage)}\n\n"
                    yield "data: [DONE]\n\n"

                self._sse(events())

        return Handler


@contextmanager
def fake_llm(script: Script, api_key: str = "test-key") -> Iterator[FakeLLMServer]:
    server = FakeLLMServer(script, api_key).start()
    try:
        yield server
    finally:
        server.stop()


def tool_results_in(body: dict[str, Any]) -> list[str]:
    """Texts of the tool results a request carries (either vendor's format)."""
    found = []
    for message in body.get("messages", []):
        if message.get("role") == "tool":
            found.append(str(message.get("content")))
        content = message.get("content")
        if isinstance(content, list):
            for block in content:
                if isinstance(block, dict) and block.get("type") == "tool_result":
                    inner = block.get("content")
                    found.append(inner if isinstance(inner, str) else json.dumps(inner))
    return found


def last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages", [])):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            return " ".join(
                b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text"
            )
    return ""
