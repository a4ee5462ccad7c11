"""Protocol actions on a sandbox estate: permissions, preconditions, the sandbox actions they map to, rollback.

``plan_action(estate, account_id, request, at)`` is pure: it returns a :class:`Plan` whose ``problems`` are
empty only when the request can be applied at ``at`` (the plan is dry-run through ``apply_action``, so
validation and execution can never disagree). Mapping to the generator's actions:

- stop / start / tag / untag / delete_snapshot / release_ip → the same sandbox action; resize → the same
  action, wrapped in stop … start when the instance runs (as the clouds do: ``launched_at`` moves);
- snapshot_and_delete_disk → a synthetic snapshot id (derived from the idempotency key, recorded in the
  result's ``after`` and the rollback) and ``delete_disk``. Its rollback is a ``restore_disk`` action with
  the disk's size, type, region, name, tags and the snapshot id (a dry run's plan omits the id: it depends
  on the key). The snapshot is not a resource of the estate (it neither bills nor shows in the inventory);
  the snapshots that exist are the ones journalled snapshot_and_delete actions recorded (``snapshots``).
- restore_disk → a ``restore`` of the deleted disk's resource as a new, unattached disk (created at ``at``,
  parameters' size/type/name/tags). Unlike AWS the disk keeps its old id (like Azure and GCP). The snapshot
  must exist and have been taken of that disk, the disk must still be deleted, and the parameters must be
  complete (:data:`RESTORE_REQUIRED`). Its rollback has no action (undoing it would delete the disk, which
  the protocol can only say as another snapshot_and_delete); ``SandboxProvider.undo`` can revert it.

Permissions are named ``<family>.<verb>`` (see :data:`ACTION_PERMISSIONS`); an account configured with a
denied permission reports it in ``missing_permissions``.
"""

from __future__ import annotations

from cloudoptima.clouds.sandbox.remediation.plan import (
    ACTION_PERMISSIONS,
    DRY_RUN,
    READ_PERMISSIONS,
    RESTORE_NOTE,
    RESTORE_REQUIRED,
    Plan,
    describe,
    required_permissions,
    synthetic_snapshot_id,
)
from cloudoptima.clouds.sandbox.remediation.planner import plan_action

__all__ = [
    "ACTION_PERMISSIONS",
    "DRY_RUN",
    "READ_PERMISSIONS",
    "RESTORE_NOTE",
    "RESTORE_REQUIRED",
    "Plan",
    "describe",
    "plan_action",
    "required_permissions",
    "synthetic_snapshot_id",
]
