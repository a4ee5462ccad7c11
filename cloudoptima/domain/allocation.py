"""Allocation dimensions ("virtual tags"): ordered rules that assign every cost row one value of a dimension
(team, product, environment …), and shared-cost rules that split shared rows over those values.

Contract (pure: no I/O; :mod:`cloudoptima.services.allocation` stores rule sets and computes the allocated
rollup in SQL):
- A :class:`RuleSet` holds ``rules`` (ordered; the FIRST rule whose :class:`RuleMatch` holds assigns the row
  its ``value``) and ``shared`` (ordered; see below). A row no rule matches gets :data:`UNALLOCATED`.
- :class:`RuleMatch`: every condition given must hold (AND); a list condition holds when the row's field is
  one of the list (OR); an empty match holds for every row. ``accounts`` are billing or sub account ids;
  ``providers``/``services``/``regions`` compare exactly as stored (providers case-insensitively);
  ``resource_id_patterns``/``resource_types`` are ``*``/``?`` globs (case-insensitive).
- Tags are normalised: a key is compared by :func:`normalise_key` (lower case, only letters and digits: ``Env``,
  ``ENV``, ``e-n-v`` are one key) and then mapped through the rule set's ``tag_aliases`` (``environment:
  [env, stage]`` makes ``Env`` and ``stage`` read as ``environment``); values compare case-insensitively
  (:func:`normalise_value`). A :class:`TagCondition` with no ``values`` holds when the key is present.
- A rule may take its value from a tag (``value_from_tag``): the row's normalised value of that key; the rule
  does not match a row without the tag.
- :class:`SharedCostRule`: rows matching ``match`` (checked before the ordinary rules) are shared. Their cost
  is split per day and currency over ``targets`` (default: every allocated value of that day except
  ``unallocated``) ``proportional`` to each target's own (non-shared) allocated cost that day, ``even``-ly,
  or by ``fixed`` percentages (``percentages``, summing to exactly 100). When a proportional split has no
  positive weight it falls back to an even split over explicit targets, or stays ``unallocated``.
- Splits are exact: :func:`split_exact` gives parts that sum to the amount exactly (largest remainder at the
  amount's own precision, never coarser than a cent), so allocated totals equal the unallocated total.
- Invalid rule sets raise :class:`AllocationRuleError` naming the path (``rules[2].match.tags[0].key``).
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

UNALLOCATED: Final = "unallocated"
MAX_RULES: Final = 500
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
SplitMethod = Literal["proportional", "even", "fixed"]


class AllocationRuleError(ValueError):
    """A rule set or dimension is invalid; ``field`` names where (``rules[2].value``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def normalise_key(key: str) -> str:
    """A tag key compared across spellings: lower case, letters and digits only (``Cost-Center`` → ``costcenter``)."""
    return "".join(ch for ch in key.lower() if ch.isalnum())


def normalise_value(value: str) -> str:
    """A tag value compared case-insensitively, surrounding blanks ignored."""
    return value.strip().lower()


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TagCondition(_Model):
    key: str = Field(min_length=1, max_length=128)
    values: tuple[str, ...] = ()

    @field_validator("key")
    @classmethod
    def _key(cls, key: str) -> str:
        if not normalise_key(key):
            raise ValueError("must contain a letter or digit")
        return key


class RuleMatch(_Model):
    accounts: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    tags: tuple[TagCondition, ...] = ()
    resource_id_patterns: tuple[str, ...] = ()
    resource_types: tuple[str, ...] = ()


class AllocationRule(_Model):
    value: str | None = Field(default=None, min_length=1, max_length=200)
    value_from_tag: str | None = Field(default=None, min_length=1, max_length=128)
    match: RuleMatch = RuleMatch()


class SharedCostRule(_Model):
    name: str = Field(min_length=1, max_length=200)
    match: RuleMatch
    method: SplitMethod = "proportional"
    targets: tuple[str, ...] = ()
    percentages: tuple[Decimal, ...] = ()


class RuleSet(_Model):
    rules: tuple[AllocationRule, ...] = ()
    shared: tuple[SharedCostRule, ...] = ()
    tag_aliases: dict[str, tuple[str, ...]] = Field(default_factory=dict)


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_rule_set(data: object) -> RuleSet:
    """Validate ``data`` (JSON-shaped) into a :class:`RuleSet`; :class:`AllocationRuleError` names the field."""
    try:
        rule_set = RuleSet.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise AllocationRuleError(_path(tuple(first["loc"])) or "rule_set", first["msg"]) from exc
    validate_rule_set(rule_set)
    return rule_set


def validate_rule_set(rule_set: RuleSet) -> None:
    """Checks beyond the field types (pydantic): raise :class:`AllocationRuleError` naming the field."""
    if len(rule_set.rules) > MAX_RULES:
        raise AllocationRuleError("rules", f"at most {MAX_RULES} rules")
    for index, rule in enumerate(rule_set.rules):
        where = f"rules[{index}]"
        if (rule.value is None) == (rule.value_from_tag is None):
            raise AllocationRuleError(f"{where}.value", "give exactly one of value and value_from_tag")
        if rule.value is not None and not rule.value.strip():
            raise AllocationRuleError(f"{where}.value", "must not be blank")
        if rule.value_from_tag is not None and not normalise_key(rule.value_from_tag):
            raise AllocationRuleError(f"{where}.value_from_tag", "must contain a letter or digit")
        _check_match(rule.match, f"{where}.match")
    for index, shared in enumerate(rule_set.shared):
        where = f"shared[{index}]"
        _check_match(shared.match, f"{where}.match")
        if UNALLOCATED in shared.targets:
            raise AllocationRuleError(f"{where}.targets", f"{UNALLOCATED!r} cannot be a target")
        if len(set(shared.targets)) != len(shared.targets):
            raise AllocationRuleError(f"{where}.targets", "targets must be distinct")
        if shared.method == "fixed":
            if not shared.targets or len(shared.percentages) != len(shared.targets):
                raise AllocationRuleError(f"{where}.percentages", "one percentage per target is required")
            if any(p < 0 for p in shared.percentages):
                raise AllocationRuleError(f"{where}.percentages", "percentages must not be negative")
            if sum(shared.percentages, Decimal(0)) != 100:
                raise AllocationRuleError(f"{where}.percentages", "percentages must sum to exactly 100")
        elif shared.percentages:
            raise AllocationRuleError(f"{where}.percentages", "only a fixed split takes percentages")
        if shared.method == "even" and not shared.targets:
            raise AllocationRuleError(f"{where}.targets", "an even split needs its targets")
    for canonical, aliases in rule_set.tag_aliases.items():
        if not normalise_key(canonical) or any(not normalise_key(alias) for alias in aliases):
            raise AllocationRuleError(f"tag_aliases.{canonical}", "keys must contain a letter or digit")


def _check_match(match: RuleMatch, where: str) -> None:
    for name in ("accounts", "providers", "services", "regions", "resource_id_patterns", "resource_types"):
        values: tuple[str, ...] = getattr(match, name)
        for index, value in enumerate(values):
            if not value:
                raise AllocationRuleError(f"{where}.{name}[{index}]", "must not be empty")


def alias_map(rule_set: RuleSet) -> dict[str, str]:
    """Normalised tag key → the normalised canonical key it reads as (aliases and the canonical key itself)."""
    mapping: dict[str, str] = {}
    for canonical, aliases in rule_set.tag_aliases.items():
        target = normalise_key(canonical)
        mapping[target] = target
        for alias in aliases:
            mapping[normalise_key(alias)] = target
    return mapping


def canonical_key(key: str, aliases: dict[str, str]) -> str:
    """The key a row's tag ``key`` reads as under ``aliases`` (see :func:`alias_map`)."""
    normal = normalise_key(key)
    return aliases.get(normal, normal)


def quantum_of(amount: Decimal) -> Decimal:
    """The unit an amount is split in: its own last digit, but never coarser than a cent."""
    exponent = amount.normalize().as_tuple().exponent
    places = max(2, -exponent if isinstance(exponent, int) else 2)
    return Decimal(1).scaleb(-places)


def split_exact(amount: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """``amount`` split over ``weights`` (non-negative, positive sum): parts in units of
    :func:`quantum_of` ``(amount)`` by the largest-remainder rule (ties to the earlier weight), summing to
    ``amount`` exactly."""
    total = sum(weights, Decimal(0))
    if total <= 0 or any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative with a positive sum")
    quantum = quantum_of(amount)
    units = int(amount / quantum)
    sign = -1 if units < 0 else 1
    units = abs(units)
    shares = [Fraction(units) * Fraction(w) / Fraction(total) for w in weights]
    floors = [int(share) for share in shares]
    left = units - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-(shares[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [sign * part * quantum for part in floors]
