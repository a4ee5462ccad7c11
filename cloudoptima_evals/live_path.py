"""The live path the evals drive, the same for every cloud: register and connect over REST, collect with
the real connector, analyse with the recommendation engine.

Contract:

- :class:`LiveProviderRegistry` is the gateway's provider registry with the real connectors; while
  :meth:`~LiveProviderRegistry.pointed` is open, the accounts of one provider get extra settings merged into
  theirs (the endpoints of a strict fake, as the connector tests pass them; AWS needs none: boto3 reads
  ``AWS_ENDPOINT_URL``). Nothing else about the account, its credentials or the connector changes.
- :func:`connect` registers a fresh organisation (``POST /v1/auth/register``), connects the account with the
  cloud's connect route and body, applies ``settings`` with ``PATCH /v1/cloud-accounts/{id}`` when given,
  and returns ``(organisation id, account id)``; it raises ``RuntimeError`` unless the account is
  ``verified``.
- :func:`collect_and_analyse` runs the first collection (30 days of costs and utilisation, at ``now``) and
  the first analysis with the organisation's price catalogue (``price_catalog_for``, as the analysis
  workflow and REST price it), and returns (:class:`FirstLook`) the recommendations as the scorer reads
  them, the collection's failures and the resources the collected costs name.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cloudoptima.clouds.protocol import CloudProviderClient
from cloudoptima.clouds.registry import BUILDERS, Builder, ProviderRegistry
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima_evals.live_scoring import LiveEstate, score


class LiveProviderRegistry(ProviderRegistry):
    """Real connectors; a provider's accounts can be pointed at a fake (see module contract)."""

    def __init__(self, cipher: CredentialCipher) -> None:
        self._extra: dict[str, dict[str, Any]] = {}
        super().__init__(cipher, builders={name: self._builder(name) for name in BUILDERS})

    def _builder(self, name: str) -> Builder:
        def build(credentials: dict[str, Any], settings: dict[str, Any]) -> CloudProviderClient:
            return BUILDERS[name](credentials, {**settings, **self._extra.get(name, {})})

        return build

    @contextmanager
    def pointed(self, provider: str, settings: Mapping[str, Any]) -> Iterator[None]:
        """Merge ``settings`` into every ``provider`` account's settings while the block runs."""
        self._extra[provider] = dict(settings)
        try:
            yield
        finally:
            self._extra.pop(provider, None)


def _expect(response: Any, status: int, what: str) -> dict[str, Any]:
    if response.status_code != status:
        raise RuntimeError(f"{what} failed: {response.status_code} {response.text}")
    body: dict[str, Any] = response.json()
    return body


def connect(
    api: Any, cloud: str, body: dict[str, Any], settings: dict[str, Any] | None = None
) -> tuple[uuid.UUID, uuid.UUID]:
    """Register an organisation and connect one ``cloud`` account over REST (see module contract).

    ``api`` offers ``post``/``patch`` like httpx or Starlette's TestClient.
    """
    registered = _expect(
        api.post(
            "/v1/auth/register",
            json={
                "email": f"live-eval-{cloud}-{uuid.uuid4().hex[:8]}@example.com",
                "password": "live eval password",
                "company_name": f"Live eval {cloud}",
                "role": "devops",
            },
        ),
        201,
        "register",
    )
    headers = {"Authorization": f"Bearer {registered['access_token']}"}
    connected = _expect(api.post(f"/v1/cloud-accounts/{cloud}", headers=headers, json=body), 201, "connect")
    if connected["verification_status"] != "verified":
        raise RuntimeError(f"connect failed: {connected}")
    account = uuid.UUID(connected["id"])
    if settings:
        _expect(
            api.patch(f"/v1/cloud-accounts/{account}", headers=headers, json={"settings": settings}),
            200,
            "settings",
        )
    return uuid.UUID(registered["organization_id"]), account


@dataclass(frozen=True)
class FirstLook:
    """What the first collection and analysis of an account gave."""

    recommendations: list[dict[str, Any]]
    collection_failures: list[str]
    """Steps that failed, parts of the inventory and utilisation reads that failed, permissions denied."""
    costed_resources: frozenset[str]
    """Lower-cased ids of the resources the collected costs name (a per-resource cost exists)."""
    forecasts: list[dict[str, Any]]
    """The cloud's own forecast of the account beside ours over the same days (none when it offers none)."""


def collect_and_analyse(
    engine: Any, providers: ProviderRegistry, org: uuid.UUID, account: uuid.UUID, now: datetime
) -> FirstLook:
    """The first collection and the first analysis of ``account`` at ``now`` (see module contract)."""
    from sqlalchemy import text

    from cloudoptima.services import provider_forecasts
    from cloudoptima.services.collection import AccountRef, CollectionService
    from cloudoptima.services.cost_scope import ForecastScope
    from cloudoptima.services.price_catalog import price_catalog_for
    from cloudoptima.services.recommendations import RecommendationService
    from cloudoptima.settings import Settings
    from cloudoptima.storage.engine import session_factory
    from cloudoptima.storage.tenancy import tenant_session

    collection = CollectionService(engine, providers.for_account, now=lambda: now)
    defaults = Settings.model_fields
    state = collection.collect_account(
        AccountRef(org, account),
        initial_days=defaults["collection_initial_days"].default,  # a first collection as the product does it
        restate_days=defaults["collection_restate_days"].default,
        today=now.date(),
    )
    with tenant_session(session_factory(engine), org) as session:
        prices = price_catalog_for(session, org)  # the catalogue the analysis workflow and REST use
        report = RecommendationService(session, org, prices, now=lambda: now).run(as_of=now)
        costed = session.execute(
            text(
                "SELECT DISTINCT lower(resource_id) FROM cost_data "
                "WHERE organization_id = :org AND cloud_account_id = :account AND resource_id IS NOT NULL"
            ),
            {"org": org, "account": account},
        ).scalars()
        costed_resources = frozenset(str(rid) for rid in costed)
        forecasts = [
            {
                "source": c.source,
                "days": (c.end - c.start).days,
                "provider_total": c.provider_total,
                "ours_total": c.ours_total,
                "ours_lower": c.ours_lower,
                "ours_upper": c.ours_upper,
                "difference_percent": c.difference_percent,
            }
            for c in provider_forecasts.compare(session.connection(), org, ForecastScope(), today=now.date())
        ]
    recommendations = [
        {
            "rule_id": r.rule_id,
            "resource_ids": list(r.resource_ids),
            "actions": [a.type for a in r.actions],
            "savings": r.estimated_savings_monthly,
            "price_source": r.evidence.get("price_source"),
        }
        for r in report.recommendations
    ]
    failures = [f"{f.step}: {f.reason}" for f in state.failures]  # steps that raised
    for name, step in (("inventory", state.inventory), ("utilisation", state.utilisation)):
        failures += [f"{name}: {failure}" for failure in (step.failures if step is not None else [])]
    failures += [f"{p.step}: {p.message}" for p in state.permission_problems]
    return FirstLook(recommendations, list(dict.fromkeys(failures)), costed_resources, forecasts)


def judged(estate: LiveEstate, look: FirstLook) -> dict[str, Any]:
    """The score of the first look at ``estate`` (``cloudoptima_evals.live_scoring.score``) with the collection's
    failures, whether every planted item was found in this first analysis, and the planted resources the
    collected costs name (``costed``: their labels; ``resources``: how many were planted)."""
    result = score(estate, look.recommendations)
    result["collection_failures"] = look.collection_failures
    result["first_analysis_found_all"] = not result["missed"]
    result["costed"] = sorted(
        p.label for p in estate.planted if p.resource_id.lower() in look.costed_resources
    )
    result["resources"] = len(estate.planted)
    result["forecasts"] = look.forecasts
    return result
