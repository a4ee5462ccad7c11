"""The RefreshPrices workflow on a real Temporal dev server: it stores the AWS Price List for the regions and
families live accounts use, and a provider whose price list fails keeps its last prices and is reported."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import boto3
import pytest
from botocore.config import Config
from sqlalchemy import Engine, delete
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from cloudoptima.clouds.aws.price_list import AwsPriceList
from cloudoptima.domain.inventory import (
    CloudProvider,
    InstanceAttributes,
    Resource,
    ResourceKind,
    ResourceState,
)
from cloudoptima.domain.prices import ListPrice, PriceKind, PriceListError, PriceScope
from cloudoptima.services.prices import PriceRefresher
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.inventory_store import upsert_resources
from cloudoptima.storage.models import CloudAccount, ListPriceRow, Organization, PriceRefreshRow
from cloudoptima.storage.price_store import load_snapshots, refresh_status, replace_prices
from cloudoptima_workflows.prices.activities import PriceActivities
from cloudoptima_workflows.prices.inputs import RefreshPricesInput, RefreshPricesResult
from cloudoptima_workflows.prices.workflows import RefreshPricesWorkflow
from tests.clouds.prices.fakes import FakeAwsPricing, aws_product
from tests.workflows.history_recording import record_history

NOW = datetime(2031, 3, 1, 4, tzinfo=UTC)
AZURE_BEFORE = ListPrice(
    CloudProvider.AZURE, PriceKind.SNAPSHOT, "westeurope", "standard", Decimal("0.055"), "Storage"
)


def _vm(rid: str, provider: CloudProvider, region: str, instance_type: str) -> Resource:
    return Resource(
        resource_id=rid,
        name=rid,
        kind=ResourceKind.COMPUTE_INSTANCE,
        provider=provider,
        account_id="acct",
        region=region,
        service_name="compute",
        sku_id="",
        attributes=InstanceAttributes(instance_type=instance_type, family="x", vcpu=2, memory_gib=Decimal(8)),
        monthly_cost=Decimal(0),
        state=ResourceState.RUNNING,
        created_at=NOW - timedelta(days=60),
    )


@pytest.fixture
def live_estate(engine: Engine) -> Iterator[None]:
    sessions = session_factory(engine)
    with sessions() as session, session.begin():
        org = Organization(name=f"prices-{uuid.uuid4().hex[:6]}", subscription_tier="free", settings={})
        session.add(org)
        session.flush()
        account = CloudAccount(
            organization_id=org.id, provider="aws", account_identifier="acct", credentials_encrypted="x"
        )
        session.add(account)
        session.flush()
        org_id = org.id
        vms = [
            _vm(f"i-{uuid.uuid4().hex[:8]}", CloudProvider.AWS, "eu-west-1", "m5.xlarge"),
            _vm(f"vm-{uuid.uuid4().hex[:8]}", CloudProvider.AZURE, "westeurope", "Standard_D2s_v5"),
        ]
        upsert_resources(session.connection(), org.id, account.id, vms, {}, NOW, complete=True)
        sandbox = CloudAccount(
            organization_id=org.id,
            provider="aws",
            account_identifier="sandbox",
            credentials_encrypted="x",
            settings={"sandbox": {"estate_dir": "/nowhere", "account_id": "sandbox"}},
        )
        session.add(sandbox)
        session.flush()
        demo = [_vm(f"i-{uuid.uuid4().hex[:8]}", CloudProvider.AWS, "xx-sandbox-1", "c5.large")]
        upsert_resources(session.connection(), org.id, sandbox.id, demo, {}, NOW, complete=True)
        replace_prices(
            session, CloudProvider.AZURE, [AZURE_BEFORE], "Azure Retail Prices", NOW - timedelta(days=1)
        )
    yield
    with sessions() as session, session.begin():
        session.execute(delete(Organization).where(Organization.id == org_id))
        session.execute(delete(ListPriceRow).where(ListPriceRow.provider.in_(["aws", "azure"])))
        session.execute(delete(PriceRefreshRow).where(PriceRefreshRow.provider.in_(["aws", "azure"])))


class _AzureDown:
    def fetch(self, scope: PriceScope) -> list[ListPrice]:
        raise PriceListError("Azure Retail Prices: gave up after 5 attempts (HTTP 503: Service Unavailable)")


async def test_refresh_stores_aws_and_keeps_azure_when_its_price_list_fails(
    temporal_env: WorkflowEnvironment, engine: Engine, live_estate: None
) -> None:
    fake = FakeAwsPricing(
        [
            aws_product(
                "AmazonEC2",
                f"SKU{n}",
                {
                    "productFamily": "Compute Instance",
                    "instanceType": name,
                    "regionCode": "eu-west-1",
                    "operatingSystem": "Linux",
                    "tenancy": "Shared",
                    "preInstalledSw": "NA",
                    "capacitystatus": "Used",
                    "vcpu": str(vcpu),
                    "memory": f"{vcpu * 4} GiB",
                },
                price,
            )
            for n, (name, vcpu, price) in enumerate(
                [("m5.large", 2, "0.107"), ("m5.xlarge", 4, "0.214"), ("m5.2xlarge", 8, "0.428")]
            )
        ]
    )
    client = boto3.client(
        "pricing",
        region_name="us-east-1",
        endpoint_url=fake.url,
        aws_access_key_id="AKIAEXAMPLEKEY000001",
        aws_secret_access_key="test-secret-not-real",
        config=Config(retries={"mode": "standard", "max_attempts": 2}),
    )
    sessions = session_factory(engine)
    refresher = PriceRefresher(
        sessions,
        {CloudProvider.AWS: lambda: AwsPriceList(client, page_size=2), CloudProvider.AZURE: _AzureDown},
        now=lambda: NOW,
    )
    scopes = refresher.scopes()
    assert "eu-west-1" in scopes[CloudProvider.AWS].regions and "m5" in scopes[CloudProvider.AWS].families
    assert "Dsv5" in scopes[CloudProvider.AZURE].families, "families as the price lists name them"
    assert "xx-sandbox-1" not in scopes[CloudProvider.AWS].regions, (
        "a sandbox estate is priced by its catalogue"
    )
    queue = f"prices-{uuid.uuid4().hex[:8]}"
    try:
        with ThreadPoolExecutor(4) as executor:
            async with Worker(
                temporal_env.client,
                task_queue=queue,
                workflows=[RefreshPricesWorkflow],
                activities=[PriceActivities(refresher).refresh_provider],
                activity_executor=executor,
            ):
                handle = await temporal_env.client.start_workflow(
                    RefreshPricesWorkflow.run,
                    RefreshPricesInput(providers=["aws", "azure"]),
                    id=f"refresh-prices-{uuid.uuid4()}",
                    task_queue=queue,
                    result_type=RefreshPricesResult,
                )
                result = await handle.result()
                await record_history(handle, "refresh_prices")
    finally:
        fake.stop()

    by_provider = {r.provider: r for r in result.providers}
    assert by_provider["aws"].status == "ok" and by_provider["aws"].prices == 3
    assert result.failed == ["azure"]
    assert "HTTP 503" in (by_provider["azure"].error or "")
    with sessions() as session:
        snapshots = load_snapshots(session)
        status = refresh_status(session)
    aws = {p.sku: p for p in snapshots[CloudProvider.AWS].prices if p.kind == PriceKind.INSTANCE}
    assert aws["m5.xlarge"].unit_price == Decimal("0.214") and aws["m5.xlarge"].region == "eu-west-1"
    assert snapshots[CloudProvider.AWS].label == "AWS Price List, fetched 2031-03-01"
    assert snapshots[CloudProvider.AZURE].prices == (AZURE_BEFORE,), "the last good Azure list stays"
    assert status[CloudProvider.AZURE].status == "failed"
    assert "HTTP 503" in (status[CloudProvider.AZURE].error or "")
    families = [r for r in fake.requests if r[0] == "POST"]
    assert families, "the AWS Price List was asked"
