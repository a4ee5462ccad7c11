"""Tag governance: an organisation's required tag keys, their optional allowed values and key aliases.

Contract:
- Tag keys compare *normalised* (:func:`normalise_tag_key`: lower case, letters and digits only — the same
  normalisation as allocation rules' ``domain.allocation.normalise_key``), so ``Env``, ``ENV`` and ``env`` are
  one key, and so are ``cost-center``, ``cost_center`` and ``CostCenter``; a rule's ``aliases`` add other
  spellings (``environment`` for ``env``). :func:`tag_value` is the one lookup every reader shares (coverage, the tag action, allocation
  rules): the value of the first tag whose normalised key is the rule key or one of its aliases, in that
  order (the canonical spelling wins over an alias), empty values counting as absent.
- A tag key is 1–128 characters of letters, digits, spaces and ``_ . : / = + - @`` (the set every provider
  accepts) with at least one letter or digit, without surrounding spaces and not in the providers' reserved
  ``aws:`` prefix.
- A :class:`TagPolicy` lists at most 50 required keys; no two rules (keys or aliases) may share a normalised
  spelling. ``allowed_values`` (compared case-insensitively) makes a value outside the list count as missing.
- Invalid input raises ``ValueError``; a problem below the validated field starts its message with the path
  (``aliases[1]: …``, ``required[1].key: …``) so callers can name the exact field (:func:`error_field`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cloudoptima.domain.allocation import normalise_key

_KEY = re.compile(r"^[\w .:/=+\-@]{1,128}$")


_PATH = re.compile(r"^([A-Za-z_]+(?:\[\d+\])*(?:\.[A-Za-z_]+(?:\[\d+\])*)*): (.*)$", re.S)


def error_field(loc: tuple[int | str, ...], message: str) -> tuple[str, str]:
    """``(field path, message)`` of one pydantic error of a :class:`TagPolicy`: the location as a path
    (``required[0].aliases``), refined by a path the message starts with (``aliases[1]: …`` →
    ``required[0].aliases[1]``; ``required[1].key: …`` → ``required[1].key``)."""
    message = message.removeprefix("Value error, ")
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    found = _PATH.match(message)
    if found is None:
        return path or "required", message
    prefix, rest = found.group(1), found.group(2)
    if prefix.startswith("required"):
        return prefix, rest
    name = re.split(r"[.\[]", prefix, maxsplit=1)[0]
    if path.endswith(f".{name}"):
        return path[: -len(name)] + prefix, rest
    return (f"{path}.{prefix}" if path else prefix), rest


def normalise_tag_key(key: str) -> str:
    """The spelling-insensitive form of a tag key (lower case, letters and digits only): allocation rules'
    :func:`cloudoptima.domain.allocation.normalise_key`, so both read a key the same way."""
    return normalise_key(key)


def tag_key_problem(key: str) -> str | None:
    """Why ``key`` cannot be a tag key, or None (see module contract)."""
    if not isinstance(key, str) or not key:
        return "must be a non-empty string"
    if key != key.strip():
        return f"{key!r} has surrounding spaces"
    if not _KEY.match(key):
        return f"{key!r} must be 1-128 letters, digits, spaces or _ . : / = + - @"
    if not normalise_tag_key(key):
        return f"{key!r} needs at least one letter or digit"
    if key.casefold().startswith("aws:"):
        return f"{key!r} uses the reserved aws: prefix"
    return None


def tag_value(tags: Mapping[str, Any] | None, key: str, aliases: tuple[str, ...] = ()) -> str | None:
    """The value ``tags`` give ``key`` (or, failing that, one of its ``aliases``), or None."""
    if not tags:
        return None
    by_key: dict[str, str] = {}
    for raw_key, raw_value in tags.items():
        if raw_value is None or str(raw_value).strip() == "":
            continue
        by_key.setdefault(normalise_tag_key(str(raw_key)), str(raw_value))
    for candidate in (key, *aliases):
        found = by_key.get(normalise_tag_key(candidate))
        if found is not None:
            return found
    return None


class RequiredTag(BaseModel):
    """One required tag key with its spelling variants and, optionally, the values it may take."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(description="The canonical tag key, e.g. 'team'.")
    aliases: tuple[str, ...] = Field(
        default=(),
        max_length=20,
        description="Other spellings counted as this key, e.g. 'Team', 'owner-team'.",
    )
    allowed_values: tuple[str, ...] | None = Field(
        default=None,
        max_length=200,
        description="When set, other values count as missing (case-insensitive).",
    )
    default_value: str | None = Field(
        default=None, max_length=256, description="The value the tag action applies when this key is missing."
    )

    @field_validator("key")
    @classmethod
    def _key_ok(cls, value: str) -> str:
        problem = tag_key_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("aliases")
    @classmethod
    def _aliases_ok(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for index, alias in enumerate(value):
            problem = tag_key_problem(alias)
            if problem is not None:
                raise ValueError(f"aliases[{index}]: {problem}")
        return value

    @field_validator("allowed_values")
    @classmethod
    def _values_ok(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None:
            if not value:
                raise ValueError("must list at least one value (or be null for any value)")
            for index, item in enumerate(value):
                if not item.strip() or len(item) > 256:
                    raise ValueError(f"allowed_values[{index}]: must be 1-256 characters, not blank")
        return value

    @model_validator(mode="after")
    def _default_allowed(self) -> RequiredTag:
        if self.default_value is not None:
            if not self.default_value.strip():
                raise ValueError("default_value: must not be blank")
            if not self.accepts(self.default_value):
                raise ValueError("default_value: must be one of allowed_values")
        return self

    def accepts(self, value: str) -> bool:
        """Whether ``value`` is an allowed value of this key (any value when none are listed)."""
        if self.allowed_values is None:
            return True
        return value.strip().casefold() in {v.strip().casefold() for v in self.allowed_values}

    def value_in(self, tags: Mapping[str, Any] | None) -> str | None:
        """The compliant value ``tags`` give this key (aliases honoured), or None when missing or not allowed."""
        value = tag_value(tags, self.key, self.aliases)
        return value if value is not None and self.accepts(value) else None


class TagPolicy(BaseModel):
    """An organisation's tag policy (``organizations.settings["tag_policy"]``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    required: tuple[RequiredTag, ...] = Field(default=(), max_length=50)

    @model_validator(mode="after")
    def _no_shared_spelling(self) -> TagPolicy:
        seen: dict[str, str] = {}
        for index, rule in enumerate(self.required):
            spellings = [("key", rule.key)] + [(f"aliases[{i}]", a) for i, a in enumerate(rule.aliases)]
            for field, spelling in spellings:
                norm = normalise_tag_key(spelling)
                here = f"required[{index}].{field}"
                if norm in seen and not seen[norm].startswith(f"required[{index}]."):
                    raise ValueError(f"{here}: {spelling!r} is already {seen[norm]}")
                seen.setdefault(norm, here)
        return self

    def rule(self, key: str) -> RequiredTag | None:
        """The rule of ``key`` (any spelling of it or of its aliases), or None."""
        norm = normalise_tag_key(key)
        for rule in self.required:
            if norm in {normalise_tag_key(s) for s in (rule.key, *rule.aliases)}:
                return rule
        return None

    def missing(self, tags: Mapping[str, Any] | None) -> list[str]:
        """The required keys ``tags`` lack (or carry with a value not allowed), in policy order."""
        return [rule.key for rule in self.required if rule.value_in(tags) is None]

    @classmethod
    def of(cls, settings: Mapping[str, Any] | None) -> TagPolicy:
        """The policy stored in an organisation's settings JSON (none stored, or unreadable: no rules)."""
        raw = (settings or {}).get("tag_policy")
        if not isinstance(raw, Mapping):
            return cls()
        try:
            return cls.model_validate(dict(raw))
        except ValueError:
            return cls()
