"""The maintenance activities as workflows call them: each one's registered name, argument and result.

Workflows reference these methods (``workflow.execute_activity_method(MaintenanceActivityInterface.<method>,
…)``), so they import no I/O library. ``MaintenanceActivities``
(``cloudoptima_workflows.maintenance.activities``) implements them under the same names
(``tests/workflows/test_activity_interfaces.py`` keeps the two in step).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from temporalio import activity

from cloudoptima_workflows.maintenance.inputs import (
    AuditPruneResult,
    CleanupInput,
    CleanupResult,
    RetentionFamilyInput,
    RetentionFamilyResult,
)

__all__ = ["MaintenanceActivityInterface"]


class MaintenanceActivityInterface(ABC):
    """The maintenance activities (implemented by ``MaintenanceActivities``)."""

    @activity.defn(name="maintenance.purge_expired_tokens")
    @abstractmethod
    def purge_expired_tokens(self, params: CleanupInput) -> CleanupResult:
        """Delete revoked access-token ids and refresh tokens that expired before the grace window, then
        the files of expired reports (their rows stay; ``cloudoptima.services.report_retention``), then old
        export runs with their folder files (``cloudoptima.services.export_retention``)."""

    @activity.defn(name="maintenance.prune_audit_logs")
    @abstractmethod
    def prune_audit_logs(self, params: CleanupInput) -> AuditPruneResult:
        """Delete each organisation's audit rows older than its ``audit_retention_days``, in batches; each
        organisation that lost rows gets an ``audit_logs.pruned`` row with the count
        (``cloudoptima.services.audit_retention``)."""

    @activity.defn(name="maintenance.retention_family")
    @abstractmethod
    def retention_family(self, params: RetentionFamilyInput) -> RetentionFamilyResult:
        """Prune (or, ``dry_run``, count) one retention family at ``params.now``
        (``cloudoptima.services.retention.run``); batches commit as they go, so a retry resumes."""
