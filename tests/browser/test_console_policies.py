"""The console's Policies screen in a real Chromium: the demo admin creates an event-triggered policy through
the API, finds it under Policies with its trigger, actions and state, disables it on screen (the API then
stores ``enabled: false`` with the rest of the definition, risk level included, unchanged), opens its detail
view (definition, no executions yet) and deletes it there; the API then answers 404 for it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import CONSOLE_INDEX, PageLog, Stack

pytestmark = pytest.mark.e2e

POLICY: dict[str, Any] = {
    "name": "Stop search instances on high anomalies (browser test)",
    "description": "Stops running search instances when a high-severity anomaly is detected.",
    "trigger": {"type": "event", "config": {"event": "anomaly.detected", "filters": {"severity": "high"}}},
    "conditions": [
        {"field": "resource_type", "operator": "eq", "value": "compute_instance"},
        {"field": "tags.team", "operator": "eq", "value": "search"},
    ],
    "actions": [{"type": "stop"}],
    "safety_controls": {"require_approval": True, "max_resources_per_execution": 10},
    "risk_level": "low",
}


@pytest.fixture
def console_built() -> None:
    if not CONSOLE_INDEX.is_file():
        pytest.skip(f"the console is not built ({CONSOLE_INDEX} missing): run `make web`")


@pytest.mark.usefixtures("console_built")
async def test_admin_disables_inspects_and_deletes_a_policy(
    page: Page, page_log: PageLog, stack: Stack
) -> None:
    async with httpx.AsyncClient(
        base_url=stack.base_url, timeout=30, headers={"X-API-Key": stack.api_key}
    ) as admin:
        created = await admin.post("/v1/policies", json=POLICY)
        assert created.status_code == 201, created.text
        policy_id = str(created.json()["policy_id"])
        before = (await admin.get(f"/v1/policies/{policy_id}")).json()

        await page.goto(stack.base_url + "/")
        await page.get_by_test_id("login-email").fill(stack.email)
        await page.get_by_test_id("login-password").fill(stack.password)
        await page.get_by_test_id("login-submit").click()
        await page.get_by_test_id("nav-policies").click()

        item = page.locator(f'[data-testid="policy-item"][data-policy-id="{policy_id}"]')
        await expect(item.get_by_test_id("policy-trigger")).to_have_text("event · anomaly.detected")
        await expect(item.get_by_test_id("policy-actions-summary")).to_have_text("stop")
        await expect(item.get_by_test_id("policy-last-run")).to_contain_text("never run")
        await expect(item.get_by_test_id("policy-enabled")).to_have_attribute("data-value", "true")
        await item.get_by_test_id("policy-toggle").click()
        await expect(item.get_by_test_id("policy-enabled")).to_have_attribute("data-value", "false")
        await expect(item.get_by_test_id("policy-toggle")).to_have_text("Enable")

        after = (await admin.get(f"/v1/policies/{policy_id}")).json()
        assert after == {**before, "enabled": False}
        assert after["safety_controls"]["risk_level"] == "low"

        await item.get_by_test_id("policy-link").click()
        detail = page.get_by_test_id("policy-detail")
        await expect(detail).to_have_attribute("data-policy-id", policy_id)
        await expect(page.get_by_test_id("policy-name")).to_have_text(POLICY["name"])
        await expect(page.get_by_test_id("policy-risk")).to_have_attribute("data-value", "low")
        await expect(page.get_by_test_id("policy-condition")).to_have_count(2)
        await expect(page.get_by_test_id("policy-executions-empty")).to_be_visible()

        await page.get_by_test_id("policy-delete").click()
        await page.get_by_test_id("policy-delete-confirm").click()
        await expect(page.get_by_test_id("policies")).to_be_visible()
        await expect(page.locator(f'[data-policy-id="{policy_id}"]')).to_have_count(0)
        gone = await admin.get(f"/v1/policies/{policy_id}")
        assert gone.status_code == 404, gone.text
    assert page_log.console_errors() == []
