"""The gateway serves the built web console at ``/`` (cloudoptima_gateway.console): files with their types and
caching, client-side routes answered with index.html, API misses still JSON, the console's CSP, and a 503 page
saying how to build it when it is not built."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cloudoptima.settings import Settings
from cloudoptima_gateway.app import create_app
from cloudoptima_gateway.console import DEFAULT_CONSOLE_DIR, console_csp, resolve_console_dir
from cloudoptima_gateway.docs_pages import DEFAULT_CSP

INDEX = '<!doctype html><html><head><script type="module" src="/assets/index-AbC123.js"></script></head>'
SCRIPT = "console.log('console');"
STYLE = "body{margin:0}"


@pytest.fixture
def console_dir(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX + "<body><div id=root></div></body></html>")
    (dist / "assets" / "index-AbC123.js").write_text(SCRIPT)
    (dist / "assets" / "index-DeF456.css").write_text(STYLE)
    (dist / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path / "secret.txt").write_text("outside the console folder")
    return dist


def _client(tmp_path: Path, console: Path) -> TestClient:
    settings = Settings(state_dir=tmp_path / "state", console_dir=console, log_level="WARNING")
    return TestClient(create_app(settings))


@pytest.fixture
def client(tmp_path: Path, console_dir: Path) -> Iterator[TestClient]:
    with _client(tmp_path, console_dir) as test_client:
        yield test_client


def test_index_and_hashed_assets_have_their_types_and_caching(client: TestClient) -> None:
    index = client.get("/")
    assert index.status_code == 200 and index.text.startswith(INDEX)
    assert index.headers["content-type"] == "text/html; charset=utf-8"
    assert index.headers["cache-control"] == "no-cache"

    script = client.get("/assets/index-AbC123.js")
    assert script.status_code == 200 and script.text == SCRIPT
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"

    style = client.get("/assets/index-DeF456.css")
    assert style.status_code == 200 and style.text == STYLE
    assert style.headers["content-type"] == "text/css; charset=utf-8"
    assert style.headers["cache-control"] == "public, max-age=31536000, immutable"

    icon = client.get("/favicon.svg")  # not hashed: revalidated
    assert icon.headers["content-type"] == "image/svg+xml" and icon.headers["cache-control"] == "no-cache"
    assert client.head("/").status_code == 200


def test_client_side_routes_get_index_and_missing_files_do_not(client: TestClient) -> None:
    for route in ("/anomalies", "/anomalies/6b1c2f4e", "/login", "/budgets/"):
        response = client.get(route)
        assert response.status_code == 200, route
        assert response.text.startswith(INDEX), route
        assert response.headers["cache-control"] == "no-cache"
    for missing in ("/assets/index-Gone99.js", "/assets/other", "/logo.png"):
        response = client.get(missing)
        assert response.status_code == 404, missing
        assert "text/plain" in response.headers["content-type"], missing
    # A file beside (not inside) the console folder is never served, however the path is spelled.
    for escape in ("/..%2fsecret.txt", "/assets/..%2f..%2fsecret.txt", "/%2e%2e/secret.txt"):
        response = client.get(escape)
        assert "outside the console folder" not in response.text, escape


def test_api_misses_stay_json_404s(client: TestClient) -> None:
    for path in ("/v1/no-such-thing", "/v1", "/mcp/x", "/docs/nothing", "/health/nothing", "/openapi.json/x"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/json", path
        assert response.json() == {"detail": "Not Found"}, path
    # Only GET and HEAD are the console's: another method on a console path is the API's 404.
    posted = client.post("/anomalies", json={})
    assert posted.status_code == 404 and posted.json() == {"detail": "Not Found"}
    # Real API answers are untouched (and keep the default policy).
    spec = client.get("/openapi.json")
    assert spec.status_code == 200 and spec.json()["info"]["title"] == "CloudOptima API"
    assert spec.headers["content-security-policy"] == DEFAULT_CSP
    assert client.get("/v1/costs/overview").status_code == 401


def test_console_responses_carry_the_console_csp_and_the_security_headers(client: TestClient) -> None:
    for path in ("/", "/overview", "/assets/index-AbC123.js", "/assets/missing.js"):
        response = client.get(path)
        csp = response.headers["content-security-policy"]
        assert csp == console_csp("testserver"), path
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["default-src"] == "'self'"
        assert directives["script-src"] == "'self'"  # no inline script, no eval
        assert directives["img-src"] == "'self' data:"
        assert directives["connect-src"] == "'self' ws://testserver wss://testserver"
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["x-frame-options"] == "DENY", path


def test_a_host_header_that_is_not_a_host_adds_no_socket_source() -> None:
    assert console_csp("127.0.0.1:8000").endswith(
        "connect-src 'self' ws://127.0.0.1:8000 wss://127.0.0.1:8000"
    )
    assert console_csp("[::1]:8000").endswith("ws://[::1]:8000 wss://[::1]:8000")
    for bad in ("evil.example; script-src *", "a b", None, ""):
        assert console_csp(bad).endswith("connect-src 'self'"), bad


def test_not_built_console_answers_how_to_build_it(tmp_path: Path) -> None:
    empty = tmp_path / "never-built"
    empty.mkdir()
    with _client(tmp_path, empty) as client:
        for path in ("/", "/overview"):
            response = client.get(path)
            assert response.status_code == 503, path
            assert response.headers["content-type"].startswith("text/html")
            assert "make web" in response.text and "<h1>" in response.text
            assert response.headers["cache-control"] == "no-store"
            assert response.headers["content-security-policy"] == console_csp("testserver")
        assert client.get("/v1/nothing").json() == {"detail": "Not Found"}


def test_default_console_dir_is_the_checkouts_web_dist() -> None:
    assert resolve_console_dir(None) == DEFAULT_CONSOLE_DIR
    assert DEFAULT_CONSOLE_DIR.parts[-2:] == ("web", "dist")
    assert (DEFAULT_CONSOLE_DIR.parent / "package-lock.json").is_file()
    assert resolve_console_dir(Path("/srv/console")) == Path("/srv/console")


def test_the_built_console_has_no_inline_script_and_nothing_from_another_host() -> None:
    index = DEFAULT_CONSOLE_DIR / "index.html"
    if not index.is_file():
        pytest.skip("the console is not built (make web)")
    html = index.read_text()
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.DOTALL)
    assert scripts, "index.html loads no script"
    for attributes, body in scripts:
        assert body.strip() == "" and 'src="/assets/' in attributes
    assert not re.search(r"""(?:src|href)=["'](?:https?:)?//""", html)
    for asset in re.findall(r"""(?:src|href)="/(assets/[^"]+)\"""", html):
        assert (DEFAULT_CONSOLE_DIR / asset).is_file(), asset
