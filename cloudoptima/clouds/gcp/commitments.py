"""GCP committed-use discounts of one project, as :class:`OwnedCommitment` (#22 inventory).

Contract: :func:`committed_use_discounts` reads ``google-cloud-compute``'s
``RegionCommitmentsClient.aggregated_list`` (every region, paged through ``nextPageToken``, ``page_size`` per
request) through the session's call wrapper (backoff on throttling, Google errors translated: a 403 names the
missing permission, ``compute.commitments.list``). A region answering a warning other than "no results" is
an error naming it (a partial inventory would make the purchase advice suggest what is owned). Each
commitment is a ``committed_use`` of its ``VCPU`` amount (``vcpus``) and ``MEMORY`` amount in MB
(``memory_mb``) for the machine family its ``type`` names (:func:`family_of_type`: ``GENERAL_PURPOSE_E2`` →
``e2``, ``GENERAL_PURPOSE`` → ``n1``) in its region; ``plan`` ``TWELVE_MONTH`` / ``THIRTY_SIX_MONTH`` → the
term in seconds (365-day years); ``start`` / ``end`` its timestamps in UTC; ``state`` its ``status``
lower-cased (``active``, ``expired``, ``not_yet_active``…); ``commitment_id`` its numeric id, ``arn`` its
self link. A commitment missing a field this needs raises :class:`ProviderError` naming it and the field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.cloud import compute_v1

from cloudoptima.clouds.gcp.session import GcpSession
from cloudoptima.clouds.protocol import ProviderError
from cloudoptima.domain.owned_commitments import OwnedCommitment, OwnedKind

PROVIDER = "gcp"
_YEAR = 365 * 24 * 3600
_PLANS = {"TWELVE_MONTH": _YEAR, "THIRTY_SIX_MONTH": 3 * _YEAR}
_BARE_FAMILIES = {
    "GENERAL_PURPOSE": "n1",
    "COMPUTE_OPTIMIZED": "c2",
    "MEMORY_OPTIMIZED": "m1",
    "ACCELERATOR_OPTIMIZED": "a2",
}
_BENIGN = {"NO_RESULTS_ON_PAGE", ""}


def family_of_type(commitment_type: str) -> str | None:
    """The machine family a commitment ``type`` covers (``GENERAL_PURPOSE_N2D`` → ``n2d``); None if none."""
    if commitment_type in _BARE_FAMILIES:
        return _BARE_FAMILIES[commitment_type]
    for category in _BARE_FAMILIES:
        if commitment_type.startswith(category + "_"):
            return commitment_type[len(category) + 1 :].lower()
    return None


def _time(value: str, name: str, what: str) -> datetime:
    if not value:
        raise ProviderError(f"GCP commitment {name}: field {what} is missing")
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def commitment(project: str, obj: compute_v1.Commitment) -> OwnedCommitment:
    """One API commitment as the domain model (module contract)."""
    if obj.plan not in _PLANS:
        raise ProviderError(f"GCP commitment {obj.name}: unknown plan {obj.plan!r}")
    amounts: dict[str, int] = {}
    for resource in obj.resources:
        amounts[resource.type_] = amounts.get(resource.type_, 0) + int(resource.amount)
    if not obj.id or not obj.region or not obj.status:
        raise ProviderError(f"GCP commitment {obj.name}: field id, region or status is missing")
    return OwnedCommitment(
        provider=PROVIDER,
        account_id=project,
        commitment_id=str(obj.id),
        arn=obj.self_link or None,
        kind=OwnedKind.COMMITTED_USE,
        plan_type=obj.type_ or None,
        region=obj.region.rsplit("/", 1)[-1],
        instance_family=family_of_type(obj.type_),
        vcpus=amounts.get("VCPU"),
        memory_mb=amounts.get("MEMORY"),
        term_seconds=_PLANS[obj.plan],
        start=_time(obj.start_timestamp, obj.name, "startTimestamp"),
        end=_time(obj.end_timestamp, obj.name, "endTimestamp"),
        state=obj.status.lower(),
    )


def committed_use_discounts(session: GcpSession, page_size: int = 500) -> list[OwnedCommitment]:
    """Every committed-use discount of the session's project (module contract), ordered by id."""
    client: Any = session.rest_client("compute", compute_v1.RegionCommitmentsClient)
    request = {"project": session.project, "max_results": page_size}
    pages = session.call(
        lambda: list(client.aggregated_list(request=request, retry=session.retry).pages),
        "compute/commitments",
    )
    items: list[OwnedCommitment] = []
    for page in pages:
        for unreachable in page.unreachables:
            raise ProviderError(f"compute/commitments: {unreachable} is unreachable")
        for scope, scoped in page.items.items():
            if scoped.warning.code not in _BENIGN:
                raise ProviderError(
                    f"compute/commitments/{scope}: {scoped.warning.code}: {scoped.warning.message}"
                )
            items.extend(commitment(session.project, obj) for obj in scoped.commitments)
    return sorted(items, key=lambda c: c.commitment_id)
