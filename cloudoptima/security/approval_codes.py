"""Approval codes: what proves that a decision typed into the Temporal UI comes from the user it names.

The Temporal UI signs nobody in as a CloudOptima user, and user ids are not secret, so a signal naming a user
proves nothing by itself. CloudOptima shows each approver, signed in to the app (``GET /v1/approvals``), a code
for each remediation waiting on them; a Temporal-UI signal must carry it.

Contract:
- ``approval_code(keys, organization_id, execution_id, user_id)`` is an HMAC-SHA256 of the three ids under a
  key derived from the newest of ``keys`` (the deployment's encryption key ring, which every gateway and worker
  already holds), shown as four groups of four base32 characters (80 bits). It is bound to one remediation and
  one user: useless for any other remediation or in another user's name, and — since a user's accepted decision
  on a remediation is final and a second one is refused — good for one decision only.
- ``check_approval_code(keys, ..., code)`` accepts a code made under any key of the ring (a code shown before a
  key rotation still works), ignoring case, spaces and dashes; comparisons are constant-time.
- No key, or an empty code, never checks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

_PURPOSE = b"cloudoptima-temporal-ui-approval-code-v1"


def _derived(key: str) -> bytes:
    return hmac.new(key.encode(), _PURPOSE, hashlib.sha256).digest()


def _code(key: str, organization_id: str, execution_id: str, user_id: str) -> str:
    message = f"{organization_id}:{execution_id}:{user_id}".lower().encode()
    digest = hmac.new(_derived(key), message, hashlib.sha256).digest()
    raw = base64.b32encode(digest[:10]).decode()
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def _normal(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def approval_code(keys: Sequence[str], organization_id: str, execution_id: str, user_id: str) -> str:
    """The code ``user_id`` types to decide remediation ``execution_id`` in the Temporal UI (module contract)."""
    if not keys:
        raise ValueError("approval codes need the encryption key ring (CLOUDOPTIMA_ENCRYPTION_KEYS)")
    return _code(keys[0], str(organization_id), str(execution_id), str(user_id))


def check_approval_code(
    keys: Sequence[str], organization_id: str, execution_id: str, user_id: str, code: str
) -> bool:
    """Whether ``code`` is ``user_id``'s code for ``execution_id`` under any key of the ring."""
    given = _normal(code)
    if not keys or not given:
        return False
    return any(
        hmac.compare_digest(given, _normal(_code(key, str(organization_id), str(execution_id), str(user_id))))
        for key in keys
    )
