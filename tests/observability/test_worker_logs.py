"""The worker logs JSON lines naming the REST request, the organisation, the workflow and the activity: the
context bound where a workflow is started travels through Temporal headers (real dev server, sandboxed
workflow) into the activity's log lines; a scheduled run (nothing bound) names the organisation of its input."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from cloudoptima.observability.log_context import annotate, bind, json_handler
from cloudoptima_workflows.connection import connect
from tests.observability.tiny import Job, LogOnce, log_line


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    logger = logging.getLogger("tests.observability.worker")
    handler = json_handler(stream)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def _records(stream: io.StringIO) -> list[dict[str, str]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_activity_log_lines_carry_request_organisation_workflow_and_activity(
    temporal_env: WorkflowEnvironment, lines: io.StringIO
) -> None:
    target = temporal_env.client.service_client.config.target_host
    client = await connect(target, namespace=temporal_env.client.namespace)
    queue = f"logs-{uuid.uuid4()}"
    requested, scheduled = uuid.uuid4(), uuid.uuid4()
    async with Worker(client, task_queue=queue, workflows=[LogOnce], activities=[log_line]):
        with bind(request_id="req-abc123"):
            annotate(organization_id=str(requested))  # what the gateway's authentication adds
            await client.execute_workflow(
                LogOnce.run,
                Job(str(requested), "from a request"),
                id="logs-requested-" + queue,
                task_queue=queue,
            )
        await client.execute_workflow(
            LogOnce.run, Job(str(scheduled), "on a schedule"), id="logs-scheduled-" + queue, task_queue=queue
        )
    by_message = {record["message"]: record for record in _records(lines)}
    first = by_message["from a request"]
    assert first["request_id"] == "req-abc123"
    assert first["organization_id"] == str(requested)
    assert first["workflow_id"] == "logs-requested-" + queue
    assert first["activity_type"] == "log_line" and first["activity_id"] not in ("", "-")
    assert first["levelname"] == "INFO" and first["name"] == "tests.observability.worker"
    second = by_message["on a schedule"]
    assert second["request_id"] == "-"
    assert second["organization_id"] == str(scheduled)
    assert second["workflow_id"] == "logs-scheduled-" + queue


def test_outside_any_context_the_fields_read_unknown(lines: io.StringIO) -> None:
    logging.getLogger("tests.observability.worker").info("bare", extra={"rows": 3})
    (record,) = _records(lines)
    assert record["rows"] == 3
    assert {k: record[k] for k in ("request_id", "organization_id", "workflow_id", "activity_id")} == {
        "request_id": "-",
        "organization_id": "-",
        "workflow_id": "-",
        "activity_id": "-",
    }
