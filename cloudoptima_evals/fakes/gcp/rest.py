"""A strict fake of the GCP REST APIs we call: Compute, Resource Manager, Recommender, Asset, BigQuery.

Like the real APIs it requires ``Authorization: Bearer <token>`` (401 otherwise), checks the caller's
permissions per call (403 with the real ``PERMISSION_DENIED`` envelope naming the permission), pages every
list with ``nextPageToken`` (``state.page_size`` items per page), answers 429 when a fault is injected,
deduplicates mutations by ``requestId`` and returns finished (``DONE``) operations.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from cloudoptima_evals.fakes.gcp.bigquery import BigQueryRoutes
from cloudoptima_evals.fakes.gcp.compute import ComputeRoutes
from cloudoptima_evals.fakes.gcp.errors import ApiError
from cloudoptima_evals.fakes.gcp.projects import ProjectRoutes
from cloudoptima_evals.fakes.gcp.state import FakeGcp

Reply = tuple[int, dict[str, Any]]
TOKEN_PATH = "/token"
"""OAuth 2.0 token endpoint (a service-account key file's ``token_uri`` may name ``<url>/token``)."""


class Api(ComputeRoutes, ProjectRoutes, BigQueryRoutes):
    """Route handlers over one :class:`FakeGcp`: the route table, authentication and dispatch; the handlers
    live in the mixins (:mod:`.compute`, :mod:`.projects`, :mod:`.bigquery`)."""

    def __init__(self, state: FakeGcp) -> None:
        self.s = state
        p = r"(?P<p>[^/:]+)"
        c = f"/compute/v1/projects/{p}"
        self.routes: list[tuple[str, re.Pattern[str], str, Callable[..., Reply]]] = [
            ("GET", re.compile(rf"{c}/aggregated/(?P<coll>\w+)$"), "aggregated", self.aggregated),
            ("GET", re.compile(rf"{c}/global/snapshots$"), "snapshots.list", self.list_snapshots),
            (
                "GET",
                re.compile(rf"{c}/zones/(?P<z>[^/]+)/machineTypes/(?P<n>[^/]+)$"),
                "machineTypes",
                self.mtype,
            ),
            (
                "GET",
                re.compile(
                    rf"{c}/(?P<scope>zones|regions|global)/(?:(?P<z>[^/]+)/)?(?P<coll>\w+)/(?P<n>[^/]+)$"
                ),
                "get",
                self.get,
            ),
            (
                "POST",
                re.compile(rf"{c}/zones/(?P<z>[^/]+)/instances/(?P<n>[^/]+)/(?P<verb>\w+)$"),
                "instances.verb",
                self.instance_verb,
            ),
            (
                "POST",
                re.compile(rf"{c}/zones/(?P<z>[^/]+)/disks/(?P<n>[^/]+)/createSnapshot$"),
                "createSnapshot",
                self.create_snapshot,
            ),
            ("POST", re.compile(rf"{c}/zones/(?P<z>[^/]+)/disks$"), "disks.insert", self.insert_disk),
            (
                "POST",
                re.compile(
                    rf"{c}/(?P<scope>zones|regions|global)/(?:(?P<z>[^/]+)/)?(?P<coll>\w+)/(?P<n>[^/]+)/setLabels$"
                ),
                "setLabels",
                self.set_labels,
            ),
            (
                "DELETE",
                re.compile(
                    rf"{c}/(?P<scope>zones|regions|global)/(?:(?P<z>[^/]+)/)?(?P<coll>\w+)/(?P<n>[^/]+)$"
                ),
                "delete",
                self.delete,
            ),
            ("GET", re.compile(rf"/v3/projects/{p}$"), "projects.get", self.project_get),
            (
                "POST",
                re.compile(rf"/v3/projects/{p}:testIamPermissions$"),
                "testIamPermissions",
                self.test_perms,
            ),
            ("POST", re.compile(rf"/v3/projects/{p}:getIamPolicy$"), "getIamPolicy", self.get_policy),
            (
                "GET",
                re.compile(
                    rf"/v1/projects/{p}/locations/(?P<z>[^/]+)/recommenders/(?P<r>[^/]+)/recommendations$"
                ),
                "recommendations",
                self.recommendations,
            ),
            ("GET", re.compile(rf"/v1/projects/{p}/assets$"), "assets", self.assets),
            ("GET", re.compile(rf"/v1/projects/{p}/instances$"), "sql.instances", self.sql_instances),
            ("POST", re.compile(rf"/bigquery/v2/projects/{p}/queries$"), "bq.query", self.bq_query),
            (
                "GET",
                re.compile(rf"/bigquery/v2/projects/{p}/queries/(?P<job>[^/]+)$"),
                "bq.results",
                self.bq_results,
            ),
            ("GET", re.compile(rf"/bigquery/v2/projects/{p}/jobs/(?P<job>[^/]+)$"), "bq.job", self.bq_job),
        ]
        self.queries: dict[str, list[dict[str, Any]]] = {}

    # ----- helpers -------------------------------------------------------------------------------

    def dispatch(self, command: str, path: str, q: dict[str, str], raw: bytes, auth: str | None) -> Reply:
        """Check the bearer token, find the route, record the call, inject faults, run the handler."""
        st = self.s
        if not st.authorised(auth):
            raise ApiError(
                401,
                "UNAUTHENTICATED",
                "Request is missing required authentication credential. Expected OAuth 2 access token.",
                "unauthorized",
            )
        for method, pattern, route, fn in self.routes:
            match = pattern.match(path) if method == command else None
            if match is None:
                continue
            with st.lock:
                st.calls.append((f"{route}:{match.groupdict().get('coll', '')}", q.get("pageToken", "")))
            if st.take_throttle(route):
                raise ApiError(
                    429,
                    "RESOURCE_EXHAUSTED",
                    "Quota exceeded for quota metric 'Read requests'",
                    "rateLimitExceeded",
                )
            if match.groupdict().get("p") not in (None, st.project):
                raise ApiError(
                    403,
                    "PERMISSION_DENIED",
                    f"Required 'resourcemanager.projects.get' permission for 'projects/{match['p']}'",
                    "forbidden",
                )
            return fn(match, q, json.loads(raw) if raw else {})
        raise ApiError(404, "NOT_FOUND", f"no fake route for {command} {path}", "notFound")

    def need(self, permission: str, resource: str) -> None:
        if permission not in self.s.permissions:
            raise ApiError(
                403, "PERMISSION_DENIED", f"Required '{permission}' permission for '{resource}'", "forbidden"
            )


class FakeGcpServer:
    """The REST fake on a free 127.0.0.1 port, in a daemon thread."""

    def __init__(self, state: FakeGcp) -> None:
        self.state = state
        self.api = Api(state)
        api, server = self.api, self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _handle(self) -> None:
                url = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                q = {k: v[-1] for k, v in parse_qs(url.query).items()}
                try:
                    if self.command == "POST" and url.path == TOKEN_PATH:  # the one route without a token
                        code, reply = api.token(raw, f"{server.url}{TOKEN_PATH}")
                    else:
                        code, reply = api.dispatch(
                            self.command, url.path, q, raw, self.headers.get("Authorization")
                        )
                except ApiError as exc:
                    code, reply = exc.code, exc.body
                except Exception as exc:  # a fake bug must show as a 500, not a dropped connection
                    code, reply = 500, {"error": {"code": 500, "message": repr(exc), "status": "INTERNAL"}}
                data = json.dumps(reply).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = do_PATCH = _handle  # noqa: N815

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> FakeGcpServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
