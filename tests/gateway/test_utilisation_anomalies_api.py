"""GET /v1/resources/utilisation/anomalies: the stored hourly history scanned by the causal detector."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cloudoptima.domain.inventory import MetricName, UtilisationSeries
from cloudoptima.settings import Settings
from cloudoptima.storage import utilisation_history
from cloudoptima.storage.models import CloudAccount
from tests.gateway.conftest import make_org


def test_a_cpu_spike_in_the_history_is_listed_at_its_hour(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings)
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=6)
    rng = np.random.default_rng(4)
    hours = 6 * 24
    cpu = 25 + 10 * np.sin(2 * np.pi * np.arange(hours) / 24) + rng.normal(0, 1, hours)
    spike_at = hours - 30
    cpu[spike_at] += 50
    with Session(engine) as session:
        account = CloudAccount(
            organization_id=org.id,
            provider="aws",
            account_identifier="555566667777",
            credentials_encrypted="x",
        )
        session.add(account)
        session.flush()
        utilisation_history.store(
            session.connection(),
            org.id,
            account.id,
            [
                UtilisationSeries(
                    resource_id="i-web", metric=MetricName.CPU_PERCENT, start=start, values=tuple(cpu)
                )
            ],
        )
        session.commit()
    answer = client.get(
        "/v1/resources/utilisation/anomalies",
        params={"days": 6, "metric": "cpu_percent"},
        headers=org.headers(),
    )
    assert answer.status_code == 200, answer.text
    alerts = answer.json()["alerts"]
    spike = (start + timedelta(hours=spike_at)).isoformat().replace("+00:00", "Z")
    assert [(a["resource_id"], a["at"], a["kind"], a["direction"]) for a in alerts] == [
        ("i-web", spike, "anomaly", "up")
    ]
    other = client.get(
        "/v1/resources/utilisation/anomalies", params={"provider": "gcp"}, headers=org.headers()
    )
    assert other.json()["alerts"] == []
    bad = client.get("/v1/resources/utilisation/anomalies", params={"days": 200}, headers=org.headers())
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "days"]
