"""Authenticated boto3 access to one AWS account: credentials, retry policy and a cache of clients.

Contract:

- ``credentials`` is ``{"role_arn", "external_id"}`` (assumed through STS from the ambient credentials, or
  from ``access_key_id``/``secret_access_key`` when both are also given) or
  ``{"access_key_id", "secret_access_key", "session_token"?}``. Assumed-role credentials refresh themselves
  before they expire.
- ``source`` (another session's boto3 session) replaces the credentials the role is assumed from: role
  chaining, how a management account reaches its organisation's member accounts (:meth:`AwsSession.assume`).
- ``endpoint_url`` (from the account settings) sends every call to one endpoint, e.g. a moto server.
- Every client uses botocore's retry policy (``standard`` by default, ``adaptive`` on request), so
  throttling is retried with exponential backoff before an error escapes.
- Clients are created once per (service, region) and are safe to share across threads.
- Secrets are held only inside botocore; ``repr`` shows the account and the identity type only.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.credentials import RefreshableCredentials
from botocore.session import Session as BotocoreSession

from cloudoptima.clouds.aws.errors import aws_errors
from cloudoptima.clouds.protocol import CredentialsError

DEFAULT_REGION = "us-east-1"
SESSION_NAME = "cloudoptima"
_ROLE_ARN_PARTS = 6


def account_of_role(role_arn: str) -> str:
    """The account id inside ``arn:aws:iam::<account>:role/<name>``; CredentialsError when malformed."""
    parts = role_arn.split(":")
    if len(parts) != _ROLE_ARN_PARTS or parts[2] != "iam" or not parts[5].startswith("role/"):
        raise CredentialsError(f"not an IAM role ARN: {role_arn!r}")
    return parts[4]


class AwsSession:
    """boto3 access to one account. Build once per provider; call :meth:`client` from any thread."""

    def __init__(
        self,
        credentials: Mapping[str, str],
        *,
        endpoint_url: str | None = None,
        retry_mode: str = "standard",
        max_attempts: int = 5,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        role_duration_seconds: int = 3600,
        source: boto3.Session | None = None,
    ) -> None:
        self.endpoint_url = endpoint_url
        self._options: dict[str, Any] = {
            "endpoint_url": endpoint_url,
            "retry_mode": retry_mode,
            "max_attempts": max_attempts,
            "connect_timeout": connect_timeout,
            "read_timeout": read_timeout,
            "role_duration_seconds": role_duration_seconds,
        }
        self.role_arn = credentials.get("role_arn")
        retries: Any = {
            "mode": retry_mode,
            "total_max_attempts": max_attempts,
        }  # attempts, first one included
        self._config = Config(
            retries=retries,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            user_agent_extra="cloudoptima",
        )
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        if source is None:
            source = self._source_session(credentials)
        if self.role_arn:
            account_of_role(self.role_arn)
            self.boto = self._assumed_session(
                source, self.role_arn, credentials.get("external_id"), role_duration_seconds
            )
        else:
            self.boto = source

    def __repr__(self) -> str:
        identity = f"role {self.role_arn}" if self.role_arn else "access key"
        return f"AwsSession({identity}, endpoint={self.endpoint_url!r})"

    @property
    def config(self) -> Config:
        """The botocore configuration (retries, timeouts) every client is built with."""
        return self._config

    def client(self, service: str, region: str = DEFAULT_REGION) -> Any:
        """The shared boto3 client for ``service`` in ``region`` (created on first use)."""
        key = (service, region)
        with self._lock:
            existing = self._clients.get(key)
            if existing is None:
                existing = self.boto.client(
                    service,  # type: ignore[call-overload]
                    region_name=region,
                    endpoint_url=self.endpoint_url,
                    config=self._config,
                )
                self._clients[key] = existing
            return existing

    def assume(self, role_arn: str, external_id: str | None = None) -> AwsSession:
        """A session for ``role_arn``, assumed with this session's credentials (role chaining; same endpoint,
        retries and timeouts)."""
        credentials = {"role_arn": role_arn, **({"external_id": external_id} if external_id else {})}
        return AwsSession(credentials, source=self.boto, **self._options)

    def caller_account(self) -> str:
        """The account id of the effective identity (one STS GetCallerIdentity call)."""
        with aws_errors("sts"):
            return str(self.client("sts").get_caller_identity()["Account"])

    def _source_session(self, credentials: Mapping[str, str]) -> boto3.Session:
        key_id = credentials.get("access_key_id")
        secret = credentials.get("secret_access_key")
        if bool(key_id) != bool(secret):
            raise CredentialsError("access_key_id and secret_access_key must be given together")
        if not key_id and not credentials.get("role_arn"):
            raise CredentialsError("credentials need role_arn (+ external_id) or an access key pair")
        if key_id:
            return boto3.Session(
                aws_access_key_id=key_id,
                aws_secret_access_key=secret,
                aws_session_token=credentials.get("session_token") or None,
                region_name=DEFAULT_REGION,
            )
        return boto3.Session(region_name=DEFAULT_REGION)

    def _assumed_session(
        self, source: boto3.Session, role_arn: str, external_id: str | None, duration: int
    ) -> boto3.Session:
        """A session whose credentials come from STS AssumeRole and refresh before expiry."""
        sts = source.client(
            "sts", region_name=DEFAULT_REGION, endpoint_url=self.endpoint_url, config=self._config
        )

        def fetch() -> dict[str, str]:
            params: dict[str, Any] = {
                "RoleArn": role_arn,
                "RoleSessionName": SESSION_NAME,
                "DurationSeconds": duration,
            }
            if external_id:
                params["ExternalId"] = external_id
            with aws_errors("sts"):
                issued = sts.assume_role(**params)["Credentials"]
            expiry: datetime = issued["Expiration"]
            return {
                "access_key": issued["AccessKeyId"],
                "secret_key": issued["SecretAccessKey"],
                "token": issued["SessionToken"],
                "expiry_time": expiry.astimezone(UTC).isoformat(),
            }

        refreshable = RefreshableCredentials.create_from_metadata(
            metadata=fetch(), refresh_using=fetch, method="sts-assume-role"
        )
        core = BotocoreSession()
        core._credentials = refreshable  # type: ignore[attr-defined]  # no public setter for refreshing creds
        return boto3.Session(botocore_session=core, region_name=DEFAULT_REGION)
