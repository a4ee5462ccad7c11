"""One GCP project's credentials, settings, API clients, retry policy and error translation.

Contract:

- Credentials come from a service-account JSON key that the API receives base64-encoded
  (``{"service_account_json_b64": ...}``), or from an injected ``google.auth`` credentials object (tests,
  workload identity). The key material never appears in errors or logs: parse failures say what is wrong,
  never what the key contains.
- Every REST client is built with ``transport="rest"``; ``settings.endpoints`` may override an API's
  endpoint (``"http://127.0.0.1:P"`` for REST fakes, ``"127.0.0.1:P"`` for gRPC fakes, which are then
  reached over gRPC local credentials so the bearer token is still sent).
- :meth:`GcpSession.call` runs one API call with exponential backoff on 429 / RESOURCE_EXHAUSTED / 503 and
  translates Google errors into the provider errors: 401/403 → :class:`CredentialsError` naming the
  permission from the cloud's message, throttling after retries → :class:`ThrottledError`, 5xx after
  retries → :class:`ProviderUnavailableError`. ``NotFound`` and other client errors pass through unchanged
  so callers can turn them into refusals or partial failures.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

import grpc
from google.api_core import exceptions as gexc
from google.api_core import retry as gretry
from google.api_core.client_options import ClientOptions
from google.auth.credentials import Credentials
from google.auth.transport.grpc import secure_authorized_channel
from google.auth.transport.requests import Request
from google.oauth2 import service_account
from pydantic import BaseModel, ConfigDict, Field

from cloudoptima.clouds.protocol import CredentialsError, ProviderUnavailableError, ThrottledError

T = TypeVar("T")

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)

_RETRYABLE = (gexc.TooManyRequests, gexc.ResourceExhausted, gexc.ServiceUnavailable, gexc.BadGateway)
_THROTTLED = (gexc.TooManyRequests, gexc.ResourceExhausted)
_PERMISSION_PATTERNS = (
    re.compile(r"Required '([\w.]+)' permission"),
    re.compile(r"Permission '([\w.]+)' denied"),
    re.compile(r"does not have (?:the )?'?([a-z]\w*(?:\.\w+){2,})'? permission"),
    re.compile(r"\b([a-z][a-zA-Z]*\.[a-z][a-zA-Z]*\.[a-z][a-zA-Z]*)\b(?<!googleapis\.com)"),
)


class GcpSettings(BaseModel):
    """Account settings for one GCP project.

    ``billing_export_table`` is ``project.dataset.table`` of the (standard or detailed) billing export.
    ``endpoints`` maps an API (compute, resourcemanager, recommender, bigquery, asset, monitoring, iam) to
    an override. ``use_asset_inventory`` reads resources from Cloud Asset instead of Compute.
    Retry delays are seconds; tests shrink them.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    project_id: str = Field(min_length=1)
    billing_export_table: str | None = None
    billing_export_detailed: bool = True
    billing_account_id: str | None = None
    endpoints: dict[str, str] = Field(default_factory=dict)
    use_asset_inventory: bool = False
    retry_initial_delay: float = 1.0
    retry_max_delay: float = 16.0
    retry_deadline: float = 60.0
    operation_timeout: float = 600.0


def credentials_from_b64(service_account_json_b64: str) -> Credentials:
    """Service-account credentials from a base64-encoded JSON key; :class:`CredentialsError` if malformed."""
    try:
        raw = base64.b64decode(service_account_json_b64, validate=True)
        info = json.loads(raw)
    except (binascii.Error, ValueError):
        raise CredentialsError("service_account_json_b64 is not base64-encoded JSON") from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise CredentialsError("the key is not a service-account JSON key (type != service_account)")
    try:
        creds: Credentials = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
            info, scopes=SCOPES
        )
    except (ValueError, KeyError):
        raise CredentialsError(
            "the service-account key is incomplete or its private key is invalid"
        ) from None
    return creds


def permission_in(message: str) -> str | None:
    """The IAM permission a Google error message names, e.g. ``compute.instances.list``, if any."""
    for pattern in _PERMISSION_PATTERNS:
        match = pattern.search(message)
        if match:
            return match.group(1)
    return None


def _message_of(exc: gexc.GoogleAPICallError) -> str:
    return str(exc.message or exc)


def translate(exc: Exception, scope: str) -> Exception:
    """The provider error for a Google error (unchanged when no translation applies)."""
    if isinstance(exc, gexc.RetryError) and exc.cause is not None:
        exc = exc.cause
    if isinstance(exc, gexc.Unauthenticated | gexc.Unauthorized):
        return CredentialsError(f"{scope}: credentials rejected ({_message_of(exc)})")
    if isinstance(exc, gexc.PermissionDenied | gexc.Forbidden):
        message = _message_of(exc)
        permission = permission_in(message)
        named = f" (missing {permission})" if permission else ""
        return CredentialsError(f"{scope}: permission denied{named}: {message}", permission=permission)
    if isinstance(exc, _THROTTLED):
        return ThrottledError(f"{scope}: throttled after retries ({_message_of(exc)})")
    if isinstance(exc, gexc.ServerError | gexc.DeadlineExceeded):
        return ProviderUnavailableError(f"{scope}: unavailable after retries ({_message_of(exc)})")
    return exc


class GcpSession:
    """Clients and the call wrapper for one project. Cheap to build; clients are created lazily and cached."""

    def __init__(self, settings: GcpSettings, credentials: Credentials) -> None:
        self.settings = settings
        self.project = settings.project_id
        self.credentials = credentials
        self._clients: dict[str, Any] = {}
        self.retry = gretry.Retry(
            predicate=gretry.if_exception_type(*_RETRYABLE),
            initial=settings.retry_initial_delay,
            maximum=settings.retry_max_delay,
            multiplier=2.0,
            timeout=settings.retry_deadline,
        )

    def call(self, fn: Callable[[], T], scope: str) -> T:
        """Run ``fn`` with backoff on throttling; translate Google errors (see module docstring)."""
        try:
            return self.retry(fn)()
        except (gexc.GoogleAPIError, gexc.RetryError) as exc:
            translated = translate(exc, scope)
            if translated is exc:
                raise
            raise translated from None

    def rest_client(self, api: str, factory: Callable[..., T]) -> T:
        """A GAPIC client (``factory``) over REST for ``api``, honouring the API's endpoint override."""
        key = f"{api}/{getattr(factory, '__name__', factory)}"
        if key not in self._clients:
            override = self.settings.endpoints.get(api)
            options = ClientOptions(api_endpoint=override) if override else None
            self._clients[key] = factory(
                credentials=self.credentials, transport="rest", client_options=options
            )
        client: T = self._clients[key]
        return client

    def grpc_client(
        self, api: str, client_factory: Callable[..., T], transport_factory: Callable[..., Any]
    ) -> T:
        """A GAPIC client over gRPC; an override ``host:port`` is reached with local (non-TLS) credentials."""
        if api not in self._clients:
            override = self.settings.endpoints.get(api)
            if override:
                channel = secure_authorized_channel(  # type: ignore[no-untyped-call]
                    self.credentials,
                    Request(),
                    override,
                    ssl_credentials=grpc.local_channel_credentials(),
                )
                self._clients[api] = client_factory(transport=transport_factory(channel=channel))
            else:
                self._clients[api] = client_factory(credentials=self.credentials)
        client: T = self._clients[api]
        return client

    def endpoint(self, api: str) -> str | None:
        """The override for ``api``, if any."""
        return self.settings.endpoints.get(api)
