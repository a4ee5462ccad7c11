"""``recommendation_ticket``: hand a recommendation to a team's tracker, or read its ticket (#22).

Contract (over :class:`cloudoptima.services.tickets.Tickets`, the service ``/v1/recommendations/{id}/ticket`` uses):
- ``action`` ``read`` (default; permission ``read:recommendations``) answers the stored ticket: tracker, key, link,
  state (open, completed, not_planned, gone) and when it was last synced; none stored is a not-found error.
- ``action`` ``create`` needs ``dismiss:recommendations``, as the REST route does (refused naming it otherwise):
  the ticket is opened on the tracker named by ``tracker`` (optional when the organisation has exactly one), with
  the estimated savings, the resources and the console link; a recommendation already handed over answers its
  stored ticket (``created`` false) without calling the tracker again. Audited as ``recommendation.ticket_opened``
  (channel ``mcp``); a tracker failure is a tool error naming the tracker.
- Not read-only (it can create in an outside system: ``open_world``), not destructive, idempotent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import httpx
from pydantic import BaseModel, Field

from cloudoptima.services.ticket_clients import TrackerError
from cloudoptima.services.tickets import TIMEOUT, TicketInputError, Tickets, TicketView, ticket_link
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.platform.ids import parse_id
from cloudoptima_tools.platform.recommendation_lifecycle import _actor
from cloudoptima_tools.spec import (
    ToolError,
    ToolInput,
    ToolInputError,
    ToolNotFoundError,
    ToolPermissionError,
    ToolSpec,
)

CREATE_PERMISSION = "dismiss:recommendations"


class TicketInput(ToolInput):
    recommendation_id: str = Field(description="Id returned by recommendations_list.")
    action: Literal["read", "create"] = Field(default="read", description="read the ticket, or create it.")
    tracker: str | None = Field(
        default=None, max_length=100, description="create: the tracker's name (optional when there is one)."
    )


class TicketOutput(BaseModel):
    recommendation_id: str
    tracker: str
    kind: str = Field(description="github, jira or webhook")
    key: str
    url: str
    state: str = Field(description="open, completed, not_planned or gone (deleted/transferred)")
    created: bool = Field(description="True when this call opened it.")
    synced_at: datetime | None


def _out(view: TicketView) -> TicketOutput:
    return TicketOutput(
        recommendation_id=str(view.recommendation_id), tracker=view.tracker_name, kind=view.kind,
        key=view.external_key, url=view.url, state=view.state, created=view.created, synced_at=view.synced_at,
    )  # fmt: skip


def recommendation_ticket(ctx: ToolContext, params: TicketInput) -> TicketOutput:
    """See module contract."""
    rec_id = parse_id(params.recommendation_id, "recommendation")
    if params.action == "read":
        with ctx.read_session() as session:
            view = ticket_link(session, ctx.organization_id, rec_id)
        if view is None:
            raise ToolNotFoundError(f"recommendation {rec_id} has no ticket (create one with action=create)")
        return _out(view)
    if not ctx.can(CREATE_PERMISSION):
        raise ToolPermissionError(
            f"role {ctx.role!r} lacks permission {CREATE_PERMISSION!r} to create a ticket"
        )
    config = ctx.tickets
    if config is None:
        raise ToolError("tickets are not configured on this server (no credential keys)")
    with ctx.session() as session, httpx.Client(timeout=TIMEOUT) as http:
        tickets = Tickets(
            session, ctx.organization_id, cipher=config.cipher(), now=ctx.now, http=http,
            allow_insecure_localhost=config.allow_insecure_localhost,
        )  # fmt: skip
        tracker_id = None
        if params.tracker is not None:
            named = [t for t in tickets.trackers() if t.name == params.tracker]
            if not named:
                names = ", ".join(t.name for t in tickets.trackers()) or "none"
                raise ToolInputError(f"tracker: no tracker named {params.tracker!r} (trackers: {names})")
            tracker_id = named[0].id
        try:
            view = tickets.open_ticket(
                rec_id, tracker_id=tracker_id, console_link=config.console_link, actor=_actor(ctx)
            )
        except LookupError as exc:
            raise ToolNotFoundError(str(exc)) from exc
        except TicketInputError as exc:
            raise ToolInputError(str(exc)) from exc
        except TrackerError as exc:
            raise ToolError(str(exc)) from exc
        return _out(view)


TOOLS: list[ToolSpec[Any, Any]] = [
    ToolSpec(
        name="recommendation_ticket",
        domain="platform",
        title="A recommendation's tracker ticket",
        description=(
            "Read a recommendation's ticket (tracker, key, link, state: open/completed/not_planned/gone), or "
            "create it on the organisation's GitHub Issues, Jira or webhook tracker (action=create; tracker by "
            "name when there are several; needs the permission to decide on recommendations). Creating twice "
            "answers the same ticket.\n"
            'Example: {"recommendation_id": "9a1b…", "action": "create", "tracker": "platform-jira"}'
        ),
        input_model=TicketInput,
        output_model=TicketOutput,
        handler=recommendation_ticket,
        permission="read:recommendations",
        read_only=False,
        destructive=False,
        idempotent=True,
        open_world=True,
        max_output_tokens=1_000,
        example={"recommendation_id": "9a1b…", "action": "read"},
    ),
]
