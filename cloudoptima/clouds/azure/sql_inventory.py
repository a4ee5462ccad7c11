"""Azure SQL databases of one subscription as domain :class:`Resource` objects.

Contract:
- The subscription's SQL servers are found with one filtered generic resource list (``resourceType eq
  'Microsoft.Sql/servers'``), so a subscription without SQL makes no ``Microsoft.Sql`` call and an
  unregistered resource provider is no failure. Each server's databases are then listed (nextLink paging);
  the ``master`` database is left out. A failing list is one failure ``sql/servers`` or ``sql/{location}``
  (through the reader's ``listing``), credential errors raise.
- ``Online`` → RUNNING, priced by :func:`pricing.sql_database_monthly`; any other status (``Paused``
  serverless, ``Offline``…) → STOPPED with ``monthly_cost`` 0.
- The class is the service objective (``GP_Gen5_2``, ``S1``); vCPUs are the vCore capacity and memory
  5.1 GiB per vCore (Gen5); DTU objectives state no vCPUs and get 1 vCPU / 1 GiB.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from cloudoptima.clouds.azure import pricing
from cloudoptima.clouds.azure.session import AzureSession
from cloudoptima.domain.inventory import DatabaseAttributes, Resource, ResourceKind, ResourceState

SQL_SERVER_TYPE = "Microsoft.Sql/servers"
SQL_API_VERSION = "2021-11-01"
Listing = Callable[[str, Callable[[], Iterable[Any]]], list[dict[str, Any]]]
"""``listing(scope, call)``: the items of a list call as dicts, a failure recorded under ``scope``."""
BaseFields = Callable[[dict[str, Any], ResourceKind, str, str], dict[str, Any]]
"""``base(item, kind, service, sku)``: the Resource fields every ARM resource shares."""
When = Callable[[Any], datetime | None]
"""``when(value)``: a UTC datetime from an ARM timestamp, or None."""


def sql_databases(session: AzureSession, listing: Listing, base: BaseFields, when: When) -> list[Resource]:
    """Every SQL database of the subscription (see module contract)."""
    servers = listing(
        "sql/servers", lambda: session.resources.resources.list(filter=f"resourceType eq '{SQL_SERVER_TYPE}'")
    )
    found: list[Resource] = []
    for server in servers:
        databases = listing(
            f"sql/{server.get('location') or 'unknown'}", _databases_of(session, server["id"])
        )
        found += [sql_database(d, base, when) for d in databases if str(d.get("name")).lower() != "master"]
    return found


def _databases_of(session: AzureSession, server_id: str) -> Callable[[], Iterable[dict[str, Any]]]:
    return lambda: session.arm_pages(f"{server_id}/databases", SQL_API_VERSION)


def sql_database(item: dict[str, Any], base: BaseFields, when: When) -> Resource:
    """One database (ARM JSON) as a resource."""
    properties = item.get("properties") or {}
    sku = item.get("sku") or {}
    objective = str(properties.get("currentServiceObjectiveName") or sku.get("name") or "unknown")
    capacity = int(sku.get("capacity") or 0)
    vcore = bool(sku.get("family")) and capacity > 0  # vCore SKUs name a hardware family (Gen5)
    running = str(properties.get("status") or "").lower() == "online"
    fields = base(item, ResourceKind.DATABASE, "SQL Database", objective)
    created = when(properties.get("creationDate"))
    if created is not None:
        fields["created_at"] = created
    return Resource(
        **fields,
        attributes=DatabaseAttributes(
            engine="sqlserver",
            instance_class=objective,
            vcpu=capacity if vcore else 1,
            memory_gib=pricing.sql_memory_gib(capacity) if vcore else Decimal(1),
            storage_gb=max(int(properties.get("maxSizeBytes") or 0) // 1024**3, 1),
        ),
        monthly_cost=(
            pricing.sql_database_monthly(str(sku.get("tier") or ""), objective, capacity)
            if running
            else Decimal(0)
        ),
        state=ResourceState.RUNNING if running else ResourceState.STOPPED,
    )
