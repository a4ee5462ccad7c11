"""Remediation use cases of one organisation: plan, dry run, impact preview, execute, verify, roll back, record.

Contract:

- ``plan_recommendation`` / ``plan_actions`` build a :class:`RemediationPlan`: one step per action, each
  dry-run through the provider's ``validate_action`` when ``safety.dry_run_first`` (a provider error becomes
  a step problem, never an exception); a plan over ``max_resources_per_execution`` carries a plan-level
  problem naming the count and the cap and its steps are not dry-run. Monthly cost before comes from the
  provider's current state, else the stored ``resources`` row; after is 0 for stop/delete/release, unchanged
  for tags and unknown (None) otherwise. ``approval_required`` follows ``domain.remediation.needs_approval``
  with the organisation's ``auto_approve_low_risk`` setting read now: only a low-risk plan whose every step
  validated with a rollback can skip the wait, never a high-risk or irreversible one.
- ``execute_step`` acts once per idempotency key (the provider dedupes); a provider refusal (precondition,
  permission) is a ``failed`` outcome, while retryable provider errors propagate so the caller retries.
- ``verify_step`` re-reads state: the rollback action must now validate (and the state it reports must
  match what the action reported), or, for a step with no rollback action, the original action must no
  longer validate (its target is gone).
- ``rollback_step`` runs the step's rollback action once per key; irreversible steps are reported.
- ``open_execution`` / ``record`` keep one ``policy_executions`` row per remediation (idempotent: a retried
  call rewrites the same row with the full log); the first terminal record sets ``completed_at`` and bumps
  the policy's counters once.
- Every query goes through organisation-scoped repositories; the caller owns the transaction.

The package: ``scope`` (the shared session, repositories, providers, clock), ``planning``, ``actions``
(execute, verify, roll back), ``records`` (the ``policy_executions`` row) and ``service``
(:class:`RemediationService`, all three in one object).
"""

from __future__ import annotations

from cloudoptima.services.remediation.actions import StepActions
from cloudoptima.services.remediation.planning import RemediationPlanning
from cloudoptima.services.remediation.records import ExecutionRecords, pending_approval_of
from cloudoptima.services.remediation.scope import ProviderFactory, RemediationError, RemediationScope
from cloudoptima.services.remediation.service import RemediationService

__all__ = [
    "ExecutionRecords",
    "ProviderFactory",
    "RemediationError",
    "RemediationPlanning",
    "RemediationScope",
    "RemediationService",
    "StepActions",
    "pending_approval_of",
]
