"""The ``tag_resources`` policy action: which tags one resource gets from the organisation's tag policy.

Contract:
- Config (all optional): ``tags`` — ``{key: value}`` overriding the policy's ``default_value`` of required keys
  (keys name a required key in any of its spellings); ``keys`` — the required keys to apply (default: all).
- :func:`missing_tags` gives, for one resource's current tags, ``{canonical key: value}`` for every chosen
  required key the resource lacks (aliases and case variants honoured; a value outside ``allowed_values``
  counts as missing) that has a value (the config's, else the policy's default); keys with no value are left
  out. An empty result means no step for that resource.
- The step is the provider ``tag`` action, so its rollback (``untag`` of those keys, restoring any value they
  overwrote) and approval rules are the remediation flow's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cloudoptima.domain.tag_policy import TagPolicy, tag_key_problem


def tag_resources_problems(config: Mapping[str, Any], where: str) -> list[str]:
    """Every problem of a ``tag_resources`` config, each starting with ``where`` (``actions[0]``)."""
    problems = []
    unknown = sorted(set(config) - {"tags", "keys"})
    if unknown:
        problems.append(f"{where}.config: unknown option(s) {', '.join(unknown)}; known: tags, keys")
    tags = config.get("tags", {})
    if not isinstance(tags, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in tags.items()
    ):
        problems.append(f"{where}.config.tags: must be a {{str: str}} mapping of non-blank values")
    else:
        for key in tags:
            problem = tag_key_problem(key)
            if problem is not None:
                problems.append(f"{where}.config.tags: {problem}")
    keys = config.get("keys")
    if keys is not None and not (isinstance(keys, list) and keys and all(isinstance(k, str) for k in keys)):
        problems.append(f"{where}.config.keys: must be a non-empty list of tag keys")
    return problems


def missing_tags(
    policy: TagPolicy, config: Mapping[str, Any], current: Mapping[str, Any] | None
) -> dict[str, str]:
    """The tags to apply to a resource carrying ``current`` (see module contract)."""
    chosen = config.get("keys")
    wanted = None if chosen is None else {key for key in (policy.rule(k) for k in chosen) if key is not None}
    overrides: dict[str, str] = {}
    for key, value in dict(config.get("tags") or {}).items():
        rule = policy.rule(key)
        if rule is not None:
            overrides[rule.key] = value
    result: dict[str, str] = {}
    for rule in policy.required:
        if wanted is not None and rule not in wanted:
            continue
        if rule.value_in(current) is not None:
            continue
        value = overrides.get(rule.key, rule.default_value)
        if value is not None and rule.accepts(value):
            result[rule.key] = value
    return result
