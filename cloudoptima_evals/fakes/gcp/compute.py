"""Compute Engine routes of the REST fake: aggregated and snapshot lists, gets, instance verbs, labels,
snapshots, disk insert and delete; every mutation is a finished operation deduplicated by ``requestId``."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from cloudoptima_evals.fakes.gcp.errors import ApiError, page
from cloudoptima_evals.fakes.gcp.state import MACHINE_TYPES, FakeGcp

Reply = tuple[int, dict[str, Any]]


class ComputeRoutes:
    """Mixed into the fake's route table; needs ``s`` (state) and ``need`` (the permission check)."""

    s: FakeGcp
    need: Callable[[str, str], None]  # the permission check of the class this is mixed into

    def table(self, coll: str) -> dict[str, dict[str, Any]]:
        return {
            "instances": self.s.instances,
            "disks": self.s.disks,
            "snapshots": self.s.snapshots,
            "addresses": self.s.addresses,
            "forwardingRules": self.s.forwarding_rules,
            "commitments": self.s.commitments,
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


class _Groups(dict[str, str]):
    """A dict that quacks like ``re.Match`` for ``m["name"]`` and ``m.groupdict()``."""

    def groupdict(self) -> dict[str, str]:
        return dict(self)
