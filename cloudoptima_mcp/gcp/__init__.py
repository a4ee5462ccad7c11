"""The gcp MCP server: gcp cost, compute and storage tools (provider fixed), resources and prompts."""

from __future__ import annotations

from collections.abc import Sequence

from cloudoptima_mcp.server import main as _main


def main(argv: Sequence[str] | None = None) -> None:
    """Run the gcp server (``--transport stdio|http --read-only --toolsets --port``)."""
    _main("gcp", argv)
