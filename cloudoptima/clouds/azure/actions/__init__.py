"""Remediation actions on one subscription: plan (read-only), validate, execute once per idempotency key.

Contract:

- :meth:`ActionRunner.validate` reads the target and the caller's effective permissions (ARM permissions API)
  and changes nothing. Unknown or wrong-type resources, wrong states and unsupported sizes are ``problems``
  naming the resource id or size; missing RBAC actions are ``missing_permissions``.
- :meth:`ActionRunner.execute` runs an action once per ``idempotency_key`` (kept in memory for the lifetime of
  the provider): a repeated key returns the first :class:`ActionResult` without calling Azure; the same key
  with a different request is refused. Preconditions failing raise :class:`ActionRefusedError`; a missing
  permission raises :class:`CredentialsError` naming the action. Long-running operations are awaited.
- STOP is *deallocate* (compute billing stops). Power-off (``powerOff``) would keep paying for the compute,
  so it is never used. START starts a deallocated or stopped VM. RESIZE deallocates a running VM, PATCHes
  ``hardwareProfile.vmSize`` and starts it again; sizes not in the VM's ``vmSizes`` list are refused.
- SNAPSHOT_AND_DELETE_DISK copies an *unattached* disk to a full snapshot (named from the key, so a retry
  reuses it) then deletes the disk. Its rollback is RESTORE_DISK with the disk's name, location, zones, SKU,
  size and tags and the snapshot id (known only on execution; a dry run's plan omits it).
- RESTORE_DISK PUTs a disk with the old name (so the same ARM id; Azure still makes a new disk with a new
  ``uniqueId``) copying the snapshot. It is refused while a disk of that id exists (a PUT would update it)
  and when the snapshot is missing or a required parameter is absent. Permissions are checked at the
  resource-group scope, since the disk does not exist yet. Its rollback has no action: undoing it means
  deleting the restored disk, which the protocol can only say as another snapshot-and-delete; the evidence
  names the disk so a person can delete it.
- DELETE_SNAPSHOT and RELEASE_IP are irreversible (a released address cannot be reclaimed; it is recorded).
- TAG merges tags and UNTAG deletes keys through the Tags API (``Microsoft.Resources/tags/default``).
"""

from __future__ import annotations

from cloudoptima.clouds.azure.actions.disks import RESTORE_NOTE, RESTORE_REQUIRED
from cloudoptima.clouds.azure.actions.plan import DRY_RUN, POLL, VM, Plan
from cloudoptima.clouds.azure.actions.runner import ActionRunner

__all__ = ["DRY_RUN", "POLL", "RESTORE_NOTE", "RESTORE_REQUIRED", "VM", "ActionRunner", "Plan"]
