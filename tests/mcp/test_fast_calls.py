"""The stateless HTTP server's fast path for cached tool calls (``cloudoptima_mcp.fast_calls``): for each request
the app with the fast path answers exactly what the same app without it answers (status, headers, body), writes
the same audit row, and counts the cache lookup once; what it does not fully understand it passes on."""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from starlette.applications import Starlette

from cloudoptima.settings import load_settings
from cloudoptima.storage.models import AuditLog
from cloudoptima.storage.tenancy import scope
from cloudoptima_mcp.fast_calls import FastToolCalls
from cloudoptima_mcp.runtime import Runtime
from cloudoptima_mcp.server import fast_calls_enabled, http_app_for
from cloudoptima_tools import catalog
from cloudoptima_tools.cache import ResultCache
from cloudoptima_tools.spec import ToolSpec
from tests.mcp.conftest import runtime_for
from tests.tools.seed import END, Estates

TOOL = "cost_by_dimension"
ARGUMENTS = {"group_by": "service", "limit": 5, "start_date": "2029-12-01", "end_date": END.isoformat()}
HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "MCP-Protocol-Version": "2025-11-25",
}
BASE = "http://127.0.0.1"


class Pair:
    """The same server twice over one runtime (one tool cache, one audit writer): fast path on and off."""

    def __init__(self, fast: Starlette, slow: Starlette, runtime: Runtime, engine: Engine, org: uuid.UUID):
        self.fast, self.slow, self.runtime, self.engine, self.org = fast, slow, runtime, engine, org

    async def post(self, app: Starlette, body: Any, headers: dict[str, str]) -> httpx.Response:
        """POST ``body``; a header given as "" is left out (httpx would add its own Accept)."""
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
            request = client.build_request("POST", "/mcp", content=content, headers=headers)
            for name in [name for name, value in headers.items() if value == ""]:
                del request.headers[name]
            return await client.send(request)

    def answered(self) -> int:
        return _fast_path(self.fast).answered

    def audit_rows(self) -> dict[uuid.UUID, AuditLog]:
        with Session(self.engine) as session:
            scope(session, self.org)
            rows = session.scalars(
                select(AuditLog).where(AuditLog.organization_id == self.org, AuditLog.channel == "mcp")
            ).all()
            return {row.id: row for row in rows}


def _fast_path(app: Starlette) -> FastToolCalls:
    layer: Any = app.middleware_stack
    while layer is not None and not isinstance(layer, FastToolCalls):
        layer = getattr(layer, "app", None)
    assert isinstance(layer, FastToolCalls), "the stateless app has the fast path in its middleware"
    return layer


@asynccontextmanager
async def _pair(
    engine: Engine, estates: Estates, tmp_path: Path, *, stateful: bool = False
) -> AsyncIterator[Pair]:
    settings = load_settings(jwt_secret="fast-calls-secret-0123456789abcdef0123", state_dir=str(tmp_path))
    runtime = runtime_for(engine)
    runtime = dataclasses.replace(runtime, cache=ResultCache(clock=lambda: 1000.0))
    runtime.cache.hits = 1000  # three digits whatever the test adds: result sizes do not change with it
    fast = http_app_for("platform", settings, runtime, stateful=stateful, fast_calls=True)
    slow = http_app_for("platform", settings, runtime, stateful=stateful, fast_calls=False)
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(fast.router.lifespan_context(fast))
        await stack.enter_async_context(slow.router.lifespan_context(slow))
        yield Pair(fast, slow, runtime, engine, estates.a.organization_id)


def _call(arguments: dict[str, Any], request_id: Any = 1, **params: Any) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": params.pop("name", TOOL), "arguments": arguments, **params},
    }


_HITS = re.compile(rb'(\\?"hits\\?":)\d+')
_RESULT_IDS = re.compile(rb"(cloudoptima://results/)[A-Za-z0-9_-]+")


def _normal(body: bytes) -> bytes:
    """The cache's hit counter (reported in the output) and the random id of a paged result's link."""
    return _RESULT_IDS.sub(rb"\1ID", _HITS.sub(rb"\1N", body))


def _same(slow: httpx.Response, fast: httpx.Response) -> None:
    """Equal status, headers and body (:func:`_normal`)."""
    assert fast.status_code == slow.status_code, (fast.text, slow.text)
    assert _normal(fast.content) == _normal(slow.content)
    assert [(k, v) for k, v in fast.headers.multi_items() if k != "content-length"] == [
        (k, v) for k, v in slow.headers.multi_items() if k != "content-length"
    ]
    assert int(fast.headers.get("content-length", len(fast.content))) == len(fast.content)


def _hits(response: httpx.Response) -> int:
    return int(response.json()["result"]["structuredContent"]["data"]["cache_state"]["hits"])


async def _both(
    pair: Pair, body: Any, headers: dict[str, str]
) -> tuple[httpx.Response, httpx.Response, list[AuditLog], list[AuditLog]]:
    """The request against the slow app, then the fast one; each one's new audit rows."""
    before = pair.audit_rows()
    slow = await pair.post(pair.slow, body, headers)
    middle = pair.audit_rows()
    fast = await pair.post(pair.fast, body, headers)
    after = pair.audit_rows()
    new_slow = [row for key, row in middle.items() if key not in before]
    new_fast = [row for key, row in after.items() if key not in middle]
    return slow, fast, new_slow, new_fast


def _same_rows(slow: list[AuditLog], fast: list[AuditLog]) -> None:
    assert len(slow) == len(fast)
    for a, b in zip(slow, fast, strict=True):
        assert (a.action, a.result, a.actor, a.user_id, a.resource_type, a.resource_id) == (
            b.action,
            b.result,
            b.actor,
            b.user_id,
            b.resource_type,
            b.resource_id,
        )
        assert {k: v for k, v in a.details.items() if k != "duration_ms"} == {
            k: v for k, v in b.details.items() if k != "duration_ms"
        }


async def test_cached_calls_answer_as_the_sdk_path_does(
    engine: Engine, estates: Estates, tmp_path: Path
) -> None:
    key = estates.a.keys["viewer"]
    headers = {**HEADERS, "Authorization": f"Bearer {key}"}
    async with _pair(engine, estates, tmp_path) as pair:
        # the cache's miss: the slow app stores the answer
        warm = await pair.post(pair.slow, _call(ARGUMENTS), headers)
        assert warm.status_code == 200, warm.text
        answered = 0
        cases: list[dict[str, Any]] = [
            _call(ARGUMENTS),
            _call(ARGUMENTS, request_id="call-7 ü"),
            _call(ARGUMENTS, request_id=0),
            _call(ARGUMENTS, request_id=2**40),
            _call(ARGUMENTS, request_id=9, _meta={"progressToken": "p-1"}),
            _call(ARGUMENTS, request_id=10, _meta={"progressToken": 5}),
            # the same arguments in another order and spelling FastMCP accepts: the same cache entry
            _call({"limit": "5", **{k: v for k, v in ARGUMENTS.items() if k != "limit"}}, request_id=11),
        ]
        for body in cases:
            slow, fast, slow_rows, fast_rows = await _both(pair, body, headers)
            _same(slow, fast)
            assert slow.status_code == 200 and not fast.json()["result"]["isError"]
            assert fast.json()["result"]["structuredContent"]["data"]["cached"] is True
            assert _hits(fast) == _hits(slow) + 1, "each call's lookup is counted once"
            assert len(fast_rows) == 1 and fast_rows[0].result == "success"
            _same_rows(slow_rows, fast_rows)
            answered += 1
            assert pair.answered() == answered, "the fast path answered it"
        # Other header spellings the SDK accepts, and the other handshake-era versions (none: 2025-03-26).
        variants: list[dict[str, str]] = [
            {"Accept": "application/json", "Content-Type": "application/json; charset=utf-8"},
            {"Accept": "*/*"},
            {"Accept": "application/*;q=0.9, text/html"},
            {"MCP-Protocol-Version": ""},
            {"MCP-Protocol-Version": "2025-06-18"},
            {"MCP-Protocol-Version": "2025-03-26"},
            {"MCP-Protocol-Version": "2024-11-05"},
        ]
        for n, variant in enumerate(variants):
            slow, fast, slow_rows, fast_rows = await _both(pair, _call(ARGUMENTS, 100 + n), headers | variant)
            _same(slow, fast)
            _same_rows(slow_rows, fast_rows)
            answered += 1
            assert pair.answered() == answered, variant


def headers_auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


PASSED_ON: list[tuple[str, Callable[[dict[str, str]], dict[str, str]], Any]] = [
    ("bad arguments", lambda h: h, _call({**ARGUMENTS, "limit": 0})),
    ("an unknown argument", lambda h: h, _call({**ARGUMENTS, "colour": "blue"})),
    ("a non-cacheable tool", lambda h: h, _call({"limit": 2}, name="recommendations_list")),
    ("an unknown tool", lambda h: h, _call({}, name="no_such_tool")),
    ("another _meta key", lambda h: h, _call(ARGUMENTS, _meta={"progressToken": 1, "x": 2})),
    ("no Accept", lambda h: h | {"Accept": ""}, _call(ARGUMENTS)),
    ("Accept without JSON", lambda h: h | {"Accept": "text/event-stream"}, _call(ARGUMENTS)),
    ("no Content-Type", lambda h: h | {"Content-Type": ""}, _call(ARGUMENTS)),
    ("a form Content-Type", lambda h: h | {"Content-Type": "text/plain"}, _call(ARGUMENTS)),
    ("the modern protocol version", lambda h: h | {"MCP-Protocol-Version": "2026-07-28"}, _call(ARGUMENTS)),
    ("an unknown protocol version", lambda h: h | {"MCP-Protocol-Version": "1999-01-01"}, _call(ARGUMENTS)),
    ("a session id", lambda h: h | {"Mcp-Session-Id": "abc"}, _call(ARGUMENTS)),
    ("a batch", lambda h: h, [_call(ARGUMENTS)]),
    ("a notification", lambda h: h, {"jsonrpc": "2.0", "method": "notifications/initialized"}),
    ("tools/list", lambda h: h, {"jsonrpc": "2.0", "id": 3, "method": "tools/list"}),
    ("not JSON", lambda h: h, b'{"jsonrpc": "2.0", "id": 1, "method": "tools/call", '),
    ("a null id", lambda h: h, _call(ARGUMENTS, request_id=None)),
    (
        "a body over the SDK's limit",
        lambda h: h,
        json.dumps(_call(ARGUMENTS) | {"pad": "x" * 2**22}).encode(),
    ),
    ("no bearer", lambda h: h | {"Authorization": ""}, _call(ARGUMENTS)),
    ("a wrong bearer", lambda h: h | {"Authorization": "Bearer co_x_wrong"}, _call(ARGUMENTS)),
]


@pytest.mark.parametrize(("case", "change", "body"), PASSED_ON, ids=[case for case, _, _ in PASSED_ON])
async def test_what_the_fast_path_does_not_answer_goes_to_the_sdk(
    engine: Engine,
    estates: Estates,
    tmp_path: Path,
    case: str,
    change: Callable[[dict[str, str]], dict[str, str]],
    body: Any,
) -> None:
    headers = change({**HEADERS, "Authorization": f"Bearer {estates.a.keys['viewer']}"})
    async with _pair(engine, estates, tmp_path) as pair:
        await pair.post(pair.slow, _call(ARGUMENTS), {**HEADERS, **headers_auth(estates.a.keys["viewer"])})
        slow, fast, slow_rows, fast_rows = await _both(pair, body, headers)
        assert pair.answered() == 0, case
        assert fast.status_code == slow.status_code, (case, fast.text, slow.text)
        if fast.headers.get("content-type", "").startswith("application/json") and fast.content:
            # error texts and results match; a served cost call reports the cache's counters
            _same(slow, fast)
        else:
            assert fast.content == slow.content
        _same_rows(slow_rows, fast_rows)


async def _asgi_post(app: Starlette, chunks: list[bytes], headers: dict[str, str]) -> tuple[int, bytes]:
    """POST a body in ``chunks`` (ASGI messages with more_body) straight to the app: status and body."""
    pending: list[dict[str, Any]] = [
        {"type": "http.request", "body": chunk, "more_body": n < len(chunks) - 1}
        for n, chunk in enumerate(chunks)
    ]
    answer: dict[str, Any] = {"status": None, "body": b""}

    async def receive() -> dict[str, Any]:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()] + [(b"host", b"127.0.0.1")]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/mcp",
        "raw_path": b"/mcp",
        "root_path": "",
        "query_string": b"",
        "headers": raw,
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 5000),
    }
    await app(scope, receive, send)
    return answer["status"], answer["body"]


async def test_a_body_in_several_chunks_is_read_whole(
    engine: Engine, estates: Estates, tmp_path: Path
) -> None:
    headers = {**HEADERS, **headers_auth(estates.a.keys["viewer"])}
    body = json.dumps(_call(ARGUMENTS, request_id=77)).encode()
    chunks = [body[:10], body[10:40], b"", body[40:]]
    async with _pair(engine, estates, tmp_path) as pair:
        await pair.post(pair.slow, _call(ARGUMENTS), headers)
        slow = await _asgi_post(pair.slow, chunks, headers)
        fast = await _asgi_post(pair.fast, chunks, headers)
        assert slow[0] == fast[0] == 200
        assert _normal(fast[1]) == _normal(slow[1]) and pair.answered() == 1
        cut = await _asgi_post(pair.fast, [body[:10], body[10:40]], headers)  # the client went away
        assert pair.answered() == 1, cut


async def test_a_role_without_the_permission_is_refused_by_the_sdk_path(
    engine: Engine, estates: Estates, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cost_by_dimension made an admin-only tool: a viewer's call is refused alike and audited as denied."""
    real = catalog.catalog

    def restricted(**kwargs: Any) -> list[ToolSpec[Any, Any]]:
        return [
            dataclasses.replace(spec, permission="create:reports") if spec.name == TOOL else spec
            for spec in real(**kwargs)
        ]

    monkeypatch.setattr(catalog, "catalog", restricted)
    async with _pair(engine, estates, tmp_path) as pair:
        admin = {**HEADERS, **headers_auth(estates.a.keys["admin"])}
        assert (await pair.post(pair.slow, _call(ARGUMENTS), admin)).status_code == 200  # cached now
        viewer = {**HEADERS, **headers_auth(estates.a.keys["viewer"])}
        slow, fast, slow_rows, fast_rows = await _both(pair, _call(ARGUMENTS), viewer)
        _same(slow, fast)
        assert fast.json()["result"]["isError"] and "lacks permission" in fast.text
        assert [row.result for row in fast_rows] == ["denied"]
        _same_rows(slow_rows, fast_rows)
        assert pair.answered() == 0
        slow, fast, _, fast_rows = await _both(pair, _call(ARGUMENTS), admin)
        _same(slow, fast)
        assert pair.answered() == 1 and [row.result for row in fast_rows] == ["success"]


async def test_a_miss_is_counted_once_and_answered_by_the_tool(
    engine: Engine, estates: Estates, tmp_path: Path
) -> None:
    headers = {**HEADERS, **headers_auth(estates.a.keys["viewer"])}
    async with _pair(engine, estates, tmp_path) as pair:
        cache = pair.runtime.cache
        hits, misses = cache.hits, cache.misses
        first = await pair.post(pair.fast, _call({**ARGUMENTS, "limit": 3}), headers)
        assert first.status_code == 200, first.text
        assert first.json()["result"]["structuredContent"]["data"]["cached"] is False
        assert (cache.hits, cache.misses) == (hits, misses + 1), "the fast path's lookup is the only one"
        assert pair.answered() == 0
        again = await pair.post(pair.fast, _call({**ARGUMENTS, "limit": 3}), headers)
        assert again.json()["result"]["structuredContent"]["data"]["cached"] is True
        assert (cache.hits, cache.misses) == (hits + 1, misses + 1) and pair.answered() == 1


async def test_a_stateful_server_takes_no_fast_path(engine: Engine, estates: Estates, tmp_path: Path) -> None:
    headers = {**HEADERS, **headers_auth(estates.a.keys["viewer"])}
    async with _pair(engine, estates, tmp_path, stateful=True) as pair:
        initialize = {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"},
            },
        }
        for app in (pair.slow, pair.fast):
            opened = await pair.post(app, initialize, headers)
            assert opened.status_code == 200 and "mcp-session-id" in opened.headers
        slow = await pair.post(pair.slow, _call(ARGUMENTS), headers)
        fast = await pair.post(pair.fast, _call(ARGUMENTS), headers)
        assert (fast.status_code, fast.content) == (slow.status_code, slow.content) == (400, fast.content)
        assert not any(isinstance(layer, FastToolCalls) for layer in _layers(pair.fast))


def _layers(app: Starlette) -> list[Any]:
    found, layer = [], app.middleware_stack
    while layer is not None:
        found.append(layer)
        layer = getattr(layer, "app", None)
    return found


def test_the_switch_defaults_on() -> None:
    assert fast_calls_enabled(None, None) and fast_calls_enabled(None, "1")
    assert not fast_calls_enabled(None, "0") and not fast_calls_enabled(None, " Off ")
    assert not fast_calls_enabled(False, "1") and fast_calls_enabled(True, "0")
