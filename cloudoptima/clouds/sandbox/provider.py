"""``SandboxProvider``: the provider protocol over one account of a persisted, living sandbox estate.

Implements :class:`~cloudoptima.clouds.protocol.CloudProviderClient` so the demo and the evals run the same
code above the provider as AWS, Azure and GCP. Contract beyond the protocol:

- State lives in a :class:`~cloudoptima.clouds.sandbox.state.SandboxEstateStore`; every executed action is
  journalled (fsync'ed, under an ``fcntl`` lock) before ``execute_action`` returns, so another instance or
  process sees it at its next read. Actions take effect at ``clock()``.
- ``costs`` never returns days after ``clock()``'s date; days after the generated window are billed from
  the resources' current configuration. ``forecast`` is None (the sandbox has no native forecaster).
- Fault injection for the error paths above the provider: ``denied_permissions`` (reads raise
  :class:`CredentialsError`, validation reports ``missing_permissions``, execution raises
  :class:`CredentialsError`), ``fail_regions`` (reads list those regions in ``Partial.failures`` and omit
  their items) and ``throttle_first_n`` (the first *n* API calls of this instance are throttled; each call is
  retried ``max_attempts`` times with exponential backoff, then :class:`ThrottledError`).
- ``undo(key, undo_key)`` reverts any executed action exactly (also those whose protocol rollback has no
  action, e.g. restore_disk); it is sandbox-only.
- Snapshots taken by snapshot_and_delete_disk exist only in the journal (they neither bill nor show in the
  inventory); restore_disk finds them there.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from cloudoptima.clouds.protocol import (
    ActionKind,
    ActionRefusedError,
    ActionRequest,
    ActionResult,
    ActionValidation,
    CloudForecast,
    CredentialsError,
    DailyCost,
    Failure,
    Partial,
    ThrottledError,
    Verification,
)
from cloudoptima.clouds.sandbox.actions import apply_action
from cloudoptima.clouds.sandbox.billing import day_start
from cloudoptima.clouds.sandbox.estate import Estate
from cloudoptima.clouds.sandbox.live import account_costs, hourly_series
from cloudoptima.clouds.sandbox.remediation import DRY_RUN, READ_PERMISSIONS, Plan, plan_action
from cloudoptima.clouds.sandbox.state import EstateView, JournalEntry, SandboxEstateStore
from cloudoptima.clouds.sandbox.true_saving import true_saving_monthly
from cloudoptima.domain.inventory import Principal, Resource, ResourceState, UtilisationSeries

T = TypeVar("T")
_DAY = timedelta(days=1)
_REGION_DOWN = "injected failure: region unavailable"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SandboxProvider:
    """One account of the sandbox estate in ``state_dir`` (created with ``SandboxEstateStore.create``)."""

    provider = "sandbox"

    def __init__(
        self,
        state_dir: Path,
        account_id: str,
        *,
        clock: Callable[[], datetime] = _utc_now,
        denied_permissions: Iterable[str] = (),
        fail_regions: Iterable[str] = (),
        throttle_first_n: int = 0,
        max_attempts: int = 4,
        backoff_seconds: float = 0.05,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Open the store (``FileNotFoundError`` if absent); nothing is loaded until the first call."""
        self.store = SandboxEstateStore.open(state_dir)
        self.account_id = account_id
        self._clock = clock
        self.denied_permissions = frozenset(denied_permissions)
        self.fail_regions = frozenset(fail_regions)
        self._throttles_left = max(0, throttle_first_n)
        self._max_attempts = max(1, max_attempts)
        self._backoff = backoff_seconds
        self._sleep = sleep
        self._throttle_lock = threading.Lock()

    # -- plumbing ---------------------------------------------------------------------------------------

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the sandbox clock must return timezone-aware datetimes")
        return now.astimezone(UTC)

    def _call(self, operation: str, fn: Callable[[], T]) -> T:
        """Run ``fn`` as one API call: injected throttling is retried with backoff, then ThrottledError."""
        for attempt in range(self._max_attempts):
            with self._throttle_lock:
                throttled = self._throttles_left > 0
                self._throttles_left -= 1 if throttled else 0
            if not throttled:
                return fn()
            if attempt + 1 < self._max_attempts:
                self._sleep(self._backoff * 2**attempt)
        raise ThrottledError(f"sandbox {operation} throttled after {self._max_attempts} attempts")

    def _require_read(self, operation: str) -> None:
        permission = READ_PERMISSIONS[operation]
        if permission in self.denied_permissions:
            raise CredentialsError(f"account {self.account_id} lacks {permission}", permission=permission)

    def _estate(self) -> Estate:
        estate = self.store.estate()
        try:
            estate.account(self.account_id)
        except KeyError:
            raise CredentialsError(f"account {self.account_id} is not in the sandbox estate") from None
        return estate

    def _down(self, estate: Estate, resources: Iterable[Resource]) -> list[str]:
        """The regions of the account (and of ``resources``) configured to fail, sorted."""
        regions = set(estate.account(self.account_id).regions) | {r.region for r in resources}
        return sorted(regions & self.fail_regions)

    def _failures(self, family: str, regions: list[str]) -> list[Failure]:
        return [Failure(scope=f"{family}/{region}", error=_REGION_DOWN, retryable=True) for region in regions]

    # -- reads ------------------------------------------------------------------------------------------

    def verify(self) -> Verification:
        """Verified with the account id; partial with the denied read permissions; failed (unknown account)."""

        def run() -> Verification:
            try:
                estate = self.store.estate()
                estate.account(self.account_id)
            except KeyError:
                return Verification(
                    status="failed", detail=f"account {self.account_id} is not in the sandbox estate"
                )
            missing = sorted(p for p in READ_PERMISSIONS.values() if p in self.denied_permissions)
            if missing:
                return Verification(
                    status="partial",
                    account_id=self.account_id,
                    detail="missing read permissions",
                    missing_permissions=missing,
                )
            return Verification(status="verified", account_id=self.account_id)

        return self._call("verify", run)

    def costs(self, start: date, end: date) -> Partial[DailyCost]:
        """Daily costs of ``[start, end)`` up to today (clock), per day × resource × usage type, with tags."""
        self._require_read("costs")

        def run() -> Partial[DailyCost]:
            estate = self._estate()
            resources = estate.account_resources(self.account_id)
            down = self._down(estate, resources)
            live = [r for r in resources if r.region not in down]
            last = min(end, self._now().date() + _DAY)
            items = account_costs(estate, self.account_id, start, last, live) if start < last else []
            return Partial[DailyCost](items=items, failures=self._failures("costs", down))

        return self._call("costs", run)

    def forecast(self, start: date, end: date) -> CloudForecast | None:
        """None: the sandbox has no native forecaster (CloudOptima's own forecaster is used)."""
        return None

    def inventory(self) -> Partial[Resource]:
        """The account's resources that are not deleted, as they are now."""
        self._require_read("inventory")

        def run() -> Partial[Resource]:
            estate = self._estate()
            resources = estate.account_resources(self.account_id)
            down = self._down(estate, resources)
            items = [r for r in resources if r.state is not ResourceState.DELETED and r.region not in down]
            return Partial[Resource](items=items, failures=self._failures("inventory", down))

        return self._call("inventory", run)

    def utilisation(self, resources: list[Resource], start: date, end: date) -> Partial[UtilisationSeries]:
        """Hourly series of ``resources`` over ``[start, end)``; no samples after the clock's hour."""
        self._require_read("utilisation")

        def run() -> Partial[UtilisationSeries]:
            estate = self._estate()
            down = self._down(estate, resources)
            failures = self._failures("monitoring", down)
            items: list[UtilisationSeries] = []
            origin, hours = day_start(start), max(0, (end - start).days * 24)
            now = self._now()
            for asked in resources:
                try:
                    resource = estate.resource(asked.resource_id)
                except KeyError:
                    resource = None
                if resource is None or resource.account_id != self.account_id:
                    failures.append(
                        Failure(
                            scope=f"monitoring/{asked.resource_id}",
                            error=f"resource {asked.resource_id} does not exist in account {self.account_id}",
                        )
                    )
                elif resource.region not in down:
                    items.extend(hourly_series(estate, resource, origin, hours, now))
            return Partial[UtilisationSeries](items=items, failures=failures)

        return self._call("utilisation", run)

    def iam(self) -> Partial[Principal]:
        """The account's principals with their grants and credentials (identifiers only)."""
        self._require_read("iam")

        def run() -> Partial[Principal]:
            estate = self._estate()
            return Partial[Principal](items=[p for p in estate.principals if p.account_id == self.account_id])

        return self._call("iam", run)

    # -- actions ----------------------------------------------------------------------------------------

    def _plan(self, view: EstateView, request: ActionRequest, key: str) -> tuple[Plan, list[str]]:
        snapshots = self._snapshots(view) if request.kind is ActionKind.RESTORE_DISK else {}
        plan = plan_action(view.estate, self.account_id, request, self._now(), key, snapshots)
        missing = [p for p in plan.permissions if p in self.denied_permissions]
        return plan, missing

    def _snapshots(self, view: EstateView) -> dict[str, str]:
        """Snapshot id → disk id of every snapshot a journalled snapshot_and_delete_disk took in the account."""
        return {
            str(entry.result.after["snapshot_id"]): entry.request.resource_id
            for entry in view.entries
            if entry.account_id == self.account_id
            and entry.undoes is None
            and entry.request.kind is ActionKind.SNAPSHOT_AND_DELETE_DISK
            and "snapshot_id" in entry.result.after
        }

    def validate_action(self, request: ActionRequest) -> ActionValidation:
        """Permissions and preconditions of ``request`` now; changes nothing."""

        def run() -> ActionValidation:
            self._estate()
            plan, missing = self._plan(self.store.view(), request, DRY_RUN)
            problems = list(plan.problems) + [f"missing permission {p}" for p in missing]
            return ActionValidation(
                ok=not problems,
                problems=problems,
                missing_permissions=missing,
                current_state=plan.before,
                rollback=plan.rollback,
            )

        return self._call("validate_action", run)

    def execute_action(self, request: ActionRequest, idempotency_key: str) -> ActionResult:
        """Act once per key (journalled); a repeated key returns the recorded result without acting again.

        Raises :class:`ActionRefusedError` naming the resource when a precondition fails (or the key was
        used for a different request) and :class:`CredentialsError` when a permission is denied.
        """
        return self._call("execute_action", lambda: self._execute(request, idempotency_key))

    def _recorded(self, view: EstateView, request: ActionRequest, key: str) -> ActionResult | None:
        entry = view.entry(self.account_id, key)
        if entry is None:
            return None
        if entry.request != request:
            raise ActionRefusedError(
                f"idempotency key {key!r} was used for {entry.request.kind.value} on "
                f"{entry.request.resource_id}, not {request.kind.value} on {request.resource_id}"
            )
        return entry.result

    def _execute(self, request: ActionRequest, key: str) -> ActionResult:
        self._estate()
        try:
            json.dumps(request.parameters)
        except (TypeError, ValueError):
            raise ActionRefusedError(f"parameters of {request.resource_id} are not JSON") from None
        recorded = self._recorded(self.store.view(), request, key)
        if recorded is not None:
            return recorded
        with self.store.locked():
            view = self.store.view()
            recorded = self._recorded(view, request, key)
            if recorded is not None:
                return recorded
            plan, missing = self._plan(view, request, key)
            if plan.problems:
                raise ActionRefusedError("; ".join(plan.problems))
            if missing:
                raise CredentialsError(
                    f"account {self.account_id} lacks {', '.join(missing)} for {request.resource_id}",
                    permission=missing[0],
                )
            assert plan.rollback is not None
            at = plan.actions[0].at
            result = ActionResult(
                request=request,
                idempotency_key=key,
                status="succeeded",
                before=plan.before,
                after=plan.after,
                rollback=plan.rollback,
            )
            entry = JournalEntry(
                account_id=self.account_id,
                idempotency_key=key,
                request=request,
                at=at,
                result=result,
                applied=plan.actions,
                undo=plan.undo,
                true_saving_monthly=true_saving_monthly(view.estate, plan.actions)[1],
            )
            stored = self.store.append(entry).entry(self.account_id, key)
            assert stored is not None
            return stored.result

    def undo(self, idempotency_key: str, undo_key: str) -> ActionResult:
        """Revert the action executed with ``idempotency_key`` exactly (sandbox only), once per ``undo_key``.

        Raises :class:`ActionRefusedError` if there is no such action, or if a resource it changed has
        changed again since (undo the later action first).
        """
        return self._call("undo", lambda: self._undo(idempotency_key, undo_key))

    def _undo(self, key: str, undo_key: str) -> ActionResult:
        with self.store.locked():
            view = self.store.view()
            original = view.entry(self.account_id, key)
            if original is None:
                raise ActionRefusedError(f"no action with key {key!r} in account {self.account_id}")
            done = view.entry(self.account_id, undo_key)
            if done is not None:
                if done.undoes != key:
                    raise ActionRefusedError(f"idempotency key {undo_key!r} was used for another action")
                return done.result
            estate, resource_id = view.estate, original.request.resource_id
            later = [
                e
                for e in view.entries[view.entries.index(original) + 1 :]
                if e.request.resource_id == resource_id
            ]
            undone = [e.idempotency_key for e in later if e.undoes == key]
            if undone:
                raise ActionRefusedError(f"{key!r} on {resource_id} was already undone by {undone[0]!r}")
            if later:
                raise ActionRefusedError(f"{resource_id} changed after {key!r}; undo the later action first")
            now = self._now()
            actions = tuple(a.model_copy(update={"at": now}) for a in original.undo)
            changed = estate
            try:
                for action in actions:
                    changed = apply_action(changed, action).estate
            except (KeyError, ValueError) as exc:
                raise ActionRefusedError(f"{resource_id}: cannot undo {key!r}: {exc}") from exc
            result = original.result.model_copy(
                update={
                    "idempotency_key": undo_key,
                    "status": "undone",
                    "before": original.result.after,
                    "after": original.result.before,
                }
            )
            entry = JournalEntry(
                account_id=self.account_id,
                idempotency_key=undo_key,
                request=original.request,
                at=now,
                result=result,
                applied=actions,
                undoes=key,
            )
            stored = self.store.append(entry).entry(self.account_id, undo_key)
            assert stored is not None
            return stored.result
