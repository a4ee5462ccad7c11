"""Writing in the console in a real Chromium (#20): the demo admin creates a policy through the New policy
form — first with a condition on a metric that does not exist, which the API refuses with a 422 the form shows
next to that condition's field —, finds it in the list and in ``GET /v1/policies`` with the body the form
built, edits its name; and creates a weekly report schedule — first with a time zone that is not an IANA name,
shown next to the time zone field —, pauses it (the API then says paused), opens its (empty) run history and
deletes it (the API then answers 404)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import CONSOLE_INDEX, REPO, PageLog, Stack

pytestmark = pytest.mark.e2e


@pytest.fixture
def console_built() -> None:
    if not CONSOLE_INDEX.is_file():
        pytest.skip(f"the console is not built ({CONSOLE_INDEX} missing): run `make web`")


AXE = REPO / "web" / "node_modules" / "axe-core" / "axe.min.js"


async def _critical_violations(page: Page) -> list[str]:
    """axe-core's ``critical`` violations on the page as it is, injected over the DevTools protocol (the
    page's CSP stays on), as in test_console_accessibility.py; skipped when axe-core is not installed."""
    if not AXE.is_file():
        pytest.skip(f"{AXE} missing: run `npm ci` in web/")
    cdp = await page.context.new_cdp_session(page)
    injected = await cdp.send("Runtime.evaluate", {"expression": AXE.read_text()})
    assert "exceptionDetails" not in injected, injected
    result: dict[str, Any] = await page.evaluate(
        """async () => {
            const r = await window.axe.run(document, {resultTypes: ['violations']});
            return {passes: r.passes.length, violations: r.violations.map(v => ({
                id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))};
        }"""
    )
    await cdp.detach()
    assert result["passes"] > 0, result
    return [
        f"{v['id']} at {', '.join(v['nodes'])}" for v in result["violations"] if v["impact"] == "critical"
    ]


def _unexpected(page_log: PageLog) -> list[str]:
    """Console errors other than Chromium's note of the one 422 answer each test provokes on purpose."""
    return [e for e in page_log.console_errors() if "status of 422" not in e]


async def _sign_in(page: Page, stack: Stack) -> None:
    await page.goto(stack.base_url + "/")
    await page.get_by_test_id("login-email").fill(stack.email)
    await page.get_by_test_id("login-password").fill(stack.password)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("app-shell")).to_be_visible()


@pytest.mark.usefixtures("console_built")
async def test_admin_creates_and_edits_a_policy_through_the_form(
    page: Page, page_log: PageLog, stack: Stack, tmp_path: Path
) -> None:
    name = f"Stop idle search boxes {uuid.uuid4().hex[:6]}"
    await _sign_in(page, stack)
    await page.get_by_test_id("nav-policies").click()
    await page.get_by_test_id("policy-new").click()
    form = page.get_by_test_id("policy-form")
    await expect(form).to_have_attribute("data-mode", "create")
    await page.get_by_test_id("policy-form-name").fill(name)
    await expect(page.get_by_test_id("policy-form-enabled")).not_to_be_checked()
    await expect(page.get_by_test_id("policy-form-action-type-0")).to_have_value("tag")
    await page.get_by_test_id("policy-form-action-type-0").select_option("stop")
    await page.get_by_test_id("policy-form-action-config-0").fill("")
    await page.get_by_test_id("policy-form-filters").fill("severity=high")
    await page.get_by_test_id("policy-form-add-condition").click()
    await page.get_by_test_id("policy-form-condition-field-0").fill("metrics.cpu_avg")
    await page.get_by_test_id("policy-form-condition-operator-0").select_option("lt")
    await page.get_by_test_id("policy-form-condition-value-0").fill("5")
    await page.get_by_test_id("policy-form-submit").click()

    error = page.get_by_test_id("policy-form-error-conditions.0.field")
    await expect(error).to_contain_text("unknown metric 'cpu_avg'")
    await expect(page.get_by_test_id("policy-form-condition-field-0")).to_have_attribute(
        "aria-invalid", "true"
    )
    await page.screenshot(path=str(tmp_path / "policy-form-field-error.png"), full_page=True)
    assert await _critical_violations(page) == []

    await page.get_by_test_id("policy-form-condition-field-0").fill("metrics.cpu_percent.avg")
    await page.get_by_test_id("policy-form-submit").click()
    detail = page.get_by_test_id("policy-detail")
    await expect(detail).to_have_attribute("data-state", "ready")
    await expect(page.get_by_test_id("policy-name")).to_have_text(name)
    policy_id = str(await detail.get_attribute("data-policy-id"))

    async with httpx.AsyncClient(
        base_url=stack.base_url, timeout=30, headers={"X-API-Key": stack.api_key}
    ) as admin:
        listed = (await admin.get("/v1/policies")).json()["policies"]
        stored = next(p for p in listed if p["id"] == policy_id)
        assert stored["name"] == name
        assert stored["trigger"] == {
            "type": "event",
            "config": {"event": "anomaly.detected", "filters": {"severity": "high"}},
        }
        assert stored["conditions"] == [{"field": "metrics.cpu_percent.avg", "operator": "lt", "value": 5}]
        assert [a["type"] for a in stored["actions"]] == ["stop"]

        await page.get_by_test_id("policy-back").click()
        item = page.locator(f'[data-testid="policy-item"][data-policy-id="{policy_id}"]')
        await expect(item.get_by_test_id("policy-link")).to_have_text(name)

        await item.get_by_test_id("policy-link").click()
        await page.get_by_test_id("policy-edit").click()
        await expect(page.get_by_test_id("policy-form")).to_have_attribute("data-mode", "edit")
        await expect(page.get_by_test_id("policy-form-condition-value-0")).to_have_value("5")
        await page.get_by_test_id("policy-form-name").fill(f"{name} (edited)")
        await page.get_by_test_id("policy-form-submit").click()
        await expect(page.get_by_test_id("policy-name")).to_have_text(f"{name} (edited)")
        edited = (await admin.get(f"/v1/policies/{policy_id}")).json()
        assert edited["name"] == f"{name} (edited)"
        assert edited["conditions"] == stored["conditions"]
        assert edited["trigger"] == stored["trigger"]
        assert (await admin.delete(f"/v1/policies/{policy_id}")).status_code == 200
    assert _unexpected(page_log) == []


@pytest.mark.usefixtures("console_built")
async def test_admin_creates_pauses_and_deletes_a_report_schedule(
    page: Page, page_log: PageLog, stack: Stack, tmp_path: Path
) -> None:
    name = f"Weekly review {uuid.uuid4().hex[:6]}"
    await _sign_in(page, stack)
    await page.get_by_test_id("nav-reports").click()
    await page.get_by_test_id("schedule-new").click()
    await page.get_by_test_id("schedule-form-name").fill(name)
    await page.get_by_test_id("schedule-form-template").select_option("monthly_cost_review")
    await page.get_by_test_id("schedule-form-format").select_option("csv")
    await page.get_by_test_id("schedule-form-frequency").select_option("weekly")
    await page.get_by_test_id("schedule-form-day-of-week").select_option("2")
    await page.get_by_test_id("schedule-form-time").fill("06:30")
    await page.get_by_test_id("schedule-form-zone").select_option("other")
    await page.get_by_test_id("schedule-form-zone-other").fill("Mars/Olympus")
    await page.get_by_test_id("schedule-form-submit").click()
    await expect(page.get_by_test_id("schedule-form-error-schedule.timezone")).to_contain_text("Mars/Olympus")
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.get_by_test_id("schedule-form").screenshot(path=str(tmp_path / "schedule-form-phone.png"))
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the schedule form widens the page to {width} px on a phone"
    await page.set_viewport_size({"width": 1280, "height": 900})
    assert await _critical_violations(page) == []

    await page.get_by_test_id("schedule-form-zone-other").fill("Europe/Madrid")
    async with page.expect_response(lambda r: r.url.endswith("/v1/reports/schedule")) as answered:
        await page.get_by_test_id("schedule-form-submit").click()
    response = await answered.value
    assert response.status == 201, await response.text()
    schedule_id = str((await response.json())["schedule_id"])

    row = page.locator(f'[data-testid="schedules-row"][data-id="{schedule_id}"]')
    await expect(row.get_by_test_id("schedule-name")).to_have_text(name)
    await expect(row.get_by_test_id("schedule-cadence")).to_have_text(
        "weekly on Wednesday at 06:30 Europe/Madrid"
    )
    await expect(row).to_have_attribute("data-paused", "false")
    await row.get_by_test_id("schedule-toggle").click()
    await expect(row).to_have_attribute("data-paused", "true")
    await expect(row.get_by_test_id("schedule-toggle")).to_have_text("Resume")

    async with httpx.AsyncClient(
        base_url=stack.base_url, timeout=30, headers={"X-API-Key": stack.api_key}
    ) as admin:
        stored = (await admin.get(f"/v1/reports/schedules/{schedule_id}")).json()
        assert stored["enabled"] is False
        assert stored["paused"] is True
        assert stored["format"] == "csv"
        assert stored["schedule"] == {
            "frequency": "weekly",
            "day_of_week": 2,
            "day_of_month": None,
            "time": "06:30",
            "timezone": "Europe/Madrid",
        }

        await row.get_by_test_id("schedule-runs-toggle").click()
        await expect(row.get_by_test_id("schedule-runs-empty")).to_be_visible()
        await row.get_by_test_id("schedule-delete").click()
        await row.get_by_test_id("schedule-delete-confirm").click()
        await expect(page.locator(f'[data-testid="schedules-row"][data-id="{schedule_id}"]')).to_have_count(0)
        gone = await admin.get(f"/v1/reports/schedules/{schedule_id}")
        assert gone.status_code == 404, gone.text
    assert _unexpected(page_log) == []
