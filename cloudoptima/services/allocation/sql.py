"""A :class:`~cloudoptima.domain.allocation.RuleSet` compiled to SQL over ``cost_data c`` (see the domain module
for the matching contract).

:func:`compile_rule_set` gives the expression of a row's value (first matching rule, else ``unallocated``),
the expression of its shared-rule index (-1 when no shared rule matches) and, when any rule reads tags, the
``LEFT JOIN LATERAL`` that exposes ``t.nt``: the row's tags with normalised keys (aliases applied) and
lower-cased values. All literals are bound parameters (prefix ``a``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cloudoptima.domain.allocation import (
    UNALLOCATED,
    RuleMatch,
    RuleSet,
    alias_map,
    normalise_key,
    normalise_value,
)

TAG_JOIN = """
LEFT JOIN LATERAL (
    SELECT jsonb_object_agg(k, v) AS nt FROM (
        SELECT COALESCE(CAST(:a_aliases AS jsonb) ->> n.nk, n.nk) AS k, lower(btrim(e.value)) AS v
        FROM jsonb_each_text(COALESCE(c.tags, '{}'::jsonb)) AS e,
             LATERAL (SELECT lower(regexp_replace(e.key, '[^[:alnum:]]', '', 'g')) AS nk) AS n
    ) AS x
) AS t ON true
"""


def glob_to_like(pattern: str) -> str:
    """A ``*``/``?`` glob as a LIKE pattern (``%``, ``_`` and ``\\`` escaped)."""
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


@dataclass
class CompiledRules:
    value_sql: str
    shared_sql: str
    tag_join: str
    params: dict[str, Any] = field(default_factory=dict)


class _Compiler:
    def __init__(self) -> None:
        self.params: dict[str, Any] = {}
        self.uses_tags = False

    def bind(self, value: Any) -> str:
        name = f"a{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def match(self, match: RuleMatch) -> str:
        parts: list[str] = []
        if match.accounts:
            p = self.bind(list(match.accounts))
            parts.append(f"(c.billing_account_id = ANY({p}) OR c.sub_account_id = ANY({p}))")
        if match.providers:
            parts.append(f"lower(c.provider) = ANY({self.bind([v.lower() for v in match.providers])})")
        if match.services:
            parts.append(f"c.service_name = ANY({self.bind(list(match.services))})")
        if match.regions:
            p = self.bind(list(match.regions))
            parts.append(f"(c.region_id = ANY({p}) OR c.region_name = ANY({p}))")
        for condition in match.tags:
            self.uses_tags = True
            key = self.bind(normalise_key(condition.key))
            if condition.values:
                values = self.bind([normalise_value(v) for v in condition.values])
                parts.append(f"(t.nt ->> CAST({key} AS text)) = ANY({values})")
            else:
                parts.append(f"(t.nt ->> CAST({key} AS text)) IS NOT NULL")
        if match.resource_id_patterns:
            likes = self.bind([glob_to_like(p) for p in match.resource_id_patterns])
            parts.append(f"c.resource_id ILIKE ANY({likes})")
        if match.resource_types:
            likes = self.bind([glob_to_like(p) for p in match.resource_types])
            parts.append(f"c.resource_type ILIKE ANY({likes})")
        return " AND ".join(parts) if parts else "TRUE"


def compile_rule_set(rule_set: RuleSet) -> CompiledRules:
    """The SQL of ``rule_set`` (module docstring)."""
    compiler = _Compiler()
    arms: list[str] = []
    for rule in rule_set.rules:
        condition = compiler.match(rule.match)
        if rule.value_from_tag is not None:
            compiler.uses_tags = True
            key = compiler.bind(normalise_key(rule.value_from_tag))
            tag_value = f"NULLIF(t.nt ->> CAST({key} AS text), '')"
            arms.append(f"WHEN ({condition}) AND {tag_value} IS NOT NULL THEN {tag_value}")
        else:
            assert rule.value is not None  # validated: exactly one of value and value_from_tag
            arms.append(f"WHEN {condition} THEN CAST({compiler.bind(rule.value)} AS text)")
    unallocated = compiler.bind(UNALLOCATED)
    value_sql = (
        f"CASE {' '.join(arms)} ELSE CAST({unallocated} AS text) END"
        if arms
        else f"CAST({unallocated} AS text)"
    )
    shared_arms = [f"WHEN {compiler.match(s.match)} THEN {i}" for i, s in enumerate(rule_set.shared)]
    shared_sql = f"CASE {' '.join(shared_arms)} ELSE -1 END" if shared_arms else "-1"
    tag_join = ""
    if compiler.uses_tags:
        compiler.params["a_aliases"] = json.dumps(alias_map(rule_set))
        tag_join = TAG_JOIN
    return CompiledRules(value_sql, shared_sql, tag_join, compiler.params)
