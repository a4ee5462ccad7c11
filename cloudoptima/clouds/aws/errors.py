"""Translation of botocore errors into the provider protocol's error types.

Contract:

- Throttling codes (``ThrottlingException``, ``RequestLimitExceeded``, ...) that survive botocore's own
  retries become :class:`ThrottledError` (retryable).
- Access-denied codes (:data:`DENIED_CODES`, or any other 403) become :class:`CredentialsError` naming the
  IAM action: the action quoted in AWS's message (``not authorized to perform: ec2:DescribeInstances``) when
  present, else the action derived from the service prefix and the operation that failed. Codes that say
  the credentials themselves are refused (:data:`REFUSED_CODES`: unknown key, bad signature, expired token)
  become :class:`CredentialsError` without a permission.
- 5xx, timeouts, connection failures and answers botocore cannot parse (an HTML error page: ``ResponseParserError``)
  become :class:`ProviderUnavailableError` (retryable).
- Any other client error becomes a plain :class:`ProviderError` carrying AWS's code and message.
- Messages carry the AWS error code, the operation and AWS's own message; never request parameters,
  headers or credentials.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.parsers import ResponseParserError

from cloudoptima.clouds.protocol import (
    CredentialsError,
    ProviderError,
    ProviderUnavailableError,
    ThrottledError,
)

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "SlowDown",
    }
)
DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedAccess",
        "AuthorizationError",
        "OptInRequired",
    }
)
REFUSED_CODES = frozenset(
    {
        "AuthFailure",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
        "ExpiredToken",
        "ExpiredTokenException",
    }
)
ACCESS_CODES = DENIED_CODES | REFUSED_CODES
DRY_RUN_OK = "DryRunOperation"

# IAM action prefix per botocore service name, where they differ.
_IAM_PREFIX = {"cloudwatch": "cloudwatch", "elbv2": "elasticloadbalancing", "ce": "ce"}
# Operations whose IAM action is not named like the operation.
_IAM_ACTION = {
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("elbv2", "DescribeTargetHealth"): "elasticloadbalancing:DescribeTargetHealth",
}
_QUOTED_ACTION = re.compile(r"perform:?\s+([a-z0-9-]+:[A-Za-z0-9*]+)")


def iam_action(service: str, operation: str) -> str:
    """The IAM action that authorises ``operation`` of the botocore ``service`` (e.g. ``ec2:StopInstances``)."""
    special = _IAM_ACTION.get((service, operation))
    if special:
        return special
    return f"{_IAM_PREFIX.get(service, service)}:{operation}"


def error_code(error: ClientError) -> str:
    """AWS's error code of ``error`` (empty when absent)."""
    return str(error.response.get("Error", {}).get("Code", ""))


def permission_named_in(error: ClientError, service: str) -> str:
    """The IAM action a denial is about: quoted by AWS when it says, else derived from the operation."""
    message = str(error.response.get("Error", {}).get("Message", ""))
    quoted = _QUOTED_ACTION.search(message)
    if quoted:
        return quoted.group(1)
    return iam_action(service, error.operation_name)


def translate(error: Exception, service: str) -> ProviderError:
    """Map a botocore exception raised by ``service`` to the protocol error it means."""
    if isinstance(error, ProviderError):
        return error
    if isinstance(error, ClientError):
        code = error_code(error)
        message = str(error.response.get("Error", {}).get("Message", ""))[:300]
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        where = f"{service}:{error.operation_name}"
        if code in THROTTLING_CODES:
            return ThrottledError(f"{where} still throttled after retries ({code})")
        if code in REFUSED_CODES:
            return CredentialsError(f"{where} refused the credentials ({code}): {message}")
        if code in DENIED_CODES or status == 403:
            permission = permission_named_in(error, service)
            return CredentialsError(f"{where} denied ({code}): missing {permission}", permission=permission)
        if status >= 500:
            return ProviderUnavailableError(f"{where} failed with HTTP {status} ({code}): {message}")
        return ProviderError(f"{where} failed ({code}): {message}")
    if isinstance(error, NoCredentialsError):
        return CredentialsError(f"{service}: no AWS credentials available")
    if isinstance(error, EndpointConnectionError | ConnectionError | ReadTimeoutError):
        return ProviderUnavailableError(f"{service}: endpoint unreachable ({type(error).__name__})")
    if isinstance(error, BotoCoreError):
        return ProviderError(f"{service}: {type(error).__name__}")
    if isinstance(error, ResponseParserError):
        return ProviderUnavailableError(f"{service}: unparseable answer (ResponseParserError)")
    raise error


@contextmanager
def aws_errors(service: str) -> Iterator[None]:
    """Run a block of calls to ``service``; botocore errors leave it as protocol errors."""
    try:
        yield
    except (ClientError, BotoCoreError, ResponseParserError) as error:
        raise translate(error, service) from error
