"""Every console screen in a real Chromium, checked by axe-core run in the page: no ``critical`` violation.

The sign-in page is checked first, then the demo admin signs in and every screen the navigation lists is
opened by its link (the list is read from the page, so a new screen is covered the day it is added). On each
screen the test waits until nothing is ``[data-state=loading]``, runs ``axe.run(document)`` and saves a
full-page screenshot, ``<n>-<screen>.png``, under the test's ``tmp_path`` (the folder is printed); then it
switches to the dark theme with the top bar's toggle and does the same (``<n>-<screen>-dark.png``, reported as
``<screen> (dark)``), and switches back.

axe-core comes from the console's own npm devDependencies (``web/node_modules/axe-core/axe.min.js``, installed
by ``npm ci``). It is injected with the DevTools protocol's ``Runtime.evaluate``, which the page's CSP
(``script-src 'self'``) does not apply to, so the page runs under its real CSP: no ``bypass_csp``. ``serious``
violations are printed as a summary (and named in the assertion message) but do not fail the test.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import CDPSession, Page, expect

from tests.browser.conftest import CONSOLE_INDEX, REPO, PageLog, Stack

pytestmark = pytest.mark.e2e

AXE = REPO / "web" / "node_modules" / "axe-core" / "axe.min.js"
# The screens App.tsx's SCREENS lists today; the navigation may list more (each is checked), never fewer.
EXPECTED_SCREENS = {
    "Overview",
    "Cost explorer",
    "Budgets",
    "Anomalies",
    "Recommendations",
    "Approvals",
    "Cloud accounts",
    "Reports",
    "Notifications",
    "Policies",
    "Tags",
    "Data health",
    "Exports",
    "Allocation",
    "Savings",
    "Commitments",
}


@pytest.fixture
def axe_source() -> str:
    if not CONSOLE_INDEX.is_file():
        pytest.skip(f"the console is not built ({CONSOLE_INDEX} missing): run `make web`")
    if not AXE.is_file():
        pytest.skip(f"{AXE} missing: run `npm ci` in web/")
    return AXE.read_text()


async def _audit(page: Page, cdp: CDPSession, source: str) -> list[dict[str, Any]]:
    """axe's violations on the page as it is (axe is injected when the document does not have it yet); fails
    when axe checked nothing (a rule that passed proves it looked at the page)."""
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        injected = await cdp.send("Runtime.evaluate", {"expression": source})
        assert "exceptionDetails" not in injected, injected
    result: dict[str, Any] = await page.evaluate(
        """async () => {
            const r = await window.axe.run(document, {resultTypes: ['violations']});
            return {passes: r.passes.length, violations: r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))};
        }"""
    )
    assert result["passes"] > 0, result
    return list(result["violations"])


async def _settled(page: Page) -> None:
    await expect(page.locator("[data-state=loading]")).to_have_count(0, timeout=30_000)


async def test_no_critical_accessibility_violation_on_any_screen(
    page: Page, page_log: PageLog, stack: Stack, axe_source: str, tmp_path: Path
) -> None:
    cdp = await page.context.new_cdp_session(page)
    found: dict[str, list[dict[str, Any]]] = {}

    async def check(index: int, name: str) -> None:
        await _settled(page)
        found[name] = await _audit(page, cdp, axe_source)
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        await page.screenshot(path=str(tmp_path / f"{index:02d}-{slug}.png"), full_page=True)
        if index == 0:
            return
        # The dark theme too (contrast differs): switched by the top bar's toggle, audited, switched back.
        html = page.locator("html")
        await page.get_by_test_id("theme-toggle").click()
        await expect(html).to_have_attribute("data-theme", "dark")
        found[f"{name} (dark)"] = await _audit(page, cdp, axe_source)
        await page.screenshot(path=str(tmp_path / f"{index:02d}-{slug}-dark.png"), full_page=True)
        await page.get_by_test_id("theme-toggle").click()
        await expect(html).to_have_attribute("data-theme", "light")

    await page.goto(stack.base_url + "/login")
    await expect(page.get_by_test_id("login-submit")).to_be_visible()
    await check(0, "Sign in")
    await page.get_by_test_id("login-email").fill(stack.email)
    await page.get_by_test_id("login-password").fill(stack.password)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("app-shell")).to_be_visible()

    links = page.get_by_test_id("main-nav").get_by_role("link")
    labels = [label.strip() for label in await links.all_inner_texts()]
    assert set(labels) >= EXPECTED_SCREENS, labels
    for index, label in enumerate(labels, start=1):
        await links.nth(index - 1).click()
        await expect(links.nth(index - 1)).to_have_attribute("aria-current", "page")
        await check(index, label)

    print(f"screenshots: {tmp_path}")
    lines = [
        f"{screen}: [{v['impact']}] {v['id']} ({v['help']}) at {', '.join(v['nodes'])}"
        for screen, violations in found.items()
        for v in violations
    ]
    print("\n".join(["axe violations:", *lines] if lines else ["axe: no violation on any screen"]))
    critical = [line for line in lines if "[critical]" in line]
    assert critical == [], "\n".join(lines)
    assert page_log.errors == []
