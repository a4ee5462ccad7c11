"""Platform tools: anomalies with root cause, recommendations with impact preview, budgets with status,
policies, remediation executions and pending approvals.

Every read goes through the kernel services (``AnomalyService``, ``RecommendationService``,
``BudgetService``, ``RemediationService``), which scope every query to the caller's organisation; an id of
another organisation is reported exactly like an unknown id. Money is ``Decimal`` (USD for savings).

One module per subject (``anomalies``, ``recommendations``, ``budgets``, ``policies``, ``approvals``), each
with its inputs, outputs, handlers and ``TOOLS``; ``ids`` parses the ids they accept. ``TOOLS`` lists them
in catalog order.
"""

from __future__ import annotations

from typing import Any

from cloudoptima_tools.platform import (
    anomalies,
    approvals,
    budgets,
    policies,
    recommendation_lifecycle,
    recommendation_ticket,
    recommendations,
)
from cloudoptima_tools.platform.anomalies import (
    AnomaliesInput,
    AnomaliesOutput,
    AnomalyDetail,
    AnomalyInput,
    AnomalySummary,
    anomalies_list,
    anomaly_detail,
)
from cloudoptima_tools.platform.approvals import (
    ApprovalsOutput,
    ExecutionsInput,
    ExecutionsOutput,
    pending_approvals,
    remediation_executions,
)
from cloudoptima_tools.platform.budgets import BudgetsInput, BudgetsOutput, BudgetStatusRow, budgets_status
from cloudoptima_tools.platform.ids import parse_id
from cloudoptima_tools.platform.policies import PoliciesInput, PoliciesOutput, PolicyRow, policies_list
from cloudoptima_tools.platform.recommendations import (
    ImpactPreview,
    RecommendationDetail,
    RecommendationInput,
    RecommendationsInput,
    RecommendationsOutput,
    RecommendationSummary,
    recommendation_impact_preview,
    recommendations_list,
)
from cloudoptima_tools.spec import ToolSpec

TOOLS: list[ToolSpec[Any, Any]] = [
    *anomalies.TOOLS,
    *recommendations.TOOLS,
    *recommendation_lifecycle.TOOLS,
    *recommendation_ticket.TOOLS,
    *budgets.TOOLS,
    *policies.TOOLS,
    *approvals.TOOLS,
]

__all__ = [
    "TOOLS",
    "AnomaliesInput",
    "AnomaliesOutput",
    "AnomalyDetail",
    "AnomalyInput",
    "AnomalySummary",
    "ApprovalsOutput",
    "BudgetStatusRow",
    "BudgetsInput",
    "BudgetsOutput",
    "ExecutionsInput",
    "ExecutionsOutput",
    "ImpactPreview",
    "PoliciesInput",
    "PoliciesOutput",
    "PolicyRow",
    "RecommendationDetail",
    "RecommendationInput",
    "RecommendationSummary",
    "RecommendationsInput",
    "RecommendationsOutput",
    "anomalies_list",
    "anomaly_detail",
    "budgets_status",
    "parse_id",
    "pending_approvals",
    "policies_list",
    "recommendation_impact_preview",
    "recommendations_list",
    "remediation_executions",
]
