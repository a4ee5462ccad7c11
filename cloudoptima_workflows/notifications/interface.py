"""The notification activities as workflows call them: each one's registered name, argument and result.

Workflows reference these methods (``workflow.execute_activity_method(NotificationActivityInterface.<method>,
…)``), so they import no I/O library. ``NotificationActivities`` (``cloudoptima_workflows.notifications.
activities``) implements them under the same names.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from temporalio import activity

from cloudoptima_workflows.notifications.inputs import (
    DeliverDueInput,
    DeliverDueResult,
    SendDigestsResult,
    SendDueDigestsInput,
)

__all__ = ["NotificationActivityInterface"]


class NotificationActivityInterface(ABC):
    """The notification activities (implemented by ``NotificationActivities``)."""

    @activity.defn(name="notifications.deliver_due")
    @abstractmethod
    def deliver_due(self, params: DeliverDueInput) -> DeliverDueResult:
        """Attempt every delivery due at ``params.now``, organisation by organisation, and record outcomes."""

    @activity.defn(name="notifications.send_digests")
    @abstractmethod
    def send_digests(self, params: SendDueDigestsInput) -> SendDigestsResult:
        """Send every per-user digest due at ``params.now`` (``cloudoptima.services.digests.send_due``)."""
