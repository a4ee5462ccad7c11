"""Optimisation recommendation rules over an inventory, utilisation summaries and a price catalogue.

Public API:
- :func:`generate_recommendations` — resources + utilisation summaries + prices → prioritised findings.
- :class:`RuleSettings` and the named profiles in :mod:`.profiles` — every threshold with its source.
- :class:`AnomalyScope` — an open cost anomaly whose new resources no commitment should cover yet.
Pure computation: no database, no network, no clock.
"""

from cloudoptima.analytics.recommendations.context import AnomalyScope, scopes_from_anomalies
from cloudoptima.analytics.recommendations.engine import RULES, generate_recommendations
from cloudoptima.analytics.recommendations.profiles import (
    IDLE_DATABASE_PROFILES,
    IDLE_VM_PROFILES,
    RIGHTSIZING_PROFILES,
    RuleSettings,
)

__all__ = [
    "IDLE_DATABASE_PROFILES",
    "IDLE_VM_PROFILES",
    "RIGHTSIZING_PROFILES",
    "RULES",
    "AnomalyScope",
    "RuleSettings",
    "generate_recommendations",
    "scopes_from_anomalies",
]
