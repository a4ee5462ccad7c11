"""Bulk load of canonical cost batches into ``cost_data`` with ``COPY``, export replacement and rollups.

The loader works inside a transaction the caller owns (one per billing file), so a failure anywhere leaves
the database as it was. It expects ``pyarrow.Table`` batches whose columns are ``cost_data`` column names
(the ingest package's canonical schema): money as decimal *strings* (exact digits), datetimes as
``timestamp[us, UTC]``, JSON columns as JSON text.

Two ways to load:

- ``copy_batch(batch)``: one COPY of one batch (``prepare`` + ``write``).
- Streaming: ``prepare(batch)`` is pure (no database, thread-safe) and does the CPU work: the CSV payload,
  the keys, months and days the batch touches, and its partial daily rollup. ``write(prepared)`` sends the
  payload into one COPY that stays open across consecutive batches (closed only to create a partition or to
  replace an older export), so a producer thread can prepare the next batch while the server ingests this
  one. ``finish()`` (or ``abort()`` on failure) ends the COPY.

Replacement: rows of *earlier* loads (another ``batch_id``) for the same organisation, cloud account,
provider, billing account and billing period are deleted — a re-issued or re-ingested export replaces the
older one and never duplicates. The delete runs when a key is first seen, before any row of that key is
copied, so it finds the older rows by index without reading this load's rows. Files of one invocation share
a ``batch_id`` so the parts of a multi-file export do not replace each other. A transaction-level advisory
lock per (organisation, cloud account) serialises loads that could replace each other's rows or merge into
the same rollup rows.

Rollup (``cost_daily``, one row per organisation, UTC day, account, provider, billing and sub account,
service, category, region, charge category, currency and projection of the configured tag keys):

- when a load replaced nothing, its rows are *added*: the partial aggregates of the prepared batches
  (exact decimal sums, grouped by the raw tags text) are merged in Python, COPYed to a temporary table,
  projected onto the tag keys in SQL and summed with the existing rollup rows of that account and those
  days. ``cost_data`` is not read again;
- when it replaced rows (or a sum needs more than 38 digits), the touched days of that account are rebuilt
  from ``cost_data`` (``refresh_daily_rollup``), which also re-projects them on the current tag keys.

Day-window replacement (``LoadTarget.replace_days = (start, end)``, used by collection): instead of the
billing-period keys, rows of earlier loads of the same organisation and cloud account whose
``charge_period_start`` falls in ``[start, end)`` are deleted — a re-fetched (restated) window replaces
exactly the days it covers, however the rows are keyed. The rollup is then rebuilt for the whole window and,
when the target names a cloud account, only for that account's rollup rows, so loads of different accounts
never touch the same ``cost_daily`` rows and can run concurrently.

The package, one responsibility per module: ``target`` (where a load writes, what it reports), ``batches``
(preparing a batch: pure), ``loader`` (:class:`CostLoader`: COPY, replacement, finish), ``partials`` (the
Arrow daily sums), ``rollup_delta`` (adding them to ``cost_daily``) and ``daily_rollup`` (the SQL rebuild and
the account scope every rollup statement uses).
"""

from __future__ import annotations

from cloudoptima.storage.cost_loader.batches import Key, PreparedBatch, prepare_batch
from cloudoptima.storage.cost_loader.daily_rollup import account_scope, refresh_daily_rollup
from cloudoptima.storage.cost_loader.loader import CostLoader
from cloudoptima.storage.cost_loader.target import (
    DEFAULT_ROLLUP_TAG_KEYS,
    CostLoadError,
    LoadResult,
    LoadTarget,
)

__all__ = [
    "DEFAULT_ROLLUP_TAG_KEYS",
    "CostLoadError",
    "CostLoader",
    "Key",
    "LoadResult",
    "LoadTarget",
    "PreparedBatch",
    "account_scope",
    "prepare_batch",
    "refresh_daily_rollup",
]
