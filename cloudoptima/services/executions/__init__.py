"""Executions of one organisation: read them (``GET /v1/executions``) and decide what a rollback would run.

Contract:

- :meth:`ExecutionService.get` builds an :class:`ExecutionDetail` from the ``policy_executions`` row and its
  ``execution_events`` (``LookupError`` when absent or of another organisation). :meth:`list` pages them,
  newest first, optionally by state and recommendation.
- :meth:`rollback_plan` returns the actions that undo a completed execution (each succeeded step's rollback
  action, last step first) with their risk, or raises :class:`RollbackRefused` naming why: the execution was
  a dry run, is not ``completed`` (still open, failed, rolled back automatically…), has a rollback open or
  completed already, changed nothing, or has steps that cannot be undone (each named with its reason).
- :meth:`reserve_rollback` checks under a row lock and reserves; the caller then starts the rollback (an
  ordinary approval-gated remediation of those actions, through the same path as any remediation, never
  here) and :meth:`link_rollback` replaces the reservation with the rollback execution's id, or
  :meth:`release_rollback` drops it when the start failed. Two requests at once start one rollback.
- Every query is scoped to the organisation; the caller owns the transaction.

The package: ``scope`` (the shared session, rows and events), ``views`` (pure read views), ``rollback``
(rollback plans and reservations) and ``service`` (:class:`ExecutionService`).
"""

from __future__ import annotations

from cloudoptima.services.executions.rollback import ExecutionRollbacks, RollbackPlan, RollbackRefused
from cloudoptima.services.executions.scope import ExecutionScope
from cloudoptima.services.executions.service import ExecutionService

__all__ = ["ExecutionRollbacks", "ExecutionScope", "ExecutionService", "RollbackPlan", "RollbackRefused"]
