"""Generic ARM resources of the fake: list, GET, PUT, PATCH (VM size), DELETE, power actions, tags, the subscription."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cloudoptima_evals.fakes.azure.server import Reply, error
from cloudoptima_evals.fakes.azure.state import VM_SIZES, iso

if TYPE_CHECKING:
    from cloudoptima_evals.fakes.azure.server import FakeAzureServer


def list_resources(server: FakeAzureServer, path: str, query: dict[str, str], rtype: str) -> Reply:
    """The resources of one type in the subscription, sorted by id and paged."""
    canonical = {r["type"].lower(): r["type"] for r in server.tenant.resources.values()}
    items = sorted(server.tenant.of_type(canonical.get(rtype.lower(), rtype)), key=lambda r: r["id"])
    return server.page(path, query, items)


def resource(server: FakeAzureServer, method: str, path: str, body: Any) -> Reply:
    """One resource URL (optionally ``/<verb>``): GET, instanceView, vmSizes, power actions, PUT, PATCH, DELETE."""
    match = re.fullmatch(
        r"(/subscriptions/[^/]+/resourceGroups/[^/]+/providers/[^/]+/[^/]+/[^/]+)(?:/([^/]+))?",
        path,
        re.I,
    )
    if not match:
        return error(404, "InvalidResourceType", f"No route for '{path}'.")
    rid, verb = match.group(1), match.group(2)
    current = server.tenant.get(rid)
    if method == "PUT" and verb is None:
        return _put(server, rid, current, body)
    if current is None:
        rtype, name = rid.split("/providers/", 1)[1].rsplit("/", 1)
        rg = rid.split("/")[4]
        return error(
            404,
            "ResourceNotFound",
            f"The Resource '{rtype}/{name}' under resource group '{rg}' "
            "was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
        )
    location = current.get("location", "")
    if location in server.tenant.location_failures and verb in ("instanceView", None) and method == "GET":
        return error(503, "ServiceUnavailable", f"The regional endpoint for '{location}' is unavailable.")
    if method == "GET" and verb is None:
        return Reply(200, current)
    if method == "GET" and verb == "instanceView":
        return Reply(200, _instance_view(server, rid))
    if method == "GET" and verb == "vmSizes":
        return Reply(
            200,
            {
                "value": [
                    {
                        "name": n,
                        "numberOfCores": c,
                        "memoryInMB": m,
                        "maxDataDiskCount": 8,
                        "osDiskSizeInMB": 1047552,
                        "resourceDiskSizeInMB": 0,
                    }
                    for n, (c, m) in VM_SIZES.items()
                ]
            },
        )
    if method == "POST" and verb in ("deallocate", "start", "powerOff"):
        server.tenant.power[rid.lower()] = {
            "deallocate": "deallocated",
            "start": "running",
            "powerOff": "stopped",
        }[verb]
        op = f"{server.tenant.sub()}/providers/Microsoft.Compute/locations/{location}/operations/{uuid.uuid4()}"
        return Reply(
            202,
            None,
            {
                "Azure-AsyncOperation": f"{server.base_url}{op}?api-version=2024-07-01",
                "Retry-After": "0",
            },
        )
    if method == "PATCH" and verb is None:
        return _patch_vm(server, rid, current, body)
    if method == "DELETE" and verb is None:
        return _delete(server, rid, current)
    return error(405, "MethodNotAllowed", f"{method} {path} is not supported.")


def _put(server: FakeAzureServer, rid: str, current: dict[str, Any] | None, body: dict[str, Any]) -> Reply:
    rtype = rid.split("/providers/", 1)[1].rsplit("/", 1)[0]
    props = dict(body.get("properties") or {})
    if rtype.lower() in ("microsoft.compute/snapshots", "microsoft.compute/disks"):
        source = server.tenant.get((props.get("creationData") or {}).get("sourceResourceId", ""))
        if props.get("creationData", {}).get("createOption") == "Copy":
            if source is None:
                return error(404, "NotFound", "Source resource for the copy was not found.")
            props["diskSizeGB"] = source["properties"]["diskSizeGB"]
        props.setdefault("timeCreated", iso(datetime.now(UTC)))
        if rtype.lower().endswith("disks"):
            props["diskState"] = "Unattached"
    props["provisioningState"] = "Succeeded"
    new = {
        **(current or {}),
        **body,
        "id": rid,
        "name": rid.rsplit("/", 1)[1],
        "type": rtype,
        "properties": props,
    }
    if rtype.lower() == "microsoft.network/networkinterfaces":
        _sync_ip_associations(server, current, new)
    server.tenant.put(new)
    return Reply(200, new)  # compute answers 200/202 to PUT; network also allows 201


def _sync_ip_associations(server: FakeAzureServer, old: dict[str, Any] | None, new: dict[str, Any]) -> None:
    for nic in (old, new):
        for conf in (nic or {}).get("properties", {}).get("ipConfigurations", []):
            ip = server.tenant.get(
                ((conf.get("properties") or {}).get("publicIPAddress") or {}).get("id", "")
            )
            if ip is not None:
                ip["properties"].pop("ipConfiguration", None)
                if nic is new:
                    ip["properties"]["ipConfiguration"] = {"id": conf["id"]}


def _patch_vm(server: FakeAzureServer, rid: str, current: dict[str, Any], body: dict[str, Any]) -> Reply:
    size = ((body.get("properties") or {}).get("hardwareProfile") or {}).get("vmSize")
    if size is not None:
        if size not in VM_SIZES:
            return error(400, "InvalidParameter", f"The value {size} provided for the VM size is not valid.")
        if server.tenant.power.get(rid.lower()) == "running":
            return error(
                409,
                "OperationNotAllowed",
                "Resize of a running VM to another cluster requires deallocation.",
            )
        current["properties"]["hardwareProfile"]["vmSize"] = size
    return Reply(200, current)


def _delete(server: FakeAzureServer, rid: str, current: dict[str, Any]) -> Reply:
    props = current.get("properties", {})
    if current["type"] == "Microsoft.Network/publicIPAddresses" and props.get("ipConfiguration"):
        return error(
            400,
            "PublicIPAddressInUse",
            f"Public IP address {rid} can not be deleted since it is still "
            f"allocated to resource {props['ipConfiguration']['id']}.",
        )
    if current["type"] == "Microsoft.Compute/disks" and props.get("diskState") == "Attached":
        return error(
            409,
            "OperationNotAllowed",
            f"Disk {current['name']} is attached to VM {current.get('managedBy')}.",
        )
    with server.tenant.lock:
        del server.tenant.resources[rid.lower()]
    return Reply(200, None)


def _instance_view(server: FakeAzureServer, rid: str) -> dict[str, Any]:
    power = server.tenant.power.get(rid.lower(), "running")
    return {
        "computerName": rid.rsplit("/", 1)[1],
        "statuses": [
            {
                "code": "ProvisioningState/succeeded",
                "level": "Info",
                "displayStatus": "Provisioning succeeded",
                "time": iso(server.tenant.now - timedelta(days=1)),
            },
            {"code": f"PowerState/{power}", "level": "Info", "displayStatus": f"VM {power}"},
        ],
    }


def subscription(server: FakeAzureServer) -> dict[str, Any]:
    """The subscription document ARM returns for ``GET /subscriptions/{id}``."""
    return {
        "id": server.tenant.sub(),
        "subscriptionId": server.tenant.subscription_id,
        "tenantId": server.tenant.tenant_id,
        "displayName": "Contoso Production",
        "state": "Enabled",
        "authorizationSource": "RoleBased",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
    }


def tags_at_scope(server: FakeAzureServer, scope: str, body: dict[str, Any] | None) -> Reply:
    """The Tags API at a resource scope: read (``body`` None) or Merge / Replace / Delete."""
    resource = server.tenant.get(scope)
    if resource is None:
        return error(404, "ResourceNotFound", f"The Resource '{scope}' was not found.")
    tags = dict(resource.get("tags") or {})
    if body is None:
        return Reply(
            200,
            {
                "id": f"{scope}/providers/Microsoft.Resources/tags/default",
                "name": "default",
                "type": "Microsoft.Resources/tags",
                "properties": {"tags": tags},
            },
        )
    given = (body.get("properties") or {}).get("tags") or {}
    if body.get("operation") == "Merge":
        tags.update(given)
    elif body.get("operation") == "Delete":
        for key in given:
            tags.pop(key, None)
    elif body.get("operation") == "Replace":
        tags = dict(given)
    else:
        return error(400, "InvalidRequestContent", "operation must be Merge, Replace or Delete.")
    resource["tags"] = tags
    return Reply(
        200,
        {
            "id": f"{scope}/providers/Microsoft.Resources/tags/default",
            "name": "default",
            "type": "Microsoft.Resources/tags",
            "properties": {"tags": tags},
        },
    )
