"""Live-path eval of realised savings (#22) on an estate written apart from the product: an AWS account in
moto, its FOCUS 1.2 bill written from AWS's public prices (``cloudoptima_evals/live_savings_bill.py``),
recommendations applied *by hand* in the account, and ``GET /v1/savings`` judged against the truth of the bill.

The user's path, at pinned dates (UTC):

1. 2026-11-09 09:30: connect the account over REST, first collection and analysis (``live_path``); load
   the bill so far (``POST /v1/data/ingest``: October's export, November's up to 11-08); accept the
   recommendations on the planted waste (``POST /v1/recommendations/{id}/accept``).
2. 2026-11-12 (the change day, :data:`CHANGE_DAY`), by hand in the account: stop two idle m5.xlarge (one at
   14:20, mid-day), resize an oversized m5.2xlarge to the size its recommendation names (stop, modify,
   start, 05:40-05:46), snapshot an unattached 100 GB gp2 volume and delete it (07:10 / 07:25: the kept
   snapshot is a cost the change created), delete an orphaned snapshot (07:30). A second item of each kind
   stays accepted and untouched.
3. 2026-11-13 02:00: the next daily collection and the analysis workflow's recommendations activity (where
   the product detects the hand changes).
4. 2026-11-16 06:00: November's export re-issued through 11-15 is loaded and the ledger read: three days
   after the change, no applied item may be ``measured`` (honesty, window 7 days).
5. 2026-11-25 06:00: November's export through 11-24 (12 days after the change) is loaded and the ledger
   and ``/v1/savings/by-rule`` are read and scored.

The bill holds what makes it hard: a 10 % m5.xlarge price cut from 2026-11-16 (in the after window; it
touches the resized instance and the fleet's other m5.xlarge), day-to-day data transfer on the running
instances, the partial change day, root volumes and busy instances the ledger must ignore.

Truth (``truth_monthly``), from the bill's physics and independent of the product: (the resource's daily
cost on a full day before the change − the daily cost after it, including what the change created, *at the
prices before the change*, data transfer at its expected value) × 30.4375 days (365.25 / 12, the month the
truth is stated in). A day is a day of that mean month: instances cost their hourly price × 24, storage its
GB-month price × GB / 30.4375 (AWS prorates a GB-month over the hours of the calendar month, so a month of
storage costs its GB-month price whatever the month's length: a 30-day month's day costs more than a mean day).

Score (:func:`score`): per applied item the absolute % error of the ledger's ``realised_monthly`` against the
truth; MAPE and MAE ($/month) over the applied items; how many were measured; whether the early read was
honest; whether each month's ``realised_monthly`` equals the sum of its items. :data:`FLOORS` says what a
user would accept, :func:`failures` lists what does not hold.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from unittest import mock

from cloudoptima_evals import live_savings_bill as bill
from cloudoptima_evals.live_aws import ROLE_ARN, moto_server
from cloudoptima_evals.live_path import collect_and_analyse
from cloudoptima_evals.live_savings_bill import ACCOUNT, REGION
from cloudoptima_evals.live_savings_estate import (
    BILL_START,
    EARLY_READ,
    FINAL_READ,
    NEXT_COLLECTION,
    PRICE_CUT,
    T0,
    Applied,
    Estate,
    apply_by_hand,
    build,
    moto_gaps,
    truth_monthly,
)
from cloudoptima_evals.live_savings_scoring import FLOORS, failures, score

__all__ = ["FLOORS", "needs", "run"]
WINDOW_DAYS = 7
DUE = date(2099, 12, 31)  # an accept's due date must not be before today: far enough for any clock


def _expect(response: Any, status: int, what: str) -> Any:
    if response.status_code != status:
        raise RuntimeError(f"{what} failed: {response.status_code} {response.text}")
    return response.json()


@dataclass(frozen=True)
class User:
    """The registered FinOps user the eval acts as."""

    headers: dict[str, str]
    user_id: str
    org: Any
    account: Any


def register_and_connect(api: Any) -> User:
    """Register an organisation and connect the moto account over REST (as ``live_path.connect``), keeping
    the user's token to act as them; the account reads one region."""
    registered = _expect(
        api.post(
            "/v1/auth/register",
            json={
                "email": f"savings-eval-{uuid.uuid4().hex[:8]}@example.com",
                "password": "savings eval password",
                "company_name": "Savings eval",
                "role": "cfo",
            },
        ),
        201,
        "register",
    )
    headers = {"Authorization": f"Bearer {registered['access_token']}"}
    body = {"role_arn": ROLE_ARN, "external_id": "savings-eval"}
    connected = _expect(api.post("/v1/cloud-accounts/aws", headers=headers, json=body), 201, "connect")
    if connected["verification_status"] != "verified":
        raise RuntimeError(f"connect failed: {connected}")
    patched = api.patch(
        f"/v1/cloud-accounts/{connected['id']}",
        headers=headers,
        json={"settings": {"regions": [REGION]}},
    )
    _expect(patched, 200, "settings")
    return User(
        headers, registered["user_id"], uuid.UUID(registered["organization_id"]), uuid.UUID(connected["id"])
    )


def ingest(api: Any, user: User, estate: Estate, through: date) -> list[dict[str, Any]]:
    """Load the FOCUS export of every billing period from :data:`BILL_START` to ``through`` (exclusive) —
    the latest one month-to-date, re-issued as AWS does — with ``POST /v1/data/ingest``; returns the answers."""
    answers = []
    period = BILL_START
    while period < through:
        data = bill.focus_csv(estate.resources, period, through, [PRICE_CUT])
        name = f"focus-{ACCOUNT}-{period:%Y-%m}.csv"
        response = api.post(
            "/v1/data/ingest",
            params={"filename": name, "format": "focus", "cloud_account_id": str(user.account)},
            content=data,
            headers={**user.headers, "Content-Type": "text/csv"},
        )
        answer = _expect(response, 200, f"ingest {name}")
        if answer.get("rows_quarantined"):
            raise RuntimeError(f"ingest {name} quarantined rows: {answer.get('quarantine_sample')}")
        answers.append(answer)
        period = (period + timedelta(days=32)).replace(day=1)
    return answers


def accept_waste(api: Any, user: User, estate: Estate) -> dict[str, dict[str, Any]]:
    """Accept every active recommendation naming a planted waste resource; returns them by resource id."""
    listed = _expect(api.get("/v1/recommendations", params={"limit": 500}, headers=user.headers), 200, "list")
    accepted: dict[str, dict[str, Any]] = {}
    for rec in listed["recommendations"]:
        named = [r["id"] for r in rec["affected_resources"] if r["id"] in estate.waste]
        if not named:
            continue
        body = {"owner_user_id": user.user_id, "due_date": DUE.isoformat(), "note": "apply by hand"}
        _expect(
            api.post(f"/v1/recommendations/{rec['id']}/accept", headers=user.headers, json=body),
            200,
            "accept",
        )
        for rid in named:
            accepted[rid] = rec
    return accepted


def next_daily_run(engine: Any, providers: Any, user: User, now: datetime) -> list[str]:
    """The product's daily run at ``now``: the account's collection (as ``live_path`` runs it), then the
    analysis workflow's recommendations activity (which first marks what was applied by hand); returns
    the collection's failures."""
    from cloudoptima.services.collection import AccountRef, CollectionService
    from cloudoptima.settings import Settings
    from cloudoptima.storage.engine import session_factory
    from cloudoptima_workflows.analysis.activities import AnalysisActivities
    from cloudoptima_workflows.analysis.inputs import AnalyseOrganisationInput

    defaults = Settings.model_fields
    state = CollectionService(engine, providers.for_account, now=lambda: now).collect_account(
        AccountRef(user.org, user.account),
        initial_days=defaults["collection_initial_days"].default,
        restate_days=defaults["collection_restate_days"].default,
        today=now.date(),
    )
    activities = AnalysisActivities(session_factory(engine), now=lambda: now)
    activities.recommendations(
        AnalyseOrganisationInput(organization_id=str(user.org), today=now.date().isoformat())
    )
    failures = [f"{f.step}: {f.reason}" for f in state.failures]
    for name, step in (("inventory", state.inventory), ("utilisation", state.utilisation)):
        failures += [f"{name}: {failure}" for failure in (step.failures if step is not None else [])]
    return failures + [f"{p.step}: {p.message}" for p in state.permission_problems]


def read_ledger(api: Any, user: User, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    """``GET /v1/savings`` and ``GET /v1/savings/by-rule`` as asked at ``now`` (the routes' clock pinned)."""
    with mock.patch("cloudoptima_gateway.routes.savings._now", return_value=now):
        params = {"window_days": WINDOW_DAYS, "limit": 200}
        ledger = _expect(api.get("/v1/savings", params=params, headers=user.headers), 200, "savings")
        by_rule = _expect(
            api.get("/v1/savings/by-rule", params={"window_days": WINDOW_DAYS}, headers=user.headers),
            200,
            "by-rule",
        )
    return ledger, by_rule


def product_view(api: Any, user: User, applied: list[Applied]) -> dict[str, dict[str, Any]]:
    """What the product shows of each applied item: its recommendation's status and lifecycle (``GET
    /v1/recommendations/{id}``) and, for instances, the stored state and type (``GET /v1/resources/compute``)."""
    compute = _expect(
        api.get("/v1/resources/compute", params={"page_size": 100}, headers=user.headers), 200, "compute"
    )
    instances = {r["id"]: r for r in compute["resources"]}
    view: dict[str, dict[str, Any]] = {}
    for item in applied:
        seen: dict[str, Any] = {}
        if item.recommendation_id:
            rec = _expect(
                api.get(f"/v1/recommendations/{item.recommendation_id}", headers=user.headers), 200, "get"
            )
            seen |= {
                "recommendation_status": rec["status"],
                "lifecycle": rec["lifecycle"],
                "actions": [(a["type"], a["parameters"]) for a in rec["actions"]],
            }
        if item.resource_id in instances:
            seen |= {
                "state": instances[item.resource_id]["status"],
                "type": instances[item.resource_id]["type"],
            }
        view[item.label] = seen
    return view


def run(api: Any, engine: Any, providers: Any, seed: int = 11) -> dict[str, Any]:
    """The whole user path on one moto server (see module docstring); the score with its ``failures``."""
    started = time.monotonic()
    phases: dict[str, float] = {}

    def lap(name: str) -> None:
        phases[name] = round(time.monotonic() - started - sum(phases.values()), 1)

    with moto_server() as endpoint, moto_gaps():
        estate = build(endpoint, seed)
        lap("build")
        user = register_and_connect(api)
        lap("register and connect")
        first = collect_and_analyse(engine, providers, user.org, user.account, T0)
        lap("first collection")
        ingest(api, user, estate, T0.date())
        accepted = accept_waste(api, user, estate)
        apply_by_hand(endpoint, estate, accepted)
        lap("ingest, accept, apply")
        second = next_daily_run(engine, providers, user, NEXT_COLLECTION)
        lap("next collection")
        ingest(api, user, estate, EARLY_READ.date())
        early, _ = read_ledger(api, user, EARLY_READ)
        ingest(api, user, estate, FINAL_READ.date())
        final, by_rule = read_ledger(api, user, FINAL_READ)
        seen = product_view(api, user, estate.applied)
        lap("ingest and read")
    for item in estate.applied:
        item.truth_monthly = truth_monthly(item)
    result = score(estate.applied, early, final)
    result["accepted"] = sorted(estate.waste[rid] for rid in accepted)
    result["collection_failures"] = sorted({*first.collection_failures, *second})
    result["product_view"] = seen
    result["buckets"] = final["buckets"]
    result["by_rule"] = by_rule["rules"]
    result["failures"] = failures(result)
    result["elapsed_s"] = round(time.monotonic() - started, 1)
    result["phases_s"] = phases
    return result


def run_standalone(seed: int = 11) -> dict[str, Any]:
    """:func:`run` on a temporary Postgres and Redis (``cloudoptima_evals.live.standalone_gateway``): the user's
    data is never touched."""
    from cloudoptima_evals.live import standalone_gateway

    needs()
    with standalone_gateway() as (api, engine, providers):
        return run(api, engine, providers, seed)


def needs() -> None:
    """Raise ``RuntimeError`` when moto (a dev dependency) is not installed."""
    try:
        import moto  # noqa: F401
    except ImportError as exc:
        raise RuntimeError(
            "the live savings eval needs moto: install the dev dependencies (make install-dev)"
        ) from exc
