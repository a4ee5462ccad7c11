"""Every console screen fits a phone (390×844, touch) and a 1280×800 window, in the light and the dark theme.

One page per size: the sign-in page is checked (system light and dark scheme), the demo admin signs in once, then
every screen the navigation lists is opened by its own
link (on a phone through the top bar's Menu button, which must be visible and must close the drawer again), and
one detail page each for anomalies, recommendations, approvals and policies when the demo has one (the test waits
for the demo's first analysis run to store its anomalies and adds a disabled policy, deleted afterwards), then the
creation form of Budgets, Reports (schedules) and Policies, then the chat panel (within the viewport, nothing off
screen, closable). On every page,
in both themes (switched by the top bar's theme toggle, as a reader would), the test checks:

- the page itself does not scroll sideways (``documentElement.scrollWidth`` ≤ the viewport's width + 1): a wide
  table or chart scrolls inside its own wrapper, never the page;
- the screen's main heading (``main h1``) is visible, and the top bar's items sit in one row;
- no element carrying text (or a control, canvas or image) has an edge beyond the viewport unless it sits in a
  clipping or scrolling box that itself fits: every such element is named in the failure message.

A full-page screenshot per screen, size and theme is saved as ``<size>/<nn>-<screen>-<theme>.png`` under the
test's ``tmp_path`` (the folder is printed). Problems are collected over the whole walk and reported together.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Browser, Locator, Page, expect

from tests.browser.conftest import CONSOLE_INDEX, PageLog, Stack

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
# A list screen's label → the test id of its rows' links to a detail page.
DETAIL_LINKS = {
    "Anomalies": "anomaly-link",
    "Recommendations": "rec-link",
    "Approvals": "approval-link",
    "Policies": "policy-link",
    "Allocation": "alloc-dimension-link",
}
# A list screen's label → the test id of the button or link that opens its creation form.
FORM_OPENERS = {
    "Budgets": "budget-new",
    "Reports": "schedule-new",
    "Policies": "policy-new",
    "Exports": "export-new",
}

# Elements with an edge outside the viewport that no fitting clipping/scrolling ancestor contains.
OFF_SCREEN_JS = """(width) => {
    const describe = (el) => {
        const id = el.getAttribute('data-testid');
        const cls = typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
        const text = (el.innerText || el.getAttribute('aria-label') || '').trim().slice(0, 40).replace(/\\s+/g, ' ');
        return `${el.tagName.toLowerCase()}${id ? `[data-testid=${id}]` : ''}${cls} "${text}"`;
    };
    const contained = (el) => {
        for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
            if (getComputedStyle(a).overflowX !== 'visible') {
                const r = a.getBoundingClientRect();
                return r.right <= width + 1 && r.left >= -1;
            }
        }
        return false;
    };
    const leaves = new Set(['INPUT', 'SELECT', 'TEXTAREA', 'BUTTON', 'CANVAS', 'IMG', 'svg']);
    const out = [];
    for (const el of document.body.querySelectorAll('*')) {
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0 || (r.right <= width + 1 && r.left >= -1)) continue;
        const ownText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
        if (!ownText && !leaves.has(el.tagName)) continue;
        const style = getComputedStyle(el);
        if (style.visibility === 'hidden' || style.display === 'none') continue;
        if (contained(el)) continue;
        out.push(`${describe(el)} left=${Math.round(r.left)} right=${Math.round(r.right)}`);
    }
    return out.slice(0, 15);
}"""


# How many rows the top bar's visible items are laid out in (items whose vertical extents overlap share a row).
TOP_BAR_ROWS_JS = """() => {
    const boxes = [...document.querySelectorAll('header.topbar > *')]
        .map((el) => el.getBoundingClientRect()).filter((r) => r.width > 0 && r.height > 0);
    const rows = [];
    for (const r of boxes) {
        const row = rows.find((o) => r.top < o.bottom && o.top < r.bottom);
        if (row) { row.top = Math.min(row.top, r.top); row.bottom = Math.max(row.bottom, r.bottom); }
        else rows.push({top: r.top, bottom: r.bottom});
    }
    return rows.length;
}"""


@pytest.fixture
def console_built() -> None:
    if not CONSOLE_INDEX.is_file():
        pytest.skip(f"the console is not built ({CONSOLE_INDEX} missing): run `make web`")


# A policy that never runs (disabled), so the Policies list has a row and a detail page to lay out.
POLICY: dict[str, Any] = {
    "name": "Layout check: stop idle search instances (browser test)",
    "description": "Created by the layout test so the Policies screen has a row; deleted afterwards.",
    "trigger": {"type": "event", "config": {"event": "anomaly.detected", "filters": {"severity": "high"}}},
    "conditions": [{"field": "tags.team", "operator": "eq", "value": "search"}],
    "actions": [{"type": "stop"}],
    "safety_controls": {"require_approval": True, "max_resources_per_execution": 10},
    "risk_level": "low",
    "enabled": False,
}
ANALYSIS_TIMEOUT_S = 180


@pytest_asyncio.fixture
async def with_data(stack: Stack) -> AsyncIterator[None]:
    """The screens with rows: waits for the demo's first analysis run (``cloudoptima up`` starts it) to have
    stored explained anomalies, and creates a disabled policy through the API (deleted afterwards)."""
    deadline = time.monotonic() + ANALYSIS_TIMEOUT_S
    while True:
        answer = await stack.api("/v1/costs/anomalies", limit="500")
        assert answer.status_code == 200, answer.text
        rows = answer.json()["anomalies"]
        if rows and all(r["root_cause"] for r in rows):
            break
        assert time.monotonic() < deadline, f"no explained anomalies after {ANALYSIS_TIMEOUT_S} s: {rows}"
        await asyncio.sleep(1)
    async with httpx.AsyncClient(
        base_url=stack.base_url, timeout=30, headers={"X-API-Key": stack.api_key}
    ) as admin:
        created = await admin.post("/v1/policies", json=POLICY)
        assert created.status_code == 201, created.text
        try:
            yield
        finally:
            deleted = await admin.delete(f"/v1/policies/{created.json()['policy_id']}")
            assert deleted.status_code in {200, 204}, deleted.text


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


async def _sign_in(page: Page, stack: Stack) -> None:
    await page.goto(stack.base_url + "/login")
    await page.get_by_test_id("login-email").fill(stack.email)
    await page.get_by_test_id("login-password").fill(stack.password)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("app-shell")).to_be_visible()


async def _check(page: Page, where: str, shot: Path, width: int, *, signed_in: bool = True) -> list[str]:
    """The page as it is: sideways scroll, a visible heading, elements off screen, the top bar's rows."""
    problems: list[str] = []
    scroll_width: int = await page.evaluate("() => document.documentElement.scrollWidth")
    if scroll_width > width + 1:
        problems.append(f"{where}: the page scrolls sideways ({scroll_width} px wide)")
    heading = page.locator("main h1" if signed_in else "h1").first
    if not await heading.is_visible():
        problems.append(f"{where}: no visible main heading")
    off_screen: list[Any] = await page.evaluate(OFF_SCREEN_JS, width)
    problems.extend(f"{where}: off screen: {item}" for item in off_screen)
    if signed_in:
        rows: int = await page.evaluate(TOP_BAR_ROWS_JS)
        if rows != 1:
            problems.append(f"{where}: the top bar takes {rows} rows")
    await page.screenshot(path=str(shot), full_page=True)
    return problems


async def _check_both_themes(page: Page, name: str, shots: Path, index: int, width: int) -> list[str]:
    """Checks the page as it is in the current theme, toggles the theme and checks it again; the problems found."""
    problems: list[str] = []
    await expect(page.locator("[data-state=loading]")).to_have_count(0, timeout=30_000)
    for _ in range(2):
        theme = await page.evaluate("() => document.documentElement.dataset.theme || 'light'")
        shot = shots / f"{index:02d}-{_slug(name)}-{theme}.png"
        problems += await _check(page, f"{width}px {theme} {name}", shot, width)
        await page.get_by_test_id("theme-toggle").click()
        other = "light" if theme == "dark" else "dark"
        await expect(page.locator("html")).to_have_attribute("data-theme", other)
    return problems


async def _walk(page: Page, stack: Stack, shots: Path, *, phone: bool) -> list[str]:
    """Checks the sign-in page (in the system's light and dark scheme), signs in, opens every screen (one detail
    per list with details, the creation form of lists with one) by the console's links, checks each."""
    width = PHONE["width"] if phone else DESKTOP["width"]
    problems: list[str] = []
    await page.goto(stack.base_url + "/login")
    await expect(
        page.get_by_test_id("login-submit")
    ).to_be_visible()  # the app follows the system's scheme now
    for scheme in ("dark", "light"):
        await page.emulate_media(color_scheme=scheme)
        await expect(page.locator("html")).to_have_attribute("data-theme", scheme)
        problems += await _check(
            page, f"{width}px {scheme} sign-in", shots / f"00-sign-in-{scheme}.png", width, signed_in=False
        )
    await _sign_in(page, stack)
    nav = page.get_by_test_id("main-nav")
    toggle = page.get_by_test_id("nav-toggle")
    if phone:
        await expect(nav).to_be_hidden()
        await expect(toggle).to_be_visible()
        await toggle.click()
        await expect(toggle).to_have_attribute("aria-expanded", "true")
    else:
        await expect(toggle).to_be_hidden()
    await expect(nav).to_be_visible()
    links = nav.locator("a")
    labels = [label.strip() for label in await links.all_inner_texts()]
    assert len(labels) >= 10, labels

    async def open_screen(position: int) -> None:
        if phone and not await nav.is_visible():
            await toggle.click()
        link = links.nth(position)
        await expect(link).to_be_visible()
        await link.click()
        await expect(link).to_have_attribute("aria-current", "page")
        if phone:
            await expect(nav).to_be_hidden()

    index = 0
    for position, label in enumerate(labels):
        await open_screen(position)
        index += 1
        problems += await _check_both_themes(page, label, shots, index, width)
        detail_link = DETAIL_LINKS.get(label)
        if detail_link and await page.get_by_test_id(detail_link).count() > 0:
            await page.get_by_test_id(detail_link).first.click()
            await expect(page).to_have_url(re.compile(r"/[^/]+/[^/]+$"))
            index += 1
            problems += await _check_both_themes(page, f"{label} detail", shots, index, width)
        opener = FORM_OPENERS.get(label)
        if opener:
            await open_screen(position)
            await expect(page.locator("[data-state=loading]")).to_have_count(0, timeout=30_000)
            if await page.get_by_test_id(opener).is_visible():
                await page.get_by_test_id(opener).click()
                await expect(page.locator("form").first).to_be_visible()
                index += 1
                problems += await _check_both_themes(page, f"{label} form", shots, index, width)
    # The assistant: a side sheet at 1280 px, the whole screen on a phone; its own heading is an h2.
    await page.get_by_test_id("chat-toggle").click()
    panel = page.get_by_test_id("chat-panel")
    await expect(panel).to_be_visible()
    await expect(page.get_by_test_id("chat-input")).to_be_visible()
    box = await panel.bounding_box()
    assert box is not None
    if box["x"] < -1 or box["x"] + box["width"] > width + 1:
        problems.append(f"{width}px: the chat panel spans {box['x']:.0f}..{box['x'] + box['width']:.0f}")
    off_screen: list[Any] = await page.evaluate(OFF_SCREEN_JS, width)
    problems.extend(f"{width}px chat: off screen: {item}" for item in off_screen)
    await page.screenshot(path=str(shots / f"{index + 1:02d}-chat.png"))
    await page.get_by_test_id("chat-close").click()
    await expect(panel).to_be_hidden()
    return problems


async def _chart_width(canvas: Locator, wanted: Callable[[float], bool]) -> float:
    """The chart canvas's laid-out width once ``wanted`` holds for it (a chart redraws when its data or its
    container changes, so the canvas may be briefly absent); fails after 10 s naming the last width seen."""
    deadline = time.monotonic() + 10
    while (box := await canvas.first.bounding_box()) is None or not wanted(box["width"]):
        assert time.monotonic() < deadline, f"the chart's box stayed {box}"
        await asyncio.sleep(0.1)
    return box["width"]


@pytest.mark.usefixtures("console_built", "with_data")
async def test_every_screen_fits_a_phone_in_both_themes(
    browser: Browser, stack: Stack, tmp_path: Path
) -> None:
    context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    errors: list[str] = []
    try:
        page = await context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        problems = await _walk(page, stack, tmp_path / "phone", phone=True)
    finally:
        await context.close()
    print(f"screenshots: {tmp_path / 'phone'}")
    assert problems == [], "\n".join(problems)
    assert errors == []


@pytest.mark.usefixtures("console_built", "with_data")
async def test_every_screen_fits_1280_px_in_both_themes(
    page: Page, page_log: PageLog, stack: Stack, tmp_path: Path
) -> None:
    await page.set_viewport_size(DESKTOP)
    problems = await _walk(page, stack, tmp_path / "desktop", phone=False)
    # The window narrows to a phone's width: the Overview's chart follows its container, the page stays put.
    await page.get_by_test_id("nav-overview").click()
    await expect(page.locator("[data-state=loading]")).to_have_count(0, timeout=30_000)
    canvas = page.get_by_test_id("overview-trend-chart").locator("canvas")
    assert await _chart_width(canvas, lambda w: w > PHONE["width"]) > PHONE["width"]
    await page.set_viewport_size(PHONE)
    assert await _chart_width(canvas, lambda w: w < PHONE["width"]) < PHONE["width"]
    problems += await _check(
        page, "1280→390px light Overview", tmp_path / "desktop" / "resized.png", PHONE["width"]
    )
    print(f"screenshots: {tmp_path / 'desktop'}")
    assert problems == [], "\n".join(problems)
    assert page_log.errors == []
