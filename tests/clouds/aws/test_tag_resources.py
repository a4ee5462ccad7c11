"""The ``tag_resources`` policy action on AWS (moto EC2): the dry run validates the tag step through the AWS
provider, the step tags the instance with the required keys it lacked, and its rollback removes them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from cloudoptima.domain.tag_policy import TagPolicy
from cloudoptima.services.policies import PolicyService, validate_policy
from cloudoptima.services.remediation import RemediationService
from cloudoptima.services.tag_governance import TagGovernance
from cloudoptima.storage.inventory_store import upsert_resources
from cloudoptima.storage.models import CloudAccount, Organization
from tests.clouds.aws.conftest import Estate, client, make_provider

NOW = datetime(2026, 1, 5, tzinfo=UTC)


def _tags(estate: Estate, instance_id: str) -> dict[str, str]:
    described = client(estate.endpoint, "ec2").describe_tags(
        Filters=[{"Name": "resource-id", "Values": [instance_id]}]
    )
    return {t["Key"]: t["Value"] for t in described["Tags"]}


def test_tag_resources_on_aws_tags_then_rolls_back(db_session: Session, estate: Estate) -> None:
    provider = make_provider(estate)
    org = Organization(name="tag-aws", subscription_tier="free", settings={})
    db_session.add(org)
    db_session.flush()
    account = CloudAccount(
        organization_id=org.id, provider="aws", account_identifier="123456789012", credentials_encrypted=""
    )
    db_session.add(account)
    db_session.flush()
    live = [r for r in provider.inventory().items if r.resource_id == estate.running_instance_id]
    upsert_resources(db_session.connection(), org.id, account.id, live, {}, NOW, complete=False)
    before = _tags(estate, estate.running_instance_id)
    TagGovernance(db_session, org.id).write_policy(
        TagPolicy.model_validate(
            {
                "required": [
                    {"key": "tag-aws-owner", "default_value": "finops"},
                    {"key": "Name", "default_value": "x"},
                ]
            }
        )
    )
    service = PolicyService(db_session, org.id, now=lambda: NOW)
    policy = service.create(
        validate_policy(
            {
                "name": "tag aws",
                "trigger": {"type": "event", "config": {"event": "anomaly.detected"}},
                "conditions": [
                    {"field": "resource_id", "operator": "eq", "value": estate.running_instance_id}
                ],
                "actions": [{"type": "tag_resources"}],
            }
        )
    )
    remediation = RemediationService(db_session, org.id, lambda _: provider, now=lambda: NOW)
    dry = service.dry_run(policy.id, remediation, requested_by_role="engineer")
    [step] = dry.plan.steps
    expected = {"tag-aws-owner": "finops", **({} if "Name" in before else {"Name": "x"})}
    assert (step.action, step.parameters, step.valid) == ("tag", {"tags": expected}, True), step.problems
    assert _tags(estate, estate.running_instance_id) == before, "a dry run changes nothing"

    outcome = remediation.execute_step(step, "tag-aws-1")
    assert outcome.status == "succeeded", outcome.error
    assert _tags(estate, estate.running_instance_id) == {**before, **expected}
    undone = remediation.rollback_step(outcome, step.cloud_account_id, "tag-aws-1-rollback")
    assert undone.status == "rolled_back", undone.detail
    assert _tags(estate, estate.running_instance_id) == before
