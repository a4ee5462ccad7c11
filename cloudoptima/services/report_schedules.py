"""Scheduled reports (seed §3 ``POST /reports/schedule``): recurring report definitions of one organisation.

A schedule says which template to build (``template_id``, ``parameters``, ``format``), how to deliver it
(``delivery``; ``recipients``) and when: ``frequency`` ``daily``, ``weekly`` (``day_of_week`` 0 = Monday …
6 = Sunday) or ``monthly`` (``day_of_month`` 1–28), at ``time`` ``HH:MM`` in ``timezone`` (an IANA name). The
app layer fires each one with a Temporal Schedule whose id, :func:`temporal_schedule_id`, the row records.

Contract:

- :func:`validate_recurrence` checks the recurrence; each bad field raises
  :class:`~cloudoptima.services.report_inputs.ReportInputError` whose message starts with
  ``schedule.<field>`` (``frequency``, ``day_of_week``, ``day_of_month``, ``time``, ``timezone``). Weekly
  needs ``day_of_week`` and takes no ``day_of_month``; monthly the reverse; daily takes neither.
- **Periods are relative.** A schedule's ``parameters`` never carry ``start_date``/``end_date`` (an error
  naming ``parameters.start_date``/``parameters.end_date``): each run covers the last full period matching
  the frequency *in the schedule's time zone* at the run's time (:func:`scheduled_period`): daily → the
  local day before, weekly → the last full Monday–Sunday week, monthly → the last full calendar month. The
  other parameters get the template's checks (:func:`~cloudoptima.services.report_catalog.resolve_parameters`).
- Delivery: ``delivery`` is ``{method, recipients}`` as for an ad hoc report; the seed's top-level
  ``recipients`` fill an email delivery without its own, and recipients alone (no delivery) mean email.
  Email needs 1–50 addresses (``delivery.recipients``).
- :class:`ReportSchedules` creates, lists, reads, enables/disables and deletes rows (every query scoped to
  its organisation; :class:`ReportScheduleNotFound` for another organisation's id), updates them
  (:meth:`ReportSchedules.update`: any of the fields, the whole result checked exactly like a new one, nothing
  changed on an error; :meth:`ReportSchedules.plan_update` checks without writing), lists a schedule's runs
  (its reports, newest first), and :meth:`ReportSchedules.request_run` records one run: a ``generating``
  report (``schedule_id`` set) for the period at ``now`` through
  :meth:`~cloudoptima.services.reports.Reports.request`, or, when the stored inputs no longer pass the
  template's checks, a ``failed`` report with the reason (and the failed ``report.ready`` notice), so every
  run leaves a row. The caller commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloudoptima.services.events import Publish
from cloudoptima.services.report_catalog import TEMPLATES, get_template, resolve_parameters
from cloudoptima.services.report_inputs import ReportInputError
from cloudoptima.services.reports import API_FORMATS, Reports, ReportsConfig, ReportView, check_delivery
from cloudoptima.services.schedules_common import (
    FREQUENCIES,
    RECURRENCE_FIELDS,
    Frequency,
    Recurrence,
    ScheduleRows,
    check_recurrence,
    recurrence_columns,
    recurrence_from,
    row_recurrence,
    run_at,
    schedule_name,
    scheduled_period,
)
from cloudoptima.storage.models import ReportRow, ReportScheduleRow

TEMPORAL_PREFIX = "cloudoptima-report-"
PERIOD_NAMES = ("start_date", "end_date")
CHANGEABLE = ("name", "template_id", "parameters", "format", "delivery", "recipients", "schedule")
"""The fields :meth:`ReportSchedules.update` changes."""


class ReportScheduleNotFound(LookupError):
    """No such report schedule in this organisation."""


def temporal_schedule_id(schedule_id: uuid.UUID) -> str:
    """The id of the Temporal Schedule that fires report schedule ``schedule_id``."""
    return f"{TEMPORAL_PREFIX}{schedule_id}"


def validate_recurrence(
    frequency: object,
    time: object,
    timezone: object,
    *,
    day_of_week: object = None,
    day_of_month: object = None,
) -> Recurrence:
    """The recurrence checked (module contract), or :class:`ReportInputError` naming ``schedule.<field>``
    (:func:`~cloudoptima.services.schedules_common.check_recurrence`)."""
    return check_recurrence(
        frequency, time, timezone, day_of_week=day_of_week, day_of_month=day_of_month, error=ReportInputError
    )


def _not_found(schedule_id: uuid.UUID) -> ReportScheduleNotFound:
    return ReportScheduleNotFound(f"report schedule {schedule_id} does not exist")


@dataclass(frozen=True)
class ReportScheduleView:
    """A schedule as the API shows it."""

    id: uuid.UUID
    name: str
    template_id: str
    parameters: dict[str, Any]
    format: str
    delivery: dict[str, Any]
    recurrence: Recurrence
    recipients: list[str]
    enabled: bool
    temporal_schedule_id: str
    created_by: uuid.UUID | None
    created_at: datetime


def _view(row: ReportScheduleRow) -> ReportScheduleView:
    return ReportScheduleView(
        id=row.id,
        name=row.name,
        template_id=row.template_id,
        parameters=dict(row.parameters),
        format=row.format,
        delivery=dict(row.delivery),
        recurrence=row_recurrence(row),
        recipients=list(row.recipients),
        enabled=row.enabled,
        temporal_schedule_id=row.temporal_schedule_id,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def _delivery(
    delivery: Mapping[str, Any] | None, recipients: Sequence[str] | None, config: ReportsConfig
) -> dict[str, Any]:
    given = dict(delivery) if delivery is not None else None
    top = list(recipients or [])
    if given is None:
        given = {"method": "email", "recipients": top} if top else {"method": "download"}
    elif given.get("method", "download") == "email" and not given.get("recipients") and top:
        given["recipients"] = top
    try:
        return check_delivery(given, config)
    except ReportInputError as exc:
        if top and str(exc).startswith("delivery.recipients"):
            raise ReportInputError(str(exc).replace("delivery.recipients", "recipients", 1)) from exc
        raise


class ReportSchedules:
    """The report schedules of one organisation (module contract). The caller commits the session."""

    def __init__(
        self,
        session: Session,
        organization_id: uuid.UUID,
        config: ReportsConfig,
        *,
        publish: Publish | None = None,
    ) -> None:
        """``publish``: where the reports it records announce their ``report.ready`` notices (passed to
        :class:`~cloudoptima.services.reports.Reports`; None: stored, not announced live)."""
        self.session = session
        self.organization_id = organization_id
        self.config = config
        self._publish = publish
        self._rows = ScheduleRows(session, organization_id, ReportScheduleRow, _not_found)

    def _reports(self) -> Reports:
        return Reports(self.session, self.organization_id, self.config, publish=self._publish)

    def _checked(
        self,
        *,
        template_id: str,
        parameters: Mapping[str, Any] | None,
        format: str,
        delivery: Mapping[str, Any] | None,
        recipients: Sequence[str] | None,
        recurrence: Recurrence,
        now: datetime,
        name: str | None,
    ) -> dict[str, Any]:
        """Every column a schedule row takes from these inputs, checked (module contract), or
        :class:`ReportInputError` naming the field. Writes nothing."""
        template = get_template(template_id)
        given = dict(parameters or {})
        for period_name in PERIOD_NAMES:
            if period_name in given:
                raise ReportInputError(
                    f"parameters.{period_name}: a schedule's period is relative; each run covers the last "
                    f"full {'day' if recurrence.frequency == 'daily' else recurrence.frequency[:-2]} "
                    f"before it in the schedule's time zone, so leave start_date and end_date out"
                )
        resolved = resolve_parameters(template, given, now)
        if format not in API_FORMATS:
            raise ReportInputError(
                f"format: unknown format {format!r}; expected one of {', '.join(API_FORMATS)}"
            )
        checked = _delivery(delivery, recipients, self.config)
        clean_name = schedule_name(name, f"{template.name} ({recurrence.frequency})", ReportInputError)
        return {
            "name": clean_name,
            "template_id": template.id,
            "parameters": {k: v for k, v in given.items() if k in resolved},
            "format": format,
            "delivery": checked,
            **recurrence_columns(recurrence),
            "recipients": list(checked["recipients"]),
        }

    def create(
        self,
        *,
        template_id: str,
        parameters: Mapping[str, Any] | None,
        format: str,
        delivery: Mapping[str, Any] | None,
        recipients: Sequence[str] | None,
        recurrence: Recurrence,
        now: datetime,
        name: str | None = None,
        created_by: uuid.UUID | None = None,
    ) -> ReportScheduleView:
        """Check everything (module contract) and insert the schedule row (nothing fires it yet)."""
        columns = self._checked(
            template_id=template_id,
            parameters=parameters,
            format=format,
            delivery=delivery,
            recipients=recipients,
            recurrence=recurrence,
            now=now,
            name=name,
        )
        return _view(self._rows.insert(columns, temporal_schedule_id, created_by=created_by, now=now))

    def _changed_columns(
        self, row: ReportScheduleRow, changes: Mapping[str, Any], now: datetime
    ) -> dict[str, Any]:
        current = _view(row)
        unknown = sorted(set(changes) - set(CHANGEABLE))
        if unknown:
            raise ReportInputError(f"{unknown[0]}: not a field of a report schedule")
        was = current.recurrence  # another frequency drops the day it does not take
        recurrence = recurrence_from(changes.get("schedule") or {}, error=ReportInputError, current=was)
        if "delivery" in changes:
            delivery, recipients = changes["delivery"], changes.get("recipients")
        elif "recipients" in changes:
            if current.delivery.get("method") == "email":
                delivery, recipients = {**current.delivery, "recipients": []}, changes["recipients"]
            else:  # recipients alone mean email, as on create
                delivery, recipients = None, changes["recipients"]
        else:
            delivery, recipients = current.delivery, None
        if "name" in changes:
            name = changes["name"]
        elif "template_id" in changes or "schedule" in changes:
            # A generated name follows the template and frequency; one the user gave stays.
            template = TEMPLATES.get(current.template_id)
            generated = template is not None and current.name == f"{template.name} ({was.frequency})"
            name = None if generated else current.name
        else:
            name = current.name
        return self._checked(
            template_id=changes.get("template_id", current.template_id),
            parameters=changes.get("parameters", current.parameters),
            format=changes.get("format", current.format),
            delivery=delivery,
            recipients=recipients,
            recurrence=recurrence,
            now=now,
            name=name,
        )

    def plan_update(
        self, schedule_id: uuid.UUID, changes: Mapping[str, Any], now: datetime
    ) -> ReportScheduleView:
        """The schedule as :meth:`update` would leave it, checked exactly like :meth:`create`; writes
        nothing. ``changes`` holds only the fields to change (:data:`CHANGEABLE`; ``schedule`` holds only
        the recurrence fields to change, merged onto the current ones: a new ``frequency`` drops the day the
        old one took unless given). A new ``delivery`` takes ``recipients`` as on create; ``recipients``
        alone replace an email delivery's, or make another delivery email (as on create). A name generated
        from the template and frequency follows them; one the user gave stays unless changed.
        :class:`ReportScheduleNotFound` for another organisation's id; :class:`ReportInputError` naming the
        field for an invalid result."""
        row = self._row(schedule_id)
        columns = self._changed_columns(row, changes, now)
        planned = ReportScheduleRow(
            id=row.id,
            organization_id=row.organization_id,
            **columns,
            enabled=row.enabled,
            temporal_schedule_id=row.temporal_schedule_id,
            created_by=row.created_by,
            created_at=row.created_at,
        )
        return _view(planned)

    def update(self, schedule_id: uuid.UUID, changes: Mapping[str, Any], now: datetime) -> ReportScheduleView:
        """Apply ``changes`` (see :meth:`plan_update`) to the row and flush; an invalid result raises
        :class:`ReportInputError` naming the field and changes nothing."""
        row = self._row(schedule_id)
        columns = self._changed_columns(row, changes, now)
        for column, value in columns.items():
            setattr(row, column, value)
        self.session.flush()
        return _view(row)

    def _row(self, schedule_id: uuid.UUID) -> ReportScheduleRow:
        return self._rows.row(schedule_id)

    def get(self, schedule_id: uuid.UUID) -> ReportScheduleView:
        """The schedule (:class:`ReportScheduleNotFound` if it is not this organisation's)."""
        return _view(self._row(schedule_id))

    def list(self) -> Sequence[ReportScheduleView]:
        """Every schedule of the organisation, newest first."""
        return [_view(row) for row in self._rows.rows()]

    def set_enabled(self, schedule_id: uuid.UUID, enabled: bool) -> ReportScheduleView:
        """Record that the schedule is paused (``False``) or running (``True``)."""
        return _view(self._rows.set_enabled(schedule_id, enabled))

    def delete(self, schedule_id: uuid.UUID) -> None:
        """Delete the schedule row (its reports stay, unlinked: ``schedule_id`` becomes NULL)."""
        self._rows.delete(schedule_id)

    def runs(self, schedule_id: uuid.UUID, *, limit: int = 50) -> Sequence[ReportView]:
        """The schedule's reports, newest first (at most ``limit``)."""
        self._row(schedule_id)
        reports = self._reports()
        query = (
            select(ReportRow.id)
            .where(ReportRow.organization_id == self.organization_id, ReportRow.schedule_id == schedule_id)
            .order_by(ReportRow.created_at.desc(), ReportRow.id.desc())
            .limit(limit)
        )
        return [reports.get(report_id) for report_id in self.session.scalars(query)]

    def request_run(self, schedule_id: uuid.UUID, now: datetime) -> ReportView:
        """Record one run at ``now``: a ``generating`` report of the schedule's template, format and delivery
        covering :func:`scheduled_period` in the schedule's zone (module contract). When the schedule's inputs
        no longer pass the template's checks the run is recorded ``failed`` with the reason (and its
        ``report.ready`` notice) instead of raising. Idempotent: asked again for the same ``now`` it returns
        the report it recorded then."""
        view = self.get(schedule_id)
        at = now.astimezone(UTC)
        already = run_at(self.session, self.organization_id, ReportRow, schedule_id, "created_at", at)
        if already is not None:  # the same run asked again (an activity retry): the same report
            return self._reports().get(already.id)
        start, end = scheduled_period(view.recurrence.frequency, view.recurrence.timezone, now)
        parameters = {**view.parameters, "start_date": start.isoformat(), "end_date": end.isoformat()}
        reports = self._reports()
        try:
            return reports.request(
                view.template_id,
                parameters,
                view.format,
                view.delivery,
                now=at,
                requested_by=view.created_by,
                schedule_id=view.id,
            )
        except ReportInputError as exc:
            return self._failed_run(view, parameters, at, str(exc))

    def _failed_run(
        self, view: ReportScheduleView, parameters: dict[str, Any], at: datetime, reason: str
    ) -> ReportView:
        """The run's report, ``failed`` with ``reason``: the schedule's stored inputs no longer pass the
        template's checks (a template parameter changed, a delivery no longer configured). Recorded as
        ``generating`` and then failed through :meth:`Reports.fail`, so it gets the ``report.ready`` notice
        a failed report gets (the same requester as the schedule's other runs, then the rules)."""
        method = str(view.delivery.get("method", "download"))
        row = ReportRow(
            id=uuid.uuid4(),
            organization_id=self.organization_id,
            template_id=view.template_id,
            parameters=parameters,
            format=view.format,
            delivery=dict(view.delivery),
            status="generating",
            schedule_id=view.id,
            requested_by=view.created_by,
            delivery_status=None if method == "download" else "pending",
            created_at=at,
        )
        self.session.add(row)
        self.session.flush()
        return self._reports().fail(row.id, f"the schedule's report could not be requested: {reason}", at)


__all__ = [
    "FREQUENCIES",
    "RECURRENCE_FIELDS",
    "Frequency",
    "Recurrence",
    "ReportScheduleNotFound",
    "ReportScheduleView",
    "ReportSchedules",
    "scheduled_period",
    "temporal_schedule_id",
    "validate_recurrence",
]
