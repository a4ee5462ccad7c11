"""Planning the ``tag_resources`` policy action over stored resources: one ``tag`` step per matched resource
that lacks a required key (with a value to apply), none for a resource that lacks nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from cloudoptima.domain.tag_policy import TagPolicy
from cloudoptima.services.policies import validate_policy
from cloudoptima.services.tag_governance import TagGovernance
from tests.services.test_policies_service import Stored
from tests.workflows.test_remediation_harness import sandbox_copy

BODY = {
    "name": "tag instances",
    "trigger": {"type": "event", "config": {"event": "anomaly.detected"}},
    "conditions": [{"field": "resource_type", "operator": "eq", "value": "compute_instance"}],
}


def test_only_resources_missing_a_required_key_get_a_step(db_session: Session, tmp_path: Path) -> None:
    stored = Stored(db_session, sandbox_copy(tmp_path / "sandbox"), "tag-planning")
    TagGovernance(db_session, stored.org).write_policy(
        TagPolicy.model_validate(
            {"required": [{"key": "TEAM", "default_value": "x"}, {"key": "owner", "default_value": "ops"}]}
        )
    )
    service = stored.service(db_session)
    instances = sorted(r.resource_id for r in stored.resources if r.kind.value == "compute_instance")
    assert all("team" in r.tags for r in stored.resources), "the sandbox tags every resource with team"

    only_team = validate_policy(
        {**BODY, "actions": [{"type": "tag_resources", "config": {"keys": ["team"]}}]}
    )
    matched, planned = service.planned_actions(only_team)
    assert matched == instances and planned == [], "every instance carries team: nothing to do"

    both = validate_policy({**BODY, "actions": [{"type": "tag_resources"}]})
    _, planned = service.planned_actions(both)
    assert [(a.resource_id, a.action, a.parameters) for a in planned] == [
        (rid, "tag", {"tags": {"owner": "ops"}}) for rid in instances
    ]
