"""Faithfulness of a narrative to its evidence: every number, identifier and date must come from the evidence.

Contract:
- ``facts(evidence)`` flattens any JSON-like evidence into three sets: numbers (``Decimal``, normalised, from
  numeric leaves and from numbers inside string leaves), identifier-like tokens (words that mix letters with
  digits or contain ``- _ / : .`` between alphanumerics, e.g. ``i-0abc12``, ``m5.large``) and ISO dates.
- ``claims(text)`` extracts the same three kinds from a narrative. ISO dates are taken first, then
  identifiers, then free numbers (``$1,234.50``, ``-12.5 %``, ``1,200``); thousands separators and currency
  signs are ignored, so ``$1,234.50`` matches the evidence value ``1234.5``.
- ``check(text, evidence)`` returns the claims that are not in the evidence (empty = faithful).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-/:.]*[A-Za-z0-9]|[A-Za-z0-9]")
_NUMBER = re.compile(r"(?<![A-Za-z0-9_])[-+]?\$?\d[\d,]*(?:\.\d+)?(?![A-Za-z_])")


def _decimal(raw: str) -> Decimal | None:
    cleaned = raw.replace(",", "").replace("$", "").replace("+", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value.normalize() if value == value else None


def _is_identifier(token: str) -> bool:
    if _DATE.fullmatch(token):
        return False
    has_alpha = any(c.isalpha() for c in token)
    has_digit = any(c.isdigit() for c in token)
    inner_sep = any(c in "-_/:" for c in token)
    return has_alpha and (has_digit or inner_sep)


@dataclass
class Facts:
    numbers: set[Decimal] = field(default_factory=set)
    identifiers: set[str] = field(default_factory=set)
    dates: set[str] = field(default_factory=set)


def _strings(text: str, into: Facts) -> None:
    for found in _DATE.findall(text):
        into.dates.add(found)
    stripped = _DATE.sub(" ", text)
    for token in _TOKEN.findall(stripped):
        token = token.rstrip(".:")
        if _is_identifier(token):
            into.identifiers.add(token.lower())
            if "/" in token.strip("/"):  # a resource path's last segment names it too
                into.identifiers.add(token.rstrip("/").rsplit("/", 1)[-1].lower())
    into.identifiers.add(text.strip().lower())
    for raw in _NUMBER.findall(stripped):
        value = _decimal(raw)
        if value is not None:
            into.numbers.add(value)
            into.numbers.add(abs(value))


def facts(evidence: Any) -> Facts:
    """All numbers, identifiers and dates of ``evidence`` (see module contract)."""
    found = Facts()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                _strings(str(key), found)
                walk(item)
        elif isinstance(value, list | tuple | set):
            for item in value:
                walk(item)
        elif isinstance(value, bool) or value is None:
            return
        elif isinstance(value, int | float | Decimal):
            number = _decimal(str(value))
            if number is not None:
                found.numbers.update({number, abs(number)})
        elif isinstance(value, datetime):
            found.dates.add(value.date().isoformat())
            _strings(value.isoformat(), found)
        elif isinstance(value, date):
            found.dates.add(value.isoformat())
        else:
            _strings(str(value), found)

    walk(evidence)
    return found


@dataclass(frozen=True)
class Claims:
    numbers: list[str]
    identifiers: list[str]
    dates: list[str]


def claims(text: str) -> Claims:
    """Numbers, identifiers and dates stated in ``text`` (see module contract)."""
    dates = _DATE.findall(text)
    rest = _DATE.sub(" ", text)
    identifiers = []
    for token in _TOKEN.findall(rest):
        token = token.rstrip(".:")
        if _is_identifier(token):
            identifiers.append(token)
    without_ids = _TOKEN.sub(lambda m: " " if _is_identifier(m.group(0).rstrip(".:")) else m.group(0), rest)
    numbers = [raw for raw in _NUMBER.findall(without_ids) if _decimal(raw) is not None]
    return Claims(numbers=numbers, identifiers=identifiers, dates=dates)


@dataclass(frozen=True)
class Unsupported:
    """Claims of a narrative that the evidence does not contain."""

    numbers: list[str]
    identifiers: list[str]
    dates: list[str]

    @property
    def ok(self) -> bool:
        return not (self.numbers or self.identifiers or self.dates)

    def describe(self) -> str:
        parts = []
        for label, items in (("numbers", self.numbers), ("ids", self.identifiers), ("dates", self.dates)):
            if items:
                parts.append(f"{label}: {', '.join(items)}")
        return "; ".join(parts)


def check(text: str, evidence: Any, *, ignore: Iterable[str] = ()) -> Unsupported:
    """Claims of ``text`` missing from ``evidence`` (see module contract); ``ignore`` removes fixed labels."""
    for label in ignore:
        text = text.replace(label, " ")
    known = facts(evidence)
    said = claims(text)
    numbers = [n for n in said.numbers if (_decimal(n) or Decimal(0)).copy_abs() not in known.numbers]
    identifiers = [i for i in said.identifiers if i.lower() not in known.identifiers]
    dates = [d for d in said.dates if d not in known.dates]
    return Unsupported(numbers=numbers, identifiers=identifiers, dates=dates)


def total_claims(text: str) -> int:
    found = claims(text)
    return len(found.numbers) + len(found.identifiers) + len(found.dates)
