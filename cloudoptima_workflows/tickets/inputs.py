"""Inputs and results of the ticket sync (pydantic messages, see ``cloudoptima_workflows.message``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from cloudoptima_workflows.message import Message


class SyncTicketsInput(Message):
    """One pass of ``SyncTickets`` (the schedule runs it every 30 minutes)."""

    attempts: int = Field(default=3, ge=1, le=10)
    """Attempts of each organisation's activity (a failing tracker makes it fail; the retries are in the history)."""
    organisation_ids: list[str] = Field(default_factory=list)
    """Only these organisations (e.g. one started by hand from the Temporal UI); empty: every organisation."""


class TicketOrganisationsInput(Message):
    """List the organisations with tickets to read at ``now`` (the workflow's time)."""

    now: datetime


class SyncOrganisationInput(Message):
    """Sync one organisation's tickets at ``now`` (the workflow's time)."""

    organization_id: str
    now: datetime


class SyncOrganisationResult(Message):
    """What one organisation's sync did (recommendation ids per outcome; per-tracker errors)."""

    organization_id: str
    checked: int = 0
    completed: list[str] = Field(default_factory=list)
    not_planned: list[str] = Field(default_factory=list)
    reopened: list[str] = Field(default_factory=list)
    gone: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)


class SyncTicketsResult(Message):
    """A whole pass: every organisation's result, and those whose activity failed after its retries (with why;
    their trackers carry ``last_sync_error``)."""

    organisations: list[SyncOrganisationResult] = Field(default_factory=list)
    failed_organisations: dict[str, str] = Field(default_factory=dict)
