"""Tickets (#22): hand a recommendation to a team's tracker and bring the ticket's close back.

Contract:
- Tracker connections per organisation (:meth:`Tickets.add_tracker`): ``kind`` github | jira | webhook, a
  ``base_url`` checked as notification webhook URLs are (https; http only to localhost with
  ``allow_insecure_localhost``; no credentials in it), ``project`` (``owner/repo`` for GitHub, a project key for Jira), ``login`` (the Jira account
  e-mail, required for Jira), the token stored encrypted with the credential cipher and never read back out
  (views carry only whether one is set). Bad input raises :class:`TicketInputError` naming the field.
- :meth:`Tickets.open_ticket` creates the ticket (title; body with the estimated monthly savings and currency,
  the resources, the console link) and stores tracker, external key and URL in ``recommendation_tickets``; a
  recommendation has at most one ticket: a second call answers the stored one without calling the tracker
  (``created`` False); two concurrent first calls both reach the tracker, the later store answers the earlier
  ticket. Audited as ``recommendation.ticket_opened``.
- Trackers also get a webhook secret (given, 16-200 characters, or made here), stored encrypted and answered
  only once by :meth:`Tickets.add_tracker`; incoming tracker webhooks are checked with it
  (``cloudoptima.services.ticket_webhooks``).
- :meth:`Tickets.sync` reads every ``open`` ticket's state from its tracker, and closed ones within
  :data:`~cloudoptima.services.ticket_states.REOPEN_WINDOW` of their close (a reopen); what a change does is
  :func:`~cloudoptima.services.ticket_states.apply_ticket_state` (completed: applied-by-hand hint; not planned:
  dismissed; reopened: back to open; deleted/transferred: ``gone``, final). A tracker failure on one ticket is
  counted and reported, the others go on; each tracker read gets ``last_synced_at`` and ``last_sync_error`` (the
  first failure, None when every read worked).
- Tracker failures raise :class:`~cloudoptima.services.ticket_clients.TrackerError` naming the tracker.
- ``now`` comes from the caller; every query is scoped to the organisation; the caller commits.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Final

import httpx
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cloudoptima.notifications.channels import DeliveryError, check_webhook_url
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.audit import AuditActor, acting_as, stage
from cloudoptima.services.row_currency import account_currencies
from cloudoptima.services.ticket_clients import TicketDraft, TrackerClient, TrackerError
from cloudoptima.services.ticket_states import CLOSED, REOPEN_WINDOW, apply_ticket_state
from cloudoptima.services.ticket_states import NOT_PLANNED_REASON as NOT_PLANNED_REASON
from cloudoptima.storage.models import Recommendation
from cloudoptima.storage.models.tickets import RecommendationTicketRow, TicketTrackerRow
from cloudoptima.storage.tenancy import TenantRepository

KINDS: Final = ("github", "jira", "webhook")
TIMEOUT: Final = httpx.Timeout(10.0, connect=5.0)
_GITHUB_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_JIRA_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,49}$")


class TicketInputError(ValueError):
    """Bad input; ``field`` names it."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class TrackerView:
    id: uuid.UUID
    name: str
    kind: str
    base_url: str
    project: str
    login: str | None
    token_set: bool
    created_at: datetime
    webhook_secret_set: bool = False
    last_synced_at: datetime | None = None
    last_sync_error: str | None = None
    webhook_secret: str | None = None
    """Only in the answer of :meth:`Tickets.add_tracker` (shown once); never read back."""


@dataclass(frozen=True)
class TicketView:
    recommendation_id: uuid.UUID
    tracker_id: uuid.UUID
    tracker_name: str
    kind: str
    external_key: str
    url: str
    state: str
    created_at: datetime
    synced_at: datetime | None
    created: bool
    attempts: list[str] = field(default_factory=list)


@dataclass
class SyncResult:
    checked: int = 0
    completed: list[uuid.UUID] = field(default_factory=list)
    not_planned: list[uuid.UUID] = field(default_factory=list)
    reopened: list[uuid.UUID] = field(default_factory=list)
    gone: list[uuid.UUID] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class _Trackers(TenantRepository[TicketTrackerRow]):
    model = TicketTrackerRow


class _Tickets(TenantRepository[RecommendationTicketRow]):
    model = RecommendationTicketRow


class _Recs(TenantRepository[Recommendation]):
    model = Recommendation


def _tracker_view(row: TicketTrackerRow, webhook_secret: str | None = None) -> TrackerView:
    return TrackerView(
        id=row.id, name=row.name, kind=row.kind, base_url=row.base_url, project=row.project,
        login=row.login, token_set=bool(row.token_encrypted), created_at=row.created_at,
        webhook_secret_set=bool(row.webhook_secret_encrypted), last_synced_at=row.last_synced_at,
        last_sync_error=row.last_sync_error, webhook_secret=webhook_secret,
    )  # fmt: skip


def _ticket_view(
    tracker: TicketTrackerRow | None,
    row: RecommendationTicketRow,
    *,
    created: bool,
    attempts: Sequence[str] = (),
) -> TicketView:
    return TicketView(
        recommendation_id=row.recommendation_id, tracker_id=row.tracker_id,
        tracker_name=tracker.name if tracker else "", kind=tracker.kind if tracker else "",
        external_key=row.external_key, url=row.url, state=row.state, created_at=row.created_at,
        synced_at=row.synced_at, created=created, attempts=list(attempts),
    )  # fmt: skip


def check_tracker_fields(
    kind: str, base_url: str, project: str, login: str | None, *, allow_insecure_localhost: bool
) -> None:
    """The base URL, project and login checks of a ``kind`` tracker; :class:`TicketInputError` naming the field."""
    try:
        check_webhook_url(
            base_url,
            channel=kind,
            allowed_host_suffixes=None,
            allow_insecure_localhost=allow_insecure_localhost,
        )
    except DeliveryError as exc:
        raise TicketInputError("base_url", exc.reason) from exc
    if kind == "github" and not _GITHUB_REPO.match(project):
        raise TicketInputError("project", "a GitHub repository as owner/repo")
    if kind == "jira" and not _JIRA_KEY.match(project):
        raise TicketInputError("project", "a Jira project key (upper-case, e.g. OPS)")
    if kind == "jira" and not (login and "@" in login):
        raise TicketInputError("login", "the Jira account e-mail is required for basic auth")


def tracker_view(row: TicketTrackerRow, webhook_secret: str | None = None) -> TrackerView:
    """The API view of a tracker row (``webhook_secret`` only when it was just set)."""
    return _tracker_view(row, webhook_secret)


def ticket_link(
    session: Session, organization_id: uuid.UUID, recommendation_id: uuid.UUID
) -> TicketView | None:
    """The stored ticket of one recommendation of the organisation, or None (no tracker call, no cipher)."""
    row = session.scalars(
        _Tickets(session, organization_id)
        .query()
        .where(RecommendationTicketRow.recommendation_id == recommendation_id)
    ).one_or_none()
    if row is None:
        return None
    return _ticket_view(_Trackers(session, organization_id).get(row.tracker_id), row, created=False)


class Tickets:
    """Ticket trackers and tickets of one organisation over one session (see module contract)."""

    def __init__(
        self,
        session: Session,
        organization_id: uuid.UUID,
        *,
        cipher: CredentialCipher,
        now: Callable[[], datetime],
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] | None = None,
        allow_insecure_localhost: bool = False,
    ) -> None:
        self._session = session
        self._org = organization_id
        self._cipher = cipher
        self._now = now
        self._http = http
        self._sleep = sleep
        self._allow_local = allow_insecure_localhost
        self._trackers = _Trackers(session, organization_id)
        self._tickets = _Tickets(session, organization_id)
        self._recs = _Recs(session, organization_id)

    # trackers

    def add_tracker(
        self,
        *,
        name: str,
        kind: str,
        base_url: str,
        project: str,
        token: str,
        login: str | None,
        actor: AuditActor,
        webhook_secret: str | None = None,
    ) -> TrackerView:
        """Store a tracker connection (token encrypted); see module contract for the checks."""
        name = name.strip()
        if not name or len(name) > 100:
            raise TicketInputError("name", "1 to 100 characters")
        if kind not in KINDS:
            raise TicketInputError("kind", f"one of {', '.join(KINDS)}")
        check_tracker_fields(kind, base_url, project, login, allow_insecure_localhost=self._allow_local)
        if not token:
            raise TicketInputError("token", "required")
        if webhook_secret is not None and not 16 <= len(webhook_secret) <= 200:
            raise TicketInputError(
                "webhook_secret", "16 to 200 characters (or leave it out to have one made)"
            )
        secret = webhook_secret or secrets.token_urlsafe(32)
        if any(t.name == name for t in self._session.scalars(self._trackers.query()).all()):
            raise TicketInputError("name", f"a tracker named {name!r} exists")
        row = TicketTrackerRow(
            name=name, kind=kind, base_url=base_url.rstrip("/") if kind != "webhook" else base_url,
            project=project, login=login if kind == "jira" else None,
            token_encrypted=self._cipher.encrypt({"token": token}), created_at=self._now(),
            webhook_secret_encrypted=self._cipher.encrypt({"secret": secret}),
        )  # fmt: skip
        self._trackers.add(row)
        self._session.flush()
        with acting_as(actor):
            stage(
                self._session, self._org, "ticket_tracker.created", resource_type="ticket_tracker",
                resource_id=str(row.id), details={"name": name, "kind": kind, "base_url": row.base_url},
            )  # fmt: skip
        return _tracker_view(row, webhook_secret=secret)

    def trackers(self) -> list[TrackerView]:
        rows = self._session.scalars(self._trackers.query().order_by(TicketTrackerRow.name)).all()
        return [_tracker_view(r) for r in rows]

    def delete_tracker(self, tracker_id: uuid.UUID, *, actor: AuditActor) -> None:
        """Remove a tracker connection and the links of its tickets (the tickets stay in the tracker)."""
        row = self._trackers.get(tracker_id)
        if row is None:
            raise LookupError(f"ticket tracker {tracker_id} not found")
        with acting_as(actor):
            stage(
                self._session, self._org, "ticket_tracker.deleted", resource_type="ticket_tracker",
                resource_id=str(row.id), details={"name": row.name},
            )  # fmt: skip
        self._session.delete(row)
        self._session.flush()

    # tickets

    def _client(self, tracker: TicketTrackerRow) -> TrackerClient:
        if self._http is None:
            raise RuntimeError("Tickets needs an httpx.Client to call trackers")
        token = str(self._cipher.decrypt(tracker.token_encrypted)["token"])
        client = TrackerClient(
            name=tracker.name, kind=tracker.kind, base_url=tracker.base_url, project=tracker.project,
            token=token, login=tracker.login, http=self._http,
        )  # fmt: skip
        if self._sleep is not None:
            client.sleep = self._sleep
        return client

    def ticket(self, recommendation_id: uuid.UUID) -> TicketView | None:
        """The recommendation's stored ticket, if any (no tracker call)."""
        return ticket_link(self._session, self._org, recommendation_id)

    def _view(
        self, row: RecommendationTicketRow, *, created: bool, attempts: Sequence[str] = ()
    ) -> TicketView:
        return _ticket_view(self._trackers.get(row.tracker_id), row, created=created, attempts=attempts)

    def open_ticket(
        self,
        recommendation_id: uuid.UUID,
        *,
        tracker_id: uuid.UUID | None,
        console_link: Callable[[uuid.UUID], str | None],
        actor: AuditActor,
    ) -> TicketView:
        """The recommendation's ticket: the stored one, else a new one in the tracker (see module contract)."""
        rec = self._recs.get(recommendation_id)
        if rec is None:
            raise LookupError(f"recommendation {recommendation_id} not found")
        existing = self.ticket(recommendation_id)
        if existing is not None:
            return existing
        if tracker_id is None:
            trackers = self._session.scalars(self._trackers.query()).all()
            if len(trackers) != 1:
                raise TicketInputError(
                    "tracker_id", "required (the organisation has no tracker or more than one)"
                )
            tracker = trackers[0]
        else:
            found = self._trackers.get(tracker_id)
            if found is None:
                raise TicketInputError("tracker_id", f"no tracker {tracker_id} in this organisation")
            tracker = found
        currency = account_currencies(self._session, self._org, [rec.account_identifier]).get(
            rec.account_identifier
        )
        savings = rec.estimated_savings_monthly
        draft = TicketDraft(
            recommendation_id=str(rec.id),
            title=f"[CloudOptima] {rec.title}",
            savings_monthly=None if savings is None else Decimal(savings).quantize(Decimal("0.01")),
            currency=currency or "USD",
            resources=[str(r) for r in rec.resource_ids or []],
            link=console_link(rec.id),
            description=rec.description,
        )
        ticket_id = uuid.uuid4()
        client = self._client(tracker)
        key, url = client.create(draft, idempotency_key=str(ticket_id))
        row = RecommendationTicketRow(
            id=ticket_id, recommendation_id=rec.id, tracker_id=tracker.id, external_key=key, url=url,
            state="open", created_at=self._now(),
        )  # fmt: skip
        try:
            with self._session.begin_nested():  # a concurrent call stored its ticket first: answer that one
                self._tickets.add(row)
                self._session.flush()
        except IntegrityError:
            stored = self.ticket(recommendation_id)
            if stored is None:
                raise
            return stored
        with acting_as(actor):
            stage(
                self._session, self._org, "recommendation.ticket_opened", resource_type="recommendation",
                resource_id=str(rec.id),
                details={"tracker": tracker.name, "kind": tracker.kind, "key": key, "url": url,
                         "attempts": client.attempts},
            )  # fmt: skip
        return self._view(row, created=True, attempts=client.attempts)

    def sync(self, *, actor: AuditActor) -> SyncResult:
        """Read every open (or recently closed) ticket's state and act on changes (see module contract)."""
        result = SyncResult()
        now = self._now()
        rows = self._session.scalars(
            self._tickets.query()
            .where(
                (RecommendationTicketRow.state == "open")
                | (
                    RecommendationTicketRow.state.in_(sorted(CLOSED))
                    & (RecommendationTicketRow.closed_at >= now - REOPEN_WINDOW)
                )
            )
            .order_by(RecommendationTicketRow.created_at)
        ).all()
        clients: dict[uuid.UUID, TrackerClient] = {}
        failures: dict[uuid.UUID, str] = {}
        for row in rows:
            tracker = self._trackers.get(row.tracker_id)
            if tracker is None or tracker.kind == "webhook":
                continue  # a webhook tracker has nothing to read back: its receiver calls our webhook route
            client = clients.get(tracker.id) or self._client(tracker)
            clients[tracker.id] = client
            result.checked += 1
            try:
                state = client.state(row.external_key)
            except TrackerError as exc:
                result.errors.append(str(exc))
                failures.setdefault(tracker.id, str(exc))
                continue
            outcome = apply_ticket_state(
                self._session, self._org, row, tracker, state, now=now, actor=actor, via="sync"
            )
            if outcome in ("completed", "not_planned", "reopened", "gone"):
                getattr(result, outcome).append(row.recommendation_id)
        for tracker_id in clients:
            tracker = self._trackers.get(tracker_id)
            if tracker is not None:
                tracker.last_synced_at, tracker.last_sync_error = now, failures.get(tracker_id)
        self._session.flush()
        return result
