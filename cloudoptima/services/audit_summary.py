"""What an audit row may say about a call's arguments: a bounded summary with every secret redacted.

Contract of :func:`summarise`:
- The value of a key that names a secret (password, secret, token, API key, credential, private key,
  authorization, cookie, service-account JSON, external id, ...) becomes ``"[redacted]"`` at any depth, as
  does any string that looks like a secret whatever its key (a CloudOptima API key ``co_...``, a JWT, a PEM
  block, a ``Bearer`` header value).
- Sizes are bounded: strings keep their first ``MAX_STRING`` characters (``"…(+N chars)"`` says how many
  were cut), lists and mappings their first ``MAX_ITEMS`` entries (a marker says how many more), nesting
  stops at ``MAX_DEPTH``; if the whole summary's JSON is still over ``MAX_JSON_CHARS`` it is replaced by the
  argument names only (``{"_truncated": true, "keys": [...]}``).
- The result is JSON-serialisable (dates, UUIDs, Decimals and other objects become strings).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

REDACTED = "[redacted]"
MAX_STRING = 200
MAX_ITEMS = 20
MAX_DEPTH = 4
MAX_JSON_CHARS = 4_000

_SECRET_KEY = re.compile(
    r"pass(word|phrase)?|secret|token|api[_-]?key|credential|private[_-]?key|authori[sz]ation|cookie|"
    r"service_account_json|external_id|signature|(^|_)otp($|_)|approval_code",
    re.IGNORECASE,
)
_SECRET_VALUE = re.compile(
    r"^(co_[A-Za-z0-9_\-]{8,}|eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*|Bearer\s+\S+)$"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----",
)


def is_secret_key(key: str) -> bool:
    """True when a field named ``key`` holds a secret (see module contract)."""
    return bool(_SECRET_KEY.search(key))


def _string(value: str) -> str:
    if _SECRET_VALUE.search(value.strip()):
        return REDACTED
    if len(value) > MAX_STRING:
        return f"{value[:MAX_STRING]}…(+{len(value) - MAX_STRING} chars)"
    return value


def _bounded(value: Any, depth: int) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return _string(value)
    if depth >= MAX_DEPTH:
        return "…"
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for index, (key, item) in enumerate(value.items()):
            if index == MAX_ITEMS:
                out["…"] = f"+{len(value) - MAX_ITEMS} more keys"
                break
            name = str(key)[:MAX_STRING]
            out[name] = REDACTED if is_secret_key(name) and item is not None else _bounded(item, depth + 1)
        return out
    if isinstance(value, list | tuple | set | frozenset):
        items = list(value)
        kept = [_bounded(item, depth + 1) for item in items[:MAX_ITEMS]]
        if len(items) > MAX_ITEMS:
            kept.append(f"…(+{len(items) - MAX_ITEMS} more)")
        return kept
    return _string(str(value))


def summarise(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The bounded, redacted summary of ``arguments`` (see module contract)."""
    summary: dict[str, Any] = _bounded(arguments, 0)
    if len(json.dumps(summary, default=str)) > MAX_JSON_CHARS:
        return {"_truncated": True, "keys": sorted(str(k)[:MAX_STRING] for k in arguments)[:MAX_ITEMS]}
    return summary
