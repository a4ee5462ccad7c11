"""``cloudoptima recommendations …``: the recommendation lifecycle from a shell (#22).

Thin callers of the services ``/v1/recommendations`` uses, straight from the database (no API or worker):
``list`` (:func:`cloudoptima.services.recommendation_filters.lifecycle_filter`: ``--status --owner --overdue
--due-before``), ``accept ID --owner --due``, ``snooze ID --until``, ``dismiss ID --reason [--permanent]``,
``false-positive ID --reason``, ``reopen ID`` and ``history ID``
(:class:`cloudoptima.services.recommendation_lifecycle.RecommendationLifecycle`). Refusals print the service's
message (a field named by its option, e.g. ``--due: … is before today``) and exit 1; a refused change writes
nothing. Changes are audited as the ``system`` actor with ``{"via": "cli"}``. ``--owner`` is a user id or
e-mail of the organisation. The clock is now (UTC) unless the hidden ``--now`` gives one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from cloudoptima.settings import SettingsError
from cloudoptima_cli.common import StateDir, console, fail, settings_or_fail

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cloudoptima.services.recommendation_lifecycle import RecommendationLifecycle

recommendations_app = typer.Typer(
    no_args_is_help=True, help="Recommendations: list by lifecycle state, accept, snooze, dismiss, history."
)

Org = Annotated[str, typer.Option("--org", help="Organisation id or name.")]
Now = Annotated[
    datetime | None, typer.Option("--now", hidden=True, help="The command's clock (UTC; default: now).")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")]
_OPTION = {"owner_user_id": "--owner", "due_date": "--due", "until": "--until", "reason": "--reason"}


def _clock(now: datetime | None) -> Callable[[], datetime]:
    moment = (now.replace(tzinfo=UTC) if now.tzinfo is None else now) if now else datetime.now(UTC)
    return lambda: moment


def _id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        fail(f"ID: {value!r} is not a recommendation id (a UUID)")


@contextmanager
def _session(org: str, state_dir: Any) -> Iterator[tuple[Session, uuid.UUID]]:
    """A tenant session of ``org`` committed when the block ends without error (else rolled back)."""
    from sqlalchemy.orm import sessionmaker

    from cloudoptima.services.organisations import OrganisationNotFoundError, resolve_organisation
    from cloudoptima.storage.engine import engine_from_settings
    from cloudoptima.storage.tenancy import tenant_session

    settings = settings_or_fail(state_dir)
    try:
        engine = engine_from_settings(settings)
        org_id = resolve_organisation(engine, org)
    except (SettingsError, OrganisationNotFoundError) as exc:
        fail(str(exc))
    try:
        with tenant_session(sessionmaker(engine), org_id) as session:
            yield session, org_id
    finally:
        engine.dispose()


def _decide(
    org: str, state_dir: Any, now: datetime | None, change: Callable[[RecommendationLifecycle, Session], Any]
) -> None:
    """Run one lifecycle change and print the recommendation's new state (or the refusal, exit 1)."""
    from cloudoptima.domain.recommendation_lifecycle import LIFECYCLE_NAME, TransitionRefused
    from cloudoptima.services.recommendation_lifecycle import LifecycleInputError, RecommendationLifecycle

    try:
        with _session(org, state_dir) as (session, org_id):
            row = change(RecommendationLifecycle(session, org_id, now=_clock(now)), session)
            state = LIFECYCLE_NAME.get(row.status, row.status)
            facts = [f"{row.id}: {state}"]
            if row.owner_user_id is not None and row.status == "accepted":
                facts.append(f"owner {_email(session, row.owner_user_id)}, due {row.due_date}")
            if row.snoozed_until is not None:
                facts.append(f"until {row.snoozed_until.isoformat()}")
    except LifecycleInputError as exc:
        fail(f"{_OPTION.get(exc.field, exc.field)}: {exc.message}")
    except (TransitionRefused, LookupError) as exc:
        fail(str(exc))
    console.print(", ".join(facts), highlight=False)


def _email(session: Session, user_id: uuid.UUID | None) -> str:
    from cloudoptima.storage.models import User

    if user_id is None:
        return "-"
    user = session.get(User, user_id)
    return user.email if user is not None else str(user_id)


def _actor() -> Any:
    from cloudoptima.services.audit import AuditActor

    return AuditActor(details={"via": "cli"})


def _owner(session: Session, org_id: uuid.UUID, value: str) -> uuid.UUID:
    from cloudoptima.services.recommendation_filters import FilterError, resolve_owner
    from cloudoptima.services.recommendation_lifecycle import LifecycleInputError

    try:
        return resolve_owner(session, org_id, value, None)
    except FilterError as exc:
        raise LifecycleInputError("owner_user_id", exc.message) from None


@recommendations_app.command("list")
def list_recommendations(
    org: Org,
    status: Annotated[str | None, typer.Option("--status", help="open, accepted, snoozed, …")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="A user id or e-mail.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Accepted ones past their due date.")] = False,
    due_before: Annotated[
        datetime | None, typer.Option("--due-before", formats=["%Y-%m-%d"], help="Accepted, due before.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 100,
    as_json: AsJson = False,
    now: Now = None,
    state_dir: StateDir = None,
) -> None:
    """Recommendations by lifecycle state (open by default; accepted with --owner/--overdue/--due-before)."""
    import json

    from cloudoptima.domain.recommendation_lifecycle import LIFECYCLE_NAME
    from cloudoptima.services.price_catalog import price_catalog_for
    from cloudoptima.services.recommendation_filters import FilterError, lifecycle_filter
    from cloudoptima.services.recommendations import RecommendationService

    clock = _clock(now)
    try:
        with _session(org, state_dir) as (session, org_id):
            chosen = lifecycle_filter(
                session, org_id, today=clock().date(), status=status, owner=owner, overdue=overdue,
                due_before=due_before.date() if due_before else None,
            )  # fmt: skip
            service = RecommendationService(session, org_id, price_catalog_for(session, org_id), now=clock)
            rows = [
                r
                for r in service.list(status=chosen.status, owner_user_id=chosen.owner_user_id, limit=100_000)
                if chosen.keeps(r)
            ][:limit]
            items = [
                {
                    "id": str(r.id), "title": r.title, "lifecycle": LIFECYCLE_NAME.get(r.status, r.status),
                    "rule_id": r.rule_id, "estimated_savings_monthly": str(r.estimated_savings_monthly or ""),
                    "owner": _email(session, r.owner_user_id) if r.owner_user_id else None,
                    "due_date": r.due_date.isoformat() if r.due_date else None,
                }
                for r in rows
            ]  # fmt: skip
    except FilterError as exc:
        fail(f"--{exc.field.replace('_', '-')}: {exc.message}")
    if as_json:
        console.print_json(json.dumps({"recommendations": items}))
        return
    table = Table(title=f"{len(items)} {chosen.status.value} recommendations")
    for column in ("id", "title", "state", "rule", "monthly", "owner", "due"):
        table.add_column(column)
    for item in items:
        table.add_row(*(str(item[k] or "-") for k in ("id", "title", "lifecycle", "rule_id")), *(
            str(item[k] or "-") for k in ("estimated_savings_monthly", "owner", "due_date")
        ))  # fmt: skip
    console.print(table)


@recommendations_app.command()
def accept(
    org: Org,
    recommendation_id: Annotated[str, typer.Argument(metavar="ID")],
    owner: Annotated[str, typer.Option("--owner", help="A user id or e-mail of the organisation.")],
    due: Annotated[datetime, typer.Option("--due", formats=["%Y-%m-%d"], help="Due date (YYYY-MM-DD).")],
    note: Annotated[str | None, typer.Option("--note")] = None,
    now: Now = None,
    state_dir: StateDir = None,
) -> None:
    """Accept: an owner of the organisation and a due date (today or later)."""
    rid = _id(recommendation_id)
    due_date: date = due.date()
    _decide(
        org, state_dir, now,
        lambda lc, s: lc.accept(
            rid, owner_user_id=_owner(s, lc.organization_id, owner), due_date=due_date, actor=_actor(), note=note
        ),
    )  # fmt: skip


@recommendations_app.command()
def snooze(
    org: Org,
    recommendation_id: Annotated[str, typer.Argument(metavar="ID")],
    until: Annotated[
        str, typer.Option("--until", help="ISO 8601 with a timezone, e.g. 2026-12-31T00:00:00Z.")
    ],
    reason: Annotated[str | None, typer.Option("--reason")] = None,
    now: Now = None,
    state_dir: StateDir = None,
) -> None:
    """Snooze until a moment (at most a year ahead); it is open again after."""
    from cloudoptima.services.recommendation_lifecycle import LifecycleInputError

    rid = _id(recommendation_id)

    def change(lc: RecommendationLifecycle, _s: Session) -> Any:
        try:
            moment = datetime.fromisoformat(until)
        except ValueError:
            raise LifecycleInputError("until", f"{until!r} is not an ISO 8601 date-time") from None
        return lc.snooze(rid, until=moment, actor=_actor(), reason=reason)

    _decide(org, state_dir, now, change)


@recommendations_app.command()
def dismiss(
    org: Org,
    recommendation_id: Annotated[str, typer.Argument(metavar="ID")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is not wanted.")],
    permanent: Annotated[bool, typer.Option("--permanent", help="Never suggest it again.")] = False,
    now: Now = None,
    state_dir: StateDir = None,
) -> None:
    """Dismiss with a reason."""
    rid = _id(recommendation_id)
    _decide(
        org,
        state_dir,
        now,
        lambda lc, _s: lc.dismiss(rid, _reason(reason), permanent=permanent, actor=_actor()),
    )


@recommendations_app.command("false-positive")
def false_positive(
    org: Org,
    recommendation_id: Annotated[str, typer.Argument(metavar="ID")],
    reason: Annotated[str, typer.Option("--reason", help="Why the rule was wrong here.")],
    now: Now = None,
    state_dir: StateDir = None,
) -> None:
    """Mark a false positive: the rule was wrong here (fed back to the rule)."""
    rid = _id(recommendation_id)
    _decide(org, state_dir, now, lambda lc, _s: lc.false_positive(rid, _reason(reason), actor=_actor()))


@recommendations_app.command()
def reopen(
    org: Org,
    recommendation_id: Annotated[str, typer.Argument(metavar="ID")],
    reason: Annotated[str | None, typer.Option("--reason")] = None,
    now: Now = None,
    state_dir: StateDir = None,
) -> None:
    """Open again (owner, due date, snooze and dismissal cleared)."""
    rid = _id(recommendation_id)
    _decide(org, state_dir, now, lambda lc, _s: lc.reopen(rid, actor=_actor(), reason=reason))


@recommendations_app.command()
def history(
    org: Org,
    recommendation_id: Annotated[str, typer.Argument(metavar="ID")],
    as_json: AsJson = False,
    state_dir: StateDir = None,
) -> None:
    """What happened to a recommendation: its transitions, oldest first."""
    import json

    from cloudoptima.services.recommendation_lifecycle import RecommendationLifecycle

    rid = _id(recommendation_id)
    with _session(org, state_dir) as (session, org_id):
        lifecycle = RecommendationLifecycle(session, org_id)
        try:
            lifecycle.get(rid)
        except LookupError as exc:
            fail(str(exc))
        rows = [
            {
                "at": h.at.isoformat(), "from": h.from_status, "to": h.to_status, "actor": h.actor,
                "reason": h.reason, "details": h.details,
            }
            for h in lifecycle.history(rid)
        ]  # fmt: skip
    if as_json:
        console.print_json(json.dumps({"recommendation_id": str(rid), "history": rows}))
        return
    if not rows:
        console.print(f"{rid}: no lifecycle changes yet", highlight=False)
    for h in rows:
        why = f" ({h['reason']})" if h["reason"] else ""
        console.print(f"{h['at']}  {h['from']} → {h['to']}  by {h['actor']}{why}", highlight=False)


def _reason(value: str) -> str:
    from cloudoptima.services.recommendation_lifecycle import LifecycleInputError

    if not value.strip():
        raise LifecycleInputError("reason", "must not be blank")
    return value.strip()
