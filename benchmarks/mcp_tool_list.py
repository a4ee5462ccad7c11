"""Size of every MCP server's ``tools/list``: what a client puts in its model's context before the first question.

For each server (aws, azure, gcp, platform), with its default toolsets and with ``--toolsets all``: the number
of tools, the UTF-8 bytes of the ``tools/list`` result as sent on the wire, and its tokens counted by the
all-MiniLM-L6-v2 WordPiece tokenizer (:mod:`cloudoptima_mcp.listing`, the measure the test
``tests/mcp/test_tool_list_size.py`` enforces), beside the characters / 4 estimate. Target: every default
≤ 8,000 tokens. Needs no database (listing tools opens no session).
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from sqlalchemy.orm import sessionmaker

from benchmarks._support import report
from cloudoptima_mcp.listing import TOKEN_BUDGET, TOKENIZER, measure, tools_list_json
from cloudoptima_mcp.runtime import Runtime
from cloudoptima_mcp.server import SERVER_NAMES, build_server
from cloudoptima_mcp.toolsets import DEFAULTS, offered
from cloudoptima_tools.spec import estimate_tokens


async def _measure() -> dict[str, Any]:
    runtime = Runtime(session_factory=sessionmaker())
    servers: dict[str, Any] = {}
    for name in SERVER_NAMES:
        entry: dict[str, Any] = {}
        for label, toolsets in (("default", DEFAULTS[name]), ("all", offered(name))):
            server = build_server(name, runtime, toolsets=toolsets)
            size = await measure(server)
            text = await tools_list_json(server)
            entry[label] = {
                "toolsets": list(toolsets),
                "tools": size.tools,
                "bytes": size.bytes,
                "tokens": size.tokens,
                "chars_div_4": estimate_tokens(text),
            }
        servers[name] = entry
    return servers


def main() -> None:
    argparse.ArgumentParser(description=__doc__).parse_args()
    servers = asyncio.run(_measure())
    result = {
        "tokenizer": TOKENIZER,
        "token_budget": TOKEN_BUDGET,
        "servers": servers,
        "targets": {"default_tokens": f"<= {TOKEN_BUDGET}"},
    }
    rows: list[tuple[str, str]] = []
    for name, entry in servers.items():
        for label in ("default", "all"):
            size = entry[label]
            rows.append(
                (
                    f"{name} {label} ({size['tools']} tools)",
                    f"{size['bytes']:,} B, {size['tokens']:,} tokens (chars/4 {size['chars_div_4']:,})",
                )
            )
    report("mcp_tool_list", rows, result)


if __name__ == "__main__":
    main()
