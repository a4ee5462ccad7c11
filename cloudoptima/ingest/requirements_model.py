"""The FOCUS requirements model (focus_validator's machine-readable rules) compiled into row checks.

Source: ``focus_requirements/focus_requirements_model-1.2.json`` (package data, MIT, FinOps Foundation):
621 rules; 201 ``Dynamic`` (need provider knowledge) and 420 ``Static``.

Contract:
- ``load_model()`` compiles the shipped model once (cached). Each Static rule falls in exactly one
  ``RuleKind`` (``model.kinds`` counts them):
  - ``ROW`` (evaluated here, per row): value checks built from CheckValue / CheckNotValue (allowed values,
    nullability), CheckSameValue / CheckNotSameValue, CheckGreaterOrEqualThanValue,
    ColumnByColumnEqualsColumnValue (A x B = C within half a unit of C's last digit or 1 ppm, in float64), CheckNationalCurrency /
    FormatCurrency (the model's ISO 4217 list), with AND/OR, and with the rule's Condition *and the
    conditions of the composite rules that include it* (a leaf inherits "when ChargeCategory is Purchase");
  - ``PARSED``: TypeDecimal, FormatNumeric, CheckDecimalValue, TypeDateTime, FormatDateTime and
    FormatKeyValue, already enforced cell by cell by ``validation`` (the row is quarantined), not re-run;
  - ``HEADER``: ColumnPresent; the unconditional MUST ones are the Mandatory columns that
    ``formats.check_required`` enforces before any row is read;
  - ``COMPOSITE``: AND/OR of other rules (their leaves are evaluated);
  - ``NOT_EVALUATED``: TypeString / FormatString (every CSV cell is a string; whitespace is normalised by the
    reader), FormatUnit (a SHOULD about unit spelling), CheckDistinctCount (needs the whole dataset), rules
    with an unknown check function or a malformed check (or under a composite with a malformed condition),
  rules that are one alternative of an OR composite (only the OR as a whole is a requirement),
  rules listed in ``ERRATA`` (the JSON contradicts the rule's own text),
    and MAY / RECOMMENDED rules (permissions, not requirements).
- A ROW rule is evaluated on a batch only when every column it names is in the file; rows already rejected
  by ``validation`` are not checked again. A rule that does not test for null (allowed values, ranges,
  products) does not judge rows where its own column is null. Values are compared after validation (canonical enums,
  canonical decimals, UTC timestamps).
- ``RowRule.blocking``: a MUST rule on a column that decides an amount or its currency (``COST_COLUMNS``)
  with no condition and not a mere not-null check (nulls follow ``validation``'s policy): a violation makes the file's cost wrong, so the file is refused
  (``BillingFileError`` naming file, line and source column; the loader discards the whole file). Every
  other violation is a finding on an accepted row (a warning in the ingest summary).
- 1.3 files are checked with this 1.2 model on the columns they share (no 1.3 model is shipped) plus
  ``focus_conformance.RULES_13``: the 1.3 JSON columns must hold JSON objects, the 1.3 Mandatory provider
  columns must not be null, and ContractApplied must follow the ContractAppliedObject schema (from the 1.3
  column definitions).
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from cloudoptima.domain.focus import COLUMNS_BY_NAME, ColumnType
from cloudoptima.ingest.cells import map_distinct

MODEL_FILE = "focus_requirements_model-1.2.json"
CURRENCY_FILE = "currency_codes.csv"

COST_COLUMNS: frozenset[str] = frozenset(
    {"BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "BillingCurrency", "ChargeCategory"}
)
"""Columns whose wrong value makes an amount (or the currency it is in) wrong."""

ERRATA: dict[str, str] = {
    "CommitmentDiscountStatus-C-003-C": "text says null when CommitmentDiscountId is null; JSON requires not null",
    "CommitmentDiscountQuantity-C-010-C": "text says ChargeCategory Purchase; JSON condition is ChargeCategory null",
    "CommitmentDiscountStatus-C-004-C": "text says when CommitmentDiscountId is not null; JSON says when null",
    "CommitmentDiscountStatus-C-005-M": "JSON allowed values (Active, Expired, ...) are not the spec's Used/Unused",
}
"""Rules whose JSON contradicts their MustSatisfy text (model 1.2): not evaluated."""

_PARSED = frozenset(
    {"TypeDecimal", "FormatNumeric", "CheckDecimalValue", "TypeDateTime", "FormatDateTime", "FormatKeyValue"}
)
_NOT_EVALUATED = frozenset({"TypeString", "FormatString", "FormatUnit", "CheckDistinctCount"})
_ROW = frozenset(
    {
        "CheckValue",
        "CheckNotValue",
        "CheckSameValue",
        "CheckNotSameValue",
        "CheckGreaterOrEqualThanValue",
        "ColumnByColumnEqualsColumnValue",
        "CheckNationalCurrency",
        "FormatCurrency",
        "AND",
        "OR",
    }
)
_RELATIVE_TOLERANCE = Decimal("1e-6")
"""A x B = C holds within half a unit of C's last digit or one part per million of C (providers round)."""
_EVALUATED_KEYWORDS = frozenset({"MUST", "MUST NOT", "SHOULD", "SHOULD NOT"})

Check = Mapping[str, Any]


class RuleKind(StrEnum):
    """How a Static rule of the model is handled (see the module docstring)."""

    ROW = "row"
    PARSED = "parsed"
    HEADER = "header"
    COMPOSITE = "composite"
    NOT_EVALUATED = "not_evaluated"


@dataclass(frozen=True, slots=True)
class RowRule:
    """One rule evaluated per row."""

    rule_id: str
    column: str
    keyword: str
    text: str
    requirement: Check
    condition: Check | None
    blocking: bool

    @property
    def columns(self) -> frozenset[str]:
        """Every FOCUS column the rule reads."""
        names = _columns_of(self.requirement)
        if self.condition is not None:
            names |= _columns_of(self.condition)
        return frozenset(names)


@dataclass(frozen=True, slots=True)
class RequirementsModel:
    """The compiled model."""

    version: str
    rules: tuple[RowRule, ...]
    kinds: Mapping[RuleKind, int]
    dynamic: int
    header_mandatory: frozenset[str]
    currencies: frozenset[str]


def _columns_of(check: Check) -> set[str]:
    names: set[str] = set()
    for key in ("ColumnName", "ColumnAName", "ColumnBName", "ResultColumnName"):
        if isinstance(check.get(key), str):
            names.add(check[key])
    for item in check.get("Items", ()):
        names |= _columns_of(item)
    return names


def _functions(check: Check) -> set[str]:
    found = {str(check.get("CheckFunction"))}
    for item in check.get("Items", ()):
        found |= _functions(item)
    return found


def _inherited_conditions(rules: Mapping[str, Any]) -> dict[str, list[Check]]:
    """Leaf rule id -> the conditions of the composite rules that include it (transitively)."""
    inherited: dict[str, list[Check]] = {}

    def visit(rule_id: str, conditions: list[Check], seen: frozenset[str]) -> None:
        rule = rules.get(rule_id)
        if rule is None or rule_id in seen:
            return
        criteria = rule["ValidationCriteria"]
        own = criteria.get("Condition") or None
        here = [*conditions, own] if own else conditions
        children = _child_rules(criteria["Requirement"])
        if not children:
            inherited.setdefault(rule_id, list(conditions))
            return
        for child in children:
            visit(child, here, seen | {rule_id})

    for rule_id in rules:
        visit(rule_id, [], frozenset())
    return inherited


def _or_alternatives(rules: Mapping[str, Any]) -> set[str]:
    """Rules that are one alternative of an OR composite (e.g. InvoiceId-C-004-C): not requirements alone."""
    found: set[str] = set()

    def collect(check: Check, under_or: bool) -> None:
        if check.get("CheckFunction") == "CheckModelRule" and under_or:
            found.add(str(check["ModelRuleId"]))
        for item in check.get("Items", ()):
            collect(item, under_or or check.get("CheckFunction") == "OR")

    for rule in rules.values():
        collect(rule["ValidationCriteria"]["Requirement"], False)
    return found


def _child_rules(check: Check) -> list[str]:
    if check.get("CheckFunction") == "CheckModelRule":
        return [str(check["ModelRuleId"])]
    return [child for item in check.get("Items", ()) for child in _child_rules(item)]


_ARGUMENTS = {
    "CheckValue": ("ColumnName", "Value"),
    "CheckNotValue": ("ColumnName", "Value"),
    "CheckSameValue": ("ColumnAName", "ColumnBName"),
    "CheckNotSameValue": ("ColumnAName", "ColumnBName"),
    "CheckGreaterOrEqualThanValue": ("ColumnName", "Value"),
    "ColumnByColumnEqualsColumnValue": ("ColumnAName", "ColumnBName", "ResultColumnName"),
    "CheckNationalCurrency": ("ColumnName",),
    "FormatCurrency": ("ColumnName",),
}


def _well_formed(check: Check) -> bool:
    """Every leaf carries its function's arguments (ResourceType-C-005-C names its column ``CheckCondition``)."""
    function = check.get("CheckFunction")
    if function is None:
        return False  # e.g. CapacityReservationStatus-C-003-C: {"AND": {...}} instead of a CheckFunction
    if function in ("AND", "OR"):
        return all(_well_formed(item) for item in check.get("Items", ()))
    return all(argument in check for argument in _ARGUMENTS.get(str(function), ()))


def _classify(rule: Mapping[str, Any]) -> RuleKind:
    criteria = rule["ValidationCriteria"]
    functions = _functions(criteria["Requirement"])
    if "CheckModelRule" in functions:
        return RuleKind.COMPOSITE
    if functions == {"ColumnPresent"}:
        return RuleKind.HEADER
    if criteria["Keyword"] not in _EVALUATED_KEYWORDS:
        return RuleKind.NOT_EVALUATED
    if functions <= _PARSED:
        return RuleKind.PARSED
    condition = criteria.get("Condition") or {}
    well_formed = _well_formed(criteria["Requirement"]) and (not condition or _well_formed(condition))
    if well_formed and functions <= _ROW and _functions(condition) - {"None"} <= _ROW:
        return RuleKind.ROW
    return RuleKind.NOT_EVALUATED


def _is_not_null(check: Check) -> bool:
    """``X MUST NOT be null`` (some "valid decimal value" rules are written this way): null policy is
    ``validation``'s (the official sample breaks several nullability rules), so it never blocks."""
    return check.get("CheckFunction") == "CheckNotValue" and check.get("Value") is None


def compile_model(document: Mapping[str, Any], currencies: frozenset[str]) -> RequirementsModel:
    """Compile a requirements-model JSON document (see the module docstring)."""
    rules: Mapping[str, Any] = document["ModelRules"]
    inherited = _inherited_conditions(rules)
    alternatives = _or_alternatives(rules)
    kinds: Counter[RuleKind] = Counter()
    compiled: list[RowRule] = []
    header: set[str] = set()
    dynamic = 0
    for rule_id, rule in rules.items():
        if rule.get("Type") != "Static":
            dynamic += 1
            continue
        kind = RuleKind.NOT_EVALUATED if rule_id in ERRATA else _classify(rule)
        if kind is RuleKind.ROW and (
            rule_id in alternatives or not all(_well_formed(c) for c in inherited.get(rule_id, []))
        ):
            kind = RuleKind.NOT_EVALUATED  # one branch of an OR, or under a malformed composite condition
        kinds[kind] += 1
        criteria = rule["ValidationCriteria"]
        if kind is RuleKind.HEADER and not rule["ApplicabilityCriteria"] and criteria["Keyword"] == "MUST":
            header.add(str(criteria["Requirement"]["ColumnName"]))
        if kind is not RuleKind.ROW:
            continue
        conditions = [
            *inherited.get(rule_id, []),
            *([criteria["Condition"]] if criteria["Condition"] else []),
        ]
        condition: Check | None = None
        if len(conditions) == 1:
            condition = conditions[0]
        elif conditions:
            condition = {"CheckFunction": "AND", "Items": conditions}
        column = str(rule["Reference"])
        blocking = (
            criteria["Keyword"] in ("MUST", "MUST NOT")
            and column in COST_COLUMNS
            and condition is None
            and rule["Function"] in ("Validation", "Format", "Type")
            and not _is_not_null(criteria["Requirement"])
        )
        compiled.append(
            RowRule(
                rule_id=rule_id,
                column=column,
                keyword=str(criteria["Keyword"]),
                text=str(criteria["MustSatisfy"]),
                requirement=criteria["Requirement"],
                condition=condition,
                blocking=blocking,
            )
        )
    return RequirementsModel(
        version=str(document["Details"]["FOCUSVersion"]),
        rules=tuple(compiled),
        kinds=dict(kinds),
        dynamic=dynamic,
        header_mandatory=frozenset(header),
        currencies=currencies,
    )


@cache
def load_model() -> RequirementsModel:
    """The shipped FOCUS 1.2 requirements model, compiled (cached)."""
    folder = resources.files("cloudoptima.ingest") / "focus_requirements"
    document = json.loads((folder / MODEL_FILE).read_text(encoding="utf-8"))
    lines = (folder / CURRENCY_FILE).read_text(encoding="utf-8").splitlines()
    currencies = frozenset(row["currency_codes"] for row in csv.DictReader(lines))
    return compile_model(document, currencies)


# --- evaluation ------------------------------------------------------------------------------------------

Columns = Mapping[str, pa.Array]
"""FOCUS column name -> validated values of one batch."""


def _decimal(text: object) -> Decimal | None:
    if text is None:
        return None
    try:
        return Decimal(str(text))
    except InvalidOperation:
        return None


def _is_decimal_column(name: str) -> bool:
    column = COLUMNS_BY_NAME.get(name)
    return column is not None and column.type is ColumnType.DECIMAL


def _decimal_test(array: pa.Array, test: Callable[[Decimal], bool]) -> pa.Array:
    """``test`` on each distinct value read as a ``Decimal`` (null or unreadable -> False)."""

    def flag(text: str) -> str:
        value = _decimal(text)
        return "1" if value is not None and test(value) else "0"

    return pc.fill_null(pc.equal(map_distinct(array.cast(pa.string()), flag), "1"), False)


def _equals_value(array: pa.Array, name: str, value: object) -> pa.Array:
    if value is None:
        return pc.is_null(array)
    if _is_decimal_column(name) or isinstance(value, int | float):
        target = _decimal(value)
        return _decimal_test(array, lambda item: item == target)
    return pc.fill_null(pc.equal(array.cast(pa.string()), str(value)), False)


def _product_matches(a: pa.Array, b: pa.Array, c: pa.Array) -> pa.Array:
    """A x B equals C within half a unit of C's last digit or 1 ppm of C; a missing operand is not judged.

    Computed in float64: this is a consistency check with a tolerance far above float error, not money.
    """
    x, y, z = (array.cast(pa.string()).cast(pa.float64()) for array in (a, b, c))
    text = c.cast(pa.string())
    dot = pc.find_substring(text, ".")
    decimals = pc.if_else(pc.greater_equal(dot, 0), pc.subtract(pc.subtract(pc.utf8_length(text), dot), 1), 0)
    half_unit = pc.divide(pc.power(10.0, pc.negate(decimals.cast(pa.float64()))), 2.0)
    tolerance = pc.max_element_wise(half_unit, pc.multiply(pc.abs(z), float(_RELATIVE_TOLERANCE)))
    difference = pc.abs(pc.subtract(pc.multiply(x, y), z))
    matches = pc.less_equal(difference, pc.add(tolerance, pc.multiply(pc.abs(z), 1e-12)))
    return pc.fill_null(matches, True)


def evaluate(check: Check, columns: Columns, currencies: frozenset[str], length: int) -> pa.Array:
    """Boolean array: where ``check`` holds (the columns it names must all be in ``columns``)."""
    function = check["CheckFunction"]
    if function in ("AND", "OR"):
        results = [evaluate(item, columns, currencies, length) for item in check["Items"]]
        combine: Callable[[pa.Array, pa.Array], pa.Array] = pc.and_ if function == "AND" else pc.or_
        result = results[0]
        for other in results[1:]:
            result = combine(result, other)
        return result
    if function in ("CheckValue", "CheckNotValue"):
        equal = _equals_value(columns[check["ColumnName"]], check["ColumnName"], check["Value"])
        return equal if function == "CheckValue" else pc.invert(equal)
    if function in ("CheckSameValue", "CheckNotSameValue"):
        first, second = columns[check["ColumnAName"]], columns[check["ColumnBName"]]
        same = pc.fill_null(pc.equal(first.cast(pa.string()), second.cast(pa.string())), False)
        both_null = pc.and_(pc.is_null(first), pc.is_null(second))
        same = pc.or_(same, both_null)
        return same if function == "CheckSameValue" else pc.invert(same)
    if function == "CheckGreaterOrEqualThanValue":
        floor = _decimal(check["Value"])
        if floor is None:
            raise ValueError(f"CheckGreaterOrEqualThanValue needs a number, got {check['Value']!r}")
        array = columns[check["ColumnName"]]
        return pc.or_(pc.is_null(array), _decimal_test(array, lambda item: item >= floor))
    if function == "ColumnByColumnEqualsColumnValue":
        return _product_matches(
            columns[check["ColumnAName"]], columns[check["ColumnBName"]], columns[check["ResultColumnName"]]
        )
    if function in ("CheckNationalCurrency", "FormatCurrency"):
        array = columns[check["ColumnName"]]
        known = pc.is_in(array.cast(pa.string()), value_set=pa.array(sorted(currencies)))
        return pc.or_(pc.is_null(array), pc.fill_null(known, False))
    raise ValueError(f"check function {function!r} is not row-evaluable")


def _mentions_null(check: Check) -> bool:
    if check.get("CheckFunction") in ("CheckValue", "CheckNotValue") and check.get("Value") is None:
        return True
    return any(_mentions_null(item) for item in check.get("Items", ()))


def violations(rule: RowRule, columns: Columns, currencies: frozenset[str], length: int) -> pa.Array | None:
    """Rows breaking ``rule`` (None when a column it reads is absent from the file)."""
    if not rule.columns <= columns.keys():
        return None
    holds = evaluate(rule.requirement, columns, currencies, length)
    broken = pc.invert(pc.fill_null(holds, True))
    if not _mentions_null(rule.requirement):
        # Value rules judge values: a null in the rule's own column is a nullability question (NullHandling).
        broken = pc.and_(broken, pc.is_valid(columns[rule.column]))
    if rule.condition is not None:
        applies = pc.fill_null(evaluate(rule.condition, columns, currencies, length), False)
        broken = pc.and_(broken, applies)
    return broken
