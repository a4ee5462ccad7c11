"""``PATCH /v1/cloud-accounts/{id}``: editable settings validated by name, merged, audited; GCP's billing
export table accepted at connection too."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.cloud_accounts import CloudAccountService
from cloudoptima.settings import Settings
from cloudoptima.storage.models import AuditLog, CloudAccount
from cloudoptima.storage.tenancy import scope
from tests.gateway.conftest import GOOD_ROLE, Org, make_org


@pytest.fixture
def org(engine: Engine, gateway_settings: Settings) -> Org:
    return make_org(engine, gateway_settings, name="settings")


def _account(engine: Engine, settings: Settings, org: Org, provider: str, identifier: str) -> uuid.UUID:
    with Session(engine) as session:
        scope(session, org.id)
        row = CloudAccountService(
            session, org.id, CredentialCipher(settings.resolved_encryption_key)
        ).connect(provider, identifier, None, {"k": "v"}, {"account_id": identifier})
        session.commit()
        return row.id


def _stored(engine: Engine, account: uuid.UUID) -> dict[str, Any]:
    with Session(engine) as session:
        row = session.get(CloudAccount, account)
        assert row is not None
        return dict(row.settings or {})


def _errors(response: Any) -> list[tuple[list[str], str]]:
    assert response.status_code == 422, response.text
    return [(e["loc"], e["msg"]) for e in response.json()["detail"]]


def test_aws_settings_are_validated_merged_removed_and_audited(
    client: TestClient, engine: Engine, gateway_settings: Settings, org: Org
) -> None:
    account = _account(engine, gateway_settings, org, "aws", "123456789012")
    url = f"/v1/cloud-accounts/{account}"
    set_regions = client.patch(
        url, headers=org.headers(), json={"settings": {"regions": ["eu-west-1", "us-east-1"]}}
    )
    assert set_regions.status_code == 200, set_regions.text
    body = set_regions.json()
    assert body["changed"] == ["regions"] and body["settings"]["regions"] == ["eu-west-1", "us-east-1"]
    assert body["settings"]["account_id"] == "123456789012"  # untouched settings stay

    [(loc, msg)] = _errors(
        client.patch(url, headers=org.headers(), json={"settings": {"regions": ["mars-1"]}})
    )
    assert loc == ["body", "settings", "regions"] and "'mars-1' is not an AWS region code" in msg
    [(loc, _msg)] = _errors(client.patch(url, headers=org.headers(), json={"settings": {"colour": "red"}}))
    assert loc == ["body", "settings", "colour"]
    [(loc, msg)] = _errors(
        client.patch(url, headers=org.headers(), json={"settings": {"cost_source": "cur_s3"}})
    )
    assert loc == ["body", "settings", "cur_bucket"] and "needs the bucket" in msg
    assert _stored(engine, account)["regions"] == ["eu-west-1", "us-east-1"]  # refused patches change nothing
    assert "cost_source" not in _stored(engine, account)

    cur = client.patch(
        url,
        headers=org.headers(),
        json={"settings": {"cost_source": "cur_s3", "cur_bucket": "acme-cur", "regions": None}},
    )
    assert cur.status_code == 200, cur.text
    assert cur.json()["changed"] == ["cost_source", "cur_bucket", "regions"]
    assert "regions" not in _stored(engine, account)

    with Session(engine) as session:
        audit = session.scalars(
            select(AuditLog).where(AuditLog.organization_id == org.id, AuditLog.resource_id == str(account))
        ).all()
    assert [a.details.get("changed") for a in audit if a.result == "success"] == [
        ["regions"],
        ["cost_source", "cur_bucket", "regions"],
    ]


def test_gcp_billing_export_table_at_connection_and_by_patch(
    client: TestClient, engine: Engine, gateway_settings: Settings, org: Org
) -> None:
    account = _account(engine, gateway_settings, org, "gcp", "my-project-42")
    url = f"/v1/cloud-accounts/{account}"
    ok = client.patch(
        url,
        headers=org.headers(),
        json={"settings": {"billing_export_table": "billing-proj.exports.gcp_billing_v1"}},
    )
    assert ok.status_code == 200, ok.text
    assert _stored(engine, account)["billing_export_table"] == "billing-proj.exports.gcp_billing_v1"
    [(loc, _msg)] = _errors(
        client.patch(url, headers=org.headers(), json={"settings": {"billing_export_table": "no dots"}})
    )
    assert loc == ["body", "settings", "billing_export_table"]
    [(loc, _msg)] = _errors(
        client.patch(url, headers=org.headers(), json={"settings": {"regions": ["us-east-1"]}})
    )
    assert loc == ["body", "settings", "regions"]  # an AWS setting is not a GCP one

    refused = client.post(
        "/v1/cloud-accounts/gcp",
        headers=org.headers(),
        json={
            "project_id": "other-project-1",
            "service_account_json": base64.b64encode(
                json.dumps({"type": "service_account", "client_email": "a@b.c", "private_key": "x"}).encode()
            ).decode(),
            "billing_export_table": "not-a-table",
        },
    )
    [(loc, _msg)] = _errors(refused)
    assert loc == ["body", "billing_export_table"]


def test_azure_resource_groups_are_validated_audited_and_other_orgs_are_hidden(
    client: TestClient, engine: Engine, gateway_settings: Settings, org: Org
) -> None:
    azure = _account(engine, gateway_settings, org, "azure", str(uuid.uuid4()))
    url = f"/v1/cloud-accounts/{azure}"
    [(loc, _msg)] = _errors(client.patch(url, headers=org.headers(), json={"settings": {"regions": ["x"]}}))
    assert loc == ["body", "settings", "regions"]  # an AWS setting is not an Azure one
    [(loc, msg)] = _errors(
        client.patch(url, headers=org.headers(), json={"settings": {"resource_groups": ["ok", "bad/name"]}})
    )
    assert (
        loc == ["body", "settings", "resource_groups"] and "'bad/name' is not an Azure resource group" in msg
    )
    scoped = client.patch(
        url, headers=org.headers(), json={"settings": {"resource_groups": ["rg-b", "rg-a"]}}
    )
    assert scoped.status_code == 200, scoped.text
    assert scoped.json()["changed"] == ["resource_groups"]
    assert _stored(engine, azure)["resource_groups"] == ["rg-a", "rg-b"]
    with Session(engine) as session:
        audit = session.scalars(
            select(AuditLog).where(AuditLog.organization_id == org.id, AuditLog.resource_id == str(azure))
        ).all()
    assert [a.details.get("changed") for a in audit if a.result == "success"] == [["resource_groups"]]
    other = make_org(engine, gateway_settings, name="other")
    hidden = client.patch(url, headers=other.headers(), json={"settings": {"a": 1}})
    assert hidden.status_code == 404
    viewer = client.patch(url, headers=org.headers("viewer"), json={"settings": {"a": 1}})
    assert viewer.status_code == 403
    refused = client.post(
        "/v1/cloud-accounts/azure",
        headers=org.headers(),
        json={
            "subscription_id": str(uuid.uuid4()),
            "tenant_id": str(uuid.uuid4()),
            "client_id": str(uuid.uuid4()),
            "client_secret": "s3cret",
            "resource_groups": ["trailing."],
        },
    )
    [(loc, _msg)] = _errors(refused)
    assert loc == ["body", "resource_groups"]


def test_aws_connection_takes_the_same_settings_as_patch(
    client: TestClient, engine: Engine, gateway_settings: Settings, org: Org
) -> None:
    body = {"role_arn": GOOD_ROLE, "external_id": "ext-1"}
    [(loc, _msg)] = _errors(
        client.post("/v1/cloud-accounts/aws", headers=org.headers(), json={**body, "member_role_name": "a/b"})
    )
    assert loc == ["body", "member_role_name"]
    [(loc, msg)] = _errors(
        client.post("/v1/cloud-accounts/aws", headers=org.headers(), json={**body, "cost_source": "cur_s3"})
    )
    assert loc == ["body", "cur_bucket"] and "needs the bucket" in msg
    [(loc, _msg)] = _errors(
        client.post(
            "/v1/cloud-accounts/aws", headers=org.headers(), json={**body, "cost_tag_keys": ["aws:x"]}
        )
    )
    assert loc == ["body", "cost_tag_keys"]
    made = client.post(
        "/v1/cloud-accounts/aws",
        headers=org.headers(),
        json={
            **body,
            "regions": ["us-east-1"],
            "member_role_name": "CloudOptimaMemberReader",
            "cost_resource_level": True,
            "cost_tag_keys": ["team", "cost-center"],
        },
    )
    assert made.status_code == 201, made.text
    stored = _stored(engine, uuid.UUID(made.json()["id"]))
    assert stored == {
        "account_id": "123456789012",
        "regions": ["us-east-1"],
        "member_role_name": "CloudOptimaMemberReader",
        "cost_resource_level": True,
        "cost_tag_keys": ["team", "cost-center"],
    }
    url = f"/v1/cloud-accounts/{made.json()['id']}"
    [(loc, _msg)] = _errors(
        client.patch(url, headers=org.headers(), json={"settings": {"member_role_name": "role:with:colons"}})
    )
    assert loc == ["body", "settings", "member_role_name"]
    ok = client.patch(url, headers=org.headers(), json={"settings": {"member_role_name": None}})
    assert ok.status_code == 200 and "member_role_name" not in ok.json()["settings"]
