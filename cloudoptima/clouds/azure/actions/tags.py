"""TAG merges and UNTAG deletes tag keys through the Tags API (``Microsoft.Resources/tags/default``)."""

from __future__ import annotations

from typing import Any

from cloudoptima.clouds.azure import ids
from cloudoptima.clouds.azure.actions.plan import Plan
from cloudoptima.clouds.azure.inventory import as_dict, dig
from cloudoptima.clouds.azure.session import AzureSession
from cloudoptima.clouds.protocol import ActionKind, ActionRefusedError, ActionRequest, RollbackPlan


def plan_tag(session: AzureSession, request: ActionRequest, arm: ids.ArmId, _key: str) -> Plan:
    tags_api = session.resources.tags
    current = {
        str(k): str(v)
        for k, v in (dig(as_dict(tags_api.get_at_scope(arm.resource_id)), "properties", "tags") or {}).items()
    }
    plan = Plan(state={"tags": current}, permissions=["Microsoft.Resources/tags/write"])
    if request.kind == ActionKind.TAG:
        wanted = request.parameters.get("tags")
        if not isinstance(wanted, dict) or not wanted:
            raise ActionRefusedError(f"tag on {request.resource_id} needs parameters.tags")
        changes = {str(k): str(v) for k, v in wanted.items()}
        if len({**current, **changes}) > 50:
            plan.problems.append(f"{request.resource_id} would exceed Azure's 50 tags per resource")
        added = [k for k in changes if k not in current]
        overwritten = {k: current[k] for k in changes if k in current and current[k] != changes[k]}
        if overwritten and not added:
            back = request.model_copy(update={"parameters": {"tags": overwritten}})
        else:
            back = request.model_copy(update={"kind": ActionKind.UNTAG, "parameters": {"keys": added}})
        plan.rollback = RollbackPlan(action=back, evidence={"previous_values": overwritten})
        body: dict[str, Any] = {"operation": "Merge", "properties": {"tags": changes}}
    else:
        keys = [str(k) for k in request.parameters.get("keys") or []]
        if not keys:
            raise ActionRefusedError(f"untag on {request.resource_id} needs parameters.keys")
        removed = {k: current[k] for k in keys if k in current}
        back = request.model_copy(update={"kind": ActionKind.TAG, "parameters": {"tags": removed}})
        plan.rollback = RollbackPlan(action=back if removed else None, evidence={"removed": removed})
        body = {"operation": "Delete", "properties": {"tags": removed}}

    def run() -> dict[str, Any]:
        if request.kind == ActionKind.UNTAG and not body["properties"]["tags"]:
            return {"tags": current}
        result = as_dict(tags_api.begin_update_at_scope(arm.resource_id, body).result())
        return {"tags": dig(result, "properties", "tags") or {}}

    plan.run = run
    return plan
