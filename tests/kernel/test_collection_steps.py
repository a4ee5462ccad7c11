"""The collection's step models keep the wire shape Temporal recorded (``tests/workflows/histories``): a
window is ``{"start", "end"}``, a run's costs are ``cost_windows`` and its failures ``failed_steps`` (labels)
plus ``pending``, read back into the same failures. Pure: no database, no Temporal server."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from cloudoptima.domain.collection_steps import (
    AccountCollection,
    CollectionPlan,
    CostWindow,
    InventoryStep,
    StepFailure,
)
from cloudoptima.domain.permission_problems import PermissionProblem

WINDOW = CostWindow(date(2026, 11, 2), date(2026, 11, 6))

RECORDED = (
    '{"cost_windows":[{"billed_total":"734.972788","end":"2026-11-06","replaced":76,"rows":76,'
    '"start":"2026-11-02"}],"failed_steps":["iam: iam api gone: 503"],"finish":null,'
    '"iam":null,"inventory":{"complete":true,"failures":[],"resources":80},'
    '"pending":[{"reason":"throttled","step":"costs","window":{"end":"2026-11-06","start":"2026-11-02"}}],'
    '"plan":{"end":"2026-11-06","first_sync":false,"start":"2026-11-02","utilisation_end":"2026-11-06",'
    '"utilisation_start":"2026-10-30","windows":[{"end":"2026-11-06","start":"2026-11-02"}]},'
    '"utilisation":null}'
)
"""An ``AccountSteps`` payload as the earlier message wrote it."""


def test_a_recorded_payload_decodes_into_the_run_and_is_written_back_in_the_same_shape() -> None:
    run = AccountCollection.model_validate_json(RECORDED)
    assert run.plan.windows == [(date(2026, 11, 2), date(2026, 11, 6))]
    assert run.plan.utilisation_start == date(2026, 10, 30)
    assert [(c.start, c.end, c.billed_total) for c in run.costs] == [(*WINDOW, Decimal("734.972788"))]
    assert run.failures == [
        StepFailure(step="iam", reason="iam api gone: 503", retryable=False),
        StepFailure(step="costs", reason="throttled", retryable=True, window=WINDOW),
    ]
    assert run.failed_steps == ["iam: iam api gone: 503"] and run.costs_complete
    written = json.loads(run.model_dump_json())
    assert written["cost_windows"][0]["rows"] == 76 and "costs" not in written
    assert written["pending"] == [
        {
            "step": "costs",
            "reason": "throttled",
            "retryable": True,
            "window": {"start": "2026-11-02", "end": "2026-11-06"},
        }
    ]
    assert "failures" not in written and "forecast" not in written
    assert AccountCollection.model_validate_json(run.model_dump_json()) == run


def test_a_failure_label_reads_back_into_the_failure() -> None:
    for failure in (
        StepFailure(step="costs", reason="slow: down", retryable=False, window=WINDOW),
        StepFailure(step="forecast", reason="ce:GetCostForecast failed", retryable=False),
    ):
        assert StepFailure.from_label(failure.label()) == failure
    start, end = WINDOW
    assert (start, end, WINDOW.end) == (date(2026, 11, 2), date(2026, 11, 6), end)


def test_the_permission_problems_are_the_denied_steps_then_the_denied_parts_once() -> None:
    plan = CollectionPlan(
        start=WINDOW.start,
        end=WINDOW.end,
        windows=[WINDOW],
        first_sync=True,
        utilisation_start=WINDOW.start,
        utilisation_end=WINDOW.end,
    )
    denied = PermissionProblem(step="iam", permission="iam:ListUsers", purpose="IAM principals")
    part = PermissionProblem(step="inventory", permission="ec2:DescribeVolumes", purpose="volumes")
    run = AccountCollection(
        plan=plan,
        inventory=InventoryStep(resources=1, complete=False, permission_problems=[part, denied]),
        denied=[denied],
    )
    assert run.permission_problems == [denied, part] and not run.costs_complete
