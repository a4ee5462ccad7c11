"""Cloud SQL instances of one project as domain :class:`Resource` objects (Cloud SQL Admin API v1).

Contract:
- ``GET sqladmin/v1/projects/{project}/instances`` through an authorised HTTP session (no Cloud SQL client
  library is installed), ``maxResults`` 500 and ``pageToken`` followed to the end; throttling is retried
  with the session's backoff. The endpoint honours ``endpoints["sqladmin"]``.
- A denied permission (``cloudsql.instances.list``) or a disabled API is one failure ``sql/instances`` naming
  the permission when the error does; other errors are one retryable failure; rejected credentials and
  exhausted throttling raise (as every other GCP read); an unreachable endpoint is a retryable failure.
- ``resource_id`` is ``projects/{project}/instances/{name}`` (the Cloud Monitoring ``database_id`` is
  ``{project}:{name}``). ``RUNNABLE`` with activation policy ``ALWAYS`` → RUNNING priced by
  :func:`pricing.cloud_sql_monthly` (×2 for a REGIONAL, highly available instance); anything else →
  STOPPED with ``monthly_cost`` 0. On-premises source representations are left out.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any

import requests
from google.api_core import exceptions as gexc
from google.auth.exceptions import TransportError
from google.auth.transport.requests import AuthorizedSession

from cloudoptima.clouds.gcp import pricing
from cloudoptima.clouds.gcp.inventory import parse_time
from cloudoptima.clouds.gcp.session import GcpSession, permission_in, translate
from cloudoptima.clouds.protocol import Failure, Partial, ThrottledError
from cloudoptima.domain.inventory import (
    CloudProvider,
    DatabaseAttributes,
    Resource,
    ResourceKind,
    ResourceState,
)

SCOPE = "sql/instances"
SQLADMIN = "https://sqladmin.googleapis.com"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _pages(session: GcpSession) -> list[dict[str, Any]]:
    http = AuthorizedSession(session.credentials)  # type: ignore[no-untyped-call]
    url = f"{session.endpoint('sqladmin') or SQLADMIN}/v1/projects/{session.project}/instances"
    items: list[dict[str, Any]] = []
    token = ""
    while True:
        params = {"maxResults": "500", **({"pageToken": token} if token else {})}
        response = http.get(url, params=params, timeout=60)
        if response.status_code >= 400:
            raise gexc.from_http_response(response)  # type: ignore[no-untyped-call]
        body = response.json()
        items += body.get("items", [])
        token = body.get("nextPageToken", "")
        if not token:
            return items


def cloud_sql_instances(session: GcpSession) -> Partial[Resource]:
    """The project's Cloud SQL instances (see module contract)."""
    try:
        items = session.retry(partial(_pages, session))()
    except (requests.RequestException, TransportError) as exc:  # unreachable endpoint: retried next time
        return Partial[Resource](failures=[Failure(scope=SCOPE, error=f"{SCOPE}: {exc}", retryable=True)])
    except (gexc.GoogleAPIError, gexc.RetryError) as exc:
        cause = exc.cause if isinstance(exc, gexc.RetryError) and exc.cause is not None else exc
        error = translate(cause, SCOPE)
        if isinstance(cause, gexc.Unauthenticated | gexc.Unauthorized) or isinstance(error, ThrottledError):
            raise error from None
        if isinstance(cause, gexc.PermissionDenied | gexc.Forbidden):
            message = str(getattr(cause, "message", "") or cause)
            failure = Failure(scope=SCOPE, error=str(error), permission=permission_in(message))
        else:
            failure = Failure(scope=SCOPE, error=str(error), retryable=True)
        return Partial[Resource](failures=[failure])
    project = session.project
    return Partial[Resource](
        items=[
            instance(item, project) for item in items if item.get("instanceType") != "ON_PREMISES_INSTANCE"
        ]
    )


def instance(item: dict[str, Any], project: str) -> Resource:
    """One Cloud SQL ``DatabaseInstance`` (JSON) as a resource."""
    settings = item.get("settings") or {}
    tier = str(settings.get("tier") or "unknown")
    vcpu, memory = pricing.cloud_sql_shape(tier)
    running = item.get("state") == "RUNNABLE" and settings.get("activationPolicy", "ALWAYS") == "ALWAYS"
    regional = settings.get("availabilityType") == "REGIONAL"
    return Resource(
        resource_id=f"projects/{project}/instances/{item['name']}",
        name=str(item["name"]),
        kind=ResourceKind.DATABASE,
        provider=CloudProvider.GCP,
        account_id=project,
        region=str(item.get("region") or "global"),
        service_name="Cloud SQL",
        sku_id=tier,
        attributes=DatabaseAttributes(
            engine=str(item.get("databaseVersion") or "unknown").lower(),
            instance_class=tier,
            vcpu=vcpu,
            memory_gib=memory,
            storage_gb=max(int(settings.get("dataDiskSizeGb") or 10), 1),
        ),
        tags={str(k): str(v) for k, v in (settings.get("userLabels") or {}).items()},
        monthly_cost=pricing.cloud_sql_monthly(tier, vcpu, memory, regional=regional)
        if running
        else Decimal(0),
        state=ResourceState.RUNNING if running else ResourceState.STOPPED,
        created_at=parse_time(str(item.get("createTime") or "")) or _EPOCH,
    )
