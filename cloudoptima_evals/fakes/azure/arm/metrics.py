"""Azure Monitor metrics of the fake for virtual machines (PT1H, planted samples or a fixed pattern)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from cloudoptima_evals.fakes.azure.server import Reply, error
from cloudoptima_evals.fakes.azure.state import iso

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


def metrics(server: FakeAzureServer, resource_id: str, query: dict[str, str]) -> Reply:
    """Hourly VM metrics over ``timespan`` (at most 93 days): planted samples, else a fixed pattern."""
    resource = server.tenant.get(resource_id)
    if resource is None:
        return error(404, "ResourceNotFound", f"The Resource '{resource_id}' was not found.")
    if resource.get("location") in server.tenant.location_failures:
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
    begin, finish = (datetime.fromisoformat(x.replace("Z", "+00:00")) for x in query["timespan"].split("/"))
    if finish <= begin or finish - begin > timedelta(days=93):
        return error(400, "BadRequest", "The timespan must be positive and at most 93 days.")
    hours = int((finish - begin).total_seconds() // 3600)
    planted = server.tenant.metric_points.get(resource_id.lower())
    running = server.tenant.power.get(resource_id.lower()) == "running"
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
