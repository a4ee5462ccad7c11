"""Refresh the price store from the providers' own price lists, for what the organisations actually run.

Contract:

- ``price_scopes(session)`` reads the ``resources`` of every organisation (price lists are global reference
  data) that are not deleted and belong to a live account (sandbox estates are priced by their own
  catalogue): per provider, the regions used and the instance types, families and database classes seen.
- ``PriceRefresher(sessions, readers, now).refresh_provider(provider, scope)``: the reader fetches outside
  any transaction; then one transaction replaces the provider's stored prices (``replace_prices``). A reader
  that raises, or returns no price at all, records the failure (``record_failure``: logged, kept in
  ``price_refreshes``) and the last good prices stay. A provider no organisation uses is ``skipped``.
- ``refresh(providers)`` does that for each provider and returns one :class:`ProviderRefresh` each;
  one provider failing does not stop the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.clouds.price_lists import PriceListOptions, PriceReader, default_reader, family_of
from cloudoptima.domain.inventory import CloudProvider
from cloudoptima.domain.prices import PRICE_LIST_NAMES, PriceScope
from cloudoptima.storage.models import CloudAccount, ResourceDocument
from cloudoptima.storage.price_store import record_failure, replace_prices

log = logging.getLogger(__name__)

ReaderFactory = Callable[[], PriceReader]


@dataclass(frozen=True)
class ProviderRefresh:
    """The outcome of one provider's refresh: ``ok``, ``failed`` (with ``error``) or ``skipped``."""

    provider: str
    status: str
    prices: int = 0
    regions: int = 0
    error: str | None = None


def price_scopes(session: Session) -> dict[CloudProvider, PriceScope]:
    """See module contract."""
    config = ResourceDocument.configuration
    sandbox = CloudAccount.settings["sandbox"]
    rows = session.execute(
        select(
            ResourceDocument.provider,
            ResourceDocument.region,
            ResourceDocument.resource_type,
            config["instance_type"].astext,
            config["instance_class"].astext,
        )
        .outerjoin(CloudAccount, CloudAccount.id == ResourceDocument.cloud_account_id)
        .where(
            ResourceDocument.status != "deleted", sandbox.is_(None) | (func.jsonb_typeof(sandbox) != "object")
        )
        .distinct()
    ).all()
    regions: dict[CloudProvider, set[str]] = {}
    types: dict[CloudProvider, set[str]] = {}
    databases: dict[CloudProvider, set[str]] = {}
    for provider_code, region, kind, instance_type, instance_class in rows:
        if provider_code not in CloudProvider._value2member_map_:
            continue
        provider = CloudProvider(provider_code)
        if region:
            regions.setdefault(provider, set()).add(region)
        if kind == "compute_instance" and instance_type:
            types.setdefault(provider, set()).add(instance_type)
        if kind == "database" and instance_class:
            databases.setdefault(provider, set()).add(instance_class)
    scopes = {}
    for provider, used in regions.items():
        seen = types.get(provider, set())
        families = {f for f in (family_of(provider, t) for t in seen) if f}
        scopes[provider] = PriceScope(
            regions=frozenset(used),
            families=frozenset(families),
            instance_types=frozenset(seen),
            database_classes=frozenset(databases.get(provider, set())),
        )
    return scopes


def default_readers(
    options: PriceListOptions, account: Callable[[CloudProvider], Any | None] | None = None
) -> dict[CloudProvider, ReaderFactory]:
    """Each provider's own price list (built when its refresh starts, so a construction error is a failure);
    ``account(provider)`` may give a connected account's provider client to sign with (AWS)."""

    def factory(provider: CloudProvider) -> ReaderFactory:
        return lambda: default_reader(provider, options, account(provider) if account else None)

    return {provider: factory(provider) for provider in CloudProvider}


def first_live_account(
    sessions: sessionmaker[Session], build: Callable[[CloudAccount], Any]
) -> Callable[[CloudProvider], Any | None]:
    """``provider -> the provider client of the oldest active live account of that cloud`` (any
    organisation), or None when there is none or it cannot be built (the reader then uses the machine's
    own credentials)."""

    def find(provider: CloudProvider) -> Any | None:
        with sessions() as session:
            rows = session.scalars(
                select(CloudAccount)
                .where(
                    CloudAccount.provider == provider.value,
                    CloudAccount.status.in_(("active", "degraded", "pending")),
                )
                .order_by(CloudAccount.created_at, CloudAccount.id)
            ).all()
            row = next((r for r in rows if not isinstance((r.settings or {}).get("sandbox"), dict)), None)
            if row is None:
                return None
            session.expunge(row)
        try:
            return build(row)
        except Exception as error:
            log.warning("price refresh cannot use account %s: %s", row.id, type(error).__name__)
            return None

    return find


class PriceRefresher:
    """Refreshes the price store (see module contract)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        readers: Mapping[CloudProvider, ReaderFactory],
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self._readers = readers
        self._now = now

    def scopes(self) -> dict[CloudProvider, PriceScope]:
        """What each provider's refresh fetches now."""
        with self._sessions() as session:
            return price_scopes(session)

    def refresh(self, providers: Iterable[CloudProvider] | None = None) -> list[ProviderRefresh]:
        """Refresh each of ``providers`` (all by default)."""
        scopes = self.scopes()
        return [self.refresh_provider(p, scopes.get(p)) for p in providers or list(CloudProvider)]

    def refresh_provider(self, provider: CloudProvider, scope: PriceScope | None) -> ProviderRefresh:
        """One provider (see module contract)."""
        if scope is None or not scope.regions:
            return ProviderRefresh(provider.value, "skipped", error="no live resources of this provider")
        source = PRICE_LIST_NAMES[provider]
        started = self._now()
        try:
            factory = self._readers.get(provider)
            if factory is None:
                raise LookupError(f"no price-list reader is configured for {provider.value}")
            prices = factory().fetch(scope)
            if not prices:
                raise ValueError(
                    f"{source} returned no prices for regions {', '.join(sorted(scope.regions))}"
                )
        except Exception as error:
            message = f"{type(error).__name__}: {error}"
            log.warning("price refresh of %s failed, the last prices stay: %s", provider.value, message)
            with self._sessions() as session, session.begin():
                record_failure(session, provider, source, message[:2000], started)
            return ProviderRefresh(provider.value, "failed", regions=len(scope.regions), error=message)
        with self._sessions() as session, session.begin():
            stored = replace_prices(session, provider, prices, source, started)
        log.info("price refresh of %s: %d prices in %d regions", provider.value, stored, len(scope.regions))
        return ProviderRefresh(provider.value, "ok", prices=stored, regions=len(scope.regions))
