"""The entry points of the fake's ARM and Graph routes: RBAC check, then dispatch by URL to the route modules."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from cloudoptima_evals.fakes.azure import sql
from cloudoptima_evals.fakes.azure.server import Reply, error
from cloudoptima_evals.fakes.azure.state import ROLE_NAMES, Client

if TYPE_CHECKING:
    from cloudoptima_evals.fakes.azure.server import FakeAzureServer

from cloudoptima_evals.fakes.azure.arm.costs import cost_query, forecast
from cloudoptima_evals.fakes.azure.arm.metrics import metrics
from cloudoptima_evals.fakes.azure.arm.rbac import FREE_ACTIONS, required_action
from cloudoptima_evals.fakes.azure.arm.resources import list_resources, resource, subscription, tags_at_scope

TENANT_LISTS = {
    "/providers/microsoft.capacity/reservations": "reservations",
    "/providers/microsoft.billingbenefits/savingsplans": "savings_plans",
}
"""Tenant-level ARM lists (lower-cased path) → the :class:`FakeTenant` attribute holding their items."""


class ArmRoutes:
    """Answers the ARM and Graph requests of one fake tenant (``server.tenant``); see the package contract."""

    def __init__(self, server: FakeAzureServer) -> None:
        self.server = server
        self.t = server.tenant

    # -- entry points ----------------------------------------------------------------------------------
    def arm(self, client: Client, method: str, path: str, query: dict[str, str], body: Any) -> Reply:
        action, scope = required_action(method, path)
        if action.lower() not in FREE_ACTIONS and not self.t.allowed(client, action):
            return error(
                403,
                "AuthorizationFailed",
                f"The client '{client.client_id}' with object id '{client.object_id}' does not have authorization "
                f"to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was "
                "recently granted, please refresh your credentials.",
            )
        sub = self.t.sub().lower()
        lower = path.lower()
        if method == "GET" and lower in TENANT_LISTS:
            # Reservation / Savings Plan - List All: tenant-level lists, every commitment the caller may read.
            return self.server.page(path, query, list(getattr(self.t, TENANT_LISTS[lower])))
        if lower == sub:
            return Reply(200, subscription(self.server))
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
            return cost_query(self.server, path, query, body, cost_scope.group(1))
        if re.fullmatch(r"(?:/resourcegroups/[^/]+)?/providers/microsoft\.costmanagement/forecast", tail):
            return forecast(self.server, body)
        if tail.endswith("/providers/microsoft.insights/metrics") and "/providers/microsoft.sql/" in tail:
            return sql.metrics(self.server, path[: lower.rfind("/providers/microsoft.insights")], query)
        if tail.endswith("/providers/microsoft.insights/metrics"):
            return metrics(self.server, path[: lower.rfind("/providers/microsoft.insights")], query)
        if tail.endswith("/providers/microsoft.resources/tags/default"):
            return tags_at_scope(
                self.server,
                path[: lower.rfind("/providers/microsoft.resources")],
                body if method == "PATCH" else None,
            )
        if "/operations/" in tail:
            return Reply(200, {"status": "Succeeded", "name": path.rsplit("/", 1)[1]})
        if tail == "/resources" and method == "GET":
            return sql.generic_resources(self.server, path, query)
        if sql.DATABASES.fullmatch(tail) and method == "GET":
            return sql.databases(self.server, path, query)
        listing = re.fullmatch(r"/providers/microsoft\.(compute|network)/([a-z]+)", tail)
        if listing and method == "GET":
            return list_resources(
                self.server, path, query, f"Microsoft.{listing.group(1).title()}/{listing.group(2)}"
            )
        return resource(self.server, method, path, body)

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
