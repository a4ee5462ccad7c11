"""The ticket activities as workflows call them: each one's registered name, argument and result.

``TicketActivities`` (``cloudoptima_workflows.tickets.activities``) implements them under the same names
(``tests/workflows/test_activity_interfaces.py`` keeps the two in step).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from temporalio import activity

from cloudoptima_workflows.tickets.inputs import (
    SyncOrganisationInput,
    SyncOrganisationResult,
    TicketOrganisationsInput,
)

__all__ = ["TicketActivityInterface"]


class TicketActivityInterface(ABC):
    """The ticket activities (implemented by ``TicketActivities``)."""

    @activity.defn(name="tickets.organisations")
    @abstractmethod
    def organisations(self, params: TicketOrganisationsInput) -> list[str]:
        """Ids of the organisations with a GitHub or Jira ticket to read (open, or closed within the reopen
        window), sorted."""

    @activity.defn(name="tickets.sync_organisation")
    @abstractmethod
    def sync_organisation(self, params: SyncOrganisationInput) -> SyncOrganisationResult:
        """Sync the organisation's tickets (``Tickets.sync`` as ``system``) and commit; raises after committing
        when a tracker failed, naming it, so the attempt is retried (visibly) and the errors stay on the trackers."""
