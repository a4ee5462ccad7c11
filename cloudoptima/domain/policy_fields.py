"""What a policy may name: condition fields, trigger events with their payload fields, threshold metrics.

Contract:

- :func:`condition_field_problem` checks one condition field against what stored resources carry: a column
  (:data:`COLUMNS`), a whole ``tags`` / ``configuration`` / ``metrics`` object, ``tags.<any key>``,
  ``configuration.<key>[.<sub>...]`` with ``<key>`` one of
  :data:`CONFIGURATION_KEYS` (the inventory attribute fields and the collector's extras), or
  ``metrics.<metric>[.<statistic>]`` with ``<metric>`` one of :data:`METRICS` (the utilisation metrics) and
  ``<statistic>`` one of :data:`STATISTICS`. It returns ``None`` or one message naming what is wrong and
  listing the valid names ("unknown metric 'cpu_avg'; known: connections, cpu_percent, ...").
- :func:`trigger_problems` checks an ``event`` trigger's ``config.event`` against :data:`EVENTS` and its
  ``config.filters`` keys against that event's payload fields, and a ``threshold`` trigger's ``metric``
  (:data:`COST_METRICS` or :data:`METRICS`), ``window_days`` (1..:data:`MAX_WINDOW_DAYS`),
  ``aggregation`` (:data:`AGGREGATIONS`) and ``filters`` keys (:data:`COST_FILTERS` for a cost metric,
  :data:`RESOURCE_FILTERS` for a usage metric). Each message starts with its field path
  (``trigger.config.event: ...``).

Pure: no I/O, only the standard library and sibling domain modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cloudoptima.domain.inventory import MetricName

COLUMNS = (
    "resource_id",
    "resource_name",
    "provider",
    "resource_type",
    "region",
    "status",
    "cost_monthly",
    "created_at",
    "last_seen",
    "cloud_account_id",
)
PATH_ROOTS = ("tags", "configuration", "metrics")

METRICS = tuple(sorted(m.value for m in MetricName))
"""Utilisation metrics stored per resource (``resources.metrics`` summaries and the hourly history)."""

STATISTICS = ("avg", "max", "p95", "p99", "samples")
"""The summary statistics of each metric in ``resources.metrics``."""

CONFIGURATION_KEYS = tuple(
    sorted(
        {
            # inventory attribute fields (cloudoptima.domain.inventory.*Attributes)
            "kind",
            "instance_type",
            "family",
            "vcpu",
            "memory_gib",
            "platform",
            "schedule",
            "attached_disk_ids",
            "disk_type",
            "size_gb",
            "attached_to",
            "detached_at",
            "source_disk_id",
            "storage_tier",
            "address",
            "associated_with",
            "lb_type",
            "target_ids",
            "engine",
            "instance_class",
            "storage_gb",
            "storage_class",
            # what the collector adds (storage.inventory_store)
            "account_id",
            "service_name",
            "sku_id",
            "launched_at",
            "stopped_at",
            "deleted_at",
        }
    )
)

EVENTS: dict[str, tuple[str, ...]] = {
    "anomaly.detected": (
        "id",
        "severity",
        "kind",
        "status",
        "service_name",
        "region",
        "cloud_account_id",
        "impact_amount",
        "deviation_percent",
    ),
    "recommendation.created": (
        "id",
        "category",
        "rule_id",
        "provider",
        "region",
        "risk_level",
        "estimated_savings_monthly",
        "resource_ids",
    ),
    "budget.threshold_crossed": ("budget_id", "name", "threshold", "type", "period_start"),
    "resource.created": ("id", "resource_id", "resource_type", "provider", "region", "status", "tags"),
    "resource.changed": ("id", "resource_id", "resource_type", "provider", "region", "status", "tags"),
    "collection.failed": ("cloud_account_id", "provider", "account", "reason"),
}
"""Event names a policy can trigger on, each with the payload fields its ``filters`` may name (dots descend
into objects, e.g. ``tags.team``)."""

COST_METRICS = ("daily_cost",)
"""Cost metrics of threshold triggers: the billed cost of one UTC day (``cost_daily``), filtered."""

COST_FILTERS = ("service_name", "region", "provider", "sub_account_id", "cloud_account_id", "currency")
RESOURCE_FILTERS = ("resource_id", "resource_type", "provider", "region", "cloud_account_id")
AGGREGATIONS = ("every_day", "average")
"""``every_day``: each day of the window compares true (sustained); ``average``: the window's daily mean."""

MAX_WINDOW_DAYS = 90
THRESHOLD_OPERATORS = ("gt", "gte", "lt", "lte")


def _known(kind: str, name: str, known: tuple[str, ...] | list[str]) -> str:
    return f"unknown {kind} {name!r}; known: {', '.join(known)}"


def condition_field_problem(field: str) -> str | None:
    """None when ``field`` names something resources carry, else why not (listing the valid names)."""
    if field in COLUMNS:
        return None
    root, _, rest = field.partition(".")
    if root not in PATH_ROOTS:
        return _known("field", field, [*COLUMNS, *(r + ".<name>" for r in PATH_ROOTS)])
    if not rest and "." not in field:
        return None  # the whole object (e.g. ``tags`` with ``contains``)
    parts = rest.split(".")
    if any(not p for p in parts):
        return f"{root!r} needs a name after the dot (e.g. {root}.{_EXAMPLES[root]})"
    if root == "configuration" and parts[0] not in CONFIGURATION_KEYS:
        return _known("configuration key", parts[0], CONFIGURATION_KEYS)
    if root == "metrics":
        if parts[0] not in METRICS:
            return _known("metric", parts[0], METRICS)
        if len(parts) > 2:
            return f"metrics.{parts[0]} takes one statistic, got {'.'.join(parts[1:])!r}"
        if len(parts) == 2 and parts[1] not in STATISTICS:
            return _known("statistic", parts[1], STATISTICS)
    return None


_EXAMPLES = {"tags": "team", "configuration": "instance_type", "metrics": "cpu_percent.avg"}


def _filter_problems(path: str, filters: Any, known: tuple[str, ...]) -> list[str]:
    if not isinstance(filters, Mapping):
        return [f"{path}: must be an object"]
    problems = []
    for key in filters:
        head = str(key).split(".", 1)[0]
        if head not in known:
            problems.append(f"{path}.{key}: {_known('field', str(key), known)}")
    return problems


def trigger_problems(trigger_type: str, config: Mapping[str, Any]) -> list[str]:
    """Every problem of an event or threshold trigger's ``config`` (schedule triggers: none here)."""
    base = "trigger.config"
    if trigger_type == "event":
        event = config.get("event")
        if event not in EVENTS:
            return [f"{base}.event: {_known('event', str(event), sorted(EVENTS))}"]
        return _filter_problems(f"{base}.filters", config.get("filters", {}), EVENTS[str(event)])
    if trigger_type != "threshold":
        return []
    problems = []
    metric = str(config.get("metric"))
    if metric not in COST_METRICS and metric not in METRICS:
        problems.append(f"{base}.metric: {_known('metric', metric, [*COST_METRICS, *METRICS])}")
    window = config.get("window_days", 1)
    if isinstance(window, bool) or not isinstance(window, int) or not 1 <= window <= MAX_WINDOW_DAYS:
        problems.append(f"{base}.window_days: must be a whole number of days from 1 to {MAX_WINDOW_DAYS}")
    aggregation = config.get("aggregation", "every_day")
    if aggregation not in AGGREGATIONS:
        problems.append(f"{base}.aggregation: {_known('aggregation', str(aggregation), AGGREGATIONS)}")
    known = COST_FILTERS if metric in COST_METRICS else RESOURCE_FILTERS
    problems += _filter_problems(f"{base}.filters", config.get("filters", {}), known)
    return problems
