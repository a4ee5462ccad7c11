"""Remediation actions on Compute resources: validate (dry run) and execute (once per idempotency key).

Contract:

- :meth:`ActionRunner.validate` resolves the target, asks ``projects.testIamPermissions`` for exactly the
  permissions the action uses (:data:`PERMISSIONS`), reads the resource and checks preconditions. It changes
  nothing and returns the rollback plan the execution would give.
- :meth:`ActionRunner.execute` records ``key → ActionResult`` (a repeated key returns the first result
  without acting) and sends a ``requestId`` derived from the key with every mutating call, so a retried
  call is deduplicated by Compute too. Missing permissions raise :class:`CredentialsError`, failed
  preconditions :class:`ActionRefusedError`. Operations are waited for (``operation_timeout``).
- stop ↔ start; resize stops a running instance, calls ``setMachineType`` and starts it again (rollback:
  resize back); unknown machine types are refused. snapshot-and-delete-disk snapshots an unattached disk
  then deletes it; its rollback is RESTORE_DISK with the disk's name, zone, type, size, labels and the
  snapshot id (the snapshot name is derived from the disk, so a dry run already knows it).
- restore-disk inserts a disk with the old name (so the same resource id; Compute still makes a new disk
  with a new numeric id) from the snapshot. It is refused while a disk of that name exists, when the
  snapshot is missing or not READY, when a required parameter (:data:`RESTORE_REQUIRED`) is absent or the
  zone differs from the resource id's. Its rollback has no action: undoing it means deleting the disk,
  which the protocol can only say as another snapshot-and-delete; the evidence names the disk so a person
  can delete it. Deleting a snapshot and releasing an address are irreversible (the IP is recorded).
- tag/untag are labels (``setLabels`` with the current ``labelFingerprint``). An untag may also carry
  ``{"tags": {...}}`` to put back values a tag overwrote (``setLabels`` replaces the map atomically).
"""

from __future__ import annotations

from cloudoptima.clouds.gcp.actions.checks import (
    PERMISSIONS,
    RESTORE_NOTE,
    RESTORE_REQUIRED,
    label_permission,
    snapshot_name,
)
from cloudoptima.clouds.gcp.actions.runner import ActionRunner

__all__ = [
    "PERMISSIONS",
    "RESTORE_NOTE",
    "RESTORE_REQUIRED",
    "ActionRunner",
    "label_permission",
    "snapshot_name",
]
