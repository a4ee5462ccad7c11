"""Toolsets: named groups of catalog tools a server lists, and the default set of each server.

Contract:
- :data:`TOOLSETS` names every toolset with what it answers and its tools; every catalog tool is in exactly
  one toolset (tests/mcp/test_toolsets.py checks it), so a new tool must be placed here to be listed.
- A server offers the toolsets that hold at least one tool it can list (:func:`offered`): the aws, azure and
  gcp servers only the cloud-scoped ones (cost, compute, storage, iam).
- :data:`DEFAULTS` is what a server lists when nothing is asked; each default keeps ``tools/list`` within
  :data:`cloudoptima_mcp.listing.TOKEN_BUDGET` (tests/mcp/test_tool_list_size.py measures it).
- :func:`parse_toolsets` reads ``cost,compute`` or ``all`` (blank or None: the server's default);
  :func:`requested_toolsets` does the same with ``CLOUDOPTIMA_MCP_TOOLSETS`` as the fallback (the HTTP mount
  of the gateway has no command line). A name that is not a toolset of the server raises
  :class:`UnknownToolsetError` naming it and the valid names.
- Only the MCP servers use toolsets; chat and agents take their tools from the catalog directly.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cloudoptima_tools import catalog
from cloudoptima_tools.spec import ToolSpec

ENV_VAR = "CLOUDOPTIMA_MCP_TOOLSETS"
ALL = "all"


@dataclass(frozen=True)
class Toolset:
    """A named group of tools (see module contract)."""

    description: str
    tools: tuple[str, ...]


TOOLSETS: Mapping[str, Toolset] = {
    "cost": Toolset(
        "spend by dimension, period comparison, top spenders, forecast",
        ("cost_by_dimension", "cost_compare_periods", "cost_top_spenders", "cost_forecast"),
    ),
    "compute": Toolset(
        "virtual machines, idle instances, rightsizing, utilisation anomalies",
        (
            "compute_instances",
            "compute_idle_instances",
            "compute_rightsizing_options",
            "compute_utilisation_anomalies",
        ),
    ),
    "storage": Toolset(
        "unattached disks, old snapshots, buckets",
        ("storage_unattached_disks", "storage_snapshots", "storage_buckets"),
    ),
    "iam": Toolset(
        "principals, stale credentials, privileged grants",
        ("iam_principals", "iam_stale_credentials", "iam_privileged_grants"),
    ),
    "anomalies": Toolset("cost anomalies and their root causes", ("anomalies_list", "anomaly_root_cause")),
    "recommendations": Toolset(
        "savings recommendations, their impact preview and lifecycle decisions",
        ("recommendations_list", "recommendation_impact_preview", "recommendation_decide"),
    ),
    "lifecycle": Toolset(
        "what happened to a recommendation: its owner, due date and every lifecycle transition",
        ("recommendation_history",),
    ),
    "budgets": Toolset("budgets with spend, forecast and status", ("budgets_status",)),
    "policies": Toolset("automation policies", ("policies_list",)),
    "remediation": Toolset(
        "request, approve, reject, follow and roll back remediations; the approval queue",
        (
            "remediation_executions",
            "pending_approvals",
            "request_remediation",
            "approve_remediation",
            "reject_remediation",
            "get_execution",
            "rollback_remediation",
        ),
    ),
    "audit": Toolset("the organisation's audit log (admins)", ("audit_log",)),
    "reports": Toolset(
        "reports: templates, generate, status", ("report_templates", "generate_report", "report_status")
    ),
    "notifications": Toolset(
        "the caller's in-app inbox: list, mark read", ("notifications_inbox", "notifications_mark_read")
    ),
    "data_trust": Toolset(
        "can the cost numbers be believed: reconciliation with the provider's totals, freshness",
        ("data_trust",),
    ),
    "exports": Toolset(
        "cost exports (FOCUS, daily, allocated daily): recent runs, status, manifest totals", ("export_runs",)
    ),
    "allocation": Toolset(
        "showback: cost by allocation dimension (team, product …) with unallocated and shared costs",
        ("cost_by_allocation",),
    ),
    "tags": Toolset(
        "tag governance: coverage of the required tag keys, the untagged resources to fix",
        ("tag_coverage", "untagged_resources"),
    ),
    "savings": Toolset(
        "savings that are proven: realised vs estimated from the bill, per recommendation and per rule",
        ("realised_savings",),
    ),
    "tickets": Toolset(
        "hand a recommendation to a team's tracker (GitHub Issues, Jira, webhook) and read its ticket's state",
        ("recommendation_ticket",),
    ),
    "commitments": Toolset(
        "reservations, savings plans, committed-use discounts: utilisation and coverage from the billing data",
        ("commitments",),
    ),
}

DEFAULTS: Mapping[str, tuple[str, ...]] = {
    "aws": ("cost", "compute", "storage"),
    "azure": ("cost", "compute", "storage"),
    "gcp": ("cost", "compute", "storage"),
    "platform": ("cost", "anomalies", "recommendations", "budgets"),
}


class UnknownToolsetError(ValueError):
    """A requested toolset is not one the server offers (the message names it and the valid ones)."""


def _server_specs(server: str) -> list[ToolSpec[Any, Any]]:
    return catalog.catalog() if server == "platform" else catalog.for_provider()


def offered(server: str) -> tuple[str, ...]:
    """The toolsets of ``server``: those holding at least one tool it can list, in :data:`TOOLSETS` order."""
    names = {spec.name for spec in _server_specs(server)}
    return tuple(name for name, toolset in TOOLSETS.items() if names & set(toolset.tools))


def parse_toolsets(server: str, value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Toolset names from ``cost,compute`` / ``all`` / a list; None or blank: the server's default."""
    raw = value.split(",") if isinstance(value, str) else list(value or ())
    names = [name.strip().lower() for name in raw if name.strip()]
    valid = offered(server)
    if not names:
        return DEFAULTS[server]
    if ALL in names:
        return valid
    unknown = [name for name in names if name not in valid]
    if unknown:
        quoted = ", ".join(repr(name) for name in unknown)
        raise UnknownToolsetError(
            f"unknown toolset {quoted} for the {server} MCP server; valid: {', '.join(valid)} (or {ALL})"
        )
    return tuple(name for name in valid if name in names)


def requested_toolsets(server: str, value: str | None) -> tuple[str, ...]:
    """``value`` (a command-line flag) if given, else ``CLOUDOPTIMA_MCP_TOOLSETS``, else the default."""
    return parse_toolsets(server, value if value is not None else os.environ.get(ENV_VAR))


def tools_in(specs: Iterable[ToolSpec[Any, Any]], toolsets: Iterable[str]) -> list[ToolSpec[Any, Any]]:
    """The specs that belong to ``toolsets``, in their given (catalog) order."""
    wanted = {tool for name in toolsets for tool in TOOLSETS[name].tools}
    return [spec for spec in specs if spec.name in wanted]
