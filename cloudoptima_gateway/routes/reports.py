"""Reports (seed §3 "Reports API"), over :mod:`cloudoptima.services.reports`.

- ``GET /v1/reports/templates`` (``read:reports``): the templates with their parameters.
- ``POST /v1/reports/generate`` (``create:reports``): checks the template, parameters, format and delivery
  (a 422 naming the field, before anything starts), records the report, commits, starts the
  ``GenerateReport`` workflow on the ``reports`` queue and answers 202 ``{report_id, status: generating}``.
  If Temporal cannot be reached the report is marked failed and the answer is 503.
- ``GET /v1/reports`` and ``GET /v1/reports/{report_id}`` (``read:reports``): newest first / one report with
  status, error, resolved parameters, delivery status and error, size and SHA-256; ``download_url`` (absolute
  when ``CLOUDOPTIMA_PUBLIC_URL`` is set) only while completed and unexpired, and only for ``export:data``.
- ``GET /v1/reports/{report_id}/download?expires=&signature=``: no bearer token, the signature is the
  credential. Streams the artifact as an attachment with its media type; 403 for a wrong or expired link,
  404 for an unknown report, 410 when the artifact expired or is gone.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Annotated

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from temporalio.service import RPCError

from cloudoptima.services.report_catalog import TEMPLATES
from cloudoptima.services.report_inputs import ReportInputError
from cloudoptima.services.reports import (
    ReportGone,
    ReportLinkError,
    ReportNotFound,
    Reports,
    ReportView,
    open_download,
    reports_config_from_settings,
)
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_gateway.audit import AuditedRoute
from cloudoptima_gateway.deps import Permission, Principal, RuntimeDep, TenantDb
from cloudoptima_gateway.runtime import Runtime
from cloudoptima_gateway.schemas.common import invalid, not_found
from cloudoptima_gateway.schemas.reports import (
    ReportAccepted,
    ReportList,
    ReportOut,
    ReportRequestIn,
    TemplateList,
    TemplateOut,
)
from cloudoptima_workflows.client import start_report_generation

_log = logging.getLogger(__name__)
router = APIRouter(prefix="/reports", tags=["reports"], route_class=AuditedRoute)
Reader = Annotated[Principal, Permission("read:reports")]
Creator = Annotated[Principal, Permission("create:reports")]
CHUNK = 64 * 1024


def _service(runtime: Runtime, session: Session, organization_id: uuid.UUID) -> Reports:
    return Reports(session, organization_id, reports_config_from_settings(runtime.settings))


def _out(service: Reports, view: ReportView, principal: Principal, now: datetime) -> ReportOut:
    link = service.download_url(view, now) if principal.can("export:data") else None
    return ReportOut(
        id=view.id,
        template_id=view.template_id,
        parameters=view.parameters,
        format=view.format,
        status=view.status,
        error=view.error,
        delivery_method=view.delivery_method,
        recipients=list(view.delivery.get("recipients", [])),
        delivery_status=view.delivery_status,
        delivery_error=view.delivery_error,
        schedule_id=view.schedule_id,
        content_type=view.content_type,
        size_bytes=view.size_bytes,
        sha256=view.sha256,
        created_at=view.created_at,
        completed_at=view.completed_at,
        expires_at=view.expires_at,
        download_url=link,
    )


@router.get("/templates", response_model=TemplateList)
def list_templates(principal: Reader) -> TemplateList:
    """The report templates and the parameters each takes."""
    return TemplateList(templates=[TemplateOut.model_validate(t.as_dict()) for t in TEMPLATES.values()])


@router.post("/generate", status_code=status.HTTP_202_ACCEPTED, response_model=ReportAccepted)
async def generate_report(body: ReportRequestIn, runtime: RuntimeDep, principal: Creator) -> ReportAccepted:
    """Check the request, record the report and start generating it (poll ``GET /v1/reports/{id}``)."""
    org = principal.organization_id
    now = datetime.now(UTC)

    def record() -> ReportView:
        with tenant_session(runtime.sessions(), org) as session:
            return _service(runtime, session, org).request(
                body.template_id,
                body.parameters,
                body.format,
                body.delivery.model_dump(),
                now=now,
                requested_by=principal.user_id,
            )

    try:
        view = await run_in_threadpool(record)
    except ReportInputError as exc:
        field, _, message = str(exc).partition(": ")
        raise invalid(field, message or str(exc), "body") from None
    try:
        await start_report_generation(await runtime.temporal(), view.id, org)
    except (RPCError, OSError, RuntimeError) as exc:
        _log.warning("could not start the generation of report %s: %s", view.id, exc)
        reason = f"could not start generating: {exc}"

        def fail() -> None:
            with tenant_session(runtime.sessions(), org) as session:
                _service(runtime, session, org).fail(view.id, reason, now)

        await run_in_threadpool(fail)
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, detail="the workflow service is unavailable; try again"
        ) from None
    return ReportAccepted(report_id=view.id, status=view.status)


@router.get("", response_model=ReportList)
def list_reports(
    principal: Reader,
    runtime: RuntimeDep,
    session: TenantDb,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ReportList:
    """The organisation's reports, newest first."""
    service = _service(runtime, session, principal.organization_id)
    now = datetime.now(UTC)
    return ReportList(items=[_out(service, v, principal, now) for v in service.list(limit=limit)])


@router.get("/{report_id}", response_model=ReportOut)
def get_report(report_id: uuid.UUID, principal: Reader, runtime: RuntimeDep, session: TenantDb) -> ReportOut:
    """One report: status, error, delivery status and, when downloadable, a signed ``download_url``."""
    service = _service(runtime, session, principal.organization_id)
    try:
        view = service.get(report_id)
    except ReportNotFound:
        raise not_found("report", report_id) from None
    return _out(service, view, principal, datetime.now(UTC))


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := stream.read(CHUNK):
            yield chunk
    finally:
        stream.close()


@router.get(
    "/{report_id}/download",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}, 403: {}, 404: {}, 410: {}},
)
async def download_report(
    report_id: uuid.UUID,
    runtime: RuntimeDep,
    expires: Annotated[int | None, Query(description="the link's expiry (unix seconds)")] = None,
    signature: Annotated[str | None, Query(max_length=128, description="the link's signature")] = None,
) -> StreamingResponse:
    """The report file, for whoever holds a signed link (see ``GET /v1/reports/{report_id}``)."""
    if expires is None or not signature:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="a signed download link is required")
    config = reports_config_from_settings(runtime.settings)

    def open_file() -> tuple[ReportView, IO[bytes]]:
        with runtime.sessions()() as session:
            return open_download(session, config, report_id, expires, signature, datetime.now(UTC))

    try:
        view, stream = await run_in_threadpool(open_file)
    except ReportLinkError as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=str(exc)) from None
    except ReportNotFound:
        raise not_found("report", report_id) from None
    except ReportGone as exc:
        raise HTTPException(status.HTTP_410_GONE, detail=str(exc)) from None
    headers = {"Content-Disposition": f'attachment; filename="{view.filename}"', "Cache-Control": "no-store"}
    if view.size_bytes is not None:
        headers["Content-Length"] = str(view.size_bytes)
    return StreamingResponse(
        _chunks(stream), media_type=view.content_type or "application/octet-stream", headers=headers
    )
