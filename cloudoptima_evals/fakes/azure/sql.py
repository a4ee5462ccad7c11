"""Azure SQL in the fake: SQL servers and databases (ARM JSON as ``Microsoft.Sql`` 2021-11-01 serves it),
the filtered generic resource list that finds servers, and the databases' Azure Monitor metrics.

Strict where the real service is: the generic list accepts only ``resourceType eq '<type>'`` filters; a
server's database list includes ``master`` (as Azure does) and pages with ``nextLink``; metrics accept only
the metric names a SQL database has (``cpu_percent``, ``connection_successful``), ``PT1H`` and at most 93
days, and an hour without a planted value has no aggregates (as Monitor returns a gap).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cloudoptima_evals.fakes.azure.server import Reply, error
from cloudoptima_evals.fakes.azure.state import FakeTenant, iso

if TYPE_CHECKING:
    from cloudoptima_evals.fakes.azure.server import FakeAzureServer

SERVER_TYPE = "Microsoft.Sql/servers"
DATABASE_TYPE = "Microsoft.Sql/servers/databases"
DATABASE_METRICS = {"cpu_percent": "Percent", "connection_successful": "Count"}
"""Platform metrics of a SQL database the fake serves (name → unit)."""
DATABASES = re.compile(r"/resourcegroups/[^/]+/providers/microsoft\.sql/servers/[^/]+/databases")
"""A server's database list (lower-cased path after the subscription)."""
_PLANTED = "x-fake-metrics"
"""Key of a database's planted hourly metric values (never served)."""
_FILTER = re.compile(r"resourceType eq '([^']+)'")
_SAMPLES_PER_HOUR = 60


def add_sql_database(
    tenant: FakeTenant,
    rg: str,
    server: str,
    name: str,
    location: str,
    *,
    objective: str = "GP_Gen5_2",
    capacity: int = 2,
    tier: str = "GeneralPurpose",
    family: str | None = "Gen5",
    status: str = "Online",
    tags: dict[str, str] | None = None,
    age_days: float = 90,
) -> str:
    """A database on ``server`` (created with the first database), returning its id."""
    server_id = tenant.rid(rg, "Microsoft.Sql", "servers", server)
    if tenant.get(server_id) is None:
        tenant.put(
            {
                "id": server_id,
                "name": server,
                "type": SERVER_TYPE,
                "location": location,
                "kind": "v12.0",
                "tags": {},
                "properties": {
                    "version": "12.0",
                    "state": "Ready",
                    "fullyQualifiedDomainName": f"{server}.x",
                },
            }
        )
    db_id = f"{server_id}/databases/{name}"
    sku: dict[str, Any] = {"name": objective.rsplit("_", 1)[0] if family else objective, "tier": tier}
    if family:
        sku.update(family=family, capacity=capacity)
    tenant.put(
        {
            "id": db_id,
            "name": name,
            "type": DATABASE_TYPE,
            "location": location,
            "kind": "v12.0,user,vcore" if family else "v12.0,user",
            "tags": dict(tags or {}),
            "sku": sku,
            "properties": {
                "status": status,
                "currentServiceObjectiveName": objective,
                "maxSizeBytes": 34359738368,
                "creationDate": iso(tenant.now - timedelta(days=age_days)),
            },
            _PLANTED: {},
        }
    )
    return db_id


def plant(tenant: FakeTenant, db_id: str, metric: str, start: datetime, values: list[float]) -> None:
    """Plant hourly values of one metric from the hour ``start`` on (a count metric's value is the hour's
    Total, a percentage its Average)."""
    if metric not in DATABASE_METRICS:
        raise ValueError(f"{metric} is not a SQL database metric")
    database = tenant.get(db_id)
    assert database is not None, db_id
    points = database[_PLANTED].setdefault(metric, {})
    for hour, value in enumerate(values):
        points[start + timedelta(hours=hour)] = value


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != _PLANTED}


def generic_resources(server: FakeAzureServer, path: str, query: dict[str, str]) -> Reply:
    """``GET /subscriptions/{id}/resources?$filter=resourceType eq '...'`` (generic fields only)."""
    match = _FILTER.fullmatch(query.get("$filter", ""))
    if match is None:
        return error(
            400, "InvalidFilterInQueryString", "Only resourceType eq '<type>' filters are supported."
        )
    items = sorted(server.tenant.of_type(match.group(1)), key=lambda r: r["id"])
    generic = [
        {k: item[k] for k in ("id", "name", "type", "location", "kind", "tags", "sku") if k in item}
        for item in items
    ]
    return server.page(path, query, generic)


def databases(server: FakeAzureServer, path: str, query: dict[str, str]) -> Reply:
    """A server's databases, ``master`` first (ARM paging)."""
    server_id = path[: path.lower().rfind("/databases")]
    found = server.tenant.get(server_id)
    if found is None or found["type"] != SERVER_TYPE:
        return error(
            404,
            "ResourceNotFound",
            f"The Resource '{SERVER_TYPE}/{server_id.rsplit('/', 1)[1]}' was not found.",
        )
    master = {
        "id": f"{found['id']}/databases/master",
        "name": "master",
        "type": DATABASE_TYPE,
        "location": found["location"],
        "kind": "v12.0,system",
        "sku": {"name": "System", "tier": "System", "capacity": 0},
        "properties": {"status": "Online", "currentServiceObjectiveName": "System0"},
    }
    prefix = f"{found['id'].lower()}/databases/"
    items = sorted(
        (r for r in server.tenant.of_type(DATABASE_TYPE) if r["id"].lower().startswith(prefix)),
        key=lambda r: r["id"],
    )
    return server.page(path, query, [master, *(_public(r) for r in items)])


def metrics(server: FakeAzureServer, resource_id: str, query: dict[str, str]) -> Reply:
    """Azure Monitor ``metrics`` of one SQL database (see module contract)."""
    database = server.tenant.get(resource_id)
    if database is None or database["type"] != DATABASE_TYPE:
        return error(404, "ResourceNotFound", f"The Resource '{resource_id}' was not found.")
    names = [m for m in query.get("metricnames", "").split(",") if m]
    unknown = [m for m in names if m not in DATABASE_METRICS]
    if unknown or not names or query.get("interval") != "PT1H":
        return error(
            400,
            "BadRequest",
            f"Failed to find metric configuration for provider: Microsoft.Sql, resource Type: "
            f"servers/databases, metric: {','.join(unknown) or '(none)'}, Valid metrics: "
            f"{','.join(DATABASE_METRICS)} (interval PT1H)",
        )
    aggregations = [a.strip().lower() for a in query.get("aggregation", "Average").split(",")]
    begin, finish = (datetime.fromisoformat(x.replace("Z", "+00:00")) for x in query["timespan"].split("/"))
    if finish <= begin or finish - begin > timedelta(days=93):
        return error(400, "BadRequest", "The timespan must be positive and at most 93 days.")
    hours = int((finish - begin).total_seconds() // 3600)
    value = []
    for metric in names:
        planted = database[_PLANTED].get(metric, {})
        data = []
        for h in range(hours):
            stamp = (begin + timedelta(hours=h)).astimezone(UTC)
            point: dict[str, Any] = {"timeStamp": iso(stamp)}
            sample = planted.get(stamp)
            if sample is not None:
                point.update(_aggregate(DATABASE_METRICS[metric], sample, aggregations))
            data.append(point)
        value.append(
            {
                "id": f"{resource_id}/providers/Microsoft.Insights/metrics/{metric}",
                "type": "Microsoft.Insights/metrics",
                "name": {"value": metric, "localizedValue": metric},
                "unit": DATABASE_METRICS[metric],
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
            "namespace": DATABASE_TYPE,
            "resourceregion": database.get("location"),
        },
    )


def _aggregate(unit: str, hourly: float, aggregations: list[str]) -> dict[str, float]:
    count = unit == "Count"
    average = hourly / _SAMPLES_PER_HOUR if count else hourly
    values = {
        "average": average,
        "total": hourly if count else hourly * _SAMPLES_PER_HOUR,
        "maximum": hourly if count else average,
        "minimum": 0.0 if count else average,
        "count": float(_SAMPLES_PER_HOUR),
    }
    return {name: round(values[name], 4) for name in aggregations if name in values}
