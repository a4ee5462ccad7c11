"""The console's session in a real Chromium: it survives a reload (the httpOnly refresh cookie restores it on
the same screen), signing out ends it for good, and single sign-on through a strict local OIDC provider
(``tests.gateway.fake_idp``) signs in, or comes back with the refusal shown on the sign-in form."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Page, expect

from tests.browser.conftest import CONSOLE_INDEX, PageLog, Stack
from tests.gateway.fake_idp import FakeIdentityProvider, Person

pytestmark = pytest.mark.e2e

CLIENT_ID, CLIENT_SECRET = "cloudoptima-console-e2e", "idp-client-secret-e2e-0123456789"


@pytest.fixture
def console_built() -> None:
    if not CONSOLE_INDEX.is_file():
        pytest.skip(f"the console is not built ({CONSOLE_INDEX} missing): run `make web`")


@pytest.mark.usefixtures("console_built")
async def test_a_reload_keeps_the_session_and_sign_out_ends_it(
    page: Page, page_log: PageLog, stack: Stack
) -> None:
    await page.goto(stack.base_url + "/")
    await page.get_by_test_id("login-email").fill(stack.email)
    await page.get_by_test_id("login-password").fill(stack.password)
    await page.get_by_test_id("login-submit").click()
    await page.get_by_test_id("nav-budgets").click()
    await expect(page).to_have_url(stack.base_url + "/budgets")
    role = await page.get_by_test_id("app-shell").get_attribute("data-role")
    assert role

    # The refresh token is out of script's reach; only the marker (no secret) is readable.
    cookies = {c["name"]: c for c in await page.context.cookies()}
    assert cookies["cloudoptima_refresh"]["httpOnly"] and cookies["cloudoptima_refresh"]["path"] == "/v1/auth"
    assert cookies["cloudoptima_refresh"]["sameSite"] == "Strict"
    assert "cloudoptima_refresh" not in await page.evaluate("document.cookie")

    await page.reload()
    await expect(page.get_by_test_id("app-shell")).to_have_attribute("data-role", role)
    await expect(page.get_by_test_id("nav-budgets")).to_have_attribute("aria-current", "page")
    await expect(page.get_by_test_id("login-screen")).to_have_count(0)

    await page.get_by_test_id("logout").click()
    await expect(page.get_by_test_id("login-screen")).to_be_visible()
    await page.reload()
    await expect(page.get_by_test_id("login-form")).to_be_visible()
    await expect(page.get_by_test_id("app-shell")).to_have_count(0)
    assert "cloudoptima_refresh" not in {c["name"] for c in await page.context.cookies()}
    assert page_log.errors == [] and page_log.console_errors() == []
    assert page_log.foreign_requests == []


@pytest_asyncio.fixture(loop_scope="session")
async def demo_sso(stack: Stack) -> AsyncIterator[tuple[FakeIdentityProvider, str]]:
    """SSO for the demo organisation through a fake IdP the browser can reach; removed afterwards."""
    slug = f"demo-{uuid.uuid4().hex[:8]}"
    with FakeIdentityProvider() as idp:
        idp.register(CLIENT_ID, CLIENT_SECRET, f"{stack.base_url}/v1/auth/sso/callback")
        async with httpx.AsyncClient(
            base_url=stack.base_url, timeout=30, headers={"X-API-Key": stack.api_key}
        ) as api:
            configured = await api.put(
                "/v1/organization/sso",
                json={
                    "slug": slug,
                    "issuer": idp.url,
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "group_roles": {"engineers": "engineer"},
                },
            )
            assert configured.status_code == 200, configured.text
            try:
                yield idp, slug
            finally:
                assert (await api.delete("/v1/organization/sso")).status_code == 200


@pytest.mark.usefixtures("console_built")
async def test_sso_sign_in_from_the_console(
    page: Page, page_log: PageLog, demo_sso: tuple[FakeIdentityProvider, str]
) -> None:
    idp, slug = demo_sso
    base = page_log.origin
    # Refused (no group maps to a role): back on the sign-in form with the gateway's reason.
    idp.next_person = Person(f"sub-{uuid.uuid4().hex[:6]}", f"mallory-{slug}@example.com", ["marketing"])
    await page.goto(base + "/")
    await page.get_by_test_id("sso-slug").fill(slug)
    await page.get_by_test_id("sso-submit").click()
    await expect(page.get_by_test_id("sso-error")).to_contain_text("none of your groups (marketing)")
    await expect(page).to_have_url(base + "/")  # the error is read once and dropped from the URL

    # Admitted: the console opens with the role of the person's groups, and a reload keeps it.
    idp.next_person = Person(f"sub-{uuid.uuid4().hex[:6]}", f"grace-{slug}@example.com", ["engineers"])
    await expect(page.get_by_test_id("sso-slug")).to_have_value(slug)  # remembered
    await page.get_by_test_id("sso-submit").click()
    await expect(page.get_by_test_id("app-shell")).to_have_attribute("data-role", "engineer")
    await page.reload()
    await expect(page.get_by_test_id("app-shell")).to_have_attribute("data-role", "engineer")
    assert page_log.errors == []
    assert all(url.startswith(idp.url + "/") for url in page_log.foreign_requests), page_log.foreign_requests
