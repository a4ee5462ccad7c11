"""Collect one connected account: costs, inventory, utilisation and IAM into the organisation's tables.

Each step is one method, one transaction, and idempotent, so a durable workflow can retry or replay any
of them (after a crash, between commit and acknowledgement) without duplicating or losing data:

- ``plan`` decides the cost days to fetch: ``initial_days`` for a never-synced account, else from
  ``restate_days`` before the last successful sync (clouds restate recent days) up to today, inclusive
  (``[start, end)``, end = tomorrow), capped at ``MAX_CATCH_UP_DAYS``; split into ``window_days`` windows.
- ``collect_costs(window)`` fetches that day window and replaces exactly those days of this account in
  ``cost_data`` (and its ``cost_daily`` rows) — loads of the same account are serialised with an advisory
  lock; different accounts load concurrently. A re-collection never replaces detailed rows with coarser ones,
  day by day: a day whose fetched rows carry no resource id but which already holds resource-level rows of
  the account (from a CUR / FOCUS export or an earlier detailed read, e.g. Cost Explorer's resource-level
  days, which AWS keeps 14 days) is kept and counted in ``kept_days``; the other days are replaced. An incomplete read (a region failed) raises
  :class:`IncompleteReadError` (retryable) and writes nothing: replacing with a partial window would
  delete good rows.
- ``collect_inventory`` upserts resources (keeping their utilisation summaries); resources not seen in a
  complete read are marked deleted.
- ``collect_utilisation`` appends hourly series of the account's live instances and databases to the
  utilisation history (``storage.utilisation_history``): a resource never read is backfilled from
  ``start`` (a first collection reads ``utilisation_days``, default 30, back), one read before is read
  again from the last day it was read up to (which may have been partial), so later collections only
  append. A chunk whose read reported a failure does not advance its resources' cursors (read again next
  time). Then the summaries
  (avg/max/p95/p99/samples over the last ``utilisation_window_days`` of history, default 93) are written
  to ``resources.metrics`` — what the rules read — and history months older than the retention (default
  93 days) are dropped. ``heartbeat`` is called between chunks.
- ``collect_iam`` upserts ``iam_principals``; principals missing from a complete read are marked deleted.
- A read the credentials are not allowed to make never stops the others and never passes silently: a step
  that raises :class:`CredentialsError` naming a permission, and the parts of a read listed as denied
  (``Failure.permission``), become :class:`PermissionProblem` records ("missing permission
  cloudwatch:GetMetricData for utilisation of 12 instances"); the other steps still collect. A denied
  utilisation read writes nothing and moves no cursor, so the stored history and summaries stay as they
  were (the rules need enough samples: no finding is made from absent data). A :class:`CredentialsError`
  without a permission (the credentials themselves were refused) stops the account.
- ``finish`` sets ``status = 'active'`` (``'degraded'`` when permission problems were met; they are stored
  in ``permission_problems`` and replaced — cleared — by the next collection's), ``monthly_spend`` (the last 30 days of billed cost in the
  account's main currency) and — when every cost window loaded — ``last_sync_at``; then publishes
  ``cost_updates`` and ``resource_changes`` events.
- ``mark_error`` records refused credentials (``status = 'error'`` with the reason) and publishes
  ``collection_failed``.
- A status change (``finish``, ``mark_error``) is audited in the same transaction
  (``cloud_account.status_changed``, from/to, as the current actor: ``system`` + the workflow inside one).
- ``collect_account`` runs all of the above for one account in one call (what the workflow's one activity
  per account does): the account row, its provider and the rollup tag keys are loaded once and every step's
  transaction runs on one connection; a step's provider error is recorded (retryable ones are left pending
  for the caller to retry singly, and ``finish`` then waits for them) instead of stopping the others, and a
  denied step is recorded as a permission problem. Only
  one ``collect_account`` of an account runs at a time (a session advisory lock; a second one raises
  :class:`CollectionInProgressError`).

Every statement is scoped to the account's organisation (tenant repository or explicit filter);
``list_accounts`` is the one system-wide query (the scheduler's fan-out).

The step results and the run's progress (:class:`AccountCollection`) are the kernel's pydantic models
(``cloudoptima.domain.collection_steps``), re-exported here; the collection workflows send them as they are.

The package, one responsibility per module: ``results`` (the account reference, the errors, the step results),
``plan`` (which days), ``context`` (engine, clock, transactions), ``costs``, ``inventory``, ``utilisation``,
``iam``, ``forecast`` (one step each), ``account_status`` (``finish``, ``mark_error``), ``account_run``
(``collect_account``) and ``service`` (:class:`CollectionService`, what callers hold).
"""

from __future__ import annotations

from cloudoptima.services.collection.account_run import ProviderFactory, collection_lock_key
from cloudoptima.services.collection.account_status import SPEND_DAYS
from cloudoptima.services.collection.forecast import FORECAST_DAYS
from cloudoptima.services.collection.plan import MAX_CATCH_UP_DAYS, plan_windows
from cloudoptima.services.collection.results import (
    AccountCollection,
    AccountNotFoundError,
    AccountRef,
    CollectionInProgressError,
    CollectionPlan,
    CostStep,
    CostWindow,
    FinishStep,
    ForecastStep,
    Heartbeat,
    IamStep,
    IncompleteReadError,
    InventoryStep,
    Progress,
    StepFailure,
    StepName,
    UtilisationStep,
)
from cloudoptima.services.collection.service import (
    COLLECTABLE_STATUSES,
    AccountKind,
    CollectionService,
)
from cloudoptima.services.collection.utilisation import (
    UTILISATION_BACKFILL_DAYS,
    UTILISATION_CHUNK,
    UTILISATION_KINDS,
    UTILISATION_RETENTION_DAYS,
    UTILISATION_WINDOW_DAYS,
)

__all__ = [
    "COLLECTABLE_STATUSES",
    "FORECAST_DAYS",
    "MAX_CATCH_UP_DAYS",
    "SPEND_DAYS",
    "UTILISATION_BACKFILL_DAYS",
    "UTILISATION_CHUNK",
    "UTILISATION_KINDS",
    "UTILISATION_RETENTION_DAYS",
    "UTILISATION_WINDOW_DAYS",
    "AccountCollection",
    "AccountKind",
    "AccountNotFoundError",
    "AccountRef",
    "CollectionInProgressError",
    "CollectionPlan",
    "CollectionService",
    "CostStep",
    "CostWindow",
    "FinishStep",
    "ForecastStep",
    "Heartbeat",
    "IamStep",
    "IncompleteReadError",
    "InventoryStep",
    "Progress",
    "ProviderFactory",
    "StepFailure",
    "StepName",
    "UtilisationStep",
    "collection_lock_key",
    "plan_windows",
]
