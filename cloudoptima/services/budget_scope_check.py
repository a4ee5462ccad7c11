"""Check a budget's scope against what the organisation knows before storing it (a scope naming nothing would
count 0 spend for ever, silently).

Contract — ``scope_problems(connection, organization_id, scope)`` returns every problem (empty when the scope
is fine), each naming its field (``("scope", "values", i)`` or ``("scope", "tag_key")``), the offending value
and up to three close matches among the known values (case-insensitive first, then ``difflib``):

- ``account``: each value must be an account id of the organisation's cost data (sub or billing account) or of
  a connected (or sandbox) cloud account; an account *name* is refused with its id as the suggestion.
- ``service``: each value must be a service name of the cost data (exact, case-sensitive: the spend query
  matches exactly) or, for a service with no spend yet, a well-known FOCUS service name
  (``cloudoptima.domain.service_catalog``) of a provider the organisation uses (a connected account or cost
  data; every provider when it has neither).
- ``tag`` / ``team``: the key (``team`` for team scopes) must be one of the organisation's rollup tag keys
  (budgets read the rollup's tag columns, so another key would never count); each value must have been seen
  under that key in the cost data or on an inventory resource's tags (a freshly tagged resource may have no
  spend yet).
- ``allocation``: ``dimension`` must name one of the organisation's allocation dimensions (problem at
  ``("scope", "dimension")``); any value is accepted (``unallocated`` included), even one no cost has been
  allocated to yet (a new team; ``budget_allocation.unseen_values`` lists those).
"""

from __future__ import annotations

import difflib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Connection, text

from cloudoptima.domain.budgets import BudgetScope, ScopeType
from cloudoptima.domain.service_catalog import KNOWN_SERVICES
from cloudoptima.services.budget_allocation import dimension_names
from cloudoptima.services.cost_scope import TEAM_TAG
from cloudoptima.services.ingestion import rollup_tag_keys


@dataclass(frozen=True)
class ScopeProblem:
    loc: tuple[str | int, ...]
    message: str
    value: str
    suggestions: list[str] = field(default_factory=list)


def close_matches(value: str, known: Iterable[str], limit: int = 3) -> list[str]:
    """Known values equal to ``value`` but for case first, then the closest by ``difflib`` (cutoff 0.6)."""
    pool = sorted(set(known))
    same = [k for k in pool if k.lower() == value.lower() and k != value]
    rest = [k for k in difflib.get_close_matches(value, pool, n=limit, cutoff=0.6) if k not in same]
    return (same + rest)[:limit]


def _column(connection: Connection, sql: str, params: dict[str, object]) -> set[str]:
    return {str(row[0]) for row in connection.execute(text(sql), params) if row[0] is not None}


def _suffix(suggestions: list[str]) -> str:
    return f"; did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""


def scope_problems(
    connection: Connection, organization_id: uuid.UUID, scope: BudgetScope
) -> list[ScopeProblem]:
    """Every problem of ``scope`` for the organisation (see the module contract)."""
    org: dict[str, object] = {"org": organization_id}
    problems: list[ScopeProblem] = []
    if scope.type is ScopeType.ALLOCATION:
        defined = dimension_names(connection, organization_id)
        wanted = scope.dimension or ""
        if wanted in defined:
            return []
        suggestions = close_matches(wanted, defined)
        return [
            ScopeProblem(
                ("scope", "dimension"),
                f"no allocation dimension named {wanted!r} in this organisation (defined: "
                f"{', '.join(defined) or 'none'})" + _suffix(suggestions),
                wanted,
                suggestions,
            )
        ]
    if scope.type is ScopeType.ACCOUNT:
        if not scope.values:
            return []
        ids = _column(
            connection,
            "SELECT DISTINCT sub_account_id FROM cost_daily WHERE organization_id = :org "
            "UNION SELECT DISTINCT billing_account_id FROM cost_daily WHERE organization_id = :org "
            "UNION SELECT account_identifier FROM cloud_accounts WHERE organization_id = :org",
            org,
        )
        names = {
            str(name): str(identifier)
            for identifier, name in connection.execute(
                text(
                    "SELECT account_identifier, account_name FROM cloud_accounts "
                    "WHERE organization_id = :org AND account_name IS NOT NULL"
                ),
                org,
            )
        }
        for i, value in enumerate(scope.values):
            if value in ids:
                continue
            suggestions = [names[value]] if value in names else close_matches(value, ids)
            problems.append(
                ScopeProblem(
                    ("scope", "values", i),
                    f"no account {value!r} in this organisation's cost data or connected accounts"
                    + _suffix(suggestions),
                    value,
                    suggestions,
                )
            )
        return problems
    if scope.type is ScopeType.SERVICE:
        in_data = _column(
            connection,
            "SELECT DISTINCT service_name FROM cost_daily WHERE organization_id = :org",
            org,
        )
        providers = _column(
            connection,
            "SELECT provider FROM cloud_accounts WHERE organization_id = :org "
            "UNION SELECT DISTINCT provider FROM cost_daily WHERE organization_id = :org",
            org,
        ) or set(KNOWN_SERVICES)
        catalogue = set().union(*(KNOWN_SERVICES.get(p, frozenset()) for p in providers))
        for i, value in enumerate(scope.values):
            if value in in_data or value in catalogue:
                continue
            suggestions = close_matches(value, in_data | catalogue)
            problems.append(
                ScopeProblem(
                    ("scope", "values", i),
                    f"unknown service {value!r}: not in this organisation's cost data nor a known service name "
                    f"of {', '.join(sorted(providers))}" + _suffix(suggestions),
                    value,
                    suggestions,
                )
            )
        return problems
    key = TEAM_TAG if scope.type is ScopeType.TEAM else (scope.tag_key or "")
    settings = connection.execute(text("SELECT settings FROM organizations WHERE id = :org"), org).scalar()
    keys = rollup_tag_keys(settings or {})
    if key not in keys:
        suggestions = close_matches(key, keys)
        field_loc: tuple[str | int, ...] = (
            ("scope", "tag_key") if scope.type is ScopeType.TAG else ("scope", "type")
        )
        return [
            ScopeProblem(
                field_loc,
                f"tag key {key!r} is not one of the organisation's rollup tag keys ({', '.join(keys)}), so a "
                "budget on it would never count spend" + _suffix(suggestions),
                key,
                suggestions,
            )
        ]
    seen = _column(
        connection,
        "SELECT DISTINCT tag_values ->> :key FROM cost_daily WHERE organization_id = :org "
        "UNION SELECT DISTINCT tags ->> :key FROM resources WHERE organization_id = :org",
        {**org, "key": key},
    )
    for i, value in enumerate(scope.values):
        if value in seen:
            continue
        suggestions = close_matches(value, seen)
        problems.append(
            ScopeProblem(
                ("scope", "values", i),
                f"no cost or resource is tagged {key}={value!r} in this organisation" + _suffix(suggestions),
                value,
                suggestions,
            )
        )
    return problems
