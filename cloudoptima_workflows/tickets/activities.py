"""Ticket activities: the organisation's tracker tickets read back through ``cloudoptima.services.tickets``."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.audit import AuditActor
from cloudoptima.services.ticket_states import CLOSED, REOPEN_WINDOW
from cloudoptima.services.tickets import TIMEOUT, Tickets
from cloudoptima.storage.models.tickets import RecommendationTicketRow, TicketTrackerRow
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_workflows.tickets.inputs import (
    SyncOrganisationInput,
    SyncOrganisationResult,
    TicketOrganisationsInput,
)
from cloudoptima_workflows.tickets.interface import TicketActivityInterface

_ACTOR = AuditActor(channel="workflow", details={"workflow": "SyncTickets"})


class TicketActivities(TicketActivityInterface):
    """Bound to a session factory, the credential keys (tracker tokens are encrypted with them) and whether
    tracker URLs on localhost over http are allowed (the notification setting, as the API uses)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        keys: tuple[str, ...],
        *,
        allow_insecure_localhost: bool = False,
    ) -> None:
        self._sessions = sessions
        self._keys = tuple(keys)
        self._allow_local = allow_insecure_localhost

    def _cipher(self) -> CredentialCipher:
        """The cipher for tracker tokens, built when a sync needs it: a worker configured without credential
        keys still starts (its other activities run) and a ticket sync then fails naming the missing keys."""
        return CredentialCipher(list(self._keys))

    @activity.defn(name="tickets.organisations")
    def organisations(self, params: TicketOrganisationsInput) -> list[str]:
        """Ids of the organisations with a GitHub or Jira ticket to read, sorted."""
        readable = (RecommendationTicketRow.state == "open") | (
            RecommendationTicketRow.state.in_(sorted(CLOSED))
            & (RecommendationTicketRow.closed_at >= params.now - REOPEN_WINDOW)
        )
        with self._sessions() as session:
            found = session.scalars(
                select(RecommendationTicketRow.organization_id)
                .join(TicketTrackerRow, TicketTrackerRow.id == RecommendationTicketRow.tracker_id)
                .where(readable, TicketTrackerRow.kind != "webhook")
                .distinct()
            ).all()
        return sorted(str(org) for org in found)

    @activity.defn(name="tickets.sync_organisation")
    def sync_organisation(self, params: SyncOrganisationInput) -> SyncOrganisationResult:
        """Sync and commit; raise naming the failed trackers so the attempt is retried (see interface)."""
        org = uuid.UUID(params.organization_id)
        with httpx.Client(timeout=TIMEOUT) as http, tenant_session(self._sessions, org) as session:
            result = Tickets(
                session,
                org,
                cipher=self._cipher(),
                now=lambda: params.now,
                http=http,
                allow_insecure_localhost=self._allow_local,
            ).sync(actor=_ACTOR)
        if result.errors:
            raise ApplicationError(f"organisation {org}: " + "; ".join(result.errors), type="TrackerError")
        return SyncOrganisationResult(
            organization_id=params.organization_id,
            checked=result.checked,
            completed=[str(r) for r in result.completed],
            not_planned=[str(r) for r in result.not_planned],
            reopened=[str(r) for r in result.reopened],
            gone=[str(r) for r in result.gone],
        )
