"""How collection turns denied reads into :class:`PermissionProblem` records (see ``services.collection``).

- :func:`denied`: a step that raised :class:`CredentialsError` naming a permission becomes one problem; one
  without a permission (the credentials themselves were refused) is re-raised: the account stops.
- :func:`from_failures`: the parts of a :class:`Partial` read listed as denied (``Failure.permission``),
  one problem per permission naming the parts (``"inventory (ec2/us-east-1, rds/us-east-1)"``).
- :func:`utilisation_problems`: the resources whose series could not be read, per permission
  (``"utilisation of 12 instances"``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from cloudoptima.clouds.protocol import CredentialsError, Failure
from cloudoptima.domain.inventory import Resource, ResourceKind
from cloudoptima.domain.permission_problems import PermissionProblem, Step, counted

_KIND_WORDS = {
    ResourceKind.COMPUTE_INSTANCE.value: ("instance", "instances"),
    ResourceKind.DATABASE.value: ("database", "databases"),
}


def denied(error: CredentialsError, step: Step, purpose: str) -> PermissionProblem:
    """The problem ``error`` means for ``step``; re-raises ``error`` when it names no permission."""
    if not error.permission:
        raise error
    return PermissionProblem(step=step, permission=error.permission, purpose=purpose)


def from_failures(step: Step, failures: Sequence[Failure]) -> list[PermissionProblem]:
    """One problem per permission among the denied parts of a read (parts in the order listed)."""
    scopes: dict[str, list[str]] = {}
    for failure in failures:
        if failure.permission and failure.scope not in scopes.get(failure.permission, []):
            scopes.setdefault(failure.permission, []).append(failure.scope)
    return [
        PermissionProblem(step=step, permission=permission, purpose=f"{step} ({', '.join(parts)})")
        for permission, parts in scopes.items()
    ]


def denied_in(chunk: Sequence[Resource], failures: Sequence[Failure]) -> dict[str, list[Resource]]:
    """Per permission, the resources of ``chunk`` a utilisation read was denied: those in the region a denied
    part names (``cloudwatch/us-east-1``), or the whole chunk when the part names no region of it."""
    found: dict[str, list[Resource]] = {}
    for failure in failures:
        if not failure.permission:
            continue
        where = failure.scope.rsplit("/", 1)[-1]
        members = [r for r in chunk if r.region == where] or list(chunk)
        found.setdefault(failure.permission, []).extend(members)
    return found


def utilisation_problems(denied_resources: Mapping[str, Iterable[Resource]]) -> list[PermissionProblem]:
    """``"utilisation of 10 instances and 2 databases"`` per permission (each resource counted once)."""
    problems = []
    for permission, resources in denied_resources.items():
        kinds: dict[str, set[str]] = {}
        for resource in resources:
            kinds.setdefault(str(resource.kind), set()).add(resource.resource_id)
        parts = [
            counted(len(ids), *_KIND_WORDS.get(kind, ("resource", "resources")))
            for kind, ids in sorted(kinds.items())
        ]
        problems.append(
            PermissionProblem(
                step="utilisation", permission=permission, purpose="utilisation of " + " and ".join(parts)
            )
        )
    return problems
