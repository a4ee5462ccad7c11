"""The one place ``collect_account`` records a step's provider error (``account_run._AccountRun.attempt``):
a denial becomes a permission problem, another provider error a step failure, refused credentials stop the
account, and the progress is reported after every recorded outcome but never before an error propagates.
Pure: no database, no provider."""

from __future__ import annotations

from datetime import date

import pytest

from cloudoptima.clouds.protocol import CredentialsError, ThrottledError
from cloudoptima.domain.permission_problems import PermissionProblem
from cloudoptima.services.collection import AccountCollection, CollectionPlan
from cloudoptima.services.collection.account_run import _AccountRun

WINDOW = (date(2026, 11, 1), date(2026, 11, 8))


def _run() -> tuple[_AccountRun, list[int]]:
    plan = CollectionPlan(
        start=WINDOW[0],
        end=WINDOW[1],
        windows=[WINDOW],
        first_sync=False,
        utilisation_start=WINDOW[0],
        utilisation_end=WINDOW[1],
    )
    reports: list[int] = []
    state = AccountCollection(plan=plan)
    return _AccountRun(state, lambda s: reports.append(len(s.failures) + len(s.denied))), reports


def _raise(error: Exception) -> int:
    raise error


def test_a_result_is_returned_and_reported() -> None:
    run, reports = _run()
    assert run.attempt("iam", lambda: 7, denied_purpose="IAM principals") == (7, None)
    assert reports == [0]
    assert run.state.failures == [] and run.state.denied == []


def test_a_denial_is_a_permission_problem_and_the_step_no_failure() -> None:
    run, reports = _run()
    error = CredentialsError("denied", permission="iam:ListUsers")
    assert run.attempt("iam", lambda: _raise(error), denied_purpose="IAM principals") == (None, None)
    assert run.state.denied == [
        PermissionProblem(step="iam", permission="iam:ListUsers", purpose="IAM principals")
    ]
    assert run.state.failures == []
    assert reports == [1]
    # The same denial met again is recorded once.
    run.attempt("iam", lambda: _raise(error), denied_purpose="IAM principals")
    assert len(run.state.denied) == 1


def test_refused_credentials_propagate_without_a_report() -> None:
    run, reports = _run()
    with pytest.raises(CredentialsError, match="bad key"):
        run.attempt("costs", lambda: _raise(CredentialsError("bad key")), denied_purpose="costs")
    assert reports == [] and run.state.failures == [] and run.state.denied == []


def test_a_provider_error_is_a_failure_retryable_as_the_error_says_unless_overridden() -> None:
    run, reports = _run()
    _, failure = run.attempt(
        "costs", lambda: _raise(ThrottledError("slow down")), denied_purpose="costs", window=WINDOW
    )
    assert failure is not None and failure.retryable and failure.window == WINDOW
    assert failure.label() == "costs 2026-11-01..2026-11-08: slow down"
    _, forecast = run.attempt(
        "forecast",
        lambda: _raise(ThrottledError("slow down")),
        denied_purpose="the cloud's own cost forecast",
        retryable=False,
    )
    assert forecast is not None and not forecast.retryable
    assert run.state.failures == [failure, forecast]
    assert [f.step for f in run.state.pending] == ["costs"]
    assert reports == [1, 2]


def test_without_a_denial_purpose_any_credentials_error_is_a_failure() -> None:
    """Utilisation records its own denied reads; a refusal reaching the run is a failure, not retried."""
    run, _ = _run()
    _, failure = run.attempt("utilisation", lambda: _raise(CredentialsError("bad key")), denied_purpose=None)
    assert failure is not None and failure.step == "utilisation" and not failure.retryable
    assert run.state.denied == []


def test_errors_that_are_not_provider_errors_propagate() -> None:
    run, reports = _run()
    with pytest.raises(ValueError, match="bug"):
        run.attempt("inventory", lambda: _raise(ValueError("bug")), denied_purpose="inventory")
    assert reports == [] and run.state.failures == []
