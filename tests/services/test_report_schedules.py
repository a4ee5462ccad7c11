"""Report schedules in the kernel: the recurrence checks (each error names ``schedule.<field>``), the period
each run covers per frequency in the schedule's own time zone (pinned instants, DST boundaries included),
and the rows: create, list, enable, runs recorded once per due time, delete."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from cloudoptima.reports.store import ReportStore
from cloudoptima.services.report_inputs import ReportInputError
from cloudoptima.services.report_schedules import (
    ReportScheduleNotFound,
    ReportSchedules,
    scheduled_period,
    temporal_schedule_id,
    validate_recurrence,
)
from cloudoptima.services.reports import ReportsConfig
from cloudoptima.storage.models import ReportScheduleRow
from cloudoptima.storage.tenancy import scope
from tests.reports.cost_seeding import make_organisation, remove_organisation

BERLIN = "Europe/Berlin"
NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "frequency", "expected"),
    [
        # 00:30 CEST on Monday 30 March 2026 (just after DST began) is still 29 March in UTC.
        (datetime(2026, 3, 29, 22, 30, tzinfo=UTC), "daily", (date(2026, 3, 29), date(2026, 3, 30))),
        (datetime(2026, 3, 29, 22, 30, tzinfo=UTC), "weekly", (date(2026, 3, 23), date(2026, 3, 30))),
        (datetime(2026, 3, 29, 22, 30, tzinfo=UTC), "monthly", (date(2026, 2, 1), date(2026, 3, 1))),
        # 00:30 CET on Sunday 1 November 2026 (a week after DST ended) is 31 October 23:30 UTC.
        (datetime(2026, 10, 31, 23, 30, tzinfo=UTC), "daily", (date(2026, 10, 31), date(2026, 11, 1))),
        (datetime(2026, 10, 31, 23, 30, tzinfo=UTC), "monthly", (date(2026, 10, 1), date(2026, 11, 1))),
        (datetime(2026, 10, 31, 23, 30, tzinfo=UTC), "weekly", (date(2026, 10, 19), date(2026, 10, 26))),
        # 08:00 local on 1 January: the previous calendar year's December.
        (datetime(2027, 1, 1, 7, 0, tzinfo=UTC), "monthly", (date(2026, 12, 1), date(2027, 1, 1))),
        # A Monday's run covers the whole week that ended the day before.
        (datetime(2026, 12, 7, 7, 0, tzinfo=UTC), "weekly", (date(2026, 11, 30), date(2026, 12, 7))),
    ],
)
def test_the_period_is_the_last_full_one_in_the_schedules_zone(
    at: datetime, frequency: str, expected: tuple[date, date]
) -> None:
    assert scheduled_period(frequency, BERLIN, at) == expected


def test_the_same_instant_is_another_day_in_utc() -> None:
    at = datetime(2026, 3, 29, 22, 30, tzinfo=UTC)
    assert scheduled_period("daily", "UTC", at) == (date(2026, 3, 28), date(2026, 3, 29))
    assert scheduled_period("daily", "America/Los_Angeles", at) == (date(2026, 3, 28), date(2026, 3, 29))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"frequency": "hourly", "time": "08:00", "timezone": BERLIN}, "schedule.frequency"),
        ({"frequency": "daily", "time": "8:00", "timezone": BERLIN}, "schedule.time"),
        ({"frequency": "daily", "time": "24:00", "timezone": BERLIN}, "schedule.time"),
        ({"frequency": "daily", "time": "08:00", "timezone": "Mars/Olympus"}, "schedule.timezone"),
        ({"frequency": "daily", "time": "08:00", "timezone": "../etc/passwd"}, "schedule.timezone"),
        ({"frequency": "weekly", "time": "08:00", "timezone": BERLIN}, "schedule.day_of_week"),
        (
            {"frequency": "weekly", "time": "08:00", "timezone": BERLIN, "day_of_week": 7},
            "schedule.day_of_week",
        ),
        (
            {"frequency": "daily", "time": "08:00", "timezone": BERLIN, "day_of_week": 1},
            "schedule.day_of_week",
        ),
        (
            {"frequency": "monthly", "time": "08:00", "timezone": BERLIN, "day_of_month": 31},
            "schedule.day_of_month",
        ),
        (
            {"frequency": "monthly", "time": "08:00", "timezone": BERLIN, "day_of_month": True},
            "schedule.day_of_month",
        ),
    ],
)
def test_a_bad_recurrence_names_its_field(kwargs: dict[str, object], field: str) -> None:
    args = dict(kwargs)
    with pytest.raises(ReportInputError, match=rf"^{field}: "):
        validate_recurrence(args.pop("frequency"), args.pop("time"), args.pop("timezone"), **args)


def test_a_good_recurrence() -> None:
    weekly = validate_recurrence("weekly", "23:59", "Asia/Kolkata", day_of_week=6)
    assert (weekly.hour, weekly.minute, weekly.day_of_week, weekly.time) == (23, 59, 6, "23:59")
    assert validate_recurrence("monthly", "08:00", BERLIN, day_of_month=1).day_of_month == 1


@pytest.fixture
def org(engine: Engine) -> Iterator[uuid.UUID]:
    org_id, _ = make_organisation(engine, "schedules")
    yield org_id
    remove_organisation(engine, org_id)


def _schedules(session: Session, org: uuid.UUID, tmp_path: Path) -> ReportSchedules:
    return ReportSchedules(
        scope(session, org), org, ReportsConfig(store=ReportStore(tmp_path), link_key=b"k" * 32)
    )


def test_create_checks_everything_and_runs_are_recorded_once_per_due_time(
    engine: Engine, org: uuid.UUID, tmp_path: Path
) -> None:
    monthly = validate_recurrence("monthly", "08:00", BERLIN, day_of_month=1)
    with Session(engine) as session:
        schedules = _schedules(session, org, tmp_path)
        bad = [
            ({"template_id": "nope"}, "template_id"),
            ({"parameters": {"start_date": "2026-10-01"}}, "parameters.start_date"),
            ({"parameters": {"top_n": -1}}, "parameters.top_n"),
            ({"format": "docx"}, "format"),
            ({"delivery": {"method": "email"}}, "delivery.recipients"),
            ({"recipients": ["not an address"]}, "recipients[0]"),
        ]
        for override, field in bad:
            kwargs: dict[str, object] = {
                "template_id": "monthly_cost_review",
                "parameters": {},
                "format": "csv",
                "delivery": None,
                "recipients": [],
                **override,
            }
            with pytest.raises(ReportInputError, match="^" + re.escape(field) + ": "):
                schedules.create(recurrence=monthly, now=NOW, **kwargs)  # type: ignore[arg-type]
        created = schedules.create(
            template_id="monthly_cost_review",
            parameters={"top_n": 5},
            format="csv",
            delivery=None,
            recipients=["cfo@example.com", "cfo@example.com"],
            recurrence=monthly,
            now=NOW,
        )
        session.commit()
        assert created.delivery == {"method": "email", "recipients": ["cfo@example.com"]}
        assert created.recipients == ["cfo@example.com"]
        assert created.temporal_schedule_id == temporal_schedule_id(created.id)
        assert created.name == "Monthly cost review (monthly)" and created.parameters == {"top_n": 5}
        assert [s.id for s in schedules.list()] == [created.id]

        due = datetime(2027, 1, 1, 7, 0, tzinfo=UTC)  # 08:00 in Berlin on 1 January
        run = schedules.request_run(created.id, due)
        again = schedules.request_run(created.id, due)
        session.commit()
        assert again.id == run.id and run.schedule_id == created.id and run.status == "generating"
        assert (run.parameters["start_date"], run.parameters["end_date"]) == ("2026-12-01", "2027-01-01")
        assert run.parameters["top_n"] == 5 and run.delivery == created.delivery
        later = schedules.request_run(created.id, datetime(2027, 2, 1, 7, 0, tzinfo=UTC))
        session.commit()
        assert [r.id for r in schedules.runs(created.id)] == [later.id, run.id]

        assert schedules.set_enabled(created.id, False).enabled is False
        with Session(engine) as elsewhere:
            other = _schedules(elsewhere, uuid.uuid4(), tmp_path)
            with pytest.raises(ReportScheduleNotFound):
                other.get(created.id)
            with pytest.raises(ReportScheduleNotFound):
                other.request_run(created.id, due)
        schedules.delete(created.id)
        session.commit()
        with pytest.raises(ReportScheduleNotFound):
            schedules.get(created.id)


def test_update_checks_the_whole_result_and_a_run_that_no_longer_passes_is_recorded_failed_once(
    engine: Engine, org: uuid.UUID, tmp_path: Path
) -> None:
    weekly = validate_recurrence("weekly", "08:00", BERLIN, day_of_week=0)
    with Session(engine) as session:
        schedules = _schedules(session, org, tmp_path)
        created = schedules.create(
            template_id="monthly_cost_review",
            parameters={"top_n": 5},
            format="csv",
            delivery=None,
            recipients=["cfo@example.com"],
            recurrence=weekly,
            now=NOW,
        )
        session.commit()
        bad = [
            ({"schedule": {"day_of_week": 7}}, "schedule.day_of_week"),
            ({"schedule": {"frequency": "monthly"}}, "schedule.day_of_month"),  # weekly's day is dropped
            ({"schedule": {"timezone": "Mars/Olympus"}}, "schedule.timezone"),
            ({"template_id": "showback"}, "parameters.tag_key"),  # the old parameters do not fit the new one
            ({"parameters": {"end_date": "2027-01-01"}}, "parameters.end_date"),
            ({"recipients": []}, "delivery.recipients"),
            ({"format": "docx"}, "format"),
            ({"name": "x" * 201}, "name"),
            ({"colour": "red"}, "colour"),
        ]
        for changes, field in bad:
            with pytest.raises(ReportInputError, match="^" + re.escape(field) + ": "):
                schedules.plan_update(created.id, changes, NOW)
            with pytest.raises(ReportInputError, match="^" + re.escape(field) + ": "):
                schedules.update(created.id, changes, NOW)
        session.rollback()
        assert schedules.get(created.id) == created
        changes = {"schedule": {"frequency": "monthly", "day_of_month": 1, "time": "07:30"}, "format": "json"}
        planned = schedules.plan_update(created.id, changes, NOW)
        assert schedules.get(created.id) == created  # planning writes nothing
        updated = schedules.update(created.id, changes, NOW)
        session.commit()
        assert updated == planned
        assert (updated.recurrence.frequency, updated.recurrence.day_of_week) == ("monthly", None)
        assert (updated.recurrence.day_of_month, updated.recurrence.time, updated.format) == (
            1,
            "07:30",
            "json",
        )
        assert updated.name == "Monthly cost review (monthly)"  # the generated name follows the frequency
        assert updated.delivery == created.delivery and updated.parameters == {"top_n": 5}
        moved = schedules.update(created.id, {"recipients": ["ops@example.com"]}, NOW)
        assert moved.delivery == {"method": "email", "recipients": ["ops@example.com"]}

        # The stored parameters no longer pass (as if the template's checks tightened): the run is a failed
        # report with the reason, its email delivery failed with it, recorded once per due time.
        session.execute(
            update(ReportScheduleRow)
            .where(ReportScheduleRow.id == created.id)
            .values(parameters={"top_n": 0})
        )
        due = datetime(2027, 1, 1, 6, 30, tzinfo=UTC)
        run = schedules.request_run(created.id, due)
        again = schedules.request_run(created.id, due)
        session.commit()
        assert again.id == run.id and run.schedule_id == created.id and run.status == "failed"
        assert run.error is not None and run.error.startswith(
            "the schedule's report could not be requested: parameters.top_n"
        )
        assert (run.delivery_status, run.delivery_error) == ("failed", "the report could not be generated")
        assert (run.parameters["start_date"], run.parameters["end_date"]) == ("2026-12-01", "2027-01-01")
        assert [r.id for r in schedules.runs(created.id)] == [run.id]
