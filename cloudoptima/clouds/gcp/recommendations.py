"""Google's own Compute recommendations (Recommender API), listed for later analytics.

Contract:

- For each zone, ``recommendations.list`` (paged) of ``google.compute.instance.IdleResourceRecommender``
  and ``google.compute.instance.MachineTypeRecommender`` under
  ``projects/<p>/locations/<zone>/recommenders/<id>``.
- ``monthly_savings`` is the cost projection turned into USD per 30 days (the API reports a negative cost
  over a duration) as ``Decimal``; ``resource_id`` is the relative name of the first resource the
  recommendation's operations touch.
- One (zone, recommender) failing is a failure ``recommender/<id>/<zone>``; credentials errors raise.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import recommender_v1
from pydantic import BaseModel, ConfigDict

from cloudoptima.clouds.gcp.inventory import relative_name
from cloudoptima.clouds.gcp.session import GcpSession
from cloudoptima.clouds.protocol import CredentialsError, Failure, Partial, ProviderError, ThrottledError

RECOMMENDERS = (
    "google.compute.instance.IdleResourceRecommender",
    "google.compute.instance.MachineTypeRecommender",
)
_MONTH_SECONDS = Decimal(30 * 24 * 3600)


class GcpRecommendation(BaseModel):
    """One recommendation as Google states it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    recommender: str
    zone: str
    subtype: str
    description: str
    priority: str
    state: str
    resource_id: str | None
    monthly_savings: Decimal
    currency: str


def _savings(recommendation: recommender_v1.Recommendation) -> tuple[Decimal, str]:
    projection = recommendation.primary_impact.cost_projection
    money = projection.cost
    amount = Decimal(int(money.units)) + Decimal(int(money.nanos)) / Decimal(10**9)
    duration: Any = projection.duration  # proto-plus gives a timedelta
    seconds = Decimal(int(duration.total_seconds())) if duration else _MONTH_SECONDS
    monthly = -amount * _MONTH_SECONDS / seconds if seconds else Decimal(0)
    return monthly.quantize(Decimal("0.01")), money.currency_code or "USD"


def _resource(recommendation: recommender_v1.Recommendation) -> str | None:
    for group in recommendation.content.operation_groups:
        for operation in group.operations:
            if operation.resource:
                return relative_name(operation.resource)
    return None


def _list(
    client: recommender_v1.RecommenderClient,
    request: recommender_v1.ListRecommendationsRequest,
    session: GcpSession,
) -> list[recommender_v1.Recommendation]:
    return list(client.list_recommendations(request=request, retry=session.retry))


def list_recommendations(session: GcpSession, zones: list[str]) -> Partial[GcpRecommendation]:
    """Idle-VM and machine-type recommendations in ``zones`` (see module docstring)."""
    client = session.rest_client("recommender", recommender_v1.RecommenderClient)
    items: list[GcpRecommendation] = []
    failures: list[Failure] = []
    for zone in zones:
        for recommender in RECOMMENDERS:
            parent = f"projects/{session.project}/locations/{zone}/recommenders/{recommender}"
            scope = f"recommender/{recommender}/{zone}"
            try:
                request = recommender_v1.ListRecommendationsRequest(parent=parent, page_size=100)
                found = session.call(partial(_list, client, request, session), scope)
            except (CredentialsError, ThrottledError):
                raise
            except (ProviderError, gexc.GoogleAPIError) as exc:
                failures.append(Failure(scope=scope, error=str(exc), retryable=True))
                continue
            for recommendation in found:
                savings, currency = _savings(recommendation)
                items.append(
                    GcpRecommendation(
                        name=recommendation.name,
                        recommender=recommender,
                        zone=zone,
                        subtype=recommendation.recommender_subtype,
                        description=recommendation.description,
                        priority=recommendation.priority.name,
                        state=recommendation.state_info.state.name,
                        resource_id=_resource(recommendation),
                        monthly_savings=savings,
                        currency=currency,
                    )
                )
    return Partial[GcpRecommendation](items=items, failures=failures)
