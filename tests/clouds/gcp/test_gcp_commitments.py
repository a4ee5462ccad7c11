"""GCP committed-use discounts (#22) read through google-cloud-compute's RegionCommitmentsClient from the strict
REST fake: every page followed, families and resources mapped, throttling retried, a denied permission named."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cloudoptima.clouds.gcp.commitments import family_of_type
from cloudoptima.clouds.protocol import CredentialsError, ProviderError, ThrottledError
from cloudoptima.domain.owned_commitments import OwnedKind
from tests.clouds.gcp.conftest import GcpWorld

START = datetime(2025, 6, 1, tzinfo=UTC)
END = datetime(2026, 6, 1, tzinfo=UTC)


def _seed(world: GcpWorld) -> dict[str, str]:
    s = world.state
    return {
        "e2": s.add_commitment("cud-e2", "us-central1", "GENERAL_PURPOSE_E2", 8, 32768, START, END),
        "n1": s.add_commitment("cud-n1", "us-central1", "GENERAL_PURPOSE", 4, 15360, START, END),
        "n2": s.add_commitment(
            "cud-n2", "europe-west1", "GENERAL_PURPOSE_N2", 16, 65536, START, END, "THIRTY_SIX_MONTH"
        ),
        "old": s.add_commitment(
            "cud-old", "europe-west1", "COMPUTE_OPTIMIZED_C2D", 2, 4096, START, START, status="EXPIRED"
        ),
    }


def test_every_page_of_commitments_is_read_and_mapped(world: GcpWorld) -> None:
    ids = _seed(world)
    owned = {c.commitment_id: c for c in world.provider().owned_commitments()}
    assert set(owned) == set(ids.values())
    # 4 commitments at 2 per page: the client followed the fake's nextPageToken.
    pages = [token for route, token in world.state.calls if route == "aggregated:commitments"]
    assert pages == ["", "2"]
    e2 = owned[ids["e2"]]
    assert (e2.kind, e2.region, e2.instance_family, e2.vcpus, e2.memory_mb) == (
        OwnedKind.COMMITTED_USE,
        "us-central1",
        "e2",
        8,
        32768,
    )
    assert (e2.plan_type, e2.term_seconds, e2.start, e2.end, e2.state) == (
        "GENERAL_PURPOSE_E2",
        31536000,
        START,
        END,
        "active",
    )
    assert (
        e2.account_id == "finops-demo"
        and e2.arn
        and e2.arn.endswith("/regions/us-central1/commitments/cud-e2")
    )
    assert owned[ids["n1"]].instance_family == "n1"
    assert owned[ids["n2"]].term_seconds == 3 * 31536000
    assert (owned[ids["old"]].instance_family, owned[ids["old"]].state) == ("c2d", "expired")
    assert not owned[ids["old"]].active_at(START)


def test_throttling_is_retried_then_persistent_throttling_is_an_error(world: GcpWorld) -> None:
    _seed(world)
    world.state.throttle["aggregated"] = 1
    assert len(world.provider().owned_commitments()) == 4
    assert world.state.throttle["aggregated"] == 0
    world.state.throttle["aggregated"] = -1
    with pytest.raises(ThrottledError, match="compute/commitments"):
        world.provider().owned_commitments()


def test_a_denied_list_names_the_permission(world: GcpWorld) -> None:
    _seed(world)
    world.state.permissions.discard("compute.commitments.list")
    with pytest.raises(CredentialsError) as denied:
        world.provider().owned_commitments()
    assert denied.value.permission == "compute.commitments.list"


def test_an_unreachable_region_is_an_error_not_a_partial_inventory(world: GcpWorld) -> None:
    _seed(world)
    world.state.unreachable.add("europe-west1")
    with pytest.raises(ProviderError, match="europe-west1"):
        world.provider().owned_commitments()


def test_commitment_types_name_their_family() -> None:
    assert [family_of_type(t) for t in ("GENERAL_PURPOSE_N2D", "MEMORY_OPTIMIZED", "LICENSE", "")] == [
        "n2d",
        "m1",
        None,
        None,
    ]
