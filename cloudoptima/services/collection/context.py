"""What every collection step shares: the engine, the clock, the publisher, and the one way a step opens its
transaction — on the connection a whole-account run holds, or on a pooled one for a single step."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.clouds.protocol import Failure
from cloudoptima.services.collection.results import AccountNotFoundError, AccountRef
from cloudoptima.services.events import Publish
from cloudoptima.storage.models import CloudAccount
from cloudoptima.storage.tenancy import TenantRepository, scope, tenant_session


class Accounts(TenantRepository[CloudAccount]):
    """The organisation's ``cloud_accounts`` rows."""

    model = CloudAccount


@dataclass(frozen=True)
class CollectionContext:
    """The dependencies and settings of the collection steps (built once by ``CollectionService``).

    ``utilisation_window_days``: how much of the stored history the utilisation summaries cover;
    ``utilisation_retention_days``: history months older than this are dropped; ``public_url``: the address
    people reach the gateway at (``Settings.resolved_public_url``), the base of the links ``collection.failed``
    notices carry to channels (None: no channel link); ``console_url``: the web console's base URL
    (``Settings.resolved_console_url``), where those notices link instead (its accounts page; None: the API).
    """

    engine: Engine
    now: Callable[[], datetime]
    publish: Publish | None
    utilisation_window_days: int
    utilisation_retention_days: int
    public_url: str | None = None
    console_url: str | None = None
    sessions: sessionmaker[Session] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sessions", sessionmaker(self.engine, expire_on_commit=False))

    @contextmanager
    def transaction(self, connection: Connection | None) -> Iterator[Connection]:
        """One transaction: on ``connection`` (held by ``collect_account``) or a pooled one."""
        if connection is None:
            with self.engine.begin() as pooled:
                yield pooled
        else:
            with connection.begin():
                yield connection

    @contextmanager
    def tenant(self, ref: AccountRef, connection: Connection | None) -> Iterator[Session]:
        """A tenant-scoped session committing one transaction, on ``connection`` when given."""
        if connection is None:
            with tenant_session(self.sessions, ref.organization_id) as session:
                yield session
            return
        with Session(bind=connection, expire_on_commit=False) as session:
            scope(session, ref.organization_id)
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise


def account_row(session: Session, ref: AccountRef) -> CloudAccount:
    """The account's row in ``session``; :class:`AccountNotFoundError` outside its organisation."""
    row = Accounts(session, ref.organization_id).get(ref.cloud_account_id)
    if row is None:
        raise AccountNotFoundError(f"cloud account {ref.cloud_account_id} does not exist")
    return row


def failure_labels(items: Sequence[Failure]) -> list[str]:
    """``"scope: error"`` of each failed part of a read."""
    return [f"{f.scope}: {f.error}" for f in items]
