"""Issue #15, end to end through REST: an AWS account (the real connector, boto3 → moto) whose role may not
call ``cloudwatch:GetMetricData`` is connected, collected and analysed. The account shows "missing
permission cloudwatch:GetMetricData for utilisation of 1 instance" (status ``degraded``, on GET one and the
list), the other reads are collected, and the recommendations are exactly those the readable data supports:
the unattached volume, not the idle instance whose metrics could not be read. Once the permission is granted,
the next collection clears the problem and the idle instance is found.

The denial is a strict wrapper at the client boundary: a botocore ``before-call`` hook answers
``AccessDenied`` (as AWS words it) for the denied operations, before any request is sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import boto3
import numpy as np
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cloudoptima.clouds.aws.provider import AwsProvider
from cloudoptima.clouds.protocol import CloudProviderClient
from cloudoptima.clouds.registry import ProviderRegistry
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.collection import AccountRef, CollectionService
from cloudoptima.services.pricing import SandboxPriceCatalog
from cloudoptima.services.recommendations import RecommendationService
from cloudoptima.settings import Settings
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_evals import live_aws
from cloudoptima_gateway.main import build_app
from tests.gateway.conftest import Org, make_org

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
DENIED: set[str] = set()
"""Operations (``cloudwatch.GetMetricData``) the connected role may not call, read at call time."""


def _deny(event_name: str, **kwargs: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
    _, service, operation = event_name.split(".", 2)
    if f"{service}.{operation}" not in DENIED:
        return None
    action = f"{service}:{operation}"
    message = (
        f"User: arn:aws:sts::{live_aws.ACCOUNT}:assumed-role/CloudOptimaReadOnly/cloudoptima is not authorized "
        f"to perform: {action} because no identity-based policy allows the {action} action"
    )
    parsed: dict[str, Any] = {
        "Error": {"Code": "AccessDenied", "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": 403},
    }
    return AWSResponse("https://denied.invalid", 403, HTTPHeaders(), None), parsed


def _aws(credentials: dict[str, Any], settings: dict[str, Any]) -> CloudProviderClient:
    provider = AwsProvider(credentials, settings, clock=lambda: NOW)
    provider.session.boto.events.register("before-call.*.*", cast(Any, _deny))
    return provider


@pytest.fixture(scope="module")
def world(gateway_settings: Settings, engine: Engine) -> Iterator[tuple[TestClient, ProviderRegistry, str]]:
    registry = ProviderRegistry(
        CredentialCipher(gateway_settings.resolved_encryption_key), builders={"aws": _aws}
    )
    with (
        live_aws.moto_server() as endpoint,
        TestClient(build_app(gateway_settings, providers=registry)) as api,
    ):
        yield api, registry, endpoint


def _estate(endpoint: str) -> tuple[str, str]:
    """An idle m5.xlarge with 30 days of ~1 % CPU, launched 60 days ago, and a volume unattached for 40."""
    from moto.ec2.models import ec2_backends

    def client(service: str) -> Any:
        return boto3.client(service, region_name=live_aws.REGION, endpoint_url=endpoint)  # type: ignore[call-overload]

    ec2 = client("ec2")
    backend = ec2_backends[live_aws.ACCOUNT][live_aws.REGION]
    ami = ec2.register_image(Name="base", RootDeviceName="/dev/sda1")["ImageId"]
    made = ec2.run_instances(ImageId=ami, InstanceType="m5.xlarge", MinCount=1, MaxCount=1)
    instance = made["Instances"][0]["InstanceId"]
    backend.get_instance(instance).launch_time = (NOW - timedelta(days=60)).replace(tzinfo=None)
    rng = np.random.default_rng(3)
    first = (NOW - timedelta(days=30)).replace(minute=0)
    dims = [{"Name": "InstanceId", "Value": instance}]
    data = [
        {
            "MetricName": name,
            "Dimensions": dims,
            "Timestamp": first + timedelta(hours=h),
            "Value": value,
            "Unit": unit,
        }
        for h in range(30 * 24)
        for name, value, unit in (
            ("CPUUtilization", float(rng.uniform(0.5, 1.5)), "Percent"),
            ("NetworkIn", float(rng.uniform(1e3, 2e3)), "Bytes"),
            ("NetworkOut", float(rng.uniform(1e3, 2e3)), "Bytes"),
        )
    ]
    for offset in range(0, len(data), 1000):  # PutMetricData takes up to 1,000 metrics per request
        client("cloudwatch").put_metric_data(Namespace="AWS/EC2", MetricData=data[offset : offset + 1000])
    volume = ec2.create_volume(AvailabilityZone=f"{live_aws.REGION}a", Size=100, VolumeType="gp2")["VolumeId"]
    backend.volumes[volume].create_time = (NOW - timedelta(days=40)).replace(tzinfo=None)
    return instance, volume


def _collect_and_analyse(engine: Engine, registry: ProviderRegistry, org: Org, account: uuid.UUID) -> None:
    CollectionService(engine, registry.for_account, now=lambda: NOW).collect_account(
        AccountRef(org.id, account), initial_days=30, restate_days=3, today=NOW.date()
    )
    with tenant_session(session_factory(engine), org.id) as session:
        RecommendationService(session, org.id, SandboxPriceCatalog(), now=lambda: NOW).run(as_of=NOW)


def _findings(api: TestClient, org: Org) -> dict[str, set[str]]:
    listed = api.get("/v1/recommendations", headers=org.headers())
    assert listed.status_code == 200, listed.text
    found: dict[str, set[str]] = {}
    for rec in listed.json()["recommendations"]:
        for resource in rec["affected_resources"]:
            found.setdefault(resource["id"], set()).update(a["type"] for a in rec["actions"])
    return found


def test_a_denied_permission_is_shown_on_the_account_and_no_finding_comes_from_absent_data(
    world: tuple[TestClient, ProviderRegistry, str], engine: Engine, gateway_settings: Settings
) -> None:
    api, registry, endpoint = world
    org = make_org(engine, gateway_settings, name="denied")
    instance, volume = _estate(endpoint)
    DENIED.add("cloudwatch.GetMetricData")
    try:
        connected = api.post(
            "/v1/cloud-accounts/aws",
            headers=org.headers(),
            json={"role_arn": live_aws.ROLE_ARN, "external_id": "ext-denied"},
        )
        assert connected.status_code == 201, connected.text
        assert (connected.json()["status"], connected.json()["verification_status"]) == ("active", "verified")
        account = uuid.UUID(connected.json()["id"])
        url = f"/v1/cloud-accounts/{account}"
        scoped = api.patch(url, headers=org.headers(), json={"settings": {"regions": [live_aws.REGION]}})
        assert scoped.status_code == 200, scoped.text

        _collect_and_analyse(engine, registry, org, account)
        shown = api.get(url, headers=org.headers("viewer"))
        assert shown.status_code == 200, shown.text
        body = shown.json()
        assert body["status"] == "degraded"
        assert [p["message"] for p in body["permission_problems"]] == [
            "missing permission cloudwatch:GetMetricData for utilisation of 1 instance"
        ]
        assert body["permission_problems"][0]["step"] == "utilisation"
        listed = api.get("/v1/cloud-accounts", headers=org.headers()).json()["accounts"]
        assert [a["permission_problems"] for a in listed] == [body["permission_problems"]]
        assert api.get("/v1/cloud-accounts?status=degraded", headers=org.headers()).json()["total"] == 1
        # Inventory was collected; the only finding is the one the readable data supports.
        assert set(_findings(api, org)) == {volume}

        DENIED.clear()  # the permission is granted: the next collection reads the metrics and clears it
        _collect_and_analyse(engine, registry, org, account)
        cleared = api.get(url, headers=org.headers()).json()
        assert (cleared["status"], cleared["permission_problems"]) == ("active", [])
        assert set(_findings(api, org)) == {volume, instance}
    finally:
        DENIED.clear()
    assert api.get(f"/v1/cloud-accounts/{uuid.uuid4()}", headers=org.headers()).status_code == 404


def test_a_connection_missing_a_read_permission_is_verified_but_degraded(
    world: tuple[TestClient, ProviderRegistry, str], engine: Engine, gateway_settings: Settings
) -> None:
    api, _registry, _endpoint = world
    org = make_org(engine, gateway_settings, name="partial")
    DENIED.add("cloudwatch.ListMetrics")  # one of verify's reads
    try:
        connected = api.post(
            "/v1/cloud-accounts/aws",
            headers=org.headers(),
            json={"role_arn": live_aws.ROLE_ARN, "external_id": "ext-partial"},
        )
    finally:
        DENIED.clear()
    assert connected.status_code == 201, connected.text
    body = connected.json()
    assert (body["status"], body["verification_status"], body["verification_error"]) == (
        "degraded",
        "verified",
        None,
    )
    shown = api.get(f"/v1/cloud-accounts/{body['id']}", headers=org.headers()).json()
    assert [p["message"] for p in shown["permission_problems"]] == [
        "missing permission cloudwatch:ListMetrics for collection (checked when connecting)"
    ]
