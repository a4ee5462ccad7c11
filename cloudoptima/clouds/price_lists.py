"""The providers' price-list readers by provider, for the price store's refresh.

Contract:

- ``default_reader(provider, options, account=None)`` builds the reader of one provider's own price source
  (AWS Price List Query API, Azure Retail Prices, GCP Cloud Billing Catalog). The AWS Price List wants any
  signed request: with ``account`` (a connected AWS account's provider client) it signs with that account's
  session, else with the default credential chain of the machine; readers are imported on first
  use (``importlib``), so importing this module loads no cloud SDK and kernel services may use it, as with
  :mod:`cloudoptima.clouds.registry`. A reader's ``fetch(scope)`` returns list prices or raises.
- ``family_of(provider, instance_type)`` is the instance family a refresh asks for (``m5``, ``Dsv5``,
  ``n2-highmem``; :mod:`cloudoptima.clouds.instance_families`, the rules the readers store with).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any, Protocol

import httpx

from cloudoptima.clouds.instance_families import aws_family, azure_family, gcp_family
from cloudoptima.domain.inventory import CloudProvider
from cloudoptima.domain.prices import ListPrice, PriceScope


class PriceReader(Protocol):
    """One provider's price-list reader."""

    def fetch(self, scope: PriceScope) -> list[ListPrice]:
        """The list prices of ``scope`` (raises when the source cannot be read)."""
        ...


@dataclass(frozen=True)
class PriceListOptions:
    """Where the readers go (production defaults; tests and air-gapped installs point them elsewhere)."""

    aws_endpoint_url: str | None = None
    azure_base_url: str = "https://prices.azure.com"
    gcp_base_url: str = "https://cloudbilling.googleapis.com"
    gcp_api_key: str | None = None
    timeout_seconds: float = 60.0


def family_of(provider: CloudProvider, instance_type: str) -> str | None:
    """See module contract."""
    rule = {CloudProvider.AWS: aws_family, CloudProvider.AZURE: azure_family, CloudProvider.GCP: gcp_family}
    return rule[provider](instance_type)


def default_reader(
    provider: CloudProvider, options: PriceListOptions, account: Any | None = None
) -> PriceReader:
    """See module contract."""
    if provider == CloudProvider.AWS:
        aws: Any = import_module("cloudoptima.clouds.aws.price_list")
        session = getattr(account, "session", None)
        if session is not None and callable(getattr(session, "client", None)):
            reader: PriceReader = aws.AwsPriceList(session.client("pricing", "us-east-1"))
            return reader
        reader = aws.AwsPriceList.from_environment(options.aws_endpoint_url)
        return reader
    client = httpx.Client(timeout=options.timeout_seconds)
    if provider == CloudProvider.AZURE:
        azure: Any = import_module("cloudoptima.clouds.azure.price_list")
        reader = azure.AzureRetailPrices(client, base_url=options.azure_base_url)
        return reader
    gcp: Any = import_module("cloudoptima.clouds.gcp.price_list")
    reader = gcp.GcpBillingCatalog(client, api_key=options.gcp_api_key, base_url=options.gcp_base_url)
    return reader
