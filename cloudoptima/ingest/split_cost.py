"""FOCUS 1.3 split cost allocation rows: keep the allocated resource and its tags, never count a charge twice.

FOCUS 1.3 ("Data Generator-Calculated Split Cost Allocation Handling", with the columns AllocatedMethodId,
AllocatedMethodDetails, AllocatedResourceId, AllocatedResourceName and AllocatedTags) lets a data generator take
a charge (the *origin charge*, e.g. a Kubernetes node) and split it into several *allocated charges* (one per
pod or workload): every dimension of an allocated charge matches the origin charge's, its Tags include the
origin's, and the allocated charges' costs and quantities sum to the origin's. The origin charge "can be
derived from the combination of allocated charges": the allocated charges stand in for it.

Rule applied here (per file):
- An allocated charge is a row whose AllocatedMethodId is not null. It is loaded as it is (its own
  BilledCost), and its ``tags`` gain the split detail so allocation rules and tag policies can use it:
  ``allocated_<key>`` for each AllocatedTags entry, ``allocated_resource_id``, ``allocated_resource_name`` and
  ``allocated_method_id`` (the columns themselves stay in ``extensions`` under their header names). A rule
  ``{"value_from_tag": "allocated_team"}`` therefore puts each pod's share on its team.
- No double count: a row *without* AllocatedMethodId that has the same ResourceId, ChargePeriodStart,
  ChargePeriodEnd, ChargeCategory and BillingCurrency as allocated charges of the same file is the origin
  charge repeated beside its split. It is not loaded: it is quarantined (column ``AllocatedMethodId``, reason
  naming the rule), so the file's total counts the origin's cost once, through its allocated charges. Rows
  without a ResourceId are never paired (nothing says which origin they would be).
- The pairing needs every allocated charge of the file first: ``allocated_keys`` is a pre-pass over the file's
  raw batches (bounded memory: only the keys are kept), run only for files that carry AllocatedMethodId.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from cloudoptima.ingest.batch_context import BatchContext
from cloudoptima.ingest.raw_csv import RawBatch
from cloudoptima.ingest.source_columns import column_key

KEY_COLUMNS: tuple[str, ...] = (
    "ResourceId",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "BillingCurrency",
)
TAG_PREFIX = "allocated_"
ORIGIN_REASON = (
    "origin charge repeated beside its FOCUS 1.3 split cost allocation rows (same ResourceId, charge period, "
    "category and currency): counted once, through its allocated charges"
)

Key = tuple[str, ...]


def _names(header: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in header:
        found.setdefault(column_key(name), name)
    return found


def carries_split_cost(header: Sequence[str]) -> bool:
    """True when the header has an AllocatedMethodId column (any FOCUS spelling)."""
    return "allocatedmethodid" in _names(header)


def _text(table: pa.Table, names: dict[str, str], column: str) -> list[str | None]:
    name = names.get(column_key(column))
    if name is None:
        return [None] * table.num_rows
    values: list[str | None] = []
    for value in table.column(name).to_pylist():
        text = None if value is None else str(value).strip()
        values.append(text or None)
    return values


def _keys(table: pa.Table, names: dict[str, str]) -> list[Key | None]:
    columns = [_text(table, names, column) for column in KEY_COLUMNS]
    keys: list[Key | None] = []
    for parts in zip(*columns, strict=True):
        keys.append(None if parts[0] is None else tuple(part or "" for part in parts))
    return keys


def allocated_keys(batches: Iterable[RawBatch]) -> frozenset[Key]:
    """The origin keys (see the module docstring) of every allocated charge in a file's raw batches."""
    found: set[Key] = set()
    for raw in batches:
        names = _names(raw.table.column_names)
        methods = _text(raw.table, names, "AllocatedMethodId")
        for key, method in zip(_keys(raw.table, names), methods, strict=True):
            if method is not None and key is not None:
                found.add(key)
    return frozenset(found)


def _merged_tags(tags: str | None, extra: dict[str, str]) -> str:
    merged: dict[str, object] = {}
    if tags:
        try:
            loaded = json.loads(tags)
        except ValueError:
            loaded = None
        if isinstance(loaded, dict):
            merged.update(loaded)
    merged.update(extra)
    return json.dumps(merged, sort_keys=True, ensure_ascii=False)


def apply_split_cost(
    raw: pa.Table, columns: dict[str, pa.Array], ctx: BatchContext, origins: frozenset[Key]
) -> None:
    """Add the split detail to allocated charges' ``tags`` and quarantine repeated origin charges, in place
    (``columns`` are the validated FOCUS columns of ``raw``; rejections are recorded in ``ctx``)."""
    names = _names(raw.column_names)
    methods = _text(raw, names, "AllocatedMethodId")
    if not any(methods) and not origins:
        return
    resource_ids = _text(raw, names, "AllocatedResourceId")
    resource_names = _text(raw, names, "AllocatedResourceName")
    allocated_tags = _text(raw, names, "AllocatedTags")
    current = columns.get("tags")
    tags: list[str | None] = [None] * raw.num_rows if current is None else current.to_pylist()
    origin_rows: list[bool] = []
    bad_tags: list[bool] = []
    for index, (method, key) in enumerate(zip(methods, _keys(raw, names), strict=True)):
        origin_rows.append(method is None and key is not None and key in origins)
        bad_tags.append(False)
        if method is None:
            continue
        extra: dict[str, str] = {f"{TAG_PREFIX}method_id": method}
        if resource_ids[index] is not None:
            extra[f"{TAG_PREFIX}resource_id"] = str(resource_ids[index])
        if resource_names[index] is not None:
            extra[f"{TAG_PREFIX}resource_name"] = str(resource_names[index])
        text = allocated_tags[index]
        if text is not None:
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                for tag_key, value in parsed.items():
                    if value is not None and not isinstance(value, dict | list):
                        extra[f"{TAG_PREFIX}{tag_key}"] = str(value)
            else:
                bad_tags[index] = True
        tags[index] = _merged_tags(tags[index], extra)
    columns["tags"] = pa.array(tags, pa.string())
    tags_source = names.get("allocatedtags", "AllocatedTags")
    ctx.warn(pa.array(bad_tags), tags_source, "AllocatedTags is not a JSON object: not added to tags", None)
    origin_mask = pa.array(origin_rows)
    if pc.any(origin_mask).as_py():
        ctx.reject(
            origin_mask,
            names.get("allocatedmethodid", "AllocatedMethodId"),
            ORIGIN_REASON,
            pa.array(_text(raw, names, "ResourceId"), pa.string()),
        )
