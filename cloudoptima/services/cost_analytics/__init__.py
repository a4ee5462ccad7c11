"""Cost analytics over the ``cost_daily`` rollup (never raw rows for dashboard questions).

``overview`` answers the seed's ``/costs/overview``: total, previous-period comparison, breakdown with
percentages and a time series at daily / weekly (ISO weeks, Monday) / monthly granularity. ``group_by`` is a
base dimension or ``tag:<key>``; tag keys outside the organisation's rollup keys fall back to raw rows (and
say so in ``source``). Mixed currencies are never summed: the caller must pick one when data has several.
``groups`` (a page of a dimension's values with billed/effective/list cost), ``compare`` (what moved between
two periods) and ``top_resources`` (resources by billed cost, from raw rows) answer the MCP cost tools and
chat: REST, MCP and chat read costs through this one class.

The package: ``queries`` (filters, currency, dimensions, series shared by every question), ``dashboard``
(overview, by service), ``exploration`` (groups, compare, top resources) and :class:`CostAnalytics`, both in
one object.
"""

from __future__ import annotations

from cloudoptima.services.cost_analytics.dashboard import DashboardCosts
from cloudoptima.services.cost_analytics.exploration import CostExploration
from cloudoptima.services.cost_analytics.queries import CostQueries


class CostAnalytics(DashboardCosts, CostExploration):
    """Cost questions for one organisation over one connection (the caller scopes and closes it).

    ``CostAnalytics(connection, organization_id, tag_keys=None)`` or
    ``CostAnalytics.for_organisation(connection, organization_id)`` (the organisation's rollup tag keys).
    """


__all__ = ["CostAnalytics", "CostExploration", "CostQueries", "DashboardCosts"]
