"""The ``/v1`` API: every router of the documented REST API."""

from __future__ import annotations

from fastapi import APIRouter

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
    router = APIRouter(prefix="/v1")
    router.include_router(recommendation_lifecycle.router)  # /recommendations/false-positives before /{id}
    for module in (auth, cloud_accounts, costs, resources, recommendations, remediation, budgets, policies):
        router.include_router(module.router)
    router.include_router(data_trust.router)
    router.include_router(ingest.router)  # POST /data/ingest
    router.include_router(sso.router)
    router.include_router(audit_logs.router)
    router.include_router(executions.router)
    router.include_router(digests.router)  # before notifications: its own fixed path
    router.include_router(notifications.router)
    router.include_router(notification_channels.router)
    router.include_router(notification_rules.router)
    router.include_router(report_schedules.router)  # before reports: /reports/schedules is no report id
    router.include_router(reports.router)
    router.include_router(allocation.router)
    router.include_router(allocation.costs_router)
    router.include_router(exports.router)
    for admin in (account, organization, users):
        router.include_router(admin.router)
    router.include_router(tickets.router)  # /ticket-trackers, /recommendations/{id}/ticket
    router.include_router(tags.router)  # /organization/tag-policy and /tags/*
    router.include_router(savings.router)
    router.include_router(commitments.router)
    return router
