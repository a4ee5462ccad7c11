"""Toolsets: every tool in exactly one, each server's default, explicit choices, ``all``, unknown names refused;
and the compact schemas that make the listing small (loosened, never tightened)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fastmcp import Client
from pydantic import BaseModel, Field
from sqlalchemy.orm import sessionmaker

from cloudoptima.settings import load_settings
from cloudoptima_mcp.runtime import Runtime
from cloudoptima_mcp.schemas import compact_input, compact_output
from cloudoptima_mcp.server import SERVER_NAMES, build_server, http_server, parse_arguments
from cloudoptima_mcp.toolsets import (
    DEFAULTS,
    ENV_VAR,
    TOOLSETS,
    UnknownToolsetError,
    offered,
    parse_toolsets,
    requested_toolsets,
)
from cloudoptima_tools import catalog


def _runtime() -> Runtime:
    return Runtime(session_factory=sessionmaker())  # listing tools never opens a session


async def _listed(name: str, **kwargs: Any) -> set[str]:
    async with Client(build_server(name, _runtime(), **kwargs)) as client:
        return {tool.name for tool in await client.list_tools()}


def _tools_of(*toolsets: str) -> set[str]:
    return {tool for name in toolsets for tool in TOOLSETS[name].tools}


def test_every_catalog_tool_is_in_exactly_one_toolset() -> None:
    counts = Counter(tool for toolset in TOOLSETS.values() for tool in toolset.tools)
    assert set(counts) == {spec.name for spec in catalog.catalog()}
    assert set(counts.values()) == {1}


def test_cloud_servers_offer_only_cloud_scoped_toolsets() -> None:
    for name in ("aws", "azure", "gcp"):
        assert offered(name) == ("cost", "compute", "storage", "iam")
    assert offered("platform") == tuple(TOOLSETS)


@pytest.mark.parametrize("name", SERVER_NAMES)
async def test_default_toolsets(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert parse_toolsets(name, None) == parse_toolsets(name, " ") == DEFAULTS[name]
    assert requested_toolsets(name, None) == DEFAULTS[name]
    assert set(DEFAULTS[name]) < set(offered(name))
    assert await _listed(name, toolsets=requested_toolsets(name, None)) == _tools_of(*DEFAULTS[name])


async def test_explicit_toolsets_in_catalog_order() -> None:
    assert parse_toolsets("platform", "budgets, COST") == ("cost", "budgets")
    assert await _listed("platform", toolsets=["budgets", "cost"]) == _tools_of("cost", "budgets")
    assert await _listed("gcp", toolsets=["iam"]) == _tools_of("iam")


async def test_all_lists_every_tool_of_the_server() -> None:
    assert parse_toolsets("aws", "all") == offered("aws")
    assert parse_toolsets("platform", "cost,all") == offered("platform")
    assert await _listed("platform", toolsets=["all"]) == {s.name for s in catalog.catalog()}
    assert await _listed("azure", toolsets=["all"]) == {s.name for s in catalog.for_provider()}
    assert await _listed("platform") == {s.name for s in catalog.catalog()}, "build_server without toolsets"


async def test_read_only_applies_within_the_toolsets() -> None:
    listed = await _listed("platform", toolsets=["remediation"], read_only=True)
    assert listed == {"remediation_executions", "pending_approvals", "get_execution"}


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [("platform", "cost,nope", "'nope'"), ("aws", "budgets", "'budgets'"), ("gcp", "Storage,iamx", "'iamx'")],
)
def test_unknown_toolset_is_refused_naming_it_and_the_valid_ones(name: str, value: str, named: str) -> None:
    with pytest.raises(UnknownToolsetError) as refused:
        parse_toolsets(name, value)
    message = str(refused.value)
    assert named in message and name in message
    assert f"valid: {', '.join(offered(name))} (or all)" in message
    with pytest.raises(UnknownToolsetError):
        build_server(name, _runtime(), toolsets=value.split(","))


def test_command_line_flag_then_environment_then_default(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    args, toolsets = parse_arguments("aws", ["--transport", "http", "--toolsets", "iam,cost"])
    assert args.transport == "http" and toolsets == ("cost", "iam")
    assert parse_arguments("aws", [])[1] == DEFAULTS["aws"]
    monkeypatch.setenv(ENV_VAR, "storage")
    assert parse_arguments("aws", [])[1] == ("storage",)
    assert parse_arguments("aws", ["--toolsets", "all"])[1] == offered("aws")
    with pytest.raises(SystemExit) as exited:
        parse_arguments("aws", ["--toolsets", "budgets"])
    assert exited.value.code == 2
    assert "unknown toolset 'budgets' for the aws MCP server; valid: cost, compute, storage, iam" in (
        capsys.readouterr().err
    )


async def test_http_server_reads_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = load_settings(jwt_secret="toolsets-test-secret-0123456789abcdef01", state_dir=str(tmp_path))
    monkeypatch.setenv(ENV_VAR, "budgets,anomalies")
    server = http_server("platform", settings, _runtime())
    assert "Toolsets listed: anomalies, budgets (of cost, compute," in (server.instructions or "")
    async with Client(server) as client:
        assert {t.name for t in await client.list_tools()} == _tools_of("anomalies", "budgets")
    monkeypatch.setenv(ENV_VAR, "everything")
    with pytest.raises(UnknownToolsetError, match="'everything'"):
        http_server("platform", settings, _runtime())


# ---- compact schemas -----------------------------------------------------------------------------------


class _Row(BaseModel):
    title: str = Field(description="A field named like a keyword.")
    score: float | None


class _Nested(BaseModel):
    rows: list[_Row]
    best: _Row | None = None
    kind: str | None = Field(default=None, description="Optional.")
    limit: int = Field(default=50, ge=1, le=500, description="Rows per page.")


def test_compact_input_drops_noise_and_keeps_what_calls_need() -> None:
    compact = compact_input(_Nested.model_json_schema())
    assert "title" not in compact
    kind = compact["properties"]["kind"]
    assert kind == {"type": "string", "description": "Optional."}
    assert compact["properties"]["limit"] == {
        "default": 50,
        "description": "Rows per page.",
        "maximum": 500,
        "minimum": 1,
        "type": "integer",
    }
    assert compact["required"] == ["rows"]
    row = compact["properties"]["rows"]["items"]
    assert set(row["properties"]) == {"title", "score"}, "a property named title stays"
    assert "$defs" not in compact and "$ref" not in str(compact)


def test_compact_output_only_loosens() -> None:
    full = _Nested.model_json_schema()
    compact = compact_output(full)
    assert compact == {
        "type": "object",
        "properties": {
            "rows": {"type": "array", "items": {"type": "object"}},
            "best": {"type": ["object", "null"]},
            "kind": {"type": ["string", "null"]},
            "limit": {"type": "integer"},
        },
    }
    samples = [
        _Nested(rows=[_Row(title="a", score=None)], best=None),
        _Nested(rows=[], best=_Row(title="b", score=1.5), kind="x", limit=7),
    ]
    for sample in samples:
        jsonschema.validate(sample.model_dump(mode="json"), full)
        jsonschema.validate(sample.model_dump(mode="json"), compact)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"rows": "not a list"}, compact)
