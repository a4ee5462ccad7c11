"""ARM and Graph routes of the fake: RBAC-checked, paged, stateful.

Every ARM request is mapped to the RBAC action it needs (``Microsoft.Compute/virtualMachines/deallocate/action``
…) and refused with ``403 AuthorizationFailed`` naming that action when the caller's role lacks it.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from cloudoptima_evals.fakes.azure import sql
from cloudoptima_evals.fakes.azure.server import Reply, error
from cloudoptima_evals.fakes.azure.state import ROLE_NAMES, VM_SIZES, Client, iso

if TYPE_CHECKING:
    from cloudoptima_evals.fakes.azure.server import FakeAzureServer

VM_METRICS = {
    "Percentage CPU": "Percent",
    "Network In Total": "Bytes",
    "Network Out Total": "Bytes",
    "Disk Read Operations/Sec": "CountPerSecond",
    "Disk Write Operations/Sec": "CountPerSecond",
    "Available Memory Bytes": "Bytes",
}
"""Platform metrics of ``Microsoft.Compute/virtualMachines`` the fake serves (name → unit)."""
_AGGREGATIONS = ("average", "total", "maximum", "minimum", "count")
_SAMPLES_PER_HOUR = 60  # the platform samples every minute; PT1H aggregates 60 samples


def _aggregate(metric: str, hourly: float, aggregations: list[str]) -> dict[str, float]:
    """The requested aggregations of one hour whose planted value is ``hourly`` (a total for counters)."""
    counter = metric.endswith(" Total")
    average = hourly / _SAMPLES_PER_HOUR if counter else hourly
    values = {
        "average": average,
        "total": hourly if counter else hourly * _SAMPLES_PER_HOUR,
        "maximum": average,
        "minimum": average,
        "count": float(_SAMPLES_PER_HOUR),
    }
    return {name: round(values[name], 4) for name in aggregations}


_FREE = ("microsoft.authorization/permissions/read", "microsoft.resources/subscriptions/read")


def required_action(method: str, path: str) -> tuple[str, str]:
    """The RBAC action and scope an ARM request needs (how ARM derives them from the URL)."""
    lower = path.lower()
    cut = lower.rfind("/providers/")
    if cut < 0:
        return "Microsoft.Resources/subscriptions/read", path
    segments = path[cut + len("/providers/") :].strip("/").split("/")
    namespace, rest = segments[0], segments[1:]
    types = "/".join(rest[0::2])
    if len(rest) % 2 == 1:
        verb = {"GET": "read", "POST": "action", "PUT": "write", "PATCH": "write", "DELETE": "delete"}[method]
        scope = path[:cut] if len(rest) == 1 else path[:cut] + "/providers/" + "/".join(segments[:-1])
    else:
        verb = {"GET": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete", "POST": "action"}[method]
        scope = path
    return f"{namespace}/{types}/{verb}", scope


class ArmRoutes:
    def __init__(self, server: FakeAzureServer) -> None:
        self.server = server
        self.t = server.tenant

    # -- entry points ----------------------------------------------------------------------------------
    def arm(self, client: Client, method: str, path: str, query: dict[str, str], body: Any) -> Reply:
        action, scope = required_action(method, path)
        if action.lower() not in _FREE and not self.t.allowed(client, action):
            return error(
                403,
                "AuthorizationFailed",
                f"The client '{client.client_id}' with object id '{client.object_id}' does not have authorization "
                f"to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was "
                "recently granted, please refresh your credentials.",
            )
        sub = self.t.sub().lower()
        lower = path.lower()
        if lower == sub:
            return Reply(200, self._subscription())
        if not lower.startswith(sub):
            return error(
                404, "SubscriptionNotFound", f"The subscription '{path.split('/')[2]}' could not be found."
            )
        tail = lower[len(sub) :]
        if tail.endswith("/providers/microsoft.authorization/permissions"):
            return self.server.page(
                path,
                query,
                [
                    {
                        "actions": client.actions,
                        "notActions": client.not_actions,
                        "dataActions": [],
                        "notDataActions": [],
                    }
                ],
            )
        if tail == "/providers/microsoft.authorization/roleassignments":
            return self.server.page(path, query, self.t.role_assignments)
        if "/providers/microsoft.authorization/roledefinitions/" in tail:
            role_id = path.rsplit("/", 1)[1]
            if role_id not in ROLE_NAMES:
                return error(
                    404,
                    "RoleDefinitionDoesNotExist",
                    f"The specified role definition with ID '{role_id}' does not exist.",
                )
            return Reply(
                200,
                {
                    "id": path,
                    "name": role_id,
                    "type": "Microsoft.Authorization/roleDefinitions",
                    "properties": {"roleName": ROLE_NAMES[role_id], "type": "BuiltInRole", "permissions": []},
                },
            )
        cost_scope = re.fullmatch(
            r"(?:/resourcegroups/([^/]+))?/providers/microsoft\.costmanagement/query", tail
        )
        if cost_scope:
            return self._cost_query(path, query, body, cost_scope.group(1))
        if re.fullmatch(r"(?:/resourcegroups/[^/]+)?/providers/microsoft\.costmanagement/forecast", tail):
            return self._forecast(body)
        if tail.endswith("/providers/microsoft.insights/metrics") and "/providers/microsoft.sql/" in tail:
            return sql.metrics(self.server, path[: lower.rfind("/providers/microsoft.insights")], query)
        if tail.endswith("/providers/microsoft.insights/metrics"):
            return self._metrics(path[: lower.rfind("/providers/microsoft.insights")], query)
        if tail.endswith("/providers/microsoft.resources/tags/default"):
            return self._tags(
                path[: lower.rfind("/providers/microsoft.resources")], body if method == "PATCH" else None
            )
        if "/operations/" in tail:
            return Reply(200, {"status": "Succeeded", "name": path.rsplit("/", 1)[1]})
        if tail == "/resources" and method == "GET":
            return sql.generic_resources(self.server, path, query)
        if sql.DATABASES.fullmatch(tail) and method == "GET":
            return sql.databases(self.server, path, query)
        listing = re.fullmatch(r"/providers/microsoft\.(compute|network)/([a-z]+)", tail)
        if listing and method == "GET":
            return self._list(path, query, f"Microsoft.{listing.group(1).title()}/{listing.group(2)}")
        return self._resource(method, path, body)

    def graph(self, client: Client, path: str) -> Reply:
        if not client.graph_allowed:
            return error(
                403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
            )
        app = re.fullmatch(r"/v1\.0/applications\(appId='([^']+)'\)", path)
        if app:
            found = self.t.applications.get(app.group(1))
            return (
                Reply(200, found) if found else error(404, "Request_ResourceNotFound", "Resource not found.")
            )
        obj = re.fullmatch(r"/v1\.0/(servicePrincipals|users)/([^/]+)", path)
        if obj and obj.group(2) in self.t.graph:
            return Reply(200, self.t.graph[obj.group(2)])
        return error(404, "Request_ResourceNotFound", f"Resource '{path.rsplit('/', 1)[-1]}' does not exist.")

    # -- generic resources ------------------------------------------------------------------------------
    def _list(self, path: str, query: dict[str, str], rtype: str) -> Reply:
        canonical = {r["type"].lower(): r["type"] for r in self.t.resources.values()}
        items = sorted(self.t.of_type(canonical.get(rtype.lower(), rtype)), key=lambda r: r["id"])
        return self.server.page(path, query, items)

    def _resource(self, method: str, path: str, body: Any) -> Reply:
        match = re.fullmatch(
            r"(/subscriptions/[^/]+/resourceGroups/[^/]+/providers/[^/]+/[^/]+/[^/]+)(?:/([^/]+))?",
            path,
            re.I,
        )
        if not match:
            return error(404, "InvalidResourceType", f"No route for '{path}'.")
        rid, verb = match.group(1), match.group(2)
        current = self.t.get(rid)
        if method == "PUT" and verb is None:
            return self._put(rid, current, body)
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
        if location in self.t.location_failures and verb in ("instanceView", None) and method == "GET":
            return error(503, "ServiceUnavailable", f"The regional endpoint for '{location}' is unavailable.")
        if method == "GET" and verb is None:
            return Reply(200, current)
        if method == "GET" and verb == "instanceView":
            return Reply(200, self._instance_view(rid))
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
            self.t.power[rid.lower()] = {
                "deallocate": "deallocated",
                "start": "running",
                "powerOff": "stopped",
            }[verb]
            op = f"{self.t.sub()}/providers/Microsoft.Compute/locations/{location}/operations/{uuid.uuid4()}"
            return Reply(
                202,
                None,
                {
                    "Azure-AsyncOperation": f"{self.server.base_url}{op}?api-version=2024-07-01",
                    "Retry-After": "0",
                },
            )
        if method == "PATCH" and verb is None:
            return self._patch_vm(rid, current, body)
        if method == "DELETE" and verb is None:
            return self._delete(rid, current)
        return error(405, "MethodNotAllowed", f"{method} {path} is not supported.")

    def _put(self, rid: str, current: dict[str, Any] | None, body: dict[str, Any]) -> Reply:
        rtype = rid.split("/providers/", 1)[1].rsplit("/", 1)[0]
        props = dict(body.get("properties") or {})
        if rtype.lower() in ("microsoft.compute/snapshots", "microsoft.compute/disks"):
            source = self.t.get((props.get("creationData") or {}).get("sourceResourceId", ""))
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
            self._sync_ip_associations(current, new)
        self.t.put(new)
        return Reply(200, new)  # compute answers 200/202 to PUT; network also allows 201

    def _sync_ip_associations(self, old: dict[str, Any] | None, new: dict[str, Any]) -> None:
        for nic in (old, new):
            for conf in (nic or {}).get("properties", {}).get("ipConfigurations", []):
                ip = self.t.get(((conf.get("properties") or {}).get("publicIPAddress") or {}).get("id", ""))
                if ip is not None:
                    ip["properties"].pop("ipConfiguration", None)
                    if nic is new:
                        ip["properties"]["ipConfiguration"] = {"id": conf["id"]}

    def _patch_vm(self, rid: str, current: dict[str, Any], body: dict[str, Any]) -> Reply:
        size = ((body.get("properties") or {}).get("hardwareProfile") or {}).get("vmSize")
        if size is not None:
            if size not in VM_SIZES:
                return error(
                    400, "InvalidParameter", f"The value {size} provided for the VM size is not valid."
                )
            if self.t.power.get(rid.lower()) == "running":
                return error(
                    409,
                    "OperationNotAllowed",
                    "Resize of a running VM to another cluster requires deallocation.",
                )
            current["properties"]["hardwareProfile"]["vmSize"] = size
        return Reply(200, current)

    def _delete(self, rid: str, current: dict[str, Any]) -> Reply:
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
        with self.t.lock:
            del self.t.resources[rid.lower()]
        return Reply(200, None)

    def _instance_view(self, rid: str) -> dict[str, Any]:
        power = self.t.power.get(rid.lower(), "running")
        return {
            "computerName": rid.rsplit("/", 1)[1],
            "statuses": [
                {
                    "code": "ProvisioningState/succeeded",
                    "level": "Info",
                    "displayStatus": "Provisioning succeeded",
                    "time": iso(self.t.now - timedelta(days=1)),
                },
                {"code": f"PowerState/{power}", "level": "Info", "displayStatus": f"VM {power}"},
            ],
        }

    def _subscription(self) -> dict[str, Any]:
        return {
            "id": self.t.sub(),
            "subscriptionId": self.t.subscription_id,
            "tenantId": self.t.tenant_id,
            "displayName": "Contoso Production",
            "state": "Enabled",
            "authorizationSource": "RoleBased",
            "subscriptionPolicies": {
                "locationPlacementId": "Public_2014-09-01",
                "quotaId": "PayAsYouGo_2014-09-01",
                "spendingLimit": "Off",
            },
        }

    def _tags(self, scope: str, body: dict[str, Any] | None) -> Reply:
        resource = self.t.get(scope)
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

    # -- cost management and monitor -------------------------------------------------------------------
    def _cost_query(
        self, path: str, query: dict[str, str], body: dict[str, Any], resource_group: str | None = None
    ) -> Reply:
        """The Query API at subscription or resource-group scope (``resource_group``: lower-cased name).
        ``dataset.include: ["Tags"]`` adds a ``Tags`` column (``"key":"value"`` strings, as Cost Management
        answers) and needs a ``ResourceId`` grouping; anything else in ``include`` is refused."""
        dataset = body.get("dataset") or {}
        include = dataset.get("include") or []
        if any(i != "Tags" for i in include):
            return error(400, "BadRequest", f"Invalid query definition: invalid include value(s) {include}.")
        if body.get("timeframe") != "Custom" or dataset.get("granularity") != "Daily":
            return error(
                400,
                "BadRequest",
                "Invalid query definition: timeframe Custom and Daily granularity expected.",
            )
        groups = [g["name"] for g in dataset.get("grouping", [])]
        known = {
            "ServiceName": "service",
            "ResourceLocation": "location",
            "ResourceGroupName": "resource_group",
            "ResourceId": "resource_id",
        }
        if any(g not in known for g in groups):
            return error(400, "BadRequest", f"Invalid dimension in grouping: {groups}.")
        tagged = "Tags" in include
        if tagged and "ResourceId" not in groups:
            return error(
                400, "BadRequest", "Invalid query definition: Tags can only be included per ResourceId."
            )
        start = date.fromisoformat(body["timePeriod"]["from"][:10])
        end = date.fromisoformat(body["timePeriod"]["to"][:10])
        totals: dict[tuple[Any, ...], Decimal] = defaultdict(Decimal)
        for row in self.t.costs:
            if start <= row.day <= end and resource_group in (None, row.resource_group.lower()):
                key = (int(row.day.strftime("%Y%m%d")), *(getattr(row, known[g]) for g in groups))
                totals[key] += row.cost

        def tags(key: tuple[Any, ...]) -> list[list[str]]:
            if not tagged:
                return []
            resource = self.t.get(str(key[1 + groups.index("ResourceId")])) or {}
            return [[f'"{k}":"{v}"' for k, v in sorted((resource.get("tags") or {}).items())]]

        rows = [[float(total), *key, *tags(key), "USD"] for key, total in sorted(totals.items())]
        agg_name = next(iter(dataset.get("aggregation", {}).values()), {}).get("name", "Cost")
        skip = int(query.get("$skiptoken", "0"))
        properties: dict[str, Any] = {
            "columns": [
                {"name": agg_name, "type": "Number"},
                {"name": "UsageDate", "type": "Number"},
                *({"name": g, "type": "String"} for g in groups),
                *([{"name": "Tags", "type": "String"}] if tagged else []),
                {"name": "Currency", "type": "String"},
            ],
            "rows": rows[skip : skip + 3],
            "nextLink": None,
        }
        if skip + 3 < len(rows):
            properties["nextLink"] = (
                f"{self.server.base_url}{path}?api-version={query['api-version']}&$skiptoken={skip + 3}"
            )
        return Reply(
            200,
            {
                "id": f"{path}/{uuid.uuid4()}",
                "name": str(uuid.uuid4()),
                "type": "Microsoft.CostManagement/query",
                "properties": properties,
            },
        )

    def _forecast(self, body: dict[str, Any]) -> Reply:
        start = date.fromisoformat(body["timePeriod"]["from"][:10])
        end = date.fromisoformat(body["timePeriod"]["to"][:10])
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        daily = self.t.forecast_daily
        if (
            daily is None
        ):  # the run-rate of the last 7 days before the forecast: Azure's view of a flat estate
            week = [row.cost for row in self.t.costs if start - timedelta(days=7) <= row.day < start]
            daily = (sum(week, Decimal(0)) / 7).quantize(Decimal("0.0001"))
        rows = [[float(daily), int(d.strftime("%Y%m%d")), "Forecast", "USD"] for d in days]
        columns = [
            {"name": "Cost", "type": "Number"},
            {"name": "UsageDate", "type": "Number"},
            {"name": "CostStatus", "type": "String"},
            {"name": "Currency", "type": "String"},
        ]
        return Reply(
            200,
            {
                "id": "forecast",
                "name": "forecast",
                "type": "Microsoft.CostManagement/forecast",
                "properties": {"columns": columns, "rows": rows, "nextLink": None},
            },
        )

    def _metrics(self, resource_id: str, query: dict[str, str]) -> Reply:
        resource = self.t.get(resource_id)
        if resource is None:
            return error(404, "ResourceNotFound", f"The Resource '{resource_id}' was not found.")
        if resource.get("location") in self.t.location_failures:
            return error(503, "ServiceUnavailable", f"Metrics for '{resource['location']}' are unavailable.")
        if query.get("interval") != "PT1H":
            return error(400, "BadRequest", "interval must be PT1H in this fake")
        names = [m for m in query.get("metricnames", "").split(",") if m]
        unknown = [m for m in names if m not in VM_METRICS]
        if unknown or not names:
            return error(
                400,
                "BadRequest",
                f"Failed to find metric configuration for provider: Microsoft.Compute, resource Type: "
                f"virtualMachines, metric: {','.join(unknown) or '(none)'}, Valid metrics: "
                f"{','.join(VM_METRICS)}",
            )
        aggregations = [a.strip().lower() for a in query.get("aggregation", "Average").split(",")]
        if any(a not in _AGGREGATIONS for a in aggregations):
            return error(400, "BadRequest", f"Invalid aggregation type(s): {query['aggregation']}")
        begin, finish = (
            datetime.fromisoformat(x.replace("Z", "+00:00")) for x in query["timespan"].split("/")
        )
        if finish <= begin or finish - begin > timedelta(days=93):
            return error(400, "BadRequest", "The timespan must be positive and at most 93 days.")
        hours = int((finish - begin).total_seconds() // 3600)
        planted = self.t.metric_points.get(resource_id.lower())
        running = self.t.power.get(resource_id.lower()) == "running"
        value = []
        for n, metric in enumerate(names):
            data = []
            for h in range(hours):
                stamp = begin + timedelta(hours=h)
                point: dict[str, Any] = {"timeStamp": iso(stamp)}
                if planted is not None:
                    sample = planted.get(metric, {}).get(stamp)
                    if sample is not None:
                        point.update(_aggregate(metric, sample, aggregations))
                elif running and h % 7 != 3:  # no planted data: a pattern where every 7th hour has no sample
                    average = round(10 + (h * 13 + n * 5) % 60 + 0.5, 2)
                    pattern = {"average": average, "total": average * 1000}
                    point.update({k: v for k, v in pattern.items() if k in aggregations})
                data.append(point)
            value.append(
                {
                    "id": f"{resource_id}/providers/Microsoft.Insights/metrics/{metric}",
                    "type": "Microsoft.Insights/metrics",
                    "name": {"value": metric, "localizedValue": metric},
                    "unit": VM_METRICS[metric],
                    "errorCode": "Success",
                    "timeseries": [{"metadatavalues": [], "data": data}],
                }
            )
        return Reply(
            200,
            {
                "cost": 0,
                "timespan": query["timespan"],
                "interval": "PT1H",
                "value": value,
                "namespace": "Microsoft.Compute/virtualMachines",
                "resourceregion": resource.get("location"),
            },
        )
