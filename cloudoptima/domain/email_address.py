"""Email addresses: what sign-in accepts and what registration and invitations accept.

- :func:`login_address` is for *looking an account up*: it trims the value, lower-cases it (the same
  normalisation the stored address got) and refuses only what is not an email address at all (no single
  ``@`` with text on both sides, whitespace inside, over 320 characters). It never applies deliverability
  rules, so an account whose address a newer validator would refuse can still sign in.
- :func:`deliverable_address` is for *creating* an account or an invitation: the address must look
  deliverable (email-validator's syntax rules, special-use domains such as ``.local`` or ``.test`` refused,
  no DNS lookup); the one error message names the address and the reason. The result is normalised
  (trimmed, Unicode-normalised by email-validator, lower-cased).
"""

from __future__ import annotations

import re
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator

MAX_LENGTH = 320
_SHAPE = re.compile(r"[^@\s]+@[^@\s]+")


def login_address(value: str) -> str:
    """``value`` trimmed and lower-cased; ``ValueError`` only when it is not an email address at all."""
    address = value.strip()
    if len(address) > MAX_LENGTH or _SHAPE.fullmatch(address) is None:
        raise ValueError("is not an email address (expected name@domain)")
    return address.lower()


def deliverable_address(value: str) -> str:
    """``value`` normalised when it looks deliverable, else ``ValueError`` naming it and the reason."""
    address = value.strip()
    if len(address) > MAX_LENGTH:
        raise ValueError(f"is longer than {MAX_LENGTH} characters")
    try:
        checked = validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"{address!r} is not a deliverable email address: {exc}") from None
    return checked.normalized.lower()


LoginEmail = Annotated[str, AfterValidator(login_address)]
"""An address to look an account up by (see :func:`login_address`)."""

DeliverableEmail = Annotated[str, AfterValidator(deliverable_address)]
"""An address to create an account or invitation for (see :func:`deliverable_address`)."""
