"""``POST /v1/data/ingest``: upload one billing file into the caller's organisation (what ``cloudoptima ingest``
does for a file on disk), including OpenCost allocation exports and FOCUS 1.3 Contract Commitment files.

The request body is the file itself (any content type; ``application/octet-stream``, ``text/csv`` and
``application/json`` are usual), at most ``MAX_UPLOAD_BYTES``. Query parameters:
- ``filename`` (required): the file's name; its suffix says how it is read (``.csv``, ``.csv.gz``, ``.gz``,
  ``.parquet``, ``.json``) and errors name it.
- ``format``: ``auto`` (default: detected from the header; a JSON document is an OpenCost allocation API
  answer), ``focus``, ``aws_cur``, ``aws_cur2``, ``azure``, ``gcp``, ``oci``, ``opencost`` or
  ``contract_commitment`` (a FOCUS 1.3 Contract Commitment file, stored as the organisation's commitments).
- ``currency``: ISO 4217 code of files that carry none (OpenCost), default ``USD``.
- ``cloud_account_id``: the organisation's cloud account the file belongs to (optional).

Needs ``write:costs``. The load is one transaction, as the CLI's: a file that cannot be read is a 422 whose
``detail[0].msg`` is the CLI's error text (file, line, column, reason) and nothing is written; an unknown
cloud account is a 404. The answer is the CLI's ``--json`` summary (``kind: "costs"``) or, for contract
commitments, ``{"kind": "contract_commitments", "file", "contract_commitments": <rows stored>}``. Cached cost
answers are invalidated (the organisation's cost-data version is bumped) after a load.
"""

from __future__ import annotations

import re
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from starlette.concurrency import run_in_threadpool

from cloudoptima.ingest import BillingFormat
from cloudoptima.services.cache import abump_cost_version
from cloudoptima.services.contract_commitments import ingest_contract_commitments
from cloudoptima.services.ingestion import IngestError, ingest_path
from cloudoptima_gateway.audit import AuditedRoute
from cloudoptima_gateway.deps import Permission, Principal, RuntimeDep
from cloudoptima_gateway.schemas.common import invalid, not_found

router = APIRouter(prefix="/data", tags=["data"], route_class=AuditedRoute)
Writer = Annotated[Principal, Permission("write:costs")]
MAX_UPLOAD_BYTES = 256 * 1024 * 1024
CONTRACT_COMMITMENT = "contract_commitment"
FORMATS = ("auto", *(member.value for member in BillingFormat), CONTRACT_COMMITMENT)
_SUFFIXES = (".csv", ".csv.gz", ".gz", ".parquet", ".json")
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]")


def _safe_name(filename: str) -> str:
    """The base name of ``filename`` with unusual characters replaced; a 422 when its suffix is unknown."""
    name = _UNSAFE.sub("_", filename.replace("\\", "/").rsplit("/", 1)[-1]).strip(" .") or ""
    if not name.lower().endswith(_SUFFIXES) or len(name) > 200:
        raise invalid(
            "filename", f"must be a file name ending in {', '.join(_SUFFIXES)} (at most 200 characters)"
        )
    return name


async def _save_body(request: Request, target: Path) -> None:
    size = 0
    with target.open("wb") as handle:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                raise HTTPException(
                    status.HTTP_413_CONTENT_TOO_LARGE, detail=f"file larger than {MAX_UPLOAD_BYTES} bytes"
                )
            handle.write(chunk)
    if size == 0:
        raise invalid("body", "empty upload: send the file as the request body", location="body")


@router.post("/ingest")
async def ingest_file(
    request: Request,
    runtime: RuntimeDep,
    principal: Writer,
    filename: Annotated[str, Query(min_length=1, max_length=255, description="the uploaded file's name")],
    fmt: Annotated[str, Query(alias="format", description=f"one of {', '.join(FORMATS)}")] = "auto",
    currency: Annotated[str, Query(min_length=1, max_length=8, description="ISO 4217 (OpenCost)")] = "USD",
    cloud_account_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """Load the uploaded billing file (see the module docstring)."""
    org = principal.organization_id
    fmt = fmt.strip().lower().replace("-", "_")
    if fmt not in FORMATS:
        raise invalid("format", f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    name = _safe_name(filename)
    with tempfile.TemporaryDirectory(prefix="cloudoptima-upload-") as folder:
        path = Path(folder) / name
        await _save_body(request, path)
        engine = runtime.engine()

        def load() -> dict[str, Any]:
            if fmt == CONTRACT_COMMITMENT:
                stored = ingest_contract_commitments(engine, path, org, now=datetime.now(UTC))
                return {"kind": "contract_commitments", "file": name, "contract_commitments": stored}
            report = ingest_path(
                engine, path, org, cloud_account_id=cloud_account_id, fmt=fmt, currency=currency
            )
            data = report.as_dict()
            for file in data["files"]:
                file["path"] = name
            for sample in data["quarantine_sample"]:
                sample["file"] = name
            return {"kind": "costs", "file": name, **data}

        try:
            answer = await run_in_threadpool(load)
        except IngestError as exc:
            message = str(exc).replace(str(path), name).replace(folder + "/", "")
            if cloud_account_id is not None and message.startswith(f"cloud account {cloud_account_id}"):
                raise not_found("cloud account", cloud_account_id) from exc
            raise invalid("body", message, location="body") from exc
    await abump_cost_version(runtime.redis(), org)
    return answer
