"""RELEASE_IP: detach a public IP from its NIC and delete it (irreversible: the address cannot be reclaimed)."""

from __future__ import annotations

from typing import Any

from azure.mgmt.network.models import NetworkInterface

from cloudoptima.clouds.azure import ids
from cloudoptima.clouds.azure.actions.plan import Plan
from cloudoptima.clouds.azure.inventory import as_dict, dig
from cloudoptima.clouds.azure.session import AzureSession
from cloudoptima.clouds.protocol import ActionRequest, RollbackPlan


def plan_release_ip(session: AzureSession, request: ActionRequest, arm: ids.ArmId, _key: str) -> Plan:
    network = session.network
    ip = as_dict(network.public_ip_addresses.get(arm.resource_group, arm.name))
    address = dig(ip, "properties", "ipAddress")
    config = dig(ip, "properties", "ipConfiguration", "id")
    state = {"address": address, "ip_configuration": config}
    plan = Plan(state=state, permissions=["Microsoft.Network/publicIPAddresses/delete"])
    nic_arm = ids.parse(config) if config else None
    if config and (nic_arm is None or not nic_arm.is_type("Microsoft.Network/networkInterfaces")):
        plan.problems.append(f"{request.resource_id} is used by {config}; only NIC associations are detached")
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
