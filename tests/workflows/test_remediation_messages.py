"""The remediation plan's money on the wire: ``Decimal`` in the messages, the same decimal string in JSON.

The plan activity's result in the golden ``remediation.json`` history (money written as decimal strings)
decodes, through the data converter every worker uses, into ``Decimal`` values that keep their exact
digits, and encodes back to the very same JSON.
"""

from __future__ import annotations

import json
from decimal import Decimal

from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHistory

from cloudoptima_workflows.connection import DATA_CONVERTER
from cloudoptima_workflows.remediation.inputs import PlanStepView, PlanView
from tests.workflows.history_recording import HISTORIES


def recorded_plan() -> Payload:
    """The payload the ``remediation.plan`` activity returned in the golden remediation history."""
    history = WorkflowHistory.from_json("remediation", (HISTORIES / "remediation.json").read_text())
    scheduled: dict[int, str] = {}
    for event in history.events:
        if event.HasField("activity_task_scheduled_event_attributes"):
            scheduled[event.event_id] = event.activity_task_scheduled_event_attributes.activity_type.name
        if event.HasField("activity_task_completed_event_attributes"):
            done = event.activity_task_completed_event_attributes
            if scheduled.get(done.scheduled_event_id) == "remediation.plan":
                return done.result.payloads[0]
    raise AssertionError("the golden remediation history has no completed remediation.plan activity")


def test_recorded_plan_money_decodes_as_exact_decimals_and_encodes_back_unchanged() -> None:
    payload = recorded_plan()
    written = json.loads(payload.data)
    converter = DATA_CONVERTER.payload_converter

    (plan,) = converter.from_payloads([payload], [PlanView])

    assert isinstance(plan, PlanView)
    assert plan.savings == Decimal(written["savings"]) and str(plan.savings) == written["savings"]
    assert str(plan.current_monthly) == written["current_monthly"]
    assert str(plan.projected_monthly) == written["projected_monthly"]
    for step, raw in zip(plan.steps, written["steps"], strict=True):
        assert isinstance(step.monthly_cost_before, Decimal)
        assert str(step.monthly_cost_before) == raw["monthly_cost_before"]
        after = step.monthly_cost_after
        assert (None if after is None else str(after)) == raw["monthly_cost_after"]
    assert json.loads(converter.to_payloads([plan])[0].data) == written


def test_a_step_view_writes_money_as_the_decimal_string_it_holds() -> None:
    step = PlanStepView(
        index=0,
        cloud_account_id="a",
        resource_id="r",
        action="stop_instance",
        region=None,
        parameters={},
        description="",
        valid=True,
        problems=[],
        monthly_cost_before=Decimal("12.340"),
        monthly_cost_after=Decimal("0E-8"),
        rollback_available=True,
        irreversible=None,
    )

    written = json.loads(DATA_CONVERTER.payload_converter.to_payloads([step])[0].data)

    assert written["monthly_cost_before"] == "12.340" and written["monthly_cost_after"] == "0E-8"
