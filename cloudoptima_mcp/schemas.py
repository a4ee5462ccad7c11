"""Compact JSON schemas for ``tools/list``: what a model needs to call a tool and read its result, nothing else.

Contract (pure functions over JSON-schema dicts; the input is never modified):
- :func:`compact_input` keeps every property, type, enum, format, bound, description, non-null default and
  ``required``; it drops what pydantic emits as noise: ``title`` keywords, ``default: null``, and the
  ``null`` branch of an optional argument (``anyOf: [X, {"type": "null"}]`` with a null default becomes
  ``X``: leaving the argument out means null).
- :func:`compact_output` keeps the top-level shape of a result: every field with its type, format and enum,
  arrays with their item type; nested objects (rows of ``items`` included) are just ``object``: their fields
  arrive with the result. A nullable value is one schema with ``type: [X, "null"]``. It only loosens: every
  output valid against the full schema is valid against the compact one.
- ``properties`` maps are walked as maps (a property named ``title`` or ``default`` stays).
- Both first inline local ``$ref``s (as FastMCP does before sending: some clients cannot follow them), so a
  nullable nested model collapses like any other nullable value.
"""

from __future__ import annotations

from typing import Any

from fastmcp.utilities.json_schema import dereference_refs

_SCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_VALUES = ("items", "additionalProperties", "not")
_OUTPUT_DROPPED = frozenset({"title", "description", "default", "required", "examples"})


def _nullable_branch(schema: dict[str, Any]) -> dict[str, Any] | None:
    """X of ``anyOf: [X, {"type": "null"}]`` (either order) when X has one plain ``type``, else None."""
    branches = schema.get("anyOf")
    if not isinstance(branches, list) or len(branches) != 2 or {"type": "null"} not in branches:
        return None
    other = branches[0] if branches[1] == {"type": "null"} else branches[1]
    if not isinstance(other, dict) or not isinstance(other.get("type"), str) or "anyOf" in other:
        return None
    return other


def _walk(schema: Any, node: Any) -> Any:
    """Apply ``node`` (a per-schema rewrite) to every sub-schema, children first."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: _walk(sub, node) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [_walk(sub, node) for sub in value]
        elif key in _SCHEMA_VALUES and isinstance(value, dict):
            out[key] = _walk(value, node)
        else:
            out[key] = value
    return node(out)


def _input_node(schema: dict[str, Any]) -> dict[str, Any]:
    schema = {k: v for k, v in schema.items() if k != "title"}
    if "default" in schema and schema["default"] is None:
        branch = _nullable_branch(schema)
        schema = {k: v for k, v in schema.items() if k != "default"}
        if branch is not None:
            rest = {k: v for k, v in schema.items() if k != "anyOf"}
            schema = {**branch, **rest}
    return schema


def _output_node(schema: dict[str, Any]) -> dict[str, Any]:
    schema = {k: v for k, v in schema.items() if k not in _OUTPUT_DROPPED}
    if schema.get("additionalProperties") is False:
        del schema["additionalProperties"]
    if schema.get("additionalProperties") is True and schema.get("type") == "object":
        del schema["additionalProperties"]
    branch = _nullable_branch(schema)
    if branch is not None:
        merged = {**{k: v for k, v in schema.items() if k != "anyOf"}, **branch}
        merged["type"] = [branch["type"], "null"]
        if "enum" in merged:
            merged["enum"] = [*merged["enum"], None]
        schema = merged
    return schema


def compact_input(schema: dict[str, Any]) -> dict[str, Any]:
    """The input schema a model needs to call the tool (see module contract)."""
    result: dict[str, Any] = _walk(dereference_refs(schema), _input_node)
    return result


def _shape(schema: dict[str, Any]) -> dict[str, Any]:
    """Type, format and enum of a value; an array's item type; an object's fields dropped."""
    if isinstance(schema.get("anyOf"), list):
        return {"anyOf": [_shape(branch) for branch in schema["anyOf"] if isinstance(branch, dict)]}
    shape: dict[str, Any] = {key: schema[key] for key in ("type", "format", "enum") if key in schema}
    if isinstance(schema.get("items"), dict):
        shape["items"] = _shape(schema["items"])
    return shape


def compact_output(schema: dict[str, Any]) -> dict[str, Any]:
    """The top-level shape of the tool's result, loosened never tightened (see module contract)."""
    full = _walk(dereference_refs(schema), _output_node)
    fields = full.get("properties", {})
    return {"type": "object", "properties": {name: _shape(sub) for name, sub in fields.items()}}
