"""A Compute cost names its resource by the inventory's id, so costs and resources join: the export's
``resource.global_name`` may end in the numeric id; ``resource.name`` spells the last segment."""

from __future__ import annotations

from datetime import date

from tests.clouds.gcp.conftest import COST_END, COST_START, GcpWorld


def test_compute_costs_carry_the_inventory_id_and_other_services_their_global_name(world: GcpWorld) -> None:
    web = world.state.instances["us-central1-a/web-1"]
    scope = world.ids["web"].rsplit("/", 1)[0]
    world.state.billing_rows.clear()
    day = date(2024, 5, 2)
    world.state.add_cost(day, "Compute Engine", "E2 Instance Core", "1.5",
                         resource=f"//compute.googleapis.com/{scope}/{web['id']}", resource_name="web-1")  # fmt: skip
    bucket = "//storage.googleapis.com/projects/_/buckets/finops-logs"
    world.state.add_cost(day, "Cloud Storage", "Standard Storage", "0.25", resource=bucket)

    costs = {c.service_name: c for c in world.provider().costs(COST_START, COST_END).items}
    inventory = {r.resource_id for r in world.provider().inventory().items}

    assert costs["Compute Engine"].resource_id == world.ids["web"] and world.ids["web"] in inventory
    assert costs["Cloud Storage"].resource_id == bucket
