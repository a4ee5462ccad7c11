"""The ``/v1`` API: every router of the documented REST API."""

from __future__ import annotations

from fastapi import APIRouter

from cloudoptima_gateway.flat_routes import include_flat
from cloudoptima_gateway.routes import (
    account,
    allocation,
    audit_logs,
    auth,
    budgets,
    cloud_accounts,
    commitments,
    costs,
    data_trust,
    digests,
    executions,
    exports,
    ingest,
    notification_channels,
    notification_rules,
    notifications,
    organization,
    policies,
    recommendation_lifecycle,
    recommendations,
    remediation,
    report_schedules,
    reports,
    resources,
    savings,
    sso,
    tags,
    tickets,
    users,
)


def build_router() -> APIRouter:
    """Every ``/v1`` route, added route by route in this order (``cloudoptima_gateway.flat_routes``)."""
    router = APIRouter(prefix="/v1")
    include_flat(router, recommendation_lifecycle.router)  # /recommendations/false-positives before /{id}
    for module in (auth, cloud_accounts, costs, resources, recommendations, remediation, budgets, policies):
        include_flat(router, module.router)
    include_flat(router, data_trust.router)
    include_flat(router, ingest.router)  # POST /data/ingest
    include_flat(router, sso.router)
    include_flat(router, audit_logs.router)
    include_flat(router, executions.router)
    include_flat(router, digests.router)  # before notifications: its own fixed path
    include_flat(router, notifications.router)
    include_flat(router, notification_channels.router)
    include_flat(router, notification_rules.router)
    include_flat(router, report_schedules.router)  # before reports: /reports/schedules is no report id
    include_flat(router, reports.router)
    include_flat(router, allocation.router)
    include_flat(router, allocation.costs_router)
    include_flat(router, exports.router)
    for admin in (account, organization, users):
        include_flat(router, admin.router)
    include_flat(router, tickets.router)  # /ticket-trackers, /recommendations/{id}/ticket
    include_flat(router, tags.router)  # /organization/tag-policy and /tags/*
    include_flat(router, savings.router)
    include_flat(router, commitments.router)
    return router
