"""The price store's reads and writes (``list_prices``, ``price_refreshes``): global reference data.

Contract (the caller owns the transaction; nothing here commits):

- ``replace_prices(session, provider, prices, source, fetched_at)`` deletes every stored price of
  ``provider`` and inserts ``prices`` (duplicates of a ``(kind, region, sku)`` keep the first), then records
  a successful refresh. Run inside one transaction, readers see either the old or the new list, never a mix.
- ``record_failure(session, provider, source, error, attempted_at)`` records a failed attempt and leaves the
  stored prices as they were (the last good list keeps answering).
- ``load_snapshots(session, regions=None)`` returns ``{provider: PriceSnapshot}`` of every provider with
  stored prices (of those regions when given; ``fetched_at`` = the oldest fetch time of its rows); ``refresh_status(session)`` the last attempt per
  provider, ``{provider: PriceRefreshRow}``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from cloudoptima.domain.inventory import CloudProvider
from cloudoptima.domain.prices import ListPrice, PriceKind, PriceSnapshot
from cloudoptima.storage.models.prices import ListPriceRow, PriceRefreshRow

_BATCH = 2000


def replace_prices(
    session: Session, provider: CloudProvider, prices: Sequence[ListPrice], source: str, fetched_at: datetime
) -> int:
    """Replace ``provider``'s prices (see module contract); returns the number stored."""
    rows: dict[tuple[str, str, str], dict[str, object]] = {}
    for price in prices:
        if price.provider != provider:
            raise ValueError(f"a {price.provider} price cannot be stored as {provider}")
        rows.setdefault(
            (price.kind.value, price.region, price.sku),
            {
                "provider": provider.value,
                "kind": price.kind.value,
                "region": price.region,
                "sku": price.sku,
                "unit_price": price.unit_price,
                "unit": price.unit,
                "service": price.service,
                "provider_sku_id": price.provider_sku_id,
                "family": price.family,
                "vcpu": price.vcpu,
                "memory_gib": price.memory_gib,
                "source": source,
                "fetched_at": fetched_at,
            },
        )
    session.execute(delete(ListPriceRow).where(ListPriceRow.provider == provider.value))
    values = list(rows.values())
    for start in range(0, len(values), _BATCH):
        session.execute(insert(ListPriceRow), values[start : start + _BATCH])
    _record(session, provider, "ok", source, fetched_at, succeeded=True, count=len(values), error=None)
    return len(values)


def record_failure(
    session: Session, provider: CloudProvider, source: str, error: str, attempted_at: datetime
) -> None:
    """Record a failed refresh of ``provider``; the stored prices stay (see module contract)."""
    count = len(
        session.scalars(select(ListPriceRow.sku).where(ListPriceRow.provider == provider.value)).all()
    )
    _record(session, provider, "failed", source, attempted_at, succeeded=False, count=count, error=error)


def _record(
    session: Session,
    provider: CloudProvider,
    status: str,
    source: str,
    at: datetime,
    *,
    succeeded: bool,
    count: int,
    error: str | None,
) -> None:
    values = {
        "provider": provider.value,
        "status": status,
        "source": source,
        "attempted_at": at,
        "price_count": count,
        "error": error,
    }
    update = {k: v for k, v in values.items() if k != "provider"}
    if succeeded:
        values["succeeded_at"] = update["succeeded_at"] = at
    statement = pg_insert(PriceRefreshRow).values(**values)
    session.execute(statement.on_conflict_do_update(index_elements=["provider"], set_=update))


def load_snapshots(
    session: Session, regions: Collection[str] | None = None
) -> dict[CloudProvider, PriceSnapshot]:
    """Every provider's stored prices, of ``regions`` only when given (see module contract)."""
    table = ListPriceRow.__table__
    query = select(table).order_by(table.c.provider, table.c.kind)
    if regions is not None:
        query = query.where(table.c.region.in_(list(regions)))
    grouped: dict[CloudProvider, list[ListPrice]] = {}
    sources: dict[CloudProvider, tuple[str, datetime]] = {}
    for row in session.execute(query).mappings():
        provider = CloudProvider(row["provider"])
        grouped.setdefault(provider, []).append(
            ListPrice(
                provider=provider,
                kind=PriceKind(row["kind"]),
                region=row["region"],
                sku=row["sku"],
                unit_price=row["unit_price"],
                service=row["service"],
                provider_sku_id=row["provider_sku_id"],
                family=row["family"],
                vcpu=row["vcpu"],
                memory_gib=row["memory_gib"],
            )
        )
        source, fetched = sources.get(provider, (row["source"], row["fetched_at"]))
        sources[provider] = (source, min(fetched, row["fetched_at"]))
    return {
        provider: PriceSnapshot(provider, sources[provider][0], sources[provider][1], tuple(prices))
        for provider, prices in grouped.items()
    }


def refresh_status(session: Session) -> dict[CloudProvider, PriceRefreshRow]:
    """The last refresh attempt of each provider that was ever refreshed."""
    return {CloudProvider(r.provider): r for r in session.scalars(select(PriceRefreshRow))}
