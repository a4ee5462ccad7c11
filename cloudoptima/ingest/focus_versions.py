"""FOCUS version of a Cost and Usage file (1.0, 1.1, 1.2 or 1.3) and the columns that version requires.

Contract:
- ``detect_focus_version(header)`` is ``"1.3"`` when the header carries any column introduced in 1.3
  (``cloudoptima.domain.focus_13.COST_AND_USAGE_13``), else the lowest of 1.0/1.1/1.2 that defines every
  FOCUS column present (``cloudoptima.domain.focus.detect_version``). FOCUS datasets have no version column,
  so the header is the only evidence; a 1.3 file that uses none of the 1.3 columns reads as 1.2.
- ``missing_mandatory(version, header)`` lists the Mandatory columns of ``version`` absent from ``header``,
  sorted. For 1.3 that is the 1.2 set plus HostProviderName and ServiceProviderName; a deprecated column
  (ProviderName, PublisherName) may be absent when its 1.3 replacement is present.
- ``columns_13(header)`` maps each 1.3 column present to its header spelling (matched like every FOCUS
  header: case, ``_``, ``/``, ``.``, ``-`` and spaces ignored).
"""

from __future__ import annotations

from collections.abc import Iterable

from cloudoptima.domain.focus import FeatureLevel, detect_version, mandatory_columns
from cloudoptima.domain.focus_13 import COST_AND_USAGE_13, DEPRECATED_13, FOCUS_13
from cloudoptima.ingest.mappers.focus import focus_names
from cloudoptima.ingest.source_columns import column_key

_KEYS_13 = {column_key(column.name): column.name for column in COST_AND_USAGE_13}
_MANDATORY_13 = frozenset(c.name for c in COST_AND_USAGE_13 if c.level is FeatureLevel.MANDATORY)


def columns_13(header: Iterable[str]) -> dict[str, str]:
    """1.3 column name -> its header spelling, for the 1.3 columns present."""
    found: dict[str, str] = {}
    for name in header:
        focus = _KEYS_13.get(column_key(name))
        if focus is not None:
            found.setdefault(focus, name)
    return found


def detect_focus_version(header: Iterable[str]) -> str:
    """See the module docstring."""
    names = list(header)
    if columns_13(names):
        return FOCUS_13
    return detect_version(focus_names(names))


def missing_mandatory(version: str, header: Iterable[str]) -> list[str]:
    """Mandatory columns of ``version`` absent from ``header`` (see the module docstring)."""
    names = list(header)
    present = focus_names(names) | set(columns_13(names))
    if version != FOCUS_13:
        return sorted(mandatory_columns(version) - present)
    required = set(mandatory_columns("1.2")) | _MANDATORY_13
    for deprecated, replacement in DEPRECATED_13.items():
        if replacement in present:
            required.discard(deprecated)
    return sorted(required - present)
