"""Virtual machine actions: STOP (deallocate, never power-off), START and RESIZE (within ``vmSizes``)."""

from __future__ import annotations

from typing import Any

from azure.mgmt.compute.models import VirtualMachineUpdate

from cloudoptima.clouds.azure import ids
from cloudoptima.clouds.azure.actions.plan import POLL, VM, Plan
from cloudoptima.clouds.azure.inventory import as_dict, dig, power_state
from cloudoptima.clouds.azure.session import AzureSession
from cloudoptima.clouds.protocol import ActionKind, ActionRequest, RollbackPlan


def vm_state(session: AzureSession, arm: ids.ArmId) -> dict[str, Any]:
    vms = session.compute.virtual_machines
    vm = as_dict(vms.get(arm.resource_group, arm.name))
    view = as_dict(vms.instance_view(arm.resource_group, arm.name))
    size = dig(vm, "properties", "hardwareProfile", "vmSize")
    return {"power_state": power_state(view), "size": size, "location": vm.get("location")}


def plan_power(session: AzureSession, request: ActionRequest, arm: ids.ArmId, _key: str) -> Plan:
    vms = session.compute.virtual_machines
    state = vm_state(session, arm)
    stop = request.kind == ActionKind.STOP
    allowed = {"running", "starting"} if stop else {"deallocated", "stopped"}
    plan = Plan(state=state)
    if state["power_state"] not in allowed:
        plan.problems.append(
            f"{request.resource_id} is {state['power_state']}; {request.kind.value} needs {' or '.join(sorted(allowed))}"
        )
    verb = "deallocate" if stop else "start"
    plan.permissions = [f"{VM}/{verb}/action", POLL]
    back = ActionKind.START if stop else ActionKind.STOP
    plan.rollback = RollbackPlan(action=request.model_copy(update={"kind": back, "parameters": {}}))

    def run() -> dict[str, Any]:
        poller = vms.begin_deallocate if stop else vms.begin_start
        poller(arm.resource_group, arm.name).result()
        after = vm_state(session, arm)
        if stop:
            after["note"] = "deallocated: compute billing stopped (power-off alone would keep billing)"
        return after

    plan.run = run
    return plan


def plan_resize(session: AzureSession, request: ActionRequest, arm: ids.ArmId, _key: str) -> Plan:
    vms = session.compute.virtual_machines
    size = str(request.parameters.get("size") or "")
    state = vm_state(session, arm)
    plan = Plan(
        state=state,
        permissions=[
            f"{VM}/vmSizes/read",
            f"{VM}/write",
            f"{VM}/deallocate/action",
            f"{VM}/start/action",
            POLL,
        ],
    )
    available = {as_dict(s).get("name") for s in vms.list_available_sizes(arm.resource_group, arm.name)}
    if size not in available:
        plan.problems.append(f"size {size or '(none)'} is not available for {request.resource_id}")
    elif size == state["size"]:
        plan.problems.append(f"{request.resource_id} already has size {size}")
    old = str(state["size"])
    plan.rollback = RollbackPlan(action=request.model_copy(update={"parameters": {"size": old}}))
    was_running = state["power_state"] in {"running", "starting"}

    def run() -> dict[str, Any]:
        if was_running:
            vms.begin_deallocate(arm.resource_group, arm.name).result()
        update = {"properties": {"hardwareProfile": {"vmSize": size}}}
        vms.begin_update(arm.resource_group, arm.name, VirtualMachineUpdate(update)).result()
        if was_running:
            vms.begin_start(arm.resource_group, arm.name).result()
        return vm_state(session, arm)

    plan.run = run
    return plan
