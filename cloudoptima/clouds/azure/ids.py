"""Parsing of ARM resource ids (``/subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{type}/{name}``).

ARM ids are case-insensitive; :func:`parse` keeps the original spelling and :func:`same` compares them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ID = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/(?P<ns>[^/]+)/(?P<type>[^/]+)/(?P<name>[^/]+)"
    r"(?P<child>/.*)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ArmId:
    """The parts of a top-level ARM resource id (``child`` is any trailing sub-resource path)."""

    subscription_id: str
    resource_group: str
    namespace: str
    resource_type: str
    name: str
    child: str = ""

    @property
    def type(self) -> str:
        """``Microsoft.Compute/virtualMachines``."""
        return f"{self.namespace}/{self.resource_type}"

    @property
    def resource_id(self) -> str:
        """The id of the top-level resource (without ``child``)."""
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/{self.namespace}/{self.resource_type}/{self.name}"
        )

    def is_type(self, namespace_type: str) -> bool:
        return self.type.lower() == namespace_type.lower()


def parse(resource_id: str) -> ArmId | None:
    """The parts of ``resource_id``, or None when it is not an ARM resource id."""
    match = _ID.match(resource_id or "")
    if match is None:
        return None
    return ArmId(match["sub"], match["rg"], match["ns"], match["type"], match["name"], match["child"] or "")


def same(a: str | None, b: str | None) -> bool:
    """Whether two ARM ids name the same resource (case-insensitive)."""
    return a is not None and b is not None and a.lower() == b.lower()


def parent_resource(resource_id: str) -> str:
    """The top-level resource of a sub-resource id (NIC of an ipConfiguration, LB of a frontend)."""
    parsed = parse(resource_id)
    return parsed.resource_id if parsed else resource_id
