"""Scheduled and one-off cost exports of one organisation, and the record of every run.

A schedule names a dataset (:data:`~cloudoptima.services.cost_exports.DATASETS`), a format, a partitioning,
a destination (:data:`~cloudoptima.domain.cost_exports.DestinationSpec`) and a recurrence exactly as report
schedules take it (:mod:`cloudoptima.services.schedules_common`, shared with them: ``frequency``,
``day_of_week``/``day_of_month``, ``time``, IANA ``timezone``). Each run covers the last full period before it
in the schedule's zone (:func:`~cloudoptima.services.schedules_common.scheduled_period`). The app layer
fires schedules with Temporal Schedules ``cloudoptima-export-<id>``.

Contract:
- Bad input raises :class:`ExportInputError` whose message starts with the field (``dataset``, ``name``,
  ``destination.path``, ``destination.credentials_account_id``, ``schedule.<field>``).
- Folder destinations live under ``<root>/<organisation id>/``; a path escaping it is refused.
- S3 credentials come from the referenced cloud account's encrypted credentials (an access key pair),
  decrypted only when a run starts; None means the SDK's usual chain.
- :func:`perform_export` records a ``running`` run (committed, so it is visible at once), runs the export and
  records ``succeeded`` with the manifest or ``failed`` with the reason (no manifest is ever published for a
  failed run). :func:`perform_scheduled_export` is idempotent per (schedule, fire time).
- Runs asked through the API are recorded ``queued`` (:meth:`ExportSchedules.queue_run`) and handed to a
  workflow whose activity calls :func:`perform_queued_export`: ``queued -> running -> succeeded | failed``;
  asked again (an activity retry) a finished run is returned as it is, a ``running`` one is exported again
  (a re-run replaces the files and the manifest). :meth:`ExportSchedules.fail_queued` records a queued run
  that could not be handed over as ``failed`` with the reason.
- ``focus_version`` (``1.2`` | ``1.3``, ``focus_raw`` only) is recorded on the run.
- Every query is scoped to the organisation.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.domain.cost_exports import (
    DestinationSpec,
    ExportManifest,
    ExportRequest,
    FolderDestinationSpec,
    S3DestinationSpec,
)
from cloudoptima.security.encryption import CredentialCipher, CredentialDecryptionError
from cloudoptima.services.cost_exports import (
    DATASETS,
    FOCUS_VERSIONS,
    ExportDestination,
    ExportError,
    ExportPathError,
    LocalFolderDestination,
    S3Credentials,
    run_export,
    s3_destination,
)
from cloudoptima.services.cost_exports.destinations import contained_path
from cloudoptima.services.schedules_common import (
    Recurrence,
    ScheduleRows,
    recurrence_columns,
    recurrence_from,
    row_recurrence,
    run_at,
    schedule_name,
    scheduled_period,
)
from cloudoptima.settings import Settings
from cloudoptima.storage.models import CloudAccount
from cloudoptima.storage.models.cost_exports import CostExportRunRow, CostExportScheduleRow
from cloudoptima.storage.tenancy import tenant_session

TEMPORAL_PREFIX = "cloudoptima-export-"
CHANGEABLE = ("name", "dataset", "format", "partition", "destination", "schedule", "focus_version")
_DESTINATION: TypeAdapter[FolderDestinationSpec | S3DestinationSpec] = TypeAdapter(DestinationSpec)


class ExportInputError(ValueError):
    """Bad input; the message starts with the field it names."""


class ExportScheduleNotFound(LookupError):
    """No such export schedule in this organisation."""


class ExportRunNotFound(LookupError):
    """No such export run in this organisation."""


@dataclass(frozen=True)
class ExportsConfig:
    """Where folder exports go (``root/<org>/``), the cipher of cloud accounts' credentials and how many days
    finished runs are kept (``cloudoptima.services.export_retention``)."""

    root: Path
    cipher: CredentialCipher | None = None
    retention_days: int = 90


def exports_config_from_settings(settings: Settings) -> ExportsConfig:
    """Folder exports under ``<state dir>/exports/<org>/``; cloud-account credentials decrypted with the
    configured key ring."""
    return ExportsConfig(
        root=settings.state_path / "exports",
        cipher=CredentialCipher(settings.resolved_encryption_keys),
        retention_days=settings.exports_retention_days,
    )


def temporal_schedule_id(schedule_id: uuid.UUID) -> str:
    """The id of the Temporal Schedule that fires export schedule ``schedule_id``."""
    return f"{TEMPORAL_PREFIX}{schedule_id}"


@dataclass(frozen=True)
class ExportScheduleView:
    """A schedule as the API shows it (``recurrence`` as report schedules have it)."""

    id: uuid.UUID
    name: str
    dataset: str
    format: str
    partition: str
    destination: dict[str, Any]
    recurrence: Recurrence
    enabled: bool
    temporal_schedule_id: str
    created_by: uuid.UUID | None
    created_at: datetime
    focus_version: str | None = None


@dataclass(frozen=True)
class ExportRunView:
    """One run: its request, status, error and manifest."""

    id: uuid.UUID
    schedule_id: uuid.UUID | None
    dataset: str
    format: str
    partition: str
    period_start: date
    period_end: date
    destination: dict[str, Any]
    status: str
    error: str | None
    manifest: dict[str, Any] | None
    requested_by: uuid.UUID | None
    started_at: datetime
    finished_at: datetime | None
    focus_version: str | None = None


def _not_found(schedule_id: uuid.UUID) -> ExportScheduleNotFound:
    return ExportScheduleNotFound(f"export schedule {schedule_id} does not exist")


def _schedule_view(row: CostExportScheduleRow) -> ExportScheduleView:
    return ExportScheduleView(
        id=row.id,
        name=row.name,
        dataset=row.dataset,
        format=row.format,
        partition=row.partition,
        destination=dict(row.destination),
        recurrence=row_recurrence(row),
        enabled=row.enabled,
        temporal_schedule_id=row.temporal_schedule_id,
        created_by=row.created_by,
        created_at=row.created_at,
        focus_version=row.focus_version,
    )


def _run_view(row: CostExportRunRow) -> ExportRunView:
    return ExportRunView(
        id=row.id,
        schedule_id=row.schedule_id,
        dataset=row.dataset,
        format=row.format,
        partition=row.partition,
        period_start=row.period_start,
        period_end=row.period_end,
        destination=dict(row.destination),
        status=row.status,
        error=row.error,
        manifest=row.manifest,
        requested_by=row.requested_by,
        started_at=row.started_at,
        finished_at=row.finished_at,
        focus_version=row.focus_version,
    )


def _validation_message(exc: ValidationError, prefix: str = "") -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"] if not str(part).startswith(("folder", "s3")))
    message = str(first["msg"]).removeprefix("Value error, ")
    if not where:
        return message
    return f"{prefix}{where}: {message}"


def check_destination(
    session: Session, organization_id: uuid.UUID, given: Mapping[str, Any], config: ExportsConfig
) -> FolderDestinationSpec | S3DestinationSpec:
    """The destination checked (module contract), or :class:`ExportInputError` naming ``destination.<field>``."""
    try:
        spec = _DESTINATION.validate_python(dict(given))
    except ValidationError as exc:
        raise ExportInputError(_validation_message(exc, "destination.")) from exc
    if isinstance(spec, FolderDestinationSpec):
        try:
            contained_path(config.root / str(organization_id), spec.path)
        except ExportPathError as exc:
            raise ExportInputError(f"destination.{exc}") from exc
    elif spec.credentials_account_id is not None and _account(session, organization_id, spec) is None:
        raise ExportInputError(
            f"destination.credentials_account_id: no cloud account {spec.credentials_account_id} "
            "in this organisation"
        )
    return spec


def _account(session: Session, organization_id: uuid.UUID, spec: S3DestinationSpec) -> CloudAccount | None:
    return session.scalars(
        select(CloudAccount).where(
            CloudAccount.organization_id == organization_id, CloudAccount.id == spec.credentials_account_id
        )
    ).first()


def destination_for(
    session: Session, organization_id: uuid.UUID, given: Mapping[str, Any], config: ExportsConfig
) -> ExportDestination:
    """The writable destination of a stored spec, credentials decrypted (:class:`ExportError` if unusable)."""
    try:
        spec = check_destination(session, organization_id, given, config)
    except ExportInputError as exc:
        raise ExportError(str(exc)) from exc
    if isinstance(spec, FolderDestinationSpec):
        return LocalFolderDestination(config.root / str(organization_id), spec.path)
    credentials = None
    if spec.credentials_account_id is not None:
        account = _account(session, organization_id, spec)
        if account is None or config.cipher is None:
            raise ExportError(
                "destination.credentials_account_id: the cloud account's credentials are unavailable"
            )
        try:
            secret = config.cipher.decrypt(account.credentials_encrypted)
        except CredentialDecryptionError as exc:
            raise ExportError(f"destination.credentials_account_id: {exc}") from exc
        if not secret.get("access_key_id") or not secret.get("secret_access_key"):
            raise ExportError(
                "destination.credentials_account_id: the cloud account holds no access key pair "
                "(access_key_id and secret_access_key)"
            )
        credentials = S3Credentials(
            str(secret["access_key_id"]), str(secret["secret_access_key"]), secret.get("session_token")
        )
    return s3_destination(
        spec.bucket,
        prefix=spec.prefix,
        endpoint_url=spec.endpoint_url,
        region=spec.region,
        credentials=credentials,
    )


def check_request(
    dataset: object,
    format: object,
    partition: object,
    start: object,
    end: object,
    focus_version: object = None,
) -> ExportRequest:
    """An :class:`ExportRequest` or :class:`ExportInputError` naming the field."""
    if dataset not in DATASETS:
        raise ExportInputError(f"dataset: expected one of {', '.join(DATASETS)}, got {dataset!r}")
    try:
        return ExportRequest.model_validate(
            {
                "dataset": dataset,
                "format": format,
                "partition": partition,
                "start": start,
                "end": end,
                "focus_version": focus_version,
            }
        )
    except ValidationError as exc:
        raise ExportInputError(_validation_message(exc)) from exc


class ExportSchedules:
    """The export schedules and runs of one organisation (module contract). The caller commits."""

    def __init__(self, session: Session, organization_id: uuid.UUID, config: ExportsConfig) -> None:
        self.session = session
        self.organization_id = organization_id
        self.config = config
        self._rows = ScheduleRows(session, organization_id, CostExportScheduleRow, _not_found)

    def _checked(
        self,
        *,
        name: str | None,
        dataset: object,
        format: object,
        partition: object,
        destination: Mapping[str, Any],
        recurrence: Recurrence,
        focus_version: object = None,
    ) -> dict[str, Any]:
        if dataset not in DATASETS:
            raise ExportInputError(f"dataset: expected one of {', '.join(DATASETS)}, got {dataset!r}")
        if focus_version is not None and focus_version not in FOCUS_VERSIONS:
            raise ExportInputError(
                f"focus_version: expected one of {', '.join(FOCUS_VERSIONS)}, got {focus_version!r}"
            )
        if focus_version is not None and dataset != "focus_raw":
            raise ExportInputError(
                f"focus_version: only the focus_raw dataset has a FOCUS version, not {dataset}"
            )
        if format not in ("csv", "parquet"):
            raise ExportInputError(f"format: expected csv or parquet, got {format!r}")
        if partition not in ("month", "day"):
            raise ExportInputError(f"partition: expected month or day, got {partition!r}")
        spec = check_destination(self.session, self.organization_id, destination, self.config)
        return {
            "name": schedule_name(name, f"{dataset} export ({recurrence.frequency})", ExportInputError),
            "dataset": dataset,
            "format": format,
            "partition": partition,
            "destination": spec.model_dump(mode="json"),
            "focus_version": focus_version,
            **recurrence_columns(recurrence),
        }

    def checked_destination(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """A destination checked as :func:`check_destination` does, as stored (JSON)."""
        return check_destination(self.session, self.organization_id, given, self.config).model_dump(
            mode="json"
        )

    @staticmethod
    def recurrence(schedule: Mapping[str, Any]) -> Recurrence:
        """The recurrence of a ``schedule`` object, or :class:`ExportInputError` naming ``schedule.<field>``."""
        return recurrence_from(schedule, error=ExportInputError)

    def create(
        self,
        *,
        dataset: object,
        format: object,
        partition: object,
        destination: Mapping[str, Any],
        recurrence: Recurrence,
        now: datetime,
        name: str | None = None,
        created_by: uuid.UUID | None = None,
        focus_version: object = None,
    ) -> ExportScheduleView:
        """Check everything and insert the schedule (nothing fires it yet); ``focus_version`` ``1.2`` |
        ``1.3`` for ``focus_raw`` only (None: 1.2)."""
        columns = self._checked(
            name=name,
            dataset=dataset,
            format=format,
            partition=partition,
            destination=destination,
            recurrence=recurrence,
            focus_version=focus_version,
        )
        return _schedule_view(
            self._rows.insert(columns, temporal_schedule_id, created_by=created_by, now=now)
        )

    def _row(self, schedule_id: uuid.UUID) -> CostExportScheduleRow:
        return self._rows.row(schedule_id)

    def get(self, schedule_id: uuid.UUID) -> ExportScheduleView:
        return _schedule_view(self._row(schedule_id))

    def list(self) -> Sequence[ExportScheduleView]:
        """Every schedule, newest first."""
        return [_schedule_view(row) for row in self._rows.rows()]

    def update(self, schedule_id: uuid.UUID, changes: Mapping[str, Any]) -> ExportScheduleView:
        """Change any of :data:`CHANGEABLE` (``schedule`` merged onto the current recurrence); the whole
        result is checked as on create, nothing changed on an error."""
        row = self._row(schedule_id)
        unknown = sorted(set(changes) - set(CHANGEABLE))
        if unknown:
            raise ExportInputError(f"{unknown[0]}: not a field of an export schedule")
        recurrence = recurrence_from(
            changes.get("schedule") or {}, error=ExportInputError, current=row_recurrence(row)
        )
        columns = self._checked(
            name=changes.get("name", row.name),
            dataset=changes.get("dataset", row.dataset),
            format=changes.get("format", row.format),
            partition=changes.get("partition", row.partition),
            destination=changes.get("destination", row.destination),
            recurrence=recurrence,
            focus_version=changes.get("focus_version", row.focus_version),
        )
        for column, value in columns.items():
            setattr(row, column, value)
        self.session.flush()
        return _schedule_view(row)

    def set_enabled(self, schedule_id: uuid.UUID, enabled: bool) -> ExportScheduleView:
        return _schedule_view(self._rows.set_enabled(schedule_id, enabled))

    def delete(self, schedule_id: uuid.UUID) -> None:
        """Delete the schedule (its runs stay, unlinked)."""
        self._rows.delete(schedule_id)

    def runs(self, *, schedule_id: uuid.UUID | None = None, limit: int = 50) -> Sequence[ExportRunView]:
        """Runs newest first (of one schedule when given)."""
        query = select(CostExportRunRow).where(CostExportRunRow.organization_id == self.organization_id)
        if schedule_id is not None:
            query = query.where(CostExportRunRow.schedule_id == schedule_id)
        query = query.order_by(CostExportRunRow.started_at.desc(), CostExportRunRow.id.desc()).limit(limit)
        return [_run_view(row) for row in self.session.scalars(query)]

    def _run_row(self, run_id: uuid.UUID) -> CostExportRunRow:
        row = self.session.scalars(
            select(CostExportRunRow).where(
                CostExportRunRow.organization_id == self.organization_id, CostExportRunRow.id == run_id
            )
        ).first()
        if row is None:
            raise ExportRunNotFound(f"export run {run_id} does not exist")
        return row

    def run(self, run_id: uuid.UUID) -> ExportRunView:
        return _run_view(self._run_row(run_id))

    def queue_run(
        self,
        request: ExportRequest,
        destination: Mapping[str, Any],
        *,
        now: datetime,
        requested_by: uuid.UUID | None = None,
    ) -> ExportRunView:
        """Record a ``queued`` run of ``request`` to ``destination`` (checked, as stored) at ``now``; a
        workflow runs it (:func:`perform_queued_export`)."""
        row = _run_row(
            self.organization_id, uuid.uuid4(), request, destination, "queued", now, None, requested_by
        )
        self.session.add(row)
        self.session.flush()
        return _run_view(row)

    def fail_queued(self, run_id: uuid.UUID, reason: str, now: datetime) -> ExportRunView:
        """Record a still ``queued`` run as ``failed`` with ``reason`` (it could not be handed over)."""
        row = self._run_row(run_id)
        if row.status == "queued":
            row.status, row.error, row.finished_at = "failed", reason, max(now, row.started_at)
            self.session.flush()
        return _run_view(row)


def _run_row(
    organization_id: uuid.UUID,
    run_id: uuid.UUID,
    request: ExportRequest,
    destination: Mapping[str, Any],
    status: str,
    now: datetime,
    schedule_id: uuid.UUID | None,
    requested_by: uuid.UUID | None,
) -> CostExportRunRow:
    return CostExportRunRow(
        id=run_id,
        organization_id=organization_id,
        schedule_id=schedule_id,
        dataset=request.dataset,
        format=request.format,
        partition=request.partition,
        period_start=request.start,
        period_end=request.end,
        focus_version=request.focus_version,
        destination=dict(destination),
        status=status,
        requested_by=requested_by,
        started_at=now,
    )


def perform_export(
    engine: Engine,
    organization_id: uuid.UUID,
    request: ExportRequest,
    destination: Mapping[str, Any],
    config: ExportsConfig,
    *,
    now: datetime,
    schedule_id: uuid.UUID | None = None,
    requested_by: uuid.UUID | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ExportRunView:
    """Record a run, export, record the outcome (module contract); ``now`` is the run's start time and
    ``clock`` gives its finish time."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    run_id = uuid.uuid4()
    with tenant_session(factory, organization_id) as session:
        session.add(
            _run_row(organization_id, run_id, request, destination, "running", now, schedule_id, requested_by)
        )
    return _execute(engine, factory, organization_id, run_id, request, destination, config, now, clock)


def _execute(
    engine: Engine,
    factory: sessionmaker[Session],
    organization_id: uuid.UUID,
    run_id: uuid.UUID,
    request: ExportRequest,
    destination: Mapping[str, Any],
    config: ExportsConfig,
    now: datetime,
    clock: Callable[[], datetime],
) -> ExportRunView:
    """Export the recorded ``running`` run ``run_id`` and record its outcome."""
    manifest: ExportManifest | None = None
    error: str | None = None
    try:
        with tenant_session(factory, organization_id) as session:
            target = destination_for(session, organization_id, destination, config)
        manifest = run_export(engine, organization_id, request, target, now=now)
    except (ExportError, ExportPathError) as exc:
        error = str(exc)
    with tenant_session(factory, organization_id) as session:
        row = session.get(CostExportRunRow, run_id)
        assert row is not None
        row.status = "succeeded" if manifest is not None else "failed"
        row.error = error
        row.manifest = manifest.model_dump(mode="json") if manifest is not None else None
        row.finished_at = max(now, clock())
        session.flush()
        return _run_view(row)


def perform_queued_export(
    engine: Engine,
    organization_id: uuid.UUID,
    run_id: uuid.UUID,
    config: ExportsConfig,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ExportRunView:
    """Run the queued run ``run_id`` (module contract): ``running`` (committed), exported with ``clock()``
    as the manifest's time, then ``succeeded`` or ``failed``. A finished run is returned unchanged;
    :class:`ExportRunNotFound` when there is no such run in the organisation."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with tenant_session(factory, organization_id) as session:
        row = ExportSchedules(session, organization_id, config)._run_row(run_id)
        if row.status in ("succeeded", "failed"):
            return _run_view(row)
        row.status = "running"
        view = _run_view(row)
    try:
        request = check_request(
            view.dataset, view.format, view.partition, view.period_start, view.period_end, view.focus_version
        )
    except ExportInputError as exc:  # stored before a dataset was withdrawn: fail the run, say why
        with tenant_session(factory, organization_id) as session:
            failed = session.get(CostExportRunRow, run_id)
            assert failed is not None
            failed.status, failed.error, failed.finished_at = (
                "failed",
                str(exc),
                max(view.started_at, clock()),
            )
            session.flush()
            return _run_view(failed)
    return _execute(
        engine, factory, organization_id, run_id, request, view.destination, config, clock(), clock
    )


def perform_scheduled_export(
    engine: Engine,
    organization_id: uuid.UUID,
    schedule_id: uuid.UUID,
    config: ExportsConfig,
    *,
    now: datetime,
) -> ExportRunView:
    """One run of a schedule fired at ``now``: the last full period before it in the schedule's zone.
    Idempotent per (schedule, ``now``): a run already recorded for that time is returned, not repeated."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    at = now.astimezone(UTC)
    with tenant_session(factory, organization_id) as session:
        schedules = ExportSchedules(session, organization_id, config)
        view = schedules.get(schedule_id)
        done = run_at(session, organization_id, CostExportRunRow, schedule_id, "started_at", at)
        if done is not None:
            return _run_view(done)
    start, end = scheduled_period(view.recurrence.frequency, view.recurrence.timezone, at)
    request = check_request(view.dataset, view.format, view.partition, start, end, view.focus_version)
    return perform_export(
        engine,
        organization_id,
        request,
        view.destination,
        config,
        now=at,
        schedule_id=schedule_id,
        requested_by=view.created_by,
    )
