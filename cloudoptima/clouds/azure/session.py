"""One authenticated Azure session for one subscription: the credential and the SDK clients built on it.

Contract:

- Credentials are a service principal ``{tenant_id, client_id, client_secret}`` turned into
  ``azure.identity.ClientSecretCredential``; tests may inject any object with ``get_token()`` instead.
- ``resource_groups`` (settings) narrows the account to those groups of the subscription:
  :attr:`AzureSession.read_scopes` are their ARM scopes (costs are queried and read permissions checked
  there) and :meth:`AzureSession.in_scope` tells whether a resource belongs to them; without it the scope is
  the subscription.
- Settings ``{subscription_id, base_url?, authority?, graph_url?, connection_verify?, retry_total?,
  retry_backoff_factor?, polling_interval?}`` point every client at another ARM / Entra ID / Graph host
  (the strict local fake) and tune azure-core's ``RetryPolicy``, which retries 429/5xx honouring
  ``Retry-After``; what survives it is translated by :mod:`cloudoptima.clouds.azure.errors`.
- Clients are created lazily and reused; nothing talks to Azure at construction.
- The client secret is registered with :func:`errors.register_secret` so it never appears in an error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from azure.core import PipelineClient
from azure.core.credentials import TokenCredential
from azure.core.exceptions import HttpResponseError
from azure.core.pipeline import policies
from azure.core.rest import HttpRequest
from azure.identity import ClientSecretCredential
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.core.exceptions import ARMErrorFormat
from azure.mgmt.costmanagement import CostManagementClient
from azure.mgmt.monitor import MonitorManagementClient
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resource.subscriptions import SubscriptionClient

from cloudoptima.clouds.azure.errors import register_secret
from cloudoptima.clouds.protocol import CredentialsError

ARM_URL = "https://management.azure.com"
GRAPH_URL = "https://graph.microsoft.com"
ARM_SCOPE = "https://management.azure.com/.default"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
AUTHORIZATION_API_VERSION = "2022-04-01"


@dataclass(frozen=True)
class AzureSettings:
    """Where and how to reach Azure for one subscription (no secrets here)."""

    subscription_id: str
    tenant_id: str
    client_id: str
    base_url: str = ARM_URL
    authority: str | None = None
    graph_url: str = GRAPH_URL
    connection_verify: bool | str = True
    retry_total: int = 4
    retry_backoff_factor: float = 0.8
    retry_backoff_max: float = 30.0
    polling_interval: float = 15.0
    resource_groups: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dicts(cls, credentials: dict[str, Any], settings: dict[str, Any]) -> AzureSettings:
        """Build from the provider's ``credentials`` and ``settings`` dicts; raises CredentialsError if incomplete."""
        missing = [k for k in ("tenant_id", "client_id") if not credentials.get(k)]
        if not settings.get("subscription_id"):
            missing.append("subscription_id")
        if missing:
            raise CredentialsError(f"Azure account is missing {', '.join(missing)}")
        known = {
            f
            for f in cls.__dataclass_fields__
            if f not in ("subscription_id", "tenant_id", "client_id", "extra", "resource_groups")
        }
        return cls(
            subscription_id=str(settings["subscription_id"]),
            tenant_id=str(credentials["tenant_id"]),
            client_id=str(credentials["client_id"]),
            **{k: v for k, v in settings.items() if k in known},
            resource_groups=tuple(settings.get("resource_groups") or ()),
            extra={
                k: v for k, v in settings.items() if k not in known | {"subscription_id", "resource_groups"}
            },
        )


class AzureSession:
    """Credential + lazily built management clients for one subscription."""

    def __init__(
        self,
        settings: AzureSettings,
        client_secret: str | None = None,
        credential: TokenCredential | None = None,
    ) -> None:
        self.settings = settings
        if credential is None:
            if not client_secret:
                raise CredentialsError("Azure account is missing client_secret")
            register_secret(client_secret)
            identity: dict[str, Any] = {"connection_verify": settings.connection_verify}
            if settings.authority:
                identity["authority"] = settings.authority
                identity["disable_instance_discovery"] = True
            credential = ClientSecretCredential(
                settings.tenant_id, settings.client_id, client_secret, retry_total=1, **identity
            )
        self.credential: TokenCredential = credential

    @property
    def subscription_id(self) -> str:
        return self.settings.subscription_id

    @property
    def scope(self) -> str:
        """The subscription's ARM scope, ``/subscriptions/{id}``."""
        return f"/subscriptions/{self.settings.subscription_id}"

    @property
    def read_scopes(self) -> list[str]:
        """Where costs are read and read permissions checked: each configured resource group's scope, else
        the subscription's."""
        groups = self.settings.resource_groups
        return [f"{self.scope}/resourceGroups/{g}" for g in groups] if groups else [self.scope]

    def in_scope(self, resource_id: str) -> bool:
        """Whether ``resource_id`` is read by this account (in a configured resource group, if any)."""
        groups = {g.lower() for g in self.settings.resource_groups}
        if not groups:
            return True
        parts = resource_id.split("/")
        lowered = [p.lower() for p in parts]
        return "resourcegroups" in lowered and parts[lowered.index("resourcegroups") + 1].lower() in groups

    def _common(self) -> dict[str, Any]:
        s = self.settings
        return {
            "base_url": s.base_url,
            "credential_scopes": [ARM_SCOPE],
            "connection_verify": s.connection_verify,
            "retry_total": s.retry_total,
            "retry_backoff_factor": s.retry_backoff_factor,
            "retry_backoff_max": s.retry_backoff_max,
            "polling_interval": s.polling_interval,
        }

    @cached_property
    def compute(self) -> ComputeManagementClient:
        return ComputeManagementClient(self.credential, self.subscription_id, **self._common())

    @cached_property
    def network(self) -> NetworkManagementClient:
        return NetworkManagementClient(self.credential, self.subscription_id, **self._common())

    @cached_property
    def costs(self) -> CostManagementClient:
        return CostManagementClient(self.credential, **self._common())

    @cached_property
    def monitor(self) -> MonitorManagementClient:
        return MonitorManagementClient(self.credential, self.subscription_id, **self._common())

    @cached_property
    def authorization(self) -> AuthorizationManagementClient:
        return AuthorizationManagementClient(self.credential, self.subscription_id, **self._common())

    @cached_property
    def resources(self) -> ResourceManagementClient:
        return ResourceManagementClient(self.credential, self.subscription_id, **self._common())

    @cached_property
    def subscriptions(self) -> SubscriptionClient:
        return SubscriptionClient(self.credential, **self._common())

    @cached_property
    def graph(self) -> PipelineClient[HttpRequest, Any]:
        """A bare azure-core pipeline for Microsoft Graph (bearer token for the Graph audience, retries)."""
        s = self.settings
        return PipelineClient(
            s.graph_url,
            policies=[
                policies.HeadersPolicy(),
                policies.RetryPolicy(
                    retry_total=s.retry_total,
                    retry_backoff_factor=s.retry_backoff_factor,
                    retry_backoff_max=s.retry_backoff_max,
                ),
                policies.BearerTokenCredentialPolicy(self.credential, GRAPH_SCOPE),
                policies.NetworkTraceLoggingPolicy(),
            ],
            connection_verify=s.connection_verify,
        )

    def arm_json(self, method: str, url: str, api_version: str | None = None, body: Any = None) -> Any:
        """Send one raw ARM request (relative path or absolute nextLink); JSON with Decimal numbers.

        Errors are raised as azure-core's ``HttpResponseError`` (with ARM's error envelope parsed),
        so callers translate them like any SDK error.
        """
        params = {"api-version": api_version} if api_version else None
        request = HttpRequest(method, url, params=params, json=body)
        response = self.resources.send_request(request)
        return _decode(response.status_code, response.text(), response)

    def arm_pages(self, path: str, api_version: str) -> Iterator[dict[str, Any]]:
        """Every item of a raw ARM list, following ``nextLink`` verbatim."""
        url: str | None = path
        version: str | None = api_version
        while url:
            page = self.arm_json("GET", url, version)
            yield from page.get("value", [])
            url, version = page.get("nextLink"), None

    def graph_json(self, path: str) -> dict[str, Any]:
        """GET one Microsoft Graph object (``/v1.0/...``) as JSON."""
        response = self.graph.send_request(HttpRequest("GET", self.graph.format_url(path)))
        result = _decode(response.status_code, response.text(), response)
        return dict(result)

    def close(self) -> None:
        """Close every client that was created."""
        for name in ("compute", "network", "costs", "monitor", "authorization", "resources", "subscriptions"):
            client = self.__dict__.get(name)
            if client is not None:
                client.close()


def _decode(status: int, text: str, response: Any) -> Any:
    if status >= 400:
        raise HttpResponseError(response=response, error_format=ARMErrorFormat)
    return json.loads(text, parse_float=Decimal) if text else {}
