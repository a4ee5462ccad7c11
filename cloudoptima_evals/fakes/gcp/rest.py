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
from cloudoptima_evals.fakes.gcp.errors import ApiError, page
from cloudoptima_evals.fakes.gcp.state import MACHINE_TYPES, FakeGcp

Reply = tuple[int, dict[str, Any]]
TOKEN_PATH = "/token"
"""OAuth 2.0 token endpoint (a service-account key file's ``token_uri`` may name ``<url>/token``)."""
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
"""The audience google-auth signs assertions for whatever the key's ``token_uri`` (Google accepts both)."""


class Api(BigQueryRoutes):
    """Route handlers over one :class:`FakeGcp`."""

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

    def table(self, coll: str) -> dict[str, dict[str, Any]]:
        return {
            "instances": self.s.instances,
            "disks": self.s.disks,
            "snapshots": self.s.snapshots,
            "addresses": self.s.addresses,
            "forwardingRules": self.s.forwarding_rules,
        }[coll]

    def lookup(self, m: re.Match[str]) -> tuple[str, dict[str, Any]]:
        coll, name = m["coll"], m["n"]
        key = name if coll == "snapshots" else f"{m['z']}/{name}"
        obj = self.table(coll).get(key)
        if obj is None:
            raise ApiError(
                404,
                "NOT_FOUND",
                f"The resource 'projects/{self.s.project}/{coll}/{name}' was not found",
                "notFound",
            )
        return key, obj

    def operation(self, q: dict[str, str], target: str, kind: str, act: Callable[[], object]) -> Reply:
        """Run ``act`` once per requestId and return the finished operation."""
        request_id = q.get("requestId", "")
        with self.s.lock:
            if request_id and request_id in self.s.operations:
                return 200, self.s.operations[request_id]
            act()
            op = {
                "kind": "compute#operation",
                "id": self.s.next_id(),
                "name": f"operation-{self.s.next_id()}",
                "operationType": kind,
                "targetLink": target,
                "status": "DONE",
                "progress": 100,
            }
            if request_id:
                self.s.operations[request_id] = op
            return 200, op

    # ----- compute -------------------------------------------------------------------------------

    def aggregated(self, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
        coll = m["coll"]
        self.need(f"compute.{coll}.list", f"projects/{self.s.project}")
        flt = re.fullmatch(r'name = "([^"]+)"', q.get("filter", ""))
        objs = [o for o in self.table(coll).values() if not flt or o["name"] == flt.group(1)]
        pairs = sorted(
            (("/".join((o.get("zone") or o["region"]).split("/")[-2:]), o) for o in objs), key=lambda p: p[0]
        )
        chunk, token = page(pairs, q.get("pageToken", ""), self.s.page_size)
        items: dict[str, Any] = {}
        for scope, obj in chunk:
            items.setdefault(scope, {coll: []})[coll].append(obj)
        regions = sorted({z.rsplit("-", 1)[0] for z in self.s.zones})
        scopes = (
            [f"zones/{z}" for z in self.s.zones]
            if coll in ("instances", "disks")
            else [f"regions/{r}" for r in regions]
        )
        first_page = not q.get("pageToken")
        for scope in scopes:
            where = scope.split("/")[1]
            if where in self.s.unreachable and first_page:
                items[scope] = {"warning": {"code": "UNREACHABLE", "message": f"{scope} is unavailable"}}
            elif scope not in items and first_page:
                items[scope] = {"warning": {"code": "NO_RESULTS_ON_PAGE", "message": "no results"}}
        reply: dict[str, Any] = {"kind": "compute#aggregatedList", "items": items}
        if token:
            reply["nextPageToken"] = token
        return 200, reply

    def list_snapshots(self, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
        self.need("compute.snapshots.list", f"projects/{self.s.project}")
        chunk, token = page(
            sorted(self.s.snapshots.values(), key=lambda o: o["name"]),
            q.get("pageToken", ""),
            self.s.page_size,
        )
        return 200, {"items": chunk, **({"nextPageToken": token} if token else {})}

    def mtype(self, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
        self.need("compute.machineTypes.get", f"projects/{self.s.project}")
        if m["n"] not in MACHINE_TYPES:
            raise ApiError(
                404,
                "NOT_FOUND",
                f"The resource 'projects/{self.s.project}/zones/{m['z']}/machineTypes/"
                f"{m['n']}' was not found",
                "notFound",
            )
        cpus, mem = MACHINE_TYPES[m["n"]]
        return 200, {"name": m["n"], "guestCpus": cpus, "memoryMb": mem, "zone": m["z"]}

    def get(self, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
        self.need(f"compute.{m['coll']}.get", f"projects/{self.s.project}")
        return 200, self.lookup(m)[1]

    def instance_verb(self, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
        verb = m["verb"]
        permission = f"compute.instances.{verb}"
        self.need(permission, f"projects/{self.s.project}/zones/{m['z']}/instances/{m['n']}")
        if verb == "setLabels":
            return self.set_labels(m, q, body)
        _key, obj = self.lookup(_Groups(coll="instances", z=m["z"], n=m["n"]))  # type: ignore[arg-type]

        def act() -> None:
            if verb == "stop":
                obj["status"] = "TERMINATED"
            elif verb == "start":
                obj["status"] = "RUNNING"
            elif verb == "setMachineType":
                if obj["status"] != "TERMINATED":
                    raise ApiError(
                        400, "INVALID_ARGUMENT", "The instance must be stopped", "resourceNotReady"
                    )
                wanted = body["machineType"].rsplit("/", 1)[-1]
                if wanted not in MACHINE_TYPES:
                    raise ApiError(400, "INVALID_ARGUMENT", f"Invalid machine type {wanted}", "invalid")
                obj["machineType"] = self.s.link(f"zones/{m['z']}/machineTypes/{wanted}")
            else:
                raise ApiError(400, "INVALID_ARGUMENT", f"unknown verb {verb}", "invalid")

        return self.operation(q, obj["selfLink"], verb, act)

    def set_labels(self, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
        coll = m["coll"] if "coll" in m.groupdict() else "instances"
        self.need(f"compute.{coll}.setLabels", f"projects/{self.s.project}")
        _key, obj = self.lookup(_Groups(coll=coll, z=m["z"], n=m["n"]))  # type: ignore[arg-type]

        def act() -> None:
            if body.get("labelFingerprint") != obj["labelFingerprint"]:
                raise ApiError(
                    412,
                    "FAILED_PRECONDITION",
                    "Labels fingerprint either invalid or resource labels have changed",
                    "conditionNotMet",
                )
            obj["labels"] = dict(body.get("labels") or {})
            obj["labelFingerprint"] = f"fp-{self.s.next_id()}"

        return self.operation(q, obj["selfLink"], "setLabels", act)

    def create_snapshot(self, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
        self.need("compute.disks.createSnapshot", f"projects/{self.s.project}/zones/{m['z']}/disks/{m['n']}")
        self.need("compute.snapshots.create", f"projects/{self.s.project}")
        _key, disk = self.lookup(_Groups(coll="disks", z=m["z"], n=m["n"]))  # type: ignore[arg-type]

        def act() -> None:
            name = body["name"]
            self.s.add_snapshot(name, f"zones/{m['z']}/disks/{m['n']}", int(disk["sizeGb"]))
            self.s.snapshots[name]["labels"] = dict(body.get("labels") or {})

        return self.operation(q, disk["selfLink"], "createSnapshot", act)

    def insert_disk(self, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
        self.need("compute.disks.create", f"projects/{self.s.project}")
        snap = body.get("sourceSnapshot", "").rsplit("/", 1)[-1]
        if snap:
            self.need("compute.snapshots.useReadOnly", f"projects/{self.s.project}/global/snapshots/{snap}")
        if snap and snap not in self.s.snapshots:
            raise ApiError(404, "NOT_FOUND", f"snapshot {snap} was not found", "notFound")
        key = f"{m['z']}/{body['name']}"
        if key in self.s.disks and q.get("requestId", "") not in self.s.operations:
            raise ApiError(
                409,
                "ALREADY_EXISTS",
                f"The resource 'projects/{self.s.project}/zones/{key.replace('/', '/disks/')}' already exists",
                "alreadyExists",
            )

        def act() -> None:
            self.s.add_disk(body["name"], m["z"], int(body["sizeGb"]), body["type"].rsplit("/", 1)[-1])
            self.s.disks[key]["sourceSnapshot"] = body.get("sourceSnapshot", "")
            self.s.disks[key]["labels"] = dict(body.get("labels") or {})

        return self.operation(q, self.s.link(f"zones/{m['z']}/disks/{body['name']}"), "insert", act)

    def delete(self, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
        coll = m["coll"]
        self.need(f"compute.{coll}.delete", f"projects/{self.s.project}")
        request_id = q.get("requestId", "")
        if request_id in self.s.operations:
            return 200, self.s.operations[request_id]
        key, obj = self.lookup(m)
        if obj.get("users") and coll in ("disks", "addresses"):
            raise ApiError(
                400,
                "FAILED_PRECONDITION",
                f"The {coll[:-1]} '{obj['name']}' is in use",
                "resourceInUseByAnotherResource",
            )
        return self.operation(q, obj["selfLink"], "delete", lambda: self.table(coll).pop(key))

    # ----- oauth ----------------------------------------------------------------------------------

    def token(self, raw: bytes, token_uri: str) -> Reply:
        """RFC 7523 JWT-bearer grant: a JWT assertion signed by a registered key, for this token endpoint."""
        form = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
        if form.get("grant_type") != JWT_BEARER:
            return 400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type."}
        claims = self.s.verified_jwt(form.get("assertion", ""), audience=[token_uri, GOOGLE_TOKEN_AUDIENCE])
        if claims is None:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        if "cloud-platform" not in str(claims.get("scope", "")):
            return 400, {"error": "invalid_scope", "error_description": "Invalid OAuth scope."}
        issued = f"ya29.fake-{self.s.next_id()}"
        with self.s.lock:
            self.s.issued_tokens.add(issued)
        return 200, {"access_token": issued, "expires_in": 3599, "token_type": "Bearer"}

    # ----- resource manager / recommender / asset -------------------------------------------------

    def project_get(self, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
        self.need("resourcemanager.projects.get", f"projects/{m['p']}")
        return 200, {
            "name": "projects/123456789",
            "projectId": self.s.project,
            "state": "ACTIVE",
            "displayName": "FinOps demo",
        }

    def test_perms(self, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
        held = [p for p in body.get("permissions", []) if p in self.s.permissions]
        return 200, ({"permissions": held} if held else {})

    def get_policy(self, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
        self.need("resourcemanager.projects.getIamPolicy", f"projects/{m['p']}")
        return 200, {"version": 3, "etag": "BwX=", "bindings": self.s.bindings}

    def recommendations(self, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
        kind = "Idle" if "Idle" in m["r"] else "MachineType"
        self.need(
            f"recommender.computeInstance{kind}{'Resource' if kind == 'Idle' else ''}Recommendations.list",
            f"projects/{m['p']}",
        )
        found = self.s.recommendations.get((m["z"], m["r"]), [])
        chunk, token = page(found, q.get("pageToken", ""), self.s.page_size)
        return 200, {"recommendations": chunk, **({"nextPageToken": token} if token else {})}

    def assets(self, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
        self.need("cloudasset.assets.listResource", f"projects/{m['p']}")
        kinds = {
            "instances": "Instance",
            "disks": "Disk",
            "snapshots": "Snapshot",
            "addresses": "Address",
            "forwardingRules": "ForwardingRule",
        }
        assets = [
            {
                "name": f"//compute.googleapis.com/{o['selfLink'].split('/v1/')[1]}",
                "assetType": f"compute.googleapis.com/{kind}",
                "resource": {"version": "v1", "data": o},
            }
            for coll, kind in kinds.items()
            for o in self.table(coll).values()
        ]
        chunk, token = page(assets, q.get("pageToken", ""), self.s.page_size)
        return 200, {"assets": chunk, **({"nextPageToken": token} if token else {})}

    def sql_instances(self, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
        """Cloud SQL Admin ``instances.list``: ``items`` + ``nextPageToken``, at most ``maxResults`` a page."""
        self.need("cloudsql.instances.list", f"projects/{m['p']}")
        found = [self.s.sql_instances[n] for n in sorted(self.s.sql_instances)]
        size = min(int(q.get("maxResults") or 500), self.s.page_size)
        chunk, token = page(found, q.get("pageToken", ""), size)
        return 200, {
            "kind": "sql#instancesList",
            **({"items": chunk} if chunk else {}),
            **({"nextPageToken": token} if token else {}),
        }


class _Groups(dict[str, str]):
    """A dict that quacks like ``re.Match`` for ``m["name"]`` and ``m.groupdict()``."""

    def groupdict(self) -> dict[str, str]:
        return dict(self)


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
