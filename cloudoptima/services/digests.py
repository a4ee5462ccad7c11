"""Per-user daily or weekly digests: the subscription, when it is due, what it says, and sending it.

Contract:
- A subscription (``notification_digests``, at most one per user) says ``frequency`` (``daily`` or
  ``weekly``), ``day_of_week`` (weekly only; 0 = Monday), the local ``time_of_day`` (``HH:MM``, 24 h), the IANA
  ``timezone`` and the ``channel`` (``email`` to the user's address, or ``in_app``). :meth:`Digests.put`
  creates or replaces the caller's own subscription; bad input is :class:`DigestError` naming the field.
- **Send times** are local: every day (weekly: every ``day_of_week``) at ``time_of_day`` in ``timezone``,
  converted to UTC with the rules in force on that date (a time skipped by a DST change is read with the
  offset before the change, e.g. 02:30 on a spring-forward night is sent at 03:30; an ambiguous time is its
  first occurrence). :func:`latest_send_time` is the last send time at or before ``now``.
- **Due**: a subscription is due at ``now`` when its latest send time is after its baseline: ``last_sent_at``,
  or ``created_at`` when it was never sent (so subscribing at 15:00 for 08:00 sends tomorrow, not at once).
  A pass at any cadence (hourly, every 15 minutes) therefore sends each period's digest once; passes missed
  for days catch up with one digest (the latest period), never one per missed period.
- **Period**: the digest sent at local date ``D`` covers the local days ``[D - 1, D)`` (daily) or
  ``[D - 7, D)`` (weekly), end-exclusive; the previous period is the same number of days just before. Instants
  (for "new anomalies") are the local midnights of those dates, so consecutive digests never count an anomaly
  twice.
- :meth:`Digests.build_digest` returns a :class:`~cloudoptima.domain.notices.Notice` (``digest``) whose
  numbers come from the services the REST API answers with: spend from ``CostAnalytics.overview``
  (``/v1/costs/overview``) in the organisation's currency (the currency of its costs; with several, the one
  with the most spend in the period, the others listed), new anomalies (``AnomalyService.list``, detected in
  the period) with their summed impact, open savings per month (``RecommendationService.list`` of active
  recommendations), budgets ``at_risk`` / ``exceeded`` (``BudgetService.evaluate`` as ``/v1/budgets``, inside a
  savepoint that is rolled back so the digest changes no alert state), and approvals waiting for the user's
  role (as ``/v1/approvals``). Money is ``Decimal``; each fact carries the absolute link to its API.
- :func:`send_due` sends every due digest at ``now``, user by user, each in its own transaction with the
  subscription row locked (``FOR UPDATE SKIP LOCKED``: two passes never send one digest twice): ``email`` as
  a multipart (text + HTML) message through the SMTP sender (Message-ID derived from the idempotency key
  ``digest:<user>:<start>:<end>``), ``in_app`` through :meth:`Inbox.post` with that key (a repeat posts
  nothing). Success sets ``last_sent_at = now`` and clears ``last_error``; a failure (SMTP down, no SMTP
  configured, any error building the digest) records ``last_attempt_at`` and ``last_error``, leaves
  ``last_sent_at`` unchanged (so the next pass tries again) and never stops the other users. An email
  accepted by the server whose transaction then fails to commit is sent again next pass with the same
  Message-ID.
- Every query is scoped to the organisation (tenant repository), except :func:`due_subscriptions`, the
  worker's one cross-tenant read. ``now`` comes from the caller and must carry a time zone.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.clouds.protocol import CloudProviderClient
from cloudoptima.domain.budgets import BudgetStatus
from cloudoptima.domain.inbox import InboxNotice
from cloudoptima.domain.notices import Notice, NoticeEventType, NoticeFact, NoticeSeverity
from cloudoptima.domain.recommendations import RecommendationStatus
from cloudoptima.notifications.channels import DeliveryError
from cloudoptima.notifications.email import SmtpSender
from cloudoptima.notifications.email_channel import EmailChannel
from cloudoptima.notifications.render import format_amount
from cloudoptima.services.anomalies import AnomalyService
from cloudoptima.services.approvals import ApprovalService
from cloudoptima.services.budgets import BudgetService
from cloudoptima.services.cost_analytics import CostAnalytics
from cloudoptima.services.events import Publish
from cloudoptima.services.inbox import Inbox
from cloudoptima.services.price_catalog import price_catalog_for
from cloudoptima.services.recommendations import RecommendationService
from cloudoptima.services.remediation import RemediationService
from cloudoptima.storage.models import NotificationDigestRow, User
from cloudoptima.storage.tenancy import TenantRepository, tenant_session

log = logging.getLogger(__name__)

FREQUENCIES = ("daily", "weekly")
CHANNELS = ("email", "in_app")
PERIOD_DAYS = {"daily": 1, "weekly": 7}
DEFAULT_CURRENCY = "USD"
MAX_ERROR = 2000
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_MAX_ROWS = 10_000


class DigestError(ValueError):
    """Bad input; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class DigestNotFound(LookupError):
    """The user has no digest subscription."""

    def __init__(self, user_id: uuid.UUID) -> None:
        super().__init__(f"user {user_id} has no digest subscription")
        self.user_id = user_id


@dataclass(frozen=True)
class DigestSchedule:
    """A validated subscription schedule and channel (build with :func:`digest_schedule`)."""

    frequency: str
    day_of_week: int | None
    time_of_day: str
    timezone: str
    channel: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def clock(self) -> time:
        hours, minutes = self.time_of_day.split(":")
        return time(int(hours), int(minutes))


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise DigestError("now", "must carry a time zone")
    return now.astimezone(UTC)


def digest_schedule(
    *,
    frequency: str,
    day_of_week: int | None = None,
    time_of_day: str = "08:00",
    timezone: str = "UTC",
    channel: str = "email",
) -> DigestSchedule:
    """A checked schedule; :class:`DigestError` naming the first bad field."""
    if frequency not in FREQUENCIES:
        raise DigestError("frequency", f"must be one of {', '.join(FREQUENCIES)} (got {frequency!r})")
    if frequency == "weekly":
        if day_of_week is None:
            raise DigestError("day_of_week", "is required for a weekly digest (0 = Monday … 6 = Sunday)")
        if isinstance(day_of_week, bool) or not isinstance(day_of_week, int) or not 0 <= day_of_week <= 6:
            raise DigestError("day_of_week", f"must be 0 (Monday) to 6 (Sunday) (got {day_of_week!r})")
    elif day_of_week is not None:
        raise DigestError("day_of_week", "is only for weekly digests; leave it out for a daily one")
    if not isinstance(time_of_day, str) or not _TIME.fullmatch(time_of_day):
        raise DigestError("time_of_day", f"must be HH:MM on a 24-hour clock (got {time_of_day!r})")
    if not isinstance(timezone, str) or not timezone or len(timezone) > 64:
        raise DigestError("timezone", "must be an IANA time zone name such as 'Europe/Berlin'")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise DigestError(
            "timezone", f"{timezone!r} is not an IANA time zone name (such as 'Europe/Berlin')"
        ) from exc
    if channel not in CHANNELS:
        raise DigestError("channel", f"must be one of {', '.join(CHANNELS)} (got {channel!r})")
    return DigestSchedule(frequency, day_of_week, time_of_day, timezone, channel)


def schedule_of(row: NotificationDigestRow) -> DigestSchedule:
    return DigestSchedule(row.frequency, row.day_of_week, row.time_of_day, row.timezone, row.channel)


def _send_at(schedule: DigestSchedule, day: date) -> datetime:
    """The send time on local ``day`` in UTC (fold 0: a skipped time takes the offset before the change)."""
    return datetime.combine(day, schedule.clock, tzinfo=schedule.zone).astimezone(UTC)


def _first_day(schedule: DigestSchedule, local_today: date) -> date:
    """The latest sending day on or before ``local_today``."""
    if schedule.frequency == "weekly" and schedule.day_of_week is not None:
        return local_today - timedelta(days=(local_today.weekday() - schedule.day_of_week) % 7)
    return local_today


def latest_send(schedule: DigestSchedule, now: datetime) -> tuple[date, datetime]:
    """The local sending day and UTC send time of the last send time at or before ``now``."""
    now = _aware(now)
    step = timedelta(days=PERIOD_DAYS[schedule.frequency])
    day = _first_day(schedule, now.astimezone(schedule.zone).date())
    while (at := _send_at(schedule, day)) > now:
        day -= step
    return day, at


def latest_send_time(schedule: DigestSchedule, now: datetime) -> datetime:
    """The last send time at or before ``now`` (UTC)."""
    return latest_send(schedule, now)[1]


def next_send_time(schedule: DigestSchedule, now: datetime) -> datetime:
    """The first send time after ``now`` (UTC)."""
    day, _ = latest_send(schedule, now)
    step = timedelta(days=PERIOD_DAYS[schedule.frequency])
    while (at := _send_at(schedule, day)) <= _aware(now):
        day += step
    return at


def is_due(row: NotificationDigestRow, now: datetime) -> bool:
    """Whether the subscription's latest send time is after its baseline (module contract)."""
    baseline = row.last_sent_at or row.created_at
    return latest_send_time(schedule_of(row), now) > baseline


@dataclass(frozen=True)
class DigestPeriod:
    """What one digest covers: the local days ``[start, end)`` in ``timezone``, sent at ``send_at`` (UTC)."""

    frequency: str
    start: date
    end: date
    timezone: str
    send_at: datetime

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def previous(self) -> tuple[date, date]:
        return self.start - timedelta(days=self.days), self.start

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=ZoneInfo(self.timezone)).astimezone(UTC)

    @property
    def starts_at(self) -> datetime:
        return self._midnight(self.start)

    @property
    def ends_at(self) -> datetime:
        return self._midnight(self.end)


def period_at(schedule: DigestSchedule, now: datetime) -> DigestPeriod:
    """The period of the digest due at ``now`` (its latest send time; module contract)."""
    day, at = latest_send(schedule, now)
    start = day - timedelta(days=PERIOD_DAYS[schedule.frequency])
    return DigestPeriod(schedule.frequency, start, day, schedule.timezone, at)


@dataclass(frozen=True)
class DigestView:
    """One user's subscription as the API shows it."""

    id: uuid.UUID
    user_id: uuid.UUID
    frequency: str
    day_of_week: int | None
    time_of_day: str
    timezone: str
    channel: str
    last_sent_at: datetime | None
    last_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    next_send_at: datetime


def view_of(row: NotificationDigestRow, now: datetime) -> DigestView:
    schedule = schedule_of(row)
    due = is_due(row, now)
    return DigestView(
        id=row.id,
        user_id=row.user_id,
        frequency=row.frequency,
        day_of_week=row.day_of_week,
        time_of_day=row.time_of_day,
        timezone=row.timezone,
        channel=row.channel,
        last_sent_at=row.last_sent_at,
        last_attempt_at=row.last_attempt_at,
        last_error=row.last_error,
        created_at=row.created_at,
        next_send_at=latest_send_time(schedule, now) if due else next_send_time(schedule, now),
    )


@dataclass(frozen=True)
class DigestFigures:
    """The numbers of one digest (all from the API's services; module contract)."""

    currency: str
    spend: Decimal
    previous_spend: Decimal
    change_percent: Decimal | None
    other_currencies: dict[str, Decimal]
    new_anomalies: int
    anomaly_impact: Decimal
    open_recommendations: int
    open_savings_monthly: Decimal
    budgets_at_risk: list[str]
    budgets_exceeded: list[str]
    approvals_waiting: int
    links: dict[str, str] = field(default_factory=dict)

    def payload(self, period: DigestPeriod) -> dict[str, Any]:
        """JSON of the figures (money and dates as strings)."""
        return {
            "frequency": period.frequency,
            "period_start": period.start.isoformat(),
            "period_end": period.end.isoformat(),
            "timezone": period.timezone,
            "currency": self.currency,
            "spend": str(self.spend),
            "previous_spend": str(self.previous_spend),
            "change_percent": None if self.change_percent is None else str(self.change_percent),
            "other_currencies": {k: str(v) for k, v in self.other_currencies.items()},
            "new_anomalies": self.new_anomalies,
            "anomaly_impact": str(self.anomaly_impact),
            "open_recommendations": self.open_recommendations,
            "open_savings_monthly": str(self.open_savings_monthly),
            "budgets_at_risk": self.budgets_at_risk,
            "budgets_exceeded": self.budgets_exceeded,
            "approvals_waiting": self.approvals_waiting,
            "links": self.links,
        }


class _Digests(TenantRepository[NotificationDigestRow]):
    model = NotificationDigestRow


def _no_providers(cloud_account_id: uuid.UUID) -> CloudProviderClient:
    raise LookupError(f"the digest reads approvals only; no provider for account {cloud_account_id}")


def idempotency_key(user_id: uuid.UUID, period: DigestPeriod) -> str:
    """The key of one user's digest for one period (email Message-ID, inbox key)."""
    return f"digest:{user_id}:{period.start.isoformat()}:{period.end.isoformat()}"


class Digests:
    """One organisation's digest subscriptions and digests (see module contract)."""

    def __init__(self, session: Session, organization_id: uuid.UUID) -> None:
        self._session = session
        self._org = organization_id
        self._repo = _Digests(session, organization_id)

    # ---- subscriptions ----------------------------------------------------------------------------------
    def _row(self, user_id: uuid.UUID) -> NotificationDigestRow | None:
        return self._session.scalars(
            self._repo.query().where(NotificationDigestRow.user_id == user_id)
        ).first()

    def get(self, user_id: uuid.UUID, *, now: datetime) -> DigestView:
        """The user's subscription; :class:`DigestNotFound` when there is none."""
        row = self._row(user_id)
        if row is None:
            raise DigestNotFound(user_id)
        return view_of(row, _aware(now))

    def put(self, user_id: uuid.UUID, schedule: DigestSchedule, *, now: datetime) -> tuple[DigestView, bool]:
        """Create or replace the user's subscription; returns it and whether it was created. Replacing keeps
        ``last_sent_at`` (a period already sent is not sent again) and clears the last error."""
        now = _aware(now)
        user = self._session.scalars(
            select(User).where(User.organization_id == self._org, User.id == user_id)
        ).first()
        if user is None:
            raise DigestError("user_id", f"{user_id} is not a user of this organisation")
        row = self._row(user_id)
        created = row is None
        if row is None:
            row = NotificationDigestRow(organization_id=self._org, user_id=user_id, created_at=now)
            self._session.add(row)
        row.frequency, row.day_of_week = schedule.frequency, schedule.day_of_week
        row.time_of_day, row.timezone, row.channel = schedule.time_of_day, schedule.timezone, schedule.channel
        row.last_error = None
        self._session.flush()
        return view_of(row, now), created

    def delete(self, user_id: uuid.UUID) -> None:
        """Remove the user's subscription; :class:`DigestNotFound` when there is none."""
        row = self._row(user_id)
        if row is None:
            raise DigestNotFound(user_id)
        self._session.delete(row)
        self._session.flush()

    # ---- the digest -------------------------------------------------------------------------------------
    def figures(self, user: User, period: DigestPeriod, *, now: datetime, base_url: str) -> DigestFigures:
        """The digest's numbers for ``user`` and ``period`` (module contract)."""
        now = _aware(now)
        if user.organization_id != self._org:
            raise DigestError("user", "is not a user of this organisation")
        base = base_url.rstrip("/")
        session, org = self._session, self._org

        analytics = CostAnalytics.for_organisation(session.connection(), org)
        prev_start, _ = period.previous
        totals: dict[str, tuple[Decimal, Decimal, Decimal | None]] = {}
        for currency in analytics.currencies(prev_start, period.end) or [DEFAULT_CURRENCY]:
            overview = analytics.overview(
                period.start, period.end, granularity="daily", currency=currency, breakdown_limit=1
            )
            comparison = overview.period_comparison
            totals[currency] = (overview.total_cost, comparison.previous_period, comparison.change_percent)
        chosen = sorted(totals, key=lambda c: (-totals[c][0], c))[0]
        spend, previous, change = totals[chosen]

        detected = [
            row
            for row in AnomalyService(session, org, now=lambda: now).list(limit=_MAX_ROWS)
            if period.starts_at <= row.detected_at < period.ends_at
        ]
        recommendations = RecommendationService(
            session, org, price_catalog_for(session, org), now=lambda: now
        ).list(status=RecommendationStatus.ACTIVE, sort_by="savings", limit=_MAX_ROWS)

        at_risk: list[str] = []
        exceeded: list[str] = []
        budgets = BudgetService(session, org, now=lambda: now, forecast_model="fast")
        today = now.date()
        savepoint = session.begin_nested()
        try:
            for budget in budgets.list():
                as_of = min(max(today, budget.start_date), budget.end_date - timedelta(days=1))
                status = budgets.evaluate(budget.id, as_of).status
                if status is BudgetStatus.EXCEEDED:
                    exceeded.append(budget.name)
                elif status is BudgetStatus.AT_RISK:
                    at_risk.append(budget.name)
        finally:
            savepoint.rollback()

        pending = RemediationService(session, org, _no_providers, now=lambda: now).pending_approvals(
            limit=500
        )
        own_too = ApprovalService(session, org, now=lambda: now).settings().allow_self_approval
        waiting = [
            p
            for p in pending
            if user.role in p.approver_roles and (own_too or p.requested_by != str(user.id))
        ]
        query = urlencode({"start_date": period.start.isoformat(), "end_date": period.end.isoformat()})
        return DigestFigures(
            currency=chosen,
            spend=spend,
            previous_spend=previous,
            change_percent=change,
            other_currencies={c: totals[c][0] for c in sorted(totals) if c != chosen},
            new_anomalies=len(detected),
            anomaly_impact=sum((row.impact_amount or Decimal(0) for row in detected), Decimal(0)),
            open_recommendations=len(recommendations),
            open_savings_monthly=sum(
                (row.estimated_savings_monthly or Decimal(0) for row in recommendations), Decimal(0)
            ),
            budgets_at_risk=sorted(at_risk),
            budgets_exceeded=sorted(exceeded),
            approvals_waiting=len(waiting),
            links={
                "spend": f"{base}/v1/costs/overview?{query}&currency={chosen}",
                "anomalies": f"{base}/v1/costs/anomalies",
                "recommendations": f"{base}/v1/recommendations",
                "budgets": f"{base}/v1/budgets",
                "approvals": f"{base}/v1/approvals",
            },
        )

    def build_digest(self, user: User, period: DigestPeriod, *, now: datetime, base_url: str) -> Notice:
        """The digest notice for ``user`` and ``period`` (module contract)."""
        figures = self.figures(user, period, now=now, base_url=base_url)
        return digest_notice(self._org, user.id, period, figures)


def _title(period: DigestPeriod) -> str:
    last = period.end - timedelta(days=1)
    if period.frequency == "daily":
        return f"Daily digest for {last.isoformat()}"
    return f"Weekly digest {period.start.isoformat()} to {last.isoformat()}"


def _change(figures: DigestFigures) -> str:
    delta = figures.spend - figures.previous_spend
    sign = "+" if delta >= 0 else "-"
    text = f"{sign}{format_amount(abs(delta), figures.currency)}"
    if figures.change_percent is not None:
        text += f" ({figures.change_percent:+.1f}%)"
    return text


def digest_notice(
    organization_id: uuid.UUID, user_id: uuid.UUID, period: DigestPeriod, figures: DigestFigures
) -> Notice:
    """The notice of one digest: the amount is the period's spend, the facts every figure with its link."""
    c = figures.currency
    links = figures.links
    budgets = figures.budgets_exceeded + figures.budgets_at_risk
    facts = [
        NoticeFact(label="Previous period", value=format_amount(figures.previous_spend, c)),
        NoticeFact(label="Change", value=f"{_change(figures)} · {links['spend']}"),
    ]
    if figures.other_currencies:
        others = ", ".join(format_amount(v, k) for k, v in figures.other_currencies.items())
        facts.append(NoticeFact(label="Also spent", value=others))
    facts += [
        NoticeFact(
            label="New anomalies",
            value=f"{figures.new_anomalies}, impact {format_amount(figures.anomaly_impact, c)}"
            f" · {links['anomalies']}",
        ),
        NoticeFact(
            label="Open savings",
            value=f"{format_amount(figures.open_savings_monthly, c)} per month in "
            f"{figures.open_recommendations} recommendations · {links['recommendations']}",
        ),
        NoticeFact(
            label="Budgets",
            value=f"{len(figures.budgets_exceeded)} over, {len(figures.budgets_at_risk)} at risk"
            + (f" ({', '.join(budgets)})" if budgets else "")
            + f" · {links['budgets']}",
        ),
        NoticeFact(
            label="Approvals waiting",
            value=f"{figures.approvals_waiting} for your role · {links['approvals']}",
        ),
    ]
    if figures.budgets_exceeded:
        severity = NoticeSeverity.CRITICAL
    elif figures.budgets_at_risk or figures.new_anomalies or figures.approvals_waiting:
        severity = NoticeSeverity.WARNING
    else:
        severity = NoticeSeverity.INFO
    last = period.end - timedelta(days=1)
    summary = (
        f"Spend {format_amount(figures.spend, c)} from {period.start.isoformat()} to {last.isoformat()} "
        f"({_change(figures)} against the previous {period.days} days); {figures.new_anomalies} new "
        f"anomalies; {format_amount(figures.open_savings_monthly, c)} open savings per month; "
        f"{len(figures.budgets_exceeded)} budgets over and {len(figures.budgets_at_risk)} at risk; "
        f"{figures.approvals_waiting} approvals waiting."
    )
    return Notice(
        event_type=NoticeEventType.DIGEST,
        severity=severity,
        title=_title(period),
        summary=summary[:3000],
        amount=figures.spend,
        currency=c,
        link=links["spend"],
        facts=tuple(facts),
        organization_id=organization_id,
        occurred_at=period.send_at,
        idempotency_key=idempotency_key(user_id, period),
    )


# ---- the scheduled pass -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DigestPassResult:
    """What one pass did: ``due`` subscriptions found, ``sent`` digests, ``failed`` user ids (recorded on
    their rows, retried next pass)."""

    due: int = 0
    sent: int = 0
    failed: list[str] = field(default_factory=list)


def due_subscriptions(session: Session, now: datetime) -> list[NotificationDigestRow]:
    """Every subscription of an active user that is due at ``now`` (the one cross-tenant read)."""
    now = _aware(now)
    rows = session.scalars(
        select(NotificationDigestRow)
        .join(User, User.id == NotificationDigestRow.user_id)
        .where(User.is_active, User.organization_id == NotificationDigestRow.organization_id)
        .order_by(NotificationDigestRow.organization_id, NotificationDigestRow.user_id)
    ).all()
    return [row for row in rows if is_due(row, now)]


def _deliver(
    session: Session,
    row: NotificationDigestRow,
    notice: Notice,
    user: User,
    *,
    smtp: SmtpSender | None,
    publish: Publish | None,
    now: datetime,
) -> None:
    if row.channel == "in_app":
        Inbox(session, row.organization_id, publish=publish).post(
            [user.id],
            InboxNotice(
                event_type="digest",
                severity=notice.severity.value,
                title=notice.title,
                summary=notice.summary[:2000],
                link=notice.link,
                payload=dict(notice_payload(notice)),
            ),
            idempotency_key=notice.idempotency_key,
            now=now,
        )
        return
    if smtp is None:
        raise DeliveryError(
            retryable=True,
            reason="SMTP is not configured (set SMTP_HOST); email digests wait until it is",
            channel="email",
            target=user.email,
        )
    EmailChannel(smtp).deliver(notice, user.email)


def notice_payload(notice: Notice) -> dict[str, Any]:
    """The in-app payload: the amount, currency and the facts (label → value)."""
    return {
        "amount": None if notice.amount is None else str(notice.amount),
        "currency": notice.currency,
        "facts": {fact.label: fact.value for fact in notice.facts},
    }


def send_one(
    session: Session,
    organization_id: uuid.UUID,
    user_id: uuid.UUID,
    *,
    now: datetime,
    smtp: SmtpSender | None,
    base_url: str,
    publish: Publish | None = None,
) -> bool | None:
    """Send one user's digest if still due (row locked); True sent, False failed (recorded), None not due."""
    now = _aware(now)
    row = session.scalars(
        _Digests(session, organization_id)
        .query()
        .where(NotificationDigestRow.user_id == user_id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).first()
    if row is None or not is_due(row, now):
        return None
    try:
        with session.begin_nested():
            user = session.scalars(
                select(User).where(User.organization_id == organization_id, User.id == user_id)
            ).one()
            period = period_at(schedule_of(row), now)
            digests = Digests(session, organization_id)
            figures = digests.figures(user, period, now=now, base_url=base_url)
            notice = digest_notice(organization_id, user.id, period, figures)
            _deliver(session, row, notice, user, smtp=smtp, publish=publish, now=now)
    except Exception as exc:
        log.warning("digest for user %s failed: %s", user_id, exc)
        row.last_attempt_at = now
        row.last_error = str(exc)[:MAX_ERROR] or type(exc).__name__
        session.flush()
        return False
    row.last_sent_at = row.last_attempt_at = now
    row.last_error = None
    session.flush()
    return True


def send_due(
    sessions: sessionmaker[Session],
    now: datetime,
    *,
    smtp: SmtpSender | None,
    base_url: str,
    publish: Publish | None = None,
) -> DigestPassResult:
    """Send every digest due at ``now``, each user in its own transaction (module contract)."""
    now = _aware(now)
    with sessions() as session:
        due = [(row.organization_id, row.user_id) for row in due_subscriptions(session, now)]
    sent = 0
    failed: list[str] = []
    for organization_id, user_id in due:
        try:
            with tenant_session(sessions, organization_id) as session:
                outcome = send_one(
                    session, organization_id, user_id, now=now, smtp=smtp, base_url=base_url, publish=publish
                )
        except Exception:
            log.exception("digest pass failed for user %s", user_id)
            outcome = False
        if outcome is True:
            sent += 1
        elif outcome is False:
            failed.append(str(user_id))
    return DigestPassResult(due=len(due), sent=sent, failed=failed)


__all__: Sequence[str] = [
    "CHANNELS",
    "FREQUENCIES",
    "DigestError",
    "DigestFigures",
    "DigestNotFound",
    "DigestPassResult",
    "DigestPeriod",
    "DigestSchedule",
    "DigestView",
    "Digests",
    "digest_notice",
    "digest_schedule",
    "due_subscriptions",
    "idempotency_key",
    "is_due",
    "latest_send_time",
    "next_send_time",
    "period_at",
    "send_due",
    "send_one",
]
