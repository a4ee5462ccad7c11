"""How ARM derives the RBAC action and scope a request needs from its method and URL."""

from __future__ import annotations

FREE_ACTIONS = ("microsoft.authorization/permissions/read", "microsoft.resources/subscriptions/read")


def required_action(method: str, path: str) -> tuple[str, str]:
    """The RBAC action and scope an ARM request needs (how ARM derives them from the URL)."""
    lower = path.lower()
    cut = lower.rfind("/providers/")
    if cut < 0:
        return "Microsoft.Resources/subscriptions/read", path
    segments = path[cut + len("/providers/") :].strip("/").split("/")
    namespace, rest = segments[0], segments[1:]
    types = "/".join(rest[0::2])
    if len(rest) % 2 == 1:
        verb = {"GET": "read", "POST": "action", "PUT": "write", "PATCH": "write", "DELETE": "delete"}[method]
        scope = path[:cut] if len(rest) == 1 else path[:cut] + "/providers/" + "/".join(segments[:-1])
    else:
        verb = {"GET": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete", "POST": "action"}[method]
        scope = path
    return f"{namespace}/{types}/{verb}", scope
