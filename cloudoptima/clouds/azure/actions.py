"""Remediation actions on one subscription: plan (read-only), validate, execute once per idempotency key.

Contract:

- :meth:`ActionRunner.validate` reads the target and the caller's effective permissions (ARM permissions API)
  and changes nothing. Unknown or wrong-type resources, wrong states and unsupported sizes are ``problems``
  naming the resource id or size; missing RBAC actions are ``missing_permissions``.
- :meth:`ActionRunner.execute` runs an action once per ``idempotency_key`` (kept in memory for the lifetime of
  the provider): a repeated key returns the first :class:`ActionResult` without calling Azure; the same key
  with a different request is refused. Preconditions failing raise :class:`ActionRefusedError`; a missing
  permission raises :class:`CredentialsError` naming the action. Long-running operations are awaited.
- STOP is *deallocate* (compute billing stops). Power-off (``powerOff``) would keep paying for the compute,
  so it is never used. START starts a deallocated or stopped VM. RESIZE deallocates a running VM, PATCHes
  ``hardwareProfile.vmSize`` and starts it again; sizes not in the VM's ``vmSizes`` list are refused.
- SNAPSHOT_AND_DELETE_DISK copies an *unattached* disk to a full snapshot (named from the key, so a retry
  reuses it) then deletes the disk. Its rollback is RESTORE_DISK with the disk's name, location, zones, SKU,
  size and tags and the snapshot id (known only on execution; a dry run's plan omits it).
- RESTORE_DISK PUTs a disk with the old name (so the same ARM id; Azure still makes a new disk with a new
  ``uniqueId``) copying the snapshot. It is refused while a disk of that id exists (a PUT would update it)
  and when the snapshot is missing or a required parameter is absent. Permissions are checked at the
  resource-group scope, since the disk does not exist yet. Its rollback has no action: undoing it means
  deleting the restored disk, which the protocol can only say as another snapshot-and-delete; the evidence
  names the disk so a person can delete it.
- DELETE_SNAPSHOT and RELEASE_IP are irreversible (a released address cannot be reclaimed; it is recorded).
- TAG merges tags and UNTAG deletes keys through the Tags API (``Microsoft.Resources/tags/default``).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.compute.models import Disk, Snapshot, VirtualMachineUpdate
from azure.mgmt.network.models import NetworkInterface

from cloudoptima.clouds.azure import ids
from cloudoptima.clouds.azure.errors import azure_errors
from cloudoptima.clouds.azure.inventory import as_dict, dig, power_state
from cloudoptima.clouds.azure.permissions import missing
from cloudoptima.clouds.azure.session import AzureSession
from cloudoptima.clouds.protocol import (
    ActionKind,
    ActionRefusedError,
    ActionRequest,
    ActionResult,
    ActionValidation,
    CredentialsError,
    RollbackPlan,
)

VM = "Microsoft.Compute/virtualMachines"
DRY_RUN = "dry-run"
_TYPES = {
    ActionKind.STOP: VM,
    ActionKind.START: VM,
    ActionKind.RESIZE: VM,
    ActionKind.SNAPSHOT_AND_DELETE_DISK: "Microsoft.Compute/disks",
    ActionKind.RESTORE_DISK: "Microsoft.Compute/disks",
    ActionKind.DELETE_SNAPSHOT: "Microsoft.Compute/snapshots",
    ActionKind.RELEASE_IP: "Microsoft.Network/publicIPAddresses",
}
POLL = "Microsoft.Compute/locations/operations/read"
RESTORE_REQUIRED = ("snapshot_id", "location", "sku", "size_gb")
RESTORE_NOTE = (
    "restore_disk re-creates the disk under the same name, so the same ARM id (after.disk_id); Azure still "
    "makes a new disk (new uniqueId and creation time), and it is not attached to anything"
)


@dataclass
class Plan:
    """What an action would do: needed permissions, blocking problems, current state, rollback, runner."""

    permissions: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    rollback: RollbackPlan | None = None
    run: Callable[[], dict[str, Any]] | None = None
    scope: str | None = None
    """Where permissions are checked (default: the resource itself)."""


class ActionRunner:
    """Validates and executes :class:`ActionRequest` s against one subscription (see module contract)."""

    def __init__(self, session: AzureSession) -> None:
        self.session = session
        self._results: dict[str, ActionResult] = {}
        self._lock = threading.Lock()

    def validate(self, request: ActionRequest) -> ActionValidation:
        plan = self.plan(request)
        lacking = self._missing(request, plan)
        return ActionValidation(
            ok=not plan.problems and not lacking,
            problems=plan.problems + [f"missing permission {p}" for p in lacking],
            missing_permissions=lacking,
            current_state=plan.state,
            rollback=plan.rollback,
        )

    def execute(self, request: ActionRequest, idempotency_key: str) -> ActionResult:
        with self._lock:
            done = self._results.get(idempotency_key)
            if done is not None:
                if done.request != request:
                    raise ActionRefusedError(
                        f"idempotency key {idempotency_key} was used for another request"
                    )
                return done
            plan = self.plan(request, idempotency_key)
            if plan.problems or plan.run is None:
                raise ActionRefusedError(
                    "; ".join(plan.problems) or f"nothing to do for {request.resource_id}"
                )
            lacking = self._missing(request, plan)
            if lacking:
                raise CredentialsError(
                    f"missing permission {lacking[0]} on {request.resource_id}", lacking[0]
                )
            with azure_errors(f"{request.kind.value} {request.resource_id}"):
                after = plan.run()
            result = ActionResult(
                request=request,
                idempotency_key=idempotency_key,
                status="succeeded",
                before=plan.state,
                after=after,
                rollback=plan.rollback or RollbackPlan(),
            )
            self._results[idempotency_key] = result
            return result

    def _missing(self, request: ActionRequest, plan: Plan) -> list[str]:
        if plan.problems or not plan.permissions:
            return []
        with azure_errors(f"read permissions on {request.resource_id}"):
            return missing(self.session, plan.scope or request.resource_id, plan.permissions)

    # -- planning (read-only) --------------------------------------------------------------------------
    def plan(self, request: ActionRequest, key: str = DRY_RUN) -> Plan:
        """Read the target and describe the action; never changes anything."""
        arm = ids.parse(request.resource_id)
        wanted = _TYPES.get(request.kind)
        if arm is None or (wanted is not None and not arm.is_type(wanted)):
            kind = wanted or "Azure resource"
            return Plan(problems=[f"resource {request.resource_id} is not a {kind} id"])
        with azure_errors(f"read {request.resource_id}"):
            try:
                return self._plan(request, arm, key)
            except ResourceNotFoundError:
                return Plan(problems=[f"resource {request.resource_id} was not found"])
            except ActionRefusedError as exc:
                return Plan(problems=[str(exc)])

    def _plan(self, request: ActionRequest, arm: ids.ArmId, key: str) -> Plan:
        handlers = {
            ActionKind.STOP: self._power,
            ActionKind.START: self._power,
            ActionKind.RESIZE: self._resize,
            ActionKind.SNAPSHOT_AND_DELETE_DISK: self._snapshot_disk,
            ActionKind.RESTORE_DISK: self._restore_disk,
            ActionKind.DELETE_SNAPSHOT: self._delete_snapshot,
            ActionKind.RELEASE_IP: self._release_ip,
            ActionKind.TAG: self._tag,
            ActionKind.UNTAG: self._tag,
        }
        return handlers[request.kind](request, arm, key)

    def _vm_state(self, arm: ids.ArmId) -> dict[str, Any]:
        vms = self.session.compute.virtual_machines
        vm = as_dict(vms.get(arm.resource_group, arm.name))
        view = as_dict(vms.instance_view(arm.resource_group, arm.name))
        size = dig(vm, "properties", "hardwareProfile", "vmSize")
        return {"power_state": power_state(view), "size": size, "location": vm.get("location")}

    def _power(self, request: ActionRequest, arm: ids.ArmId, _key: str) -> Plan:
        vms = self.session.compute.virtual_machines
        state = self._vm_state(arm)
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
            after = self._vm_state(arm)
            if stop:
                after["note"] = "deallocated: compute billing stopped (power-off alone would keep billing)"
            return after

        plan.run = run
        return plan

    def _resize(self, request: ActionRequest, arm: ids.ArmId, _key: str) -> Plan:
        vms = self.session.compute.virtual_machines
        size = str(request.parameters.get("size") or "")
        state = self._vm_state(arm)
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
            return self._vm_state(arm)

        plan.run = run
        return plan

    def _snapshot_disk(self, request: ActionRequest, arm: ids.ArmId, key: str) -> Plan:
        compute = self.session.compute
        disk = as_dict(compute.disks.get(arm.resource_group, arm.name))
        disk_state = str(dig(disk, "properties", "diskState") or "")
        snapshot_name = f"{arm.name}-cloudoptima-{hashlib.sha256(key.encode()).hexdigest()[:8]}"[:80]
        snapshot_id = f"/subscriptions/{arm.subscription_id}/resourceGroups/{arm.resource_group}/providers/Microsoft.Compute/snapshots/{snapshot_name}"
        state = {
            "disk_state": disk_state,
            "size_gb": dig(disk, "properties", "diskSizeGB"),
            "sku": dig(disk, "sku", "name"),
            "location": disk.get("location"),
        }
        plan = Plan(
            state=state,
            permissions=[
                "Microsoft.Compute/disks/read",
                "Microsoft.Compute/snapshots/write",
                "Microsoft.Compute/disks/delete",
            ],
        )
        if disk_state.lower() != "unattached":
            plan.problems.append(
                f"disk {request.resource_id} is {disk_state or 'in an unknown state'}, not Unattached"
            )
        restore = {
            "name": arm.name,
            "location": disk.get("location"),
            "zones": disk.get("zones") or [],
            "sku": state["sku"],
            "size_gb": state["size_gb"],
            "tags": disk.get("tags") or {},
        }
        if key != DRY_RUN:
            restore["snapshot_id"] = snapshot_id
        evidence = {"disk_id": disk["id"], **restore, "note": RESTORE_NOTE}
        plan.rollback = RollbackPlan(
            action=ActionRequest(
                kind=ActionKind.RESTORE_DISK,
                resource_id=request.resource_id,
                region=request.region or disk.get("location"),
                parameters=restore,
            ),
            evidence=evidence,
        )

        def run() -> dict[str, Any]:
            body = {
                "location": disk.get("location"),
                "sku": {"name": "Standard_LRS"},
                "tags": {**(disk.get("tags") or {}), "cloudoptima-source-disk": arm.name},
                "properties": {
                    "creationData": {"createOption": "Copy", "sourceResourceId": disk["id"]},
                    "incremental": False,
                },
            }
            snapshot = as_dict(
                compute.snapshots.begin_create_or_update(
                    arm.resource_group, snapshot_name, Snapshot(body)
                ).result()
            )
            compute.disks.begin_delete(arm.resource_group, arm.name).result()
            return {"snapshot_id": snapshot.get("id", snapshot_id), "disk_deleted": True}

        plan.run = run
        return plan

    def _restore_disk(self, request: ActionRequest, arm: ids.ArmId, _key: str) -> Plan:
        compute = self.session.compute
        params = request.parameters
        absent = [k for k in RESTORE_REQUIRED if params.get(k) in (None, "")]
        if not absent and not str(params["size_gb"]).isdigit():
            return Plan(
                problems=[f"restore_disk of {request.resource_id} needs a whole number in parameters.size_gb"]
            )
        if absent:
            return Plan(
                problems=[f"restore_disk of {request.resource_id} needs parameters.{k}" for k in absent]
            )
        snapshot_id = str(params["snapshot_id"])
        snap_arm = ids.parse(snapshot_id)
        if snap_arm is None or not snap_arm.is_type("Microsoft.Compute/snapshots"):
            return Plan(
                problems=[f"parameters.snapshot_id {snapshot_id} is not a Microsoft.Compute/snapshots id"]
            )
        try:
            snap = as_dict(compute.snapshots.get(snap_arm.resource_group, snap_arm.name))
        except ResourceNotFoundError:
            return Plan(problems=[f"snapshot {snapshot_id} (to restore {request.resource_id}) was not found"])
        state = {
            "snapshot_id": snap.get("id", snapshot_id),
            "snapshot_size_gb": dig(snap, "properties", "diskSizeGB"),
            "snapshot_state": dig(snap, "properties", "provisioningState"),
            "restores": request.resource_id,
        }
        resource_group = f"/subscriptions/{arm.subscription_id}/resourceGroups/{arm.resource_group}"
        plan = Plan(
            state=state,
            permissions=["Microsoft.Compute/snapshots/read", "Microsoft.Compute/disks/write", POLL],
            scope=resource_group,
        )
        if str(state["snapshot_state"] or "Succeeded").lower() != "succeeded":
            plan.problems.append(f"snapshot {snapshot_id} is {state['snapshot_state']}, not Succeeded")
        if int(params["size_gb"]) < int(state["snapshot_size_gb"] or 0):
            plan.problems.append(
                f"parameters.size_gb {params['size_gb']} is smaller than snapshot {snapshot_id} "
                f"({state['snapshot_size_gb']} GB)"
            )
        try:
            compute.disks.get(arm.resource_group, arm.name)
            plan.problems.append(f"disk {request.resource_id} still exists; there is nothing to restore")
        except ResourceNotFoundError:
            pass
        plan.rollback = RollbackPlan(
            evidence={
                "disk_id": arm.resource_id,
                "snapshot_id": snapshot_id,
                "note": "undoing a restore means deleting the restored disk (after.disk_id); that is left to "
                f"a person: the protocol has no plain delete-disk action and snapshot {snap_arm.name} is kept",
            }
        )
        body: dict[str, Any] = {
            "location": params["location"],
            "sku": {"name": params["sku"]},
            "tags": {str(k): str(v) for k, v in dict(params.get("tags") or {}).items()},
            "properties": {
                "diskSizeGB": int(params["size_gb"]),
                "creationData": {"createOption": "Copy", "sourceResourceId": snap.get("id", snapshot_id)},
            },
        }
        if params.get("zones"):
            body["zones"] = [str(z) for z in params["zones"]]

        def run() -> dict[str, Any]:
            poller = compute.disks.begin_create_or_update(arm.resource_group, arm.name, Disk(body))
            disk = as_dict(poller.result())
            return {
                "disk_id": str(disk.get("id") or arm.resource_id),
                "snapshot_id": snapshot_id,
                "size_gb": dig(disk, "properties", "diskSizeGB"),
                "disk_state": dig(disk, "properties", "diskState"),
            }

        plan.run = run
        return plan

    def _delete_snapshot(self, request: ActionRequest, arm: ids.ArmId, _key: str) -> Plan:
        compute = self.session.compute
        snap = as_dict(compute.snapshots.get(arm.resource_group, arm.name))
        state = {
            "size_gb": dig(snap, "properties", "diskSizeGB"),
            "source_resource_id": dig(snap, "properties", "creationData", "sourceResourceId"),
            "time_created": dig(snap, "properties", "timeCreated"),
        }
        plan = Plan(state=state, permissions=["Microsoft.Compute/snapshots/delete"])
        plan.rollback = RollbackPlan(
            irreversible=f"snapshot {arm.name} is deleted permanently", evidence=state
        )

        def run() -> dict[str, Any]:
            compute.snapshots.begin_delete(arm.resource_group, arm.name).result()
            return {"deleted": True}

        plan.run = run
        return plan

    def _release_ip(self, request: ActionRequest, arm: ids.ArmId, _key: str) -> Plan:
        network = self.session.network
        ip = as_dict(network.public_ip_addresses.get(arm.resource_group, arm.name))
        address = dig(ip, "properties", "ipAddress")
        config = dig(ip, "properties", "ipConfiguration", "id")
        state = {"address": address, "ip_configuration": config}
        plan = Plan(state=state, permissions=["Microsoft.Network/publicIPAddresses/delete"])
        nic_arm = ids.parse(config) if config else None
        if config and (nic_arm is None or not nic_arm.is_type("Microsoft.Network/networkInterfaces")):
            plan.problems.append(
                f"{request.resource_id} is used by {config}; only NIC associations are detached"
            )
        if nic_arm is not None:
            plan.permissions.append("Microsoft.Network/networkInterfaces/write")
        plan.rollback = RollbackPlan(
            irreversible=f"public IP address {address} is released and cannot be reclaimed", evidence=state
        )

        def run() -> dict[str, Any]:
            if nic_arm is not None:
                nic = as_dict(network.network_interfaces.get(nic_arm.resource_group, nic_arm.name))
                for conf in dig(nic, "properties", "ipConfigurations") or []:
                    if ids.same(conf.get("id"), config):
                        (conf.get("properties") or {}).pop("publicIPAddress", None)
                network.network_interfaces.begin_create_or_update(
                    nic_arm.resource_group, nic_arm.name, NetworkInterface(nic)
                ).result()
            network.public_ip_addresses.begin_delete(arm.resource_group, arm.name).result()
            return {"released_address": address, "dissociated_from": config}

        plan.run = run
        return plan

    def _tag(self, request: ActionRequest, arm: ids.ArmId, _key: str) -> Plan:
        tags_api = self.session.resources.tags
        current = {
            str(k): str(v)
            for k, v in (
                dig(as_dict(tags_api.get_at_scope(arm.resource_id)), "properties", "tags") or {}
            ).items()
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
