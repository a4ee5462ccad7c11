"""Vectorised parsing of billing timestamps into ``timestamp[us, tz=UTC]``.

Contract: RFC 3339 values (``2024-09-18T22:00:00Z``, with fraction or numeric offset) pass unchanged. The
real-world shapes below are accepted, converted and counted as ``timestamp_format`` normalisations:
``2024-09-18 22:00:00`` (space, no zone: taken as UTC), ``2023-11-13T10:00Z`` (no seconds),
``2020-11-09 23:00:00+00:00``, ``2019-07-29`` (midnight UTC) and US ``M/D/YYYY`` or ``MM/DD/YYYY``
(optionally followed by a time). Values that are none of these, or impossible dates, are rejected into
quarantine and become null.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

from cloudoptima.ingest.batch_context import BatchContext
from cloudoptima.ingest.schema import TIMESTAMP_TYPE

_RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"
_SHAPED = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$"
_US_DATE = r"^\d{1,2}/\d{1,2}/\d{4}"
_NO_ZONE = r"(Z|[+-]\d{2}:?\d{2})$"
_TWENTY = pa.scalar(20, pa.int32())
_NINETEEN = pa.scalar(19, pa.int32())
_T = pa.scalar("T", pa.string())
_SPACE = pa.scalar(" ", pa.string())


def _rewrite(array: pa.Array) -> pa.Array:
    """Rewrite the accepted non-RFC 3339 shapes into shapes Arrow's ISO 8601 cast understands."""
    if pc.any(pc.match_substring_regex(array, _US_DATE)).as_py():
        array = pc.replace_substring_regex(array, r"^(\d)/", r"0\1/")
        array = pc.replace_substring_regex(array, r"^(\d\d)/(\d)/", r"\1/0\2/")
        array = pc.replace_substring_regex(array, r"^(\d\d)/(\d\d)/(\d{4})", r"\3-\1-\2")
    array = pc.replace_substring_regex(array, r"^(\d{4}-\d{2}-\d{2}) ", r"\1T")
    array = pc.replace_substring_regex(array, r"^(\d{4}-\d{2}-\d{2})$", r"\1T00:00:00")
    has_zone = pc.match_substring_regex(array, _NO_ZONE)
    return pc.if_else(has_zone, array, pc.binary_join_element_wise(array, "Z", ""))


def _parse_one(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _fast_path(array: pa.Array, ctx: BatchContext) -> pa.Array | None:
    """Cheap path for columns entirely in ``YYYY-MM-DDTHH:MM:SSZ`` or ``YYYY-MM-DD HH:MM:SS`` shape."""
    length = pc.binary_length(array)
    separator = pc.utf8_slice_codeunits(array, 10, 11)
    zulu = pc.and_(pc.and_(pc.equal(length, _TWENTY), pc.equal(separator, _T)), pc.ends_with(array, "Z"))
    if pc.all(pc.or_(zulu, pc.is_null(array))).as_py():
        try:
            return array.cast(TIMESTAMP_TYPE)
        except pa.ArrowInvalid:
            return None
    spaced = pc.and_(pc.equal(length, _NINETEEN), pc.equal(separator, _SPACE))
    if pc.all(pc.or_(spaced, pc.is_null(array))).as_py():
        try:
            naive = array.cast(pa.timestamp("us"))
        except pa.ArrowInvalid:
            return None
        ctx.normalised("timestamp_format", pc.is_valid(array))
        return naive.cast(TIMESTAMP_TYPE)
    return None


def parse_timestamps(array: pa.Array, ctx: BatchContext, column: str) -> pa.Array:
    """``timestamp[us, tz=UTC]`` values of ``array``; see the module docstring for accepted shapes."""
    if pa.types.is_timestamp(array.type):
        typed = array if array.type.tz is not None else pc.assume_timezone(array, "UTC")
        return typed.cast(TIMESTAMP_TYPE)
    if pa.types.is_date(array.type):
        return pc.assume_timezone(array.cast(pa.timestamp("us")), "UTC").cast(TIMESTAMP_TYPE)
    fast = _fast_path(array, ctx)
    if fast is not None:
        return fast
    strict = pc.match_substring_regex(array, _RFC3339)
    if pc.all(pc.or_(strict, pc.is_null(array))).as_py():
        return _cast(array, ctx, column, array)
    rewritten = _rewrite(array)
    shaped = pc.fill_null(pc.match_substring_regex(rewritten, _SHAPED), True)
    ctx.normalised("timestamp_format", pc.and_(pc.invert(strict), shaped))
    if not pc.all(shaped).as_py():
        unknown = pc.invert(shaped)
        ctx.reject(unknown, column, "not a recognised date/time", array)
        rewritten = pc.if_else(unknown, pa.scalar(None, pa.string()), rewritten)
    return _cast(rewritten, ctx, column, array)


def _cast(rewritten: pa.Array, ctx: BatchContext, column: str, array: pa.Array) -> pa.Array:
    try:
        return rewritten.cast(TIMESTAMP_TYPE)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        parsed = [None if text is None else _parse_one(text) for text in rewritten.to_pylist()]
        result = pa.array(parsed, TIMESTAMP_TYPE)
        ctx.reject(pc.and_(pc.is_valid(rewritten), pc.is_null(result)), column, "impossible date/time", array)
        return result


def shift_days(array: pa.Array, days: int) -> pa.Array:
    """``array`` (timestamps) moved by whole days; used for end-exclusive daily periods."""
    return pc.add(array, pa.scalar(days * 86_400_000_000, pa.duration("us")))
