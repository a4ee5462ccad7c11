"""How the collection workflows read the failures of their activities and children (deterministic: no I/O).

The activities (``cloudoptima_workflows.collection.activities``) raise ``ApplicationError``s of the types
named here; the workflows retry reads under :data:`READ_RETRY` and database steps under :data:`DB_RETRY`,
neither retrying refused credentials or a missing account. A step's failure is recorded as a permission
problem (``PermissionDenied`` carries the kernel's ``PermissionProblem``) or as a failed step; refused
credentials fail the workflow.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError

from cloudoptima.domain.permission_problems import PermissionProblem

__all__ = [
    "ACCOUNT_MISSING",
    "CREDENTIALS_ERROR",
    "DB_RETRY",
    "IN_PROGRESS",
    "PERMISSION_DENIED",
    "READ_RETRY",
    "credentials_failure",
    "denied_by",
    "failure_type",
    "message",
    "optional",
    "raise_if_credentials",
    "reason",
    "step_failed",
]

CREDENTIALS_ERROR = "CredentialsError"
"""The account's credentials were refused (the account is marked ``error``); never retried."""
PERMISSION_DENIED = "PermissionDenied"
"""A single step was denied a permission; the failure's detail is the ``PermissionProblem``."""
ACCOUNT_MISSING = "AccountNotFound"
"""The account no longer exists; never retried."""
IN_PROGRESS = "CollectionInProgress"
"""Another collection of the account holds its lock; retried under the policy."""

READ_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=2),
    maximum_attempts=6,
    non_retryable_error_types=[CREDENTIALS_ERROR, ACCOUNT_MISSING],
)
DB_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=10,
    non_retryable_error_types=[CREDENTIALS_ERROR, ACCOUNT_MISSING],
)


def credentials_failure(error: BaseException) -> ApplicationError | None:
    """The non-retryable credentials error behind an activity or child failure, if that is what it is."""
    cause = error.__cause__ if isinstance(error, ActivityError | ChildWorkflowError) else error
    while isinstance(cause, ActivityError | ChildWorkflowError):
        cause = cause.__cause__
    if isinstance(cause, ApplicationError) and cause.type == CREDENTIALS_ERROR:
        return cause
    return None


def failure_type(error: BaseException) -> str | None:
    """The type of the application error at the root of an activity or child failure."""
    cause: BaseException | None = error
    while isinstance(cause, ActivityError | ChildWorkflowError) and cause.__cause__ is not None:
        cause = cause.__cause__
    return cause.type if isinstance(cause, ApplicationError) else None


def reason(error: BaseException) -> str:
    cause: BaseException | None = error
    while isinstance(cause, ActivityError | ChildWorkflowError) and cause.__cause__ is not None:
        cause = cause.__cause__
    return str(cause)


def raise_if_credentials(error: BaseException) -> None:
    cause = credentials_failure(error)
    if cause is not None:
        raise ApplicationError(str(cause), type=CREDENTIALS_ERROR, non_retryable=True) from error


def denied_by(error: BaseException) -> PermissionProblem | None:
    """The permission problem a single step's ``PermissionDenied`` failure carries, if that is what it is."""
    cause: BaseException | None = error
    while isinstance(cause, ActivityError | ChildWorkflowError) and cause.__cause__ is not None:
        cause = cause.__cause__
    if isinstance(cause, ApplicationError) and cause.type == PERMISSION_DENIED and cause.details:
        detail = cause.details[0]
        if isinstance(detail, dict):
            return PermissionProblem.model_validate(detail)
    return None


def step_failed(failed: list[str], denied: list[PermissionProblem], name: str, error: BaseException) -> None:
    """Record a step's failure: a permission problem, else a failed step; refused credentials raise."""
    raise_if_credentials(error)
    problem = denied_by(error)
    if problem is not None:
        denied.append(problem)
    else:
        failed.append(f"{name}: {reason(error)}")


async def optional(failed: list[str], denied: list[PermissionProblem], name: str, call: Any) -> Any:
    try:
        return await call
    except ActivityError as error:
        step_failed(failed, denied, name, error)
        return None


def message(problem: PermissionProblem) -> str:
    return f"missing permission {problem.permission} for {problem.purpose}"
