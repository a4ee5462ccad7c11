"""Vectorised cleaning of cell values: whitespace, NULL literals, canonical decimals, enum spelling.

Contract (every function takes and returns whole Arrow arrays; Python runs only per distinct value or per
defective cell):
- ``clean_strings`` trims ASCII whitespace, maps ``""`` and the literals ``NULL`` / ``null`` to null.
- ``canonical_decimals`` returns plain decimal text (``-?digits[.digits]``) with the source digits;
  ``+1``/``.5``/``5.`` are rewritten as ``1``/``0.5``/``5`` and exponents (``5.6E-05``) are expanded
  exactly; ``NaN``, ``Inf`` and any other text are rejected into quarantine and become null.
- ``canonical_enum`` maps case/spacing variants onto the allowed spelling and rejects unknown values.
- ``map_distinct`` applies a Python function once per distinct value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation

import pyarrow as pa
import pyarrow.compute as pc

from cloudoptima.ingest.batch_context import BatchContext

_PLAIN = r"^-?(?:\d+(?:\.\d+)?)$"
_LOOSE = r"^[+-]?(?:\d+\.?\d*|\.\d+)$"
_EXPONENT = r"^[+-]?(?:\d+\.?\d*|\.\d+)[eE][+-]?\d+$"
# Typed scalars: pyarrow converts a Python literal on every call, which costs more than the kernel.
_EMPTY = pa.scalar("", pa.string())
_NULL = pa.scalar(None, pa.string())
_NULL_UPPER = pa.scalar("NULL", pa.string())
_NULL_LOWER = pa.scalar("null", pa.string())


def map_distinct(array: pa.Array, function: Callable[[str], str | None]) -> pa.Array:
    """``function`` applied to each distinct non-null value; nulls stay null."""
    if len(array) == 0:
        return pa.array([], pa.string())
    encoded = pc.dictionary_encode(array)
    dictionary = encoded.dictionary.to_pylist()
    mapped = pa.array([function(value) for value in dictionary], pa.string())
    return pc.take(mapped, encoded.indices)


def clean_strings(array: pa.Array, ctx: BatchContext) -> pa.Array:
    """Trim whitespace and turn empty cells and ``NULL`` literals into nulls (counting both defects)."""
    trimmed = pc.ascii_trim_whitespace(array)
    length = pc.binary_length(trimmed)
    empty = pc.equal(trimmed, _EMPTY)
    changed = pc.not_equal(length, pc.binary_length(array))
    if pc.any(changed).as_py():
        ctx.normalised("whitespace", pc.and_(changed, pc.invert(empty)))
    literal = pc.or_(pc.equal(trimmed, _NULL_UPPER), pc.equal(trimmed, _NULL_LOWER))
    if pc.any(literal).as_py():
        ctx.normalised("null_literal", literal)
        return pc.if_else(pc.or_(literal, empty), _NULL, trimmed)
    return pc.if_else(empty, _NULL, trimmed)


def _expand_exponent(text: str) -> str | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    plain = format(value, "f")
    return "0" if plain in ("-0", "0") else plain


def canonical_decimals(array: pa.Array, ctx: BatchContext, column: str) -> pa.Array:
    """Validated canonical decimal text for ``array`` (see module docstring); bad cells are rejected."""
    if pa.types.is_decimal(array.type) or pa.types.is_integer(array.type):
        return array.cast(pa.string())
    array = array.cast(pa.string())
    plain = pc.match_substring_regex(array, _PLAIN)
    if pc.all(pc.or_(plain, pc.is_null(array))).as_py():
        return array
    loose = pc.and_(pc.invert(plain), pc.match_substring_regex(array, _LOOSE))
    if pc.any(loose).as_py():
        ctx.normalised("decimal_format", loose)
        fixed = pc.replace_substring_regex(array, r"^\+", "")
        fixed = pc.replace_substring_regex(fixed, r"^(-?)\.", r"\10.")
        fixed = pc.replace_substring_regex(fixed, r"\.$", "")
        array = pc.if_else(loose, fixed, array)
    exponent = pc.match_substring_regex(array, _EXPONENT)
    if pc.any(exponent).as_py():
        ctx.normalised("scientific_notation", exponent)
        expanded = map_distinct(pc.filter(array, exponent), _expand_exponent)
        array = pc.replace_with_mask(array, exponent, expanded)
    valid = pc.match_substring_regex(array, _PLAIN)
    invalid = pc.and_(pc.is_valid(array), pc.invert(pc.fill_null(valid, False)))
    if pc.any(invalid).as_py():
        ctx.reject(invalid, column, "not a finite decimal number (NaN, Inf and text are rejected)", array)
        array = pc.if_else(invalid, pa.scalar(None, pa.string()), array)
    return array


def _enum_key(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def canonical_enum(array: pa.Array, allowed: Sequence[str], ctx: BatchContext, column: str) -> pa.Array:
    """Allowed spelling of each value; variants such as ``Usage-based`` are normalised and counted."""
    if (
        len(array) == 0
        or pc.all(pc.or_(pc.is_in(array, value_set=pa.array(allowed)), pc.is_null(array))).as_py()
    ):
        return array
    by_key = {_enum_key(value): value for value in allowed}
    canonical = map_distinct(array, lambda value: by_key.get(_enum_key(value)))
    unknown = pc.and_(pc.is_valid(array), pc.is_null(canonical))
    ctx.reject(unknown, column, f"not an allowed value (allowed: {', '.join(allowed)})", array)
    ctx.normalised("enum_spelling", pc.and_(pc.is_valid(canonical), pc.not_equal(canonical, array)))
    return canonical


def canonical_currency(array: pa.Array, ctx: BatchContext, column: str) -> pa.Array:
    """ISO-4217 shape check (three upper-case letters); lower-case codes are upper-cased and counted."""
    upper = pc.utf8_upper(array)
    ctx.normalised("currency_case", pc.not_equal(upper, array))
    valid = pc.match_substring_regex(upper, r"^[A-Z]{3}$")
    bad = pc.and_(pc.is_valid(upper), pc.invert(valid))
    ctx.reject(bad, column, "not an ISO-4217 currency code (three letters)", array)
    return upper
