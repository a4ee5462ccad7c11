"""Normalisation of provider names to ``aws | azure | gcp | oci | other``.

Contract: ``provider_code(name)`` recognises the spellings used by FOCUS exports and our own mappers
(``AWS``, ``Amazon Web Services``, ``Microsoft``, ``Azure``, ``Google Cloud``, ``GCP``, ``Oracle``,
``OCI``...), case-insensitively; anything else (including marketplace sellers) is ``other``.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from cloudoptima.ingest.cells import map_distinct

_PREFIXES: tuple[tuple[str, str], ...] = (
    ("aws", "aws"),
    ("amazon", "aws"),
    ("microsoft", "azure"),
    ("azure", "azure"),
    ("google", "gcp"),
    ("gcp", "gcp"),
    ("oracle", "oci"),
    ("oci", "oci"),
)


def provider_code(name: str | None) -> str:
    """``aws | azure | gcp | oci | other`` for a ProviderName value."""
    if not name:
        return "other"
    lowered = name.strip().lower()
    for prefix, code in _PREFIXES:
        if lowered.startswith(prefix):
            return code
    return "other"


def provider_codes(names: pa.Array) -> pa.Array:
    """``provider_code`` of every value (null names give ``other``)."""
    return pc.fill_null(map_distinct(names, provider_code), "other")
