"""Translation of azure-core / azure-identity errors into the provider protocol's error types.

Contract:

- Entra ID rejections (``AADSTS…``, raised by azure-identity as ``ClientAuthenticationError``) and ARM 401s
  become :class:`CredentialsError`.
- ARM 403 ``AuthorizationFailed`` (and Graph ``Authorization_RequestDenied``) become :class:`CredentialsError`
  whose ``permission`` is the action quoted in ARM's message
  (``does not have authorization to perform action 'Microsoft.Compute/virtualMachines/read'``).
- 429 that survived azure-core's ``RetryPolicy`` (which honours ``Retry-After``) becomes :class:`ThrottledError`.
- 5xx, timeouts and connection failures become :class:`ProviderUnavailableError`.
- Anything else becomes a plain :class:`ProviderError` with ARM's code and message.
- Messages never contain the client secret or tokens: every message passes through :func:`scrub`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)

from cloudoptima.clouds.protocol import (
    CredentialsError,
    ProviderError,
    ProviderUnavailableError,
    ThrottledError,
)

_ACTION = re.compile(r"perform action '([^']+)'")
_AADSTS = re.compile(r"AADSTS\d+[^\r\n]*")
_SECRETS: set[str] = set()


def register_secret(secret: str) -> None:
    """Remember a secret so that :func:`scrub` removes it from any message we produce."""
    if secret:
        _SECRETS.add(secret)


def scrub(message: str) -> str:
    """``message`` with registered secrets and bearer tokens replaced by ``***``."""
    for secret in _SECRETS:
        message = message.replace(secret, "***")
    return re.sub(r"(?i)bearer\s+[A-Za-z0-9._\-]+", "Bearer ***", message)


def error_code(exc: HttpResponseError) -> str:
    """ARM's ``error.code`` (or the HTTP reason when the body has none)."""
    code = exc.error.code if exc.error is not None else None
    return str(code or exc.reason or exc.status_code or "Unknown")


def error_message(exc: HttpResponseError) -> str:
    """ARM's ``error.message`` without the SDK's request dump."""
    message = exc.error.message if exc.error is not None else None
    return scrub(str(message or exc.message or exc))


def translate(exc: Exception, what: str) -> ProviderError:
    """The protocol error for an SDK exception raised while doing ``what`` (e.g. ``"list disks"``)."""
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, ClientAuthenticationError) and exc.status_code is None:
        return _auth_error(exc, what)
    if isinstance(exc, HttpResponseError):
        status = exc.status_code or 0
        code = error_code(exc)
        message = error_message(exc)
        if status == 401:
            return CredentialsError(
                f"Azure rejected the credentials while trying to {what}: {code}: {message}"
            )
        if status == 403:
            match = _ACTION.search(message)
            permission = match.group(1) if match else None
            detail = f" (missing {permission})" if permission else ""
            return CredentialsError(f"Permission denied to {what}{detail}: {code}: {message}", permission)
        if status == 429:
            return ThrottledError(f"Azure kept throttling {what} after retries: {code}: {message}")
        if status >= 500:
            return ProviderUnavailableError(f"Azure failed to {what} ({status} {code}): {message}")
        return ProviderError(f"Azure refused to {what} ({status} {code}): {message}")
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return ProviderUnavailableError(f"Azure unreachable while trying to {what}: {scrub(str(exc))}")
    return ProviderError(f"Unexpected error while trying to {what}: {type(exc).__name__}: {scrub(str(exc))}")


def _auth_error(exc: ClientAuthenticationError, what: str) -> CredentialsError:
    text = scrub(str(exc.message or exc))
    match = _AADSTS.search(text)
    reason = match.group(0) if match else text.splitlines()[0] if text else "authentication failed"
    return CredentialsError(f"Entra ID rejected the service principal while trying to {what}: {reason}")


@contextmanager
def azure_errors(what: str) -> Iterator[None]:
    """Re-raise any SDK exception inside the block as the protocol error for ``what``."""
    try:
        yield
    except ProviderError:
        raise
    except Exception as exc:
        raise translate(exc, what) from None
