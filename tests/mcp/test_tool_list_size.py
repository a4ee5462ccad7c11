"""The ``tools/list`` a client pays for before its first question: every server's default within 8k tokens,
measured as ``benchmarks/mcp_tool_list.py`` measures it (wire JSON, MiniLM tokenizer)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.orm import sessionmaker

from cloudoptima_mcp.listing import TOKEN_BUDGET, count_tokens, measure, tools_list_json
from cloudoptima_mcp.runtime import Runtime
from cloudoptima_mcp.server import SERVER_NAMES, build_server
from cloudoptima_mcp.toolsets import DEFAULTS, parse_toolsets, tools_in
from cloudoptima_tools import catalog


def _runtime() -> Runtime:
    return Runtime(session_factory=sessionmaker())  # listing tools never opens a session


@pytest.mark.parametrize("name", SERVER_NAMES)
async def test_default_tools_list_is_within_the_token_budget(name: str) -> None:
    size = await measure(build_server(name, _runtime(), toolsets=parse_toolsets(name, None)))
    specs = catalog.catalog() if name == "platform" else catalog.for_provider()
    assert size.tools == len(tools_in(specs, DEFAULTS[name])) > 0
    assert size.tokens <= TOKEN_BUDGET, (name, size)


async def test_every_tool_keeps_what_a_model_needs_to_call_it() -> None:
    listing = json.loads(await tools_list_json(build_server("platform", _runtime())))
    for tool in listing["tools"]:
        annotations = tool["annotations"]
        assert {"readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"} <= set(annotations)
        assert "Example:" in tool["description"]
        assert tool["outputSchema"]["type"] == "object" and tool["outputSchema"]["properties"]
        for name, prop in tool["inputSchema"]["properties"].items():
            assert "title" not in prop and prop.get("default", 0) is not None, (tool["name"], name)
            assert "type" in prop or "anyOf" in prop or "enum" in prop, (tool["name"], name)
    by_name = {t["name"]: t for t in listing["tools"]}
    limit = by_name["cost_by_dimension"]["inputSchema"]["properties"]["limit"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 500, 50)
    assert by_name["request_remediation"]["annotations"]["readOnlyHint"] is False


def test_the_tokenizer_is_a_real_one() -> None:
    """WordPiece splits punctuation: the count is above the characters/4 estimate on schema JSON."""
    text = '{"type":"object","properties":{"limit":{"type":"integer","minimum":1}}}'
    assert count_tokens(text) > len(text) / 4
    assert count_tokens("") == 0
