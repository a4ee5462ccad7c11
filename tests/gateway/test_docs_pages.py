"""``/docs`` and ``/redoc`` work offline: every asset they reference is the gateway's own and is served.

(That the page really renders the operations in a browser with no network: tests/browser/test_docs_page.py.)
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from cloudoptima_gateway.docs_pages import ASSETS_PATH, DOCS_CSP, SHIPPED_ASSETS, shipped_assets_dir

_REFERENCE = re.compile(r"""(?:src|href|spec-url)="([^"]+)\"""")


def _references(html: str) -> list[str]:
    return _REFERENCE.findall(html)


def test_docs_pages_reference_only_local_assets_and_every_one_is_served(client: TestClient) -> None:
    for page, expected in (
        ("/docs", {"swagger-ui.css", "favicon.png", "swagger-ui-bundle.js", "swagger-init.js"}),
        ("/redoc", {"favicon.png", "redoc.standalone.js"}),
    ):
        response = client.get(page)
        assert response.status_code == 200 and response.headers["content-security-policy"] == DOCS_CSP
        refs = _references(response.text)
        assert refs, page
        assets = [r for r in refs if r.startswith(ASSETS_PATH + "/")]
        assert {a.rsplit("/", 1)[1] for a in assets} == expected, page
        # Nothing from another host or scheme: every reference is a path on the gateway.
        assert all(r.startswith("/") and not r.startswith("//") for r in refs), refs
        for asset in assets:
            served = client.get(asset)
            assert served.status_code == 200, asset
            assert served.content, asset
    # Swagger UI is told where the OpenAPI document is, and that document answers.
    assert 'data-openapi-url="/openapi.json"' in client.get("/docs").text
    assert client.get("/openapi.json").json()["paths"]["/v1/costs/overview"]


def test_assets_are_the_shipped_files_with_their_types(client: TestClient) -> None:
    folder = shipped_assets_dir()
    types = {".js": "javascript", ".css": "text/css", ".png": "image/png"}
    for name in SHIPPED_ASSETS:
        served = client.get(f"{ASSETS_PATH}/{name}")
        assert served.content == (folder / name).read_bytes(), name
        assert types[name[name.rindex(".") :]] in served.headers["content-type"], name
    init = client.get(f"{ASSETS_PATH}/swagger-init.js")
    assert "javascript" in init.headers["content-type"] and "SwaggerUIBundle(" in init.text
    # Only the shipped names: no other file of the package (or beyond it) is reachable.
    for name in ("core.py", "..%2Fcore.py", "..%2F..%2Ffastapi_offline%2F__init__.py", "missing.js"):
        assert client.get(f"{ASSETS_PATH}/{name}").status_code == 404, name
