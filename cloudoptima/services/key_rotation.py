"""Re-encrypt every stored secret under the newest encryption key (``cloudoptima secrets rotate``).

Contract:
- :data:`ENCRYPTED_COLUMNS` lists every column that holds a value encrypted with
  :class:`~cloudoptima.security.encryption.CredentialCipher`; a new encrypted column is added there.
- ``rotate_stored_secrets`` first reads every value and checks that some key of the ring decrypts it; when
  one does not, it raises :class:`KeyRotationError` (naming the column and how many values) and changes
  nothing. Then, column by column, it locks a batch of rows (``FOR UPDATE``, in id order), re-encrypts those
  not already under the newest key (``MultiFernet.rotate``) and commits the batch: a crash leaves every row
  readable by the ring, and running again continues where it stopped.
- Values already under the newest key are left untouched, so a second run reports ``rotated == 0``.
- Rotation does not change ``updated_at``: it is maintenance, not an edit a user made.
- Readers hold the whole ring during the rotation (newest first), so nothing stops while it runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Engine, Table, select, update
from sqlalchemy.orm import Session

from cloudoptima.security.encryption import CredentialCipher, CredentialDecryptionError
from cloudoptima.storage.models import CloudAccount, NotificationChannelRow, SsoProvider

DEFAULT_BATCH = 200


class KeyRotationError(RuntimeError):
    """Some stored value cannot be read with the configured keys; nothing was changed."""


@dataclass(frozen=True)
class EncryptedColumn:
    """A table column holding values encrypted by :class:`CredentialCipher`."""

    table: Table
    column: str

    @property
    def name(self) -> str:
        return f"{self.table.name}.{self.column}"


def _table(model: object) -> Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


ENCRYPTED_COLUMNS: tuple[EncryptedColumn, ...] = (
    EncryptedColumn(_table(CloudAccount), "credentials_encrypted"),
    EncryptedColumn(_table(SsoProvider), "client_secret_encrypted"),
    EncryptedColumn(_table(NotificationChannelRow), "target_encrypted"),
    EncryptedColumn(_table(NotificationChannelRow), "secret_encrypted"),
)


@dataclass
class ColumnReport:
    """What a rotation did to one column."""

    column: str
    rows: int = 0
    rotated: int = 0
    already_current: int = 0
    batches: int = 0


@dataclass(frozen=True)
class RotationReport:
    columns: tuple[ColumnReport, ...]

    @property
    def rotated(self) -> int:
        return sum(c.rotated for c in self.columns)

    @property
    def rows(self) -> int:
        return sum(c.rows for c in self.columns)


def unreadable_values(
    engine: Engine, cipher: CredentialCipher, columns: tuple[EncryptedColumn, ...] = ENCRYPTED_COLUMNS
) -> dict[str, list[uuid.UUID]]:
    """Ids of the rows whose value no key of the ring decrypts, per column (empty when all are readable)."""
    found: dict[str, list[uuid.UUID]] = {}
    with Session(engine) as session:
        for spec in columns:
            id_col, value_col = spec.table.c.id, spec.table.c[spec.column]
            rows = session.execute(
                select(id_col, value_col).where(value_col.is_not(None)).execution_options(yield_per=1000)
            )
            bad = [row_id for row_id, value in rows if not cipher.readable(value)]
            if bad:
                found[spec.name] = bad
    return found


def rotate_stored_secrets(
    engine: Engine,
    cipher: CredentialCipher,
    *,
    batch_size: int = DEFAULT_BATCH,
    columns: tuple[EncryptedColumn, ...] = ENCRYPTED_COLUMNS,
    after_batch: Callable[[ColumnReport], None] | None = None,
) -> RotationReport:
    """Move every stored secret to the newest key (see module contract); ``after_batch`` sees progress."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    unreadable = unreadable_values(engine, cipher, columns)
    if unreadable:
        where = "; ".join(
            f"{name}: {len(ids)} value(s), e.g. row {ids[0]}" for name, ids in unreadable.items()
        )
        raise KeyRotationError(
            f"some stored secrets cannot be decrypted with any configured key ({where}); nothing was changed. "
            "Put the key they were written with in CLOUDOPTIMA_ENCRYPTION_KEYS (after the new key)."
        )
    reports = []
    for spec in columns:
        report = ColumnReport(spec.name)
        last: uuid.UUID | None = None
        while True:
            last = _rotate_batch(engine, cipher, spec, last, batch_size, report)
            if last is None:
                break
            report.batches += 1
            if after_batch is not None:
                after_batch(report)
        reports.append(report)
    return RotationReport(tuple(reports))


def _rotate_batch(
    engine: Engine,
    cipher: CredentialCipher,
    spec: EncryptedColumn,
    after: uuid.UUID | None,
    batch_size: int,
    report: ColumnReport,
) -> uuid.UUID | None:
    """Rotate the next batch after id ``after`` in one transaction; the batch's last id, or None when done."""
    table = spec.table
    id_col: Column[uuid.UUID] = table.c.id
    value_col = table.c[spec.column]
    query = (
        select(id_col, value_col)
        .where(value_col.is_not(None))  # a nullable column: NULL is "no secret", nothing to rotate
        .order_by(id_col)
        .limit(batch_size)
        .with_for_update()
    )
    if after is not None:
        query = query.where(id_col > after)
    with Session(engine) as session, session.begin():
        rows = session.execute(query).all()
        if not rows:
            return None
        for row_id, value in rows:
            report.rows += 1
            try:
                current = cipher.is_current(value)
            except CredentialDecryptionError as exc:
                raise KeyRotationError(
                    f"{spec.name} row {row_id} was written with an unknown key during the rotation; "
                    "this batch was rolled back, earlier batches are under the newest key"
                ) from exc
            if current:
                report.already_current += 1
                continue
            values: dict[str, Any] = {spec.column: cipher.rotate(value)}
            if "updated_at" in table.c:
                values["updated_at"] = table.c.updated_at
            session.execute(update(table).where(id_col == row_id).values(**values))
            report.rotated += 1
        last_id: uuid.UUID = rows[-1][0]
        return last_id
