"""The whole account's inventory: every enabled region read in parallel, failures isolated per region.

Contract: regions are the account settings' ``regions`` or, when absent, every region enabled for the
account (``ec2:DescribeRegions``). Each (service, region) read runs on its own; one that fails becomes a
:class:`Failure` with scope ``"<service>/<region>"`` (``retryable`` for throttling and outages) and the
others still return. Buckets are read once (scope ``"s3"``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from cloudoptima.clouds.aws.ec2_inventory import Ec2Inventory
from cloudoptima.clouds.aws.errors import aws_errors
from cloudoptima.clouds.aws.pricing import PriceCatalog
from cloudoptima.clouds.aws.service_inventory import BucketInventory, databases, load_balancers
from cloudoptima.clouds.aws.session import DEFAULT_REGION, AwsSession
from cloudoptima.clouds.protocol import CredentialsError, Failure, Partial, ProviderError
from cloudoptima.domain.inventory import Resource

log = logging.getLogger(__name__)
MAX_PARALLEL_REGIONS = 8


def failure_of(scope: str, error: ProviderError) -> Failure:
    """A :class:`Failure` for ``scope`` from a protocol error (message only, never request data), naming the
    permission it was denied for."""
    return Failure(
        scope=scope,
        error=f"{type(error).__name__}: {error}",
        retryable=error.retryable,
        permission=error.permission if isinstance(error, CredentialsError) else None,
    )


def enabled_regions(session: AwsSession) -> list[str]:
    """Regions enabled for the account (opted-in or not requiring opt-in), sorted."""
    with aws_errors("ec2"):
        answer = session.client("ec2", DEFAULT_REGION).describe_regions(AllRegions=False)
    return sorted(r["RegionName"] for r in answer.get("Regions", []))


class InventoryReader:
    """Reads every resource kind in every region of one account."""

    def __init__(
        self,
        session: AwsSession,
        account_id: str,
        catalog: PriceCatalog,
        clock: Callable[[], datetime],
        regions: list[str] | None = None,
        page_size: int = 1000,
    ) -> None:
        self._session = session
        self._account_id = account_id
        self._catalog = catalog
        self._clock = clock
        self._regions = regions
        self._page_size = page_size

    def regions(self) -> list[str]:
        """The configured regions, else the enabled ones."""
        return list(self._regions) if self._regions else enabled_regions(self._session)

    def read(self) -> Partial[Resource]:
        """All resources, plus one failure per (service, region) read that failed."""
        try:
            regions = self.regions()
        except ProviderError as error:
            return Partial(items=[], failures=[failure_of("ec2/regions", error)])
        items: list[Resource] = []
        failures: list[Failure] = []
        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_REGIONS, max(1, len(regions)))) as pool:
            for region_items, region_failures in pool.map(self._region, regions):
                items.extend(region_items)
                failures.extend(region_failures)
        buckets = BucketInventory(self._session.client, self._account_id, self._clock)
        try:
            items.extend(buckets.buckets(set(regions)))
        except ProviderError as error:
            failures.append(failure_of("s3", error))
        return Partial(items=items, failures=failures)

    def _region(self, region: str) -> tuple[list[Resource], list[Failure]]:
        ec2 = Ec2Inventory(
            self._session.client("ec2", region),
            region,
            self._account_id,
            self._catalog,
            self._clock,
            self._page_size,
        )
        reads: list[tuple[str, Callable[[], list[Resource]]]] = [
            ("ec2", ec2.instances),
            ("ec2", ec2.volumes),
            ("ec2", ec2.snapshots),
            ("ec2", ec2.addresses),
            (
                "elbv2",
                lambda: load_balancers(
                    self._session.client("elbv2", region), region, self._account_id, self._page_size
                ),
            ),
            (
                "rds",
                lambda: databases(
                    self._session.client("rds", region), ec2.types, region, self._account_id, self._page_size
                ),
            ),
        ]
        items: list[Resource] = []
        failures: list[Failure] = []
        for service, read in reads:
            try:
                items.extend(read())
            except ProviderError as error:
                log.warning("inventory read %s/%s failed: %s", service, region, type(error).__name__)
                failures.append(failure_of(f"{service}/{region}", error))
        return items, failures
