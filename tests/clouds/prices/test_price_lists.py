"""The three price-list readers against strict local fakes: paging, one retry, and a clear error on nonsense.

AWS uses the real boto3 ``pricing`` client (moto has no Price List API); Azure and GCP the real httpx client.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config

from cloudoptima.clouds.aws import AwsProvider
from cloudoptima.clouds.aws.price_list import AwsPriceList
from cloudoptima.clouds.azure.price_list import AzureRetailPrices
from cloudoptima.clouds.gcp.price_list import GcpBillingCatalog
from cloudoptima.clouds.price_lists import PriceListOptions, default_reader
from cloudoptima.domain.inventory import CloudProvider
from cloudoptima.domain.prices import ListPrice, PriceKind, PriceListError, PriceScope
from tests.clouds.prices.fakes import (
    GCP_KEY,
    FakeAwsPricing,
    FakeAzureRetail,
    FakeGcpCatalog,
    aws_product,
    azure_item,
    gcp_sku,
)


def _by_key(prices: list[ListPrice]) -> dict[tuple[str, str, str], ListPrice]:
    return {(p.kind.value, p.region, p.sku): p for p in prices}


# ---- AWS --------------------------------------------------------------------------------------------------
def _ec2(instance_type: str, region: str, usd: str, vcpu: str, memory: str, **extra: str) -> dict[str, Any]:
    attributes = {
        "productFamily": "Compute Instance",
        "instanceType": instance_type,
        "regionCode": region,
        "operatingSystem": "Linux",
        "tenancy": "Shared",
        "preInstalledSw": "NA",
        "capacitystatus": "Used",
        "vcpu": vcpu,
        "memory": memory,
        **extra,
    }
    return aws_product("AmazonEC2", f"SKU{instance_type}{region}{usd}".upper(), attributes, usd)


AWS_PRODUCTS = [
    _ec2("m5.large", "eu-west-1", "0.1070000000", "2", "8 GiB"),
    _ec2("m5.xlarge", "eu-west-1", "0.2140000000", "4", "16 GiB"),
    _ec2("m5.2xlarge", "eu-west-1", "0.4280000000", "8", "32 GiB"),
    _ec2("m5a.large", "eu-west-1", "0.0960000000", "2", "8 GiB"),  # another family: not asked for
    _ec2("m5.large", "eu-west-1", "0.2000000000", "2", "8 GiB", operatingSystem="Windows"),
    _ec2("m5.large", "us-east-1", "0.0960000000", "2", "8 GiB"),
    aws_product(
        "AmazonEC2",
        "VOLGP3",
        {"productFamily": "Storage", "regionCode": "eu-west-1", "volumeApiName": "gp3"},
        "0.0880000000",
        "GB-Mo",
    ),
    aws_product(
        "AmazonEC2",
        "SNAP",
        {"productFamily": "Storage Snapshot", "regionCode": "eu-west-1", "usagetype": "EU-EBS:SnapshotUsage"},
        "0.0500000000",
        "GB-Mo",
    ),
    aws_product(
        "AmazonVPC",
        "IPIDLE",
        {
            "group": "VPCPublicIPv4Address",
            "regionCode": "eu-west-1",
            "usagetype": "EU-PublicIPv4:IdleAddress",
        },
        "0.0050000000",
    ),
    aws_product(
        "AWSELB",
        "ALB",
        {
            "productFamily": "Load Balancer-Application",
            "regionCode": "eu-west-1",
            "usagetype": "EU-LoadBalancerUsage",
        },
        "0.0252000000",
    ),
    aws_product(
        "AmazonS3",
        "S3IA",
        {"productFamily": "Storage", "regionCode": "eu-west-1", "volumeType": "Standard - Infrequent Access"},
        "0.0125000000",
        "GB-Mo",
    ),
]


@pytest.fixture
def aws_fake() -> Iterator[FakeAwsPricing]:
    fake = FakeAwsPricing(AWS_PRODUCTS, page_size=2)
    yield fake
    fake.stop()


def _pricing_client(endpoint: str) -> Any:
    return boto3.client(
        "pricing",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="AKIAEXAMPLEKEY000001",
        aws_secret_access_key="test-secret-not-real",
        config=Config(retries={"mode": "standard", "max_attempts": 3}),
    )


def test_aws_price_list_pages_retries_and_keeps_only_the_scope(aws_fake: FakeAwsPricing) -> None:
    aws_fake.fail_throttled(times=1)
    reader = AwsPriceList(_pricing_client(aws_fake.url), page_size=2)
    prices = _by_key(reader.fetch(PriceScope(regions=frozenset({"eu-west-1"}), families=frozenset({"m5"}))))

    large = prices[("instance", "eu-west-1", "m5.large")]
    assert (large.unit_price, large.vcpu, large.memory_gib, large.family) == (
        Decimal("0.1070000000"),
        2,
        Decimal(8),
        "m5",
    )
    assert large.monthly == Decimal("0.1070000000") * 730
    assert {k[2] for k in prices if k[0] == "instance"} == {"m5.large", "m5.xlarge", "m5.2xlarge"}
    assert prices[("disk", "eu-west-1", "gp3")].unit_price == Decimal("0.088")
    assert prices[("snapshot", "eu-west-1", "standard")].unit_price == Decimal("0.05")
    assert prices[("public_ip", "eu-west-1", "idle")].unit_price == Decimal("0.005")
    assert prices[("load_balancer", "eu-west-1", "application")].unit_price == Decimal("0.0252")
    assert prices[("object_storage", "eu-west-1", "STANDARD_IA")].unit_price == Decimal("0.0125")
    assert all(p.region == "eu-west-1" for p in prices.values())
    ec2_calls = [r for r in aws_fake.requests if r[0] == "POST"]
    assert len(ec2_calls) > 6, "the instance query needed two pages and a throttled call was retried"
    assert reader.pages_read >= 7


def test_aws_price_list_signs_with_a_connected_accounts_session(aws_fake: FakeAwsPricing) -> None:
    account = AwsProvider(
        {"access_key_id": "AKIAEXAMPLEKEY000002", "secret_access_key": "another-test-secret"},
        {"endpoint_url": aws_fake.url, "account_id": "123456789012", "use_pricing_api": False},
    )
    reader = default_reader(CloudProvider.AWS, PriceListOptions(), account)
    prices = reader.fetch(PriceScope(regions=frozenset({"eu-west-1"}), families=frozenset({"m5"})))
    assert ("instance", "eu-west-1", "m5.large") in _by_key(prices)
    signed = {r[3].get("Authorization", "") for r in aws_fake.requests}
    assert signed and all("Credential=AKIAEXAMPLEKEY000002/" in a for a in signed), "the account's keys sign"


def test_aws_price_list_names_the_product_it_cannot_read(aws_fake: FakeAwsPricing) -> None:
    broken = _ec2("m5.large", "eu-west-1", "0.107", "2", "8 GiB")
    broken["terms"]["OnDemand"] = {"X": {"priceDimensions": {"Y": {"pricePerUnit": {"EUR": "0.1"}}}}}
    aws_fake.products = [broken]
    reader = AwsPriceList(_pricing_client(aws_fake.url))
    with pytest.raises(PriceListError, match=r"AWS Price List AmazonEC2 page 1 SKU SKUM5\.LARGE.*USD"):
        reader.fetch(PriceScope(regions=frozenset({"eu-west-1"}), families=frozenset({"m5"})))


# ---- Azure ------------------------------------------------------------------------------------------------
def _vm(size: str, price: str, region: str = "westeurope", **extra: Any) -> dict[str, Any]:
    product = extra.pop("productName", "Virtual Machines Dsv5 Series")
    sku_name = extra.pop("skuName", size.removeprefix("Standard_").replace("_", " "))
    return azure_item(
        region, "Virtual Machines", product, sku_name, price, "1 Hour", armSkuName=size, skuName=sku_name
    )


AZURE_ITEMS = [
    dict(_vm("Standard_D2s_v5", "0.999"), isPrimaryMeterRegion=False),  # not asked for: meterRegion='primary'
    _vm("Standard_D2s_v5", "0.115"),
    _vm("Standard_D4s_v5", "0.23"),
    _vm("Standard_D4s_v5", "0.4", productName="Virtual Machines Dsv5 Series Windows"),
    _vm("Standard_D4s_v5", "0.05", skuName="D4s v5 Spot"),
    _vm("Standard_E2s_v5", "0.151"),  # a family nobody uses
    azure_item("westeurope", "Storage", "Premium SSD Managed Disks", "P10 LRS Disk", "21.68", "1/Month"),
    azure_item("westeurope", "Storage", "Standard HDD Managed Disks", "S10 LRS Disk", "6.14", "1/Month"),
    azure_item("westeurope", "Storage", "Standard HDD Managed Disks", "LRS Snapshot", "0.055", "1 GB/Month"),
    azure_item(
        "westeurope", "Storage", "General Block Blob v2", "Hot LRS Data Stored", "0.0196", "1 GB/Month"
    ),
    azure_item(
        "westeurope", "Storage", "General Block Blob v2", "Cool LRS Data Stored", "0.011", "1 GB/Month"
    ),
    azure_item(
        "westeurope", "Virtual Network", "IP Addresses", "Standard IPv4 Static Public IP", "0.005", "1 Hour"
    ),
    azure_item(
        "westeurope",
        "Load Balancer",
        "Load Balancer",
        "Standard Included LB Rules and Outbound Rules",
        "0.025",
        "1 Hour",
    ),
]


@pytest.fixture
def azure_fake() -> Iterator[FakeAzureRetail]:
    fake = FakeAzureRetail(AZURE_ITEMS, page_size=2)
    yield fake
    fake.stop()


def test_azure_retail_prices_follow_next_page_link_and_retry_a_429(azure_fake: FakeAzureRetail) -> None:
    azure_fake.fail(429, times=1, headers={"Retry-After": "0"})
    waits: list[float] = []
    with httpx.Client() as client:
        reader = AzureRetailPrices(client, base_url=azure_fake.url, sleep=waits.append)
        prices = _by_key(
            reader.fetch(PriceScope(regions=frozenset({"westeurope"}), families=frozenset({"Dsv5"})))
        )

    assert waits == [0.0], "the 429 was retried after its Retry-After"
    d4 = prices[("instance", "westeurope", "Standard_D4s_v5")]
    assert (d4.unit_price, d4.vcpu, d4.memory_gib, d4.family) == (Decimal("0.23"), 4, Decimal(16), "Dsv5")
    assert {k[2] for k in prices if k[0] == "instance"} == {"Standard_D2s_v5", "Standard_D4s_v5"}
    assert prices[("instance", "westeurope", "Standard_D2s_v5")].unit_price == Decimal("0.115")
    assert prices[("disk", "westeurope", "Premium_LRS")].unit_price == Decimal("21.68") / 128
    assert prices[("snapshot", "westeurope", "standard")].unit_price == Decimal("0.055")
    assert prices[("object_storage", "westeurope", "Cool")].unit_price == Decimal("0.011")
    assert prices[("public_ip", "westeurope", "idle")].unit_price == Decimal("0.005")
    assert prices[("load_balancer", "westeurope", "standard")].unit_price == Decimal("0.025")
    vm_filter = (
        "serviceName eq 'Virtual Machines' and armRegionName eq 'westeurope' and priceType eq 'Consumption'"
    )
    assert vm_filter in azure_fake.filters
    skipped = [r for r in azure_fake.requests if "$skip" in r[2]]
    assert skipped, "a second page was read through NextPageLink"
    assert all(r[2].get("api-version") == ["2023-01-01-preview"] for r in azure_fake.requests)


def test_azure_retail_prices_reject_an_answer_without_items(azure_fake: FakeAzureRetail) -> None:
    azure_fake.malformed = b'{"BillingCurrency": "USD", "Count": 0}'
    with (
        httpx.Client() as client,
        pytest.raises(PriceListError, match=r"Azure Retail Prices .* page 1: .*no Items"),
    ):
        AzureRetailPrices(client, base_url=azure_fake.url).fetch(
            PriceScope(regions=frozenset({"westeurope"}))
        )


def test_azure_retail_prices_give_up_after_the_retries_with_the_status(azure_fake: FakeAzureRetail) -> None:
    azure_fake.fail(503, times=10)
    with (
        httpx.Client() as client,
        pytest.raises(PriceListError, match=r"gave up after 5 attempts \(HTTP 503"),
    ):
        AzureRetailPrices(client, base_url=azure_fake.url, sleep=lambda _: None).fetch(
            PriceScope(regions=frozenset({"westeurope"}))
        )


# ---- GCP --------------------------------------------------------------------------------------------------
GCP_SKUS = [
    gcp_sku("N2 Instance Core running in Americas", ["us-central1", "us-east1"], "0.031611"),
    gcp_sku("N2 Instance Ram running in Americas", ["us-central1", "us-east1"], "0.004237", unit="GiBy.h"),
    gcp_sku("N2 Instance Core running in Americas", ["us-central1"], "0.0073", usage="Preemptible"),
    gcp_sku("E2 Instance Core running in Americas", ["us-central1"], "0.021811"),
    gcp_sku("E2 Instance Ram running in Americas", ["us-central1"], "0.002923", unit="GiBy.h"),
    gcp_sku("Balanced PD Capacity in Iowa", ["us-central1"], "0.1", unit="GiBy.mo"),
    gcp_sku("Regional Balanced PD Capacity in Iowa", ["us-central1"], "0.2", unit="GiBy.mo"),
    gcp_sku("Storage PD Snapshot in Iowa", ["us-central1"], "0.05", unit="GiBy.mo"),
    gcp_sku("Static Ip Charge", ["us-central1", "europe-west1"], "0.01"),
    gcp_sku("External IP Charge on a Standard VM", ["us-central1"], "0.005"),
    gcp_sku(
        "Network Load Balancing: Forwarding Rule Minimum Service Charge in Americas", ["us-central1"], "0.025"
    ),
    gcp_sku("N2 Instance Core running in EMEA", ["europe-west1"], "0.034773"),
]


@pytest.fixture
def gcp_fake() -> Iterator[FakeGcpCatalog]:
    fake = FakeGcpCatalog(GCP_SKUS)
    yield fake
    fake.stop()


def test_gcp_catalog_pages_retries_and_derives_machine_prices(gcp_fake: FakeGcpCatalog) -> None:
    gcp_fake.fail(503, times=1)
    waits: list[float] = []
    with httpx.Client() as client:
        reader = GcpBillingCatalog(
            client, api_key=GCP_KEY, base_url=gcp_fake.url, page_size=3, sleep=waits.append
        )
        scope = PriceScope(
            regions=frozenset({"us-central1"}),
            families=frozenset({"n2"}),
            instance_types=frozenset({"e2-standard-4"}),
        )
        prices = _by_key(reader.fetch(scope))

    assert len(waits) == 1 and reader.pages_read == 4, "4 pages of 3 SKUs, the first after one 503"
    n2 = prices[("instance", "us-central1", "n2-standard-4")]
    assert n2.unit_price == Decimal("0.031611") * 4 + Decimal("0.004237") * 16
    assert (n2.vcpu, n2.memory_gib, n2.family, n2.provider) == (4, Decimal(16), "n2", CloudProvider.GCP)
    assert ("instance", "us-central1", "n2-standard-32") in prices
    assert prices[("instance", "us-central1", "e2-standard-4")].unit_price == (
        Decimal("0.021811") * 4 + Decimal("0.002923") * 16
    )
    assert prices[("disk", "us-central1", "pd-balanced")].unit_price == Decimal("0.1")
    assert prices[("snapshot", "us-central1", "standard")].unit_price == Decimal("0.05")
    assert prices[("public_ip", "us-central1", "idle")].unit_price == Decimal("0.01")
    assert prices[("public_ip", "us-central1", "in_use")].unit_price == Decimal("0.005")
    assert prices[("load_balancer", "us-central1", "forwarding-rule")].unit_price == Decimal("0.025")
    assert all(p.region == "us-central1" for p in prices.values())
    assert all(
        p.kind != PriceKind.INSTANCE or p.sku.startswith(("n2-standard-", "e2-")) for p in prices.values()
    )
    tokens = [r[2].get("pageToken") for r in gcp_fake.requests]
    assert tokens[0] is None and all(t is not None for t in tokens[2:])


def test_gcp_catalog_names_a_sku_without_a_price(gcp_fake: FakeGcpCatalog) -> None:
    broken = gcp_sku("Balanced PD Capacity in Iowa", ["us-central1"], "0.1")
    broken["pricingInfo"][0]["pricingExpression"]["tieredRates"] = [
        {"startUsageAmount": 0, "unitPrice": "0.1"}
    ]
    gcp_fake.skus = [broken]
    with (
        httpx.Client() as client,
        pytest.raises(PriceListError, match=r"GCP Cloud Billing Catalog page 1: SKU"),
    ):
        GcpBillingCatalog(client, api_key=GCP_KEY, base_url=gcp_fake.url).fetch(
            PriceScope(regions=frozenset({"us-central1"}))
        )


def test_gcp_catalog_without_a_key_is_refused_clearly(gcp_fake: FakeGcpCatalog) -> None:
    with httpx.Client() as client, pytest.raises(PriceListError, match=r"HTTP 403.*API key"):
        GcpBillingCatalog(client, base_url=gcp_fake.url).fetch(PriceScope(regions=frozenset({"us-central1"})))
