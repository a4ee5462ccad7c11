"""The commitments an organisation owns (SDK inventory, #22): store, list joined with the bill, coverage.

Contract:
- What to store is read by the providers' readers (AWS: :func:`cloudoptima.clouds.aws.commitments.read_owned`,
  RIs per region and Savings Plans), which the service does not import (cloud SDKs stay in ``clouds``).
- :func:`store` replaces what is known of one (provider, account): every commitment read is upserted on
  (organisation, provider, commitment id) with ``collected_at``; commitments of that account no longer
  listed are deleted (AWS lists retired ones too, so absence means gone).
- :func:`list_owned` — the owned commitments ordered by end then id, each joined with the billing-data
  figures of :func:`cloudoptima.services.commitments.list_commitments` (same period) on its
  ``billing_ids``, and ``days_to_expiry`` = whole days from ``now`` to its end (negative once ended).
- :func:`with_owned` — the billing-data list of ``GET /v1/commitments`` with the owned ones added.
- :func:`owned_instance_units` — per (account, region, instance family), the normalised size units
  (:func:`size_units`) covered by the Reserved Instances active at ``now``; what
  :func:`cloudoptima.analytics.recommendations.commitments.commitment_coverage` subtracts;
  :func:`owned_plan_hourly` — the $/h of active EC2 Instance Savings Plans per (account, region, family),
  subtracted next; :func:`owned_cud` — the vCPUs and memory (MB) of active GCP committed-use discounts per
  (account, region, family); :func:`owned_compute_hourly` — the $/h of active savings plans bound to no
  family or region (AWS Compute, Azure) per account, in USD (the price catalogue's currency).
- :func:`record_read` / :func:`inventory_reads` — the last inventory read of each (provider, account): read,
  ``unavailable: <permission>`` when the credentials lack it, or ``failed: <reason>``; one row per account.

Every query is scoped to ``organization_id``; ``now`` comes from the caller (UTC-aware).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from cloudoptima.domain.commitments import Commitment, CommitmentList
from cloudoptima.domain.owned_commitments import (
    InventoryRead,
    OwnedCommitment,
    OwnedCommitmentView,
    size_units,
)
from cloudoptima.services.commitments import list_commitments

_COLUMNS = (
    "provider",
    "account_id",
    "commitment_id",
    "arn",
    "kind",
    "plan_type",
    "region",
    "instance_type",
    "instance_family",
    "instance_count",
    "applied_scope",
    "vcpus",
    "memory_mb",
    "hourly_commitment",
    "upfront",
    "currency",
    "payment_option",
    "term_seconds",
    "state",
)


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("now: must be timezone-aware (UTC)")
    return now


def store(
    session: Session,
    organization_id: uuid.UUID,
    provider: str,
    account_id: str,
    items: Sequence[OwnedCommitment],
    now: datetime,
) -> int:
    """Replace what is known of ``(provider, account_id)`` by ``items`` (module contract); returns the count."""
    now = _aware(now)
    for item in items:
        if item.provider != provider or item.account_id != account_id:
            raise ValueError(f"items: {item.commitment_id} is not of {provider} account {account_id}")
        values: dict[str, Any] = {c: getattr(item, c) for c in _COLUMNS}
        values["kind"] = item.kind.value
        session.execute(
            text(
                f"""
                INSERT INTO owned_commitments (organization_id, {", ".join(_COLUMNS)}, start_at, end_at,
                                               collected_at)
                VALUES (:org, {", ".join(":" + c for c in _COLUMNS)}, :start_at, :end_at, :now)
                ON CONFLICT (organization_id, provider, commitment_id) DO UPDATE SET
                    {", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS)},
                    start_at = EXCLUDED.start_at, end_at = EXCLUDED.end_at, collected_at = EXCLUDED.collected_at
                """
            ),
            {"org": organization_id, **values, "start_at": item.start, "end_at": item.end, "now": now},
        )
    session.execute(
        text(
            "DELETE FROM owned_commitments WHERE organization_id = :org AND provider = :provider"
            " AND account_id = :account AND NOT (commitment_id = ANY(CAST(:ids AS text[])))"
        ),
        {
            "org": organization_id,
            "provider": provider,
            "account": account_id,
            "ids": [i.commitment_id for i in items],
        },
    )
    return len(items)


def _rows(session: Session, organization_id: uuid.UUID, where: str = "", **params: Any) -> list[Any]:
    return list(
        session.execute(
            text(
                f"""
                SELECT id, {", ".join(_COLUMNS)}, start_at, end_at, collected_at FROM owned_commitments
                WHERE organization_id = :org{where} ORDER BY end_at, commitment_id
                """
            ),
            {"org": organization_id, **params},
        ).mappings()
    )


def owned_of(row: Any) -> OwnedCommitment:
    """An ``owned_commitments`` row as the domain model."""
    return OwnedCommitment(**{c: row[c] for c in _COLUMNS}, start=row["start_at"], end=row["end_at"])


def list_owned(
    session: Session,
    organization_id: uuid.UUID,
    now: datetime,
    start: date | None = None,
    end: date | None = None,
    billed: Sequence[Commitment] | None = None,
) -> list[OwnedCommitmentView]:
    """The owned commitments joined with the bill (module contract). ``billed`` reuses a list already read
    for the same period; else it is read here."""
    now = _aware(now)
    if billed is None:
        billed = list_commitments(session, organization_id, start, end).commitments
    by_id: dict[str, list[Commitment]] = {}
    for commitment in billed:
        by_id.setdefault(commitment.commitment_id, []).append(commitment)
    views = []
    for row in _rows(session, organization_id):
        owned = owned_of(row)
        seen = next((by_id[i] for i in owned.billing_ids if i in by_id), [])
        same = [c for c in seen if c.currency == owned.currency] or seen[:1]
        used = sum((c.used_cost for c in same), Decimal(0)) if same else None
        unused = sum((c.unused_cost for c in same), Decimal(0)) if same else None
        views.append(
            OwnedCommitmentView(
                **owned.model_dump(),
                days_to_expiry=(owned.end - now).days,
                collected_at=row["collected_at"],
                used_cost=used,
                unused_cost=unused,
                utilisation_percent=same[0].utilisation_percent if len(same) == 1 else None,
            )
        )
    return views


def owned_instance_units(
    session: Session, organization_id: uuid.UUID, now: datetime
) -> dict[tuple[str, str, str], Decimal]:
    """Normalised units of active Reserved Instances per (account, region, family) (module contract)."""
    now = _aware(now)
    rows = _rows(
        session,
        organization_id,
        " AND kind = 'reserved_instance' AND state = 'active' AND start_at <= :now AND end_at > :now",
        now=now,
    )
    units: dict[tuple[str, str, str], Decimal] = {}
    for row in rows:
        if not (row["region"] and row["instance_family"] and row["instance_type"]):
            continue
        key = (row["account_id"], row["region"], row["instance_family"])
        units[key] = units.get(key, Decimal(0)) + size_units(row["instance_type"]) * int(
            row["instance_count"] or 0
        )
    return units


def with_owned(
    session: Session, organization_id: uuid.UUID, found: CommitmentList, now: datetime
) -> CommitmentList:
    """``found`` (the billing-data list) with ``owned`` filled from the inventory, joined on the same period,
    each billing-data commitment the inventory lists given its ``expires_at``."""
    owned = list_owned(session, organization_id, now, billed=found.commitments)
    reads = inventory_reads(session, organization_id)
    if reads:
        found = found.model_copy(update={"inventory_reads": reads})
    if not owned:
        return found
    ends = {i: o.end for o in owned for i in o.billing_ids}
    commitments = [c.model_copy(update={"expires_at": ends.get(c.commitment_id)}) for c in found.commitments]
    return found.model_copy(
        update={"owned": owned, "commitments": commitments, "inventory": "billing_data+provider_api"}
    )


def owned_plan_hourly(
    session: Session, organization_id: uuid.UUID, now: datetime
) -> dict[tuple[str, str, str], Decimal]:
    """Hourly commitment of the EC2 Instance Savings Plans active at ``now`` per (account, region, family)
    (what the purchase rule subtracts after the RIs; Compute plans, bound to no family, are left out)."""
    now = _aware(now)
    rows = _rows(
        session,
        organization_id,
        " AND kind = 'savings_plan' AND plan_type = 'EC2Instance' AND state = 'active'"
        " AND start_at <= :now AND end_at > :now",
        now=now,
    )
    hourly: dict[tuple[str, str, str], Decimal] = {}
    for row in rows:
        if row["region"] and row["instance_family"] and row["hourly_commitment"] is not None:
            key = (row["account_id"], row["region"], row["instance_family"])
            hourly[key] = hourly.get(key, Decimal(0)) + Decimal(row["hourly_commitment"])
    return hourly


_ACTIVE = " AND state = 'active' AND start_at <= :now AND end_at > :now"


def owned_cud(
    session: Session, organization_id: uuid.UUID, now: datetime
) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(vCPUs, memory MB) of the GCP committed-use discounts active at ``now`` per (account, region, family)."""
    rows = _rows(session, organization_id, " AND kind = 'committed_use'" + _ACTIVE, now=_aware(now))
    cells: dict[tuple[str, str, str], tuple[int, int]] = {}
    for row in rows:
        if row["region"] and row["instance_family"]:
            key = (row["account_id"], row["region"], row["instance_family"])
            vcpus, memory = cells.get(key, (0, 0))
            cells[key] = (vcpus + int(row["vcpus"] or 0), memory + int(row["memory_mb"] or 0))
    return cells


def owned_compute_hourly(session: Session, organization_id: uuid.UUID, now: datetime) -> dict[str, Decimal]:
    """USD $/h of the savings plans active at ``now`` bound to no family or region (AWS Compute Savings Plans,
    Azure savings plans) per account."""
    rows = _rows(
        session,
        organization_id,
        " AND kind = 'savings_plan' AND plan_type = 'Compute' AND currency = 'USD'" + _ACTIVE,
        now=_aware(now),
    )
    hourly: dict[str, Decimal] = {}
    for row in rows:
        if row["hourly_commitment"] is not None:
            hourly[row["account_id"]] = hourly.get(row["account_id"], Decimal(0)) + Decimal(
                row["hourly_commitment"]
            )
    return hourly


def record_read(
    session: Session,
    organization_id: uuid.UUID,
    provider: str,
    account_id: str,
    now: datetime,
    permission: str | None = None,
    reason: str | None = None,
) -> None:
    """Remember the inventory read of ``(provider, account_id)`` at ``now``: read when neither ``permission``
    nor ``reason`` is given, else unavailable (the permission the credentials lack) or failed (``reason``)."""
    session.execute(
        text(
            """
            INSERT INTO owned_commitment_reads (organization_id, provider, account_id, read_at, available,
                                                permission, reason)
            VALUES (:org, :provider, :account, :now, :available, :permission, :reason)
            ON CONFLICT (organization_id, provider, account_id) DO UPDATE SET
                read_at = EXCLUDED.read_at, available = EXCLUDED.available,
                permission = EXCLUDED.permission, reason = EXCLUDED.reason
            """
        ),
        {
            "org": organization_id,
            "provider": provider,
            "account": account_id,
            "now": _aware(now),
            "available": permission is None and reason is None,
            "permission": permission,
            "reason": reason,
        },
    )


def inventory_reads(session: Session, organization_id: uuid.UUID) -> list[InventoryRead]:
    """The last inventory read of each (provider, account) of the organisation, ordered by provider, account."""
    rows = session.execute(
        text(
            "SELECT provider, account_id, read_at, available, permission, reason FROM owned_commitment_reads"
            " WHERE organization_id = :org ORDER BY provider, account_id"
        ),
        {"org": organization_id},
    ).mappings()
    return [
        InventoryRead(
            provider=r["provider"],
            account_id=r["account_id"],
            read_at=r["read_at"],
            status="read"
            if r["available"]
            else f"unavailable: {r['permission']}"
            if r["permission"]
            else f"failed: {r['reason']}",
        )
        for r in rows
    ]
