"""Connected cloud accounts of an organisation (seed §3.2 Cloud Accounts API).

Contract:
- ``connect`` stores the credentials encrypted (Fernet) with status ``pending`` / verification ``pending``;
  the same (provider, account id) twice in one organisation raises :class:`AccountExistsError`.
- ``verify`` builds the account's provider through the :class:`ProviderRegistry` and calls its ``verify()``
  for real: ``verified`` sets status ``active``; ``partial`` (valid identity, some read permissions missing)
  sets verification ``verified`` and status ``degraded`` with one permission problem per missing
  permission (collection goes on without those reads and replaces them with what it meets); anything else
  (including a provider error) sets status ``error`` and verification ``failed`` with the reason (never a
  secret).
- ``listing`` adds ``monthly_spend`` = the last 30 days of billed cost of the account in ``cost_daily``
  (the stored column when there are no rows) and hides ``disconnected`` accounts unless asked for.
- ``update_settings`` applies a patch of the editable settings (``domain.account_settings``: a ``None``
  value removes a setting), validates the result and returns the changed keys;
  :class:`AccountSettingsError` lists every problem as ``(field, message)`` and changes nothing.
- ``disconnect`` (default) keeps every cost, resource and anomaly row: the account becomes
  ``disconnected`` (no scheduled collection picks it up) and its credentials are erased. ``purge``
  deletes the account's cost rows, rollups, resources and utilisation history and then the account.
Every statement is scoped to the organisation.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from cloudoptima.clouds.protocol import ProviderError
from cloudoptima.clouds.registry import ProviderRegistry
from cloudoptima.domain.account_settings import EDITABLE, check_settings
from cloudoptima.domain.permission_problems import PermissionProblem
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.storage.models import CloudAccount, CostDaily
from cloudoptima.storage.tenancy import TenantRepository

DISCONNECTED = "disconnected"


class AccountExistsError(ValueError):
    pass


class AccountSettingsError(ValueError):
    """The patch is not valid for this account; ``problems`` are ``(field, message)`` pairs (field ``""``:
    the settings as a whole)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems))
        self.problems = problems


class _Accounts(TenantRepository[CloudAccount]):
    model = CloudAccount


@dataclass(frozen=True)
class AccountView:
    row: CloudAccount
    monthly_spend: Decimal | None


class CloudAccountService:
    """See module contract; the caller commits."""

    def __init__(
        self,
        session: Session,
        organization_id: uuid.UUID,
        cipher: CredentialCipher,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._session = session
        self._org = organization_id
        self._repo = _Accounts(session, organization_id)
        self._cipher = cipher
        self._now = now

    def get(self, account_id: uuid.UUID) -> CloudAccount:
        row = self._repo.get(account_id)
        if row is None:
            raise LookupError(f"cloud account {account_id} not found")
        return row

    def connect(
        self,
        provider: str,
        identifier: str,
        name: str | None,
        credentials: dict[str, Any],
        settings: dict[str, Any] | None = None,
    ) -> CloudAccount:
        clash = self._session.scalar(
            self._repo.query()
            .with_only_columns(CloudAccount.id)
            .where(CloudAccount.provider == provider, CloudAccount.account_identifier == identifier)
        )
        if clash is not None:
            raise AccountExistsError(f"{provider} account {identifier} is already connected")
        row = CloudAccount(
            provider=provider,
            account_identifier=identifier,
            account_name=name or identifier,
            credentials_encrypted=self._cipher.encrypt(credentials),
            settings=dict(settings or {}),
            status="pending",
            verification_status="pending",
        )
        return self._repo.add(row)

    def update_settings(self, account_id: uuid.UUID, changes: Mapping[str, Any]) -> list[str]:
        """Apply a settings patch (see module contract); the changed keys, sorted."""
        row = self.get(account_id)
        model = EDITABLE.get(row.provider)
        if model is None:
            raise AccountSettingsError([("", f"{row.provider} accounts have no editable settings")])
        try:
            patch = model.model_validate(dict(changes))
        except ValidationError as exc:
            raise AccountSettingsError(
                [(".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()]
            ) from None
        except ValueError as exc:
            field, _, message = str(exc).partition(": ")
            raise AccountSettingsError([(field, message or str(exc))]) from None
        merged = dict(row.settings or {})
        given = patch.model_dump(include=set(changes))
        for key, value in given.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        try:
            check_settings(row.provider, merged)
        except ValueError as exc:
            field, _, message = str(exc).partition(": ")
            raise AccountSettingsError([(field, message or str(exc))]) from None
        changed = sorted(k for k in given if (row.settings or {}).get(k) != merged.get(k))
        row.settings = merged
        self._session.flush()
        return changed

    def verify(self, account_id: uuid.UUID, registry: ProviderRegistry) -> CloudAccount:
        row = self.get(account_id)
        problems: list[PermissionProblem] = []
        try:
            result = registry.for_account(row).verify()
            verified = result.status in ("verified", "partial")
            reason = None if verified else (result.detail or "verification failed")
            if result.status == "partial":
                problems = [
                    PermissionProblem(
                        step="verify", permission=p, purpose="collection (checked when connecting)"
                    )
                    for p in result.missing_permissions
                ]
            elif result.missing_permissions:
                reason = f"{reason}; missing permissions: {', '.join(result.missing_permissions)}"
        except ProviderError as exc:
            verified, reason = False, str(exc) or type(exc).__name__
        except Exception as exc:  # an SDK failing in an unexpected way is still a failed verification
            verified, reason = False, f"{type(exc).__name__}: {exc}"[:500]
        row.verification_status = "verified" if verified else "failed"
        row.verification_error = reason
        row.status = ("degraded" if problems else "active") if verified else "error"
        row.permission_problems = [problem.as_json() for problem in problems]
        self._session.flush()
        return row

    def listing(
        self, *, provider: str | None = None, status: str | None = None, today: date | None = None
    ) -> list[AccountView]:
        query = self._repo.query().order_by(CloudAccount.created_at, CloudAccount.id)
        if provider:
            query = query.where(CloudAccount.provider == provider)
        query = (
            query.where(CloudAccount.status == status)
            if status
            else query.where(CloudAccount.status != DISCONNECTED)
        )
        return self._views(self._session.scalars(query).all(), today)

    def view(self, account_id: uuid.UUID, *, today: date | None = None) -> AccountView:
        """One account as :meth:`listing` shows it (also when disconnected); LookupError if unknown."""
        return self._views([self.get(account_id)], today)[0]

    def _views(self, rows: Sequence[CloudAccount], today: date | None) -> list[AccountView]:
        end = (today or self._now().date()) + timedelta(days=1)
        spend = dict(
            self._session.execute(
                select(CostDaily.cloud_account_id, func.sum(CostDaily.billed_cost))
                .where(
                    CostDaily.organization_id == self._org,
                    CostDaily.usage_date >= end - timedelta(days=30),
                    CostDaily.usage_date < end,
                    CostDaily.cloud_account_id.in_([r.id for r in rows]),
                )
                .group_by(CostDaily.cloud_account_id)
            ).all()
        )
        return [AccountView(row=r, monthly_spend=spend.get(r.id, r.monthly_spend)) for r in rows]

    def disconnect(self, account_id: uuid.UUID, *, purge: bool = False) -> None:
        row = self.get(account_id)
        if not purge:
            row.status = DISCONNECTED
            row.credentials_encrypted = self._cipher.encrypt({})
            row.updated_at = self._now()
            self._session.flush()
            return
        params = {"org": self._org, "account": row.id}
        for table in ("cost_data", "cost_daily", "resources", "utilisation_daily", "utilisation_cursors"):
            self._session.execute(
                text(f"DELETE FROM {table} WHERE organization_id = :org AND cloud_account_id = :account"),
                params,
            )
        self._repo.delete(row)
