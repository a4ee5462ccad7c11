"""docker-compose.yml is a valid Compose file (the Compose Specification's JSON schema, vendored in deploy/schemas;
``docker compose config`` too where a Compose plugin exists) and the production shape holds: every long-running
service has a health check, every ``depends_on`` target exists and can satisfy its condition, the migrations run
before the gateway and every worker, one worker per task queue with a liveness probe on its health port, the
gateway probed on a path it really serves, every setting production mode requires wired, and Prometheus / Grafana
provisioned from files that exist and refer to metrics that exist."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from cloudoptima.settings import Settings
from cloudoptima_workflows.health import HEALTH_PATH
from cloudoptima_workflows.queues import ALL_QUEUES
from tests.deploy.deploy_support import (
    COMPOSE_FILE,
    DEPLOY,
    ROOT,
    InterpolationError,
    cli_commands,
    gateway_paths,
    interpolate_tree,
    throwaway_secrets,
)

SCHEMA = DEPLOY / "schemas" / "compose-spec.json"
ONE_SHOT = {"migrate"}
"""Services that run to completion (others wait for ``service_completed_successfully``): no health check."""


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def _schema_errors(document: dict[str, Any]) -> list[str]:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft201909Validator(schema)
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(top)'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    ]


def test_the_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    assert _schema_errors(compose) == []


def test_the_schema_check_rejects_what_compose_rejects(compose: dict[str, Any]) -> None:
    """The validation is not vacuous: a misspelt key and a wrong condition are reported with their place."""
    broken = json.loads(json.dumps(compose))
    broken["services"]["gateway"]["healthchek"] = broken["services"]["gateway"].pop("healthcheck")
    broken["services"]["gateway"]["depends_on"]["migrate"]["condition"] = "service_finished"
    errors = "\n".join(_schema_errors(broken))
    assert "services/gateway" in errors
    assert "'healthchek' was unexpected" in errors or "healthchek" in errors
    assert "service_finished" in errors


def _docker_compose() -> list[str] | None:
    for command in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(command[0]) is None:
            continue
        probe = subprocess.run([*command, "version"], capture_output=True, text=True, check=False)
        if probe.returncode == 0:
            return command
    return None


def test_docker_compose_config_accepts_it_where_compose_exists(tmp_path: Path) -> None:
    command = _docker_compose()
    if command is None:
        pytest.skip("no docker compose on this machine: the schema test above stands in for it")
    env = {**os.environ, **throwaway_secrets()}
    result = subprocess.run(
        [*command, "-f", str(COMPOSE_FILE), "config", "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_required_secrets_are_refused_when_missing(compose: dict[str, Any]) -> None:
    given = throwaway_secrets()
    for name in given:
        with pytest.raises(InterpolationError, match=name):
            interpolate_tree(compose, {k: v for k, v in given.items() if k != name})
    assert "${" not in json.dumps(interpolate_tree(compose, given))


def test_every_long_running_service_has_a_health_check(services: dict[str, dict[str, Any]]) -> None:
    missing = [
        name
        for name, service in services.items()
        if name not in ONE_SHOT
        and (
            not service.get("healthcheck")
            or service["healthcheck"].get("disable")
            or not service["healthcheck"].get("test")
        )
    ]
    assert missing == [], f"services without a health check: {missing}"
    for name in ONE_SHOT:
        assert services[name].get("restart") == "no", f"{name} runs once: restart must be 'no'"


def test_every_dependency_exists_and_can_meet_its_condition(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on must name a condition for each service"
        for target, spec in depends.items():
            assert target in services, f"{name} depends on {target}, which is not a service"
            condition = spec["condition"]
            if condition == "service_healthy":
                assert services[target].get("healthcheck"), (
                    f"{name} waits for {target} healthy: no health check"
                )
            elif condition == "service_completed_successfully":
                assert target in ONE_SHOT, f"{name} waits for {target} to complete, but it is long-running"
            else:
                pytest.fail(f"{name} -> {target}: condition {condition} does not wait for readiness")


def test_migrations_run_before_the_gateway_and_every_worker(services: dict[str, dict[str, Any]]) -> None:
    migrate = services["migrate"]
    assert migrate["command"] == ["db", "upgrade"]
    assert "upgrade" in cli_commands()["db"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    readers = ["gateway", *(name for name in services if name.startswith("worker-"))]
    for name in readers:
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, (
            name
        )


def test_one_worker_per_task_queue_probed_on_its_health_port(services: dict[str, dict[str, Any]]) -> None:
    workers = {name: s for name, s in services.items() if name.startswith("worker-")}
    queues: list[str] = []
    for name, service in workers.items():
        command = service["command"]
        assert command[0] == "worker", name
        queue = command[command.index("--queues") + 1]
        queues.append(queue)
        port = command[command.index("--health-port") + 1]
        probe = " ".join(service["healthcheck"]["test"])
        assert f"http://127.0.0.1:{port}{HEALTH_PATH}" in probe, f"{name} probes {probe}"
    assert sorted(queues) == sorted(ALL_QUEUES)
    scheduling = [n for n, s in workers.items() if s["environment"]["CLOUDOPTIMA_SCHEDULES"] == "true"]
    assert scheduling == ["worker-processing"], "exactly one worker creates the Temporal Schedules"


def test_the_gateway_is_probed_on_a_path_it_serves(services: dict[str, dict[str, Any]]) -> None:
    gateway = services["gateway"]
    assert gateway["command"][0] == "gateway"
    assert "gateway" in cli_commands()
    port = gateway["command"][gateway["command"].index("--port") + 1]
    (url,) = re.findall(r"http://127\.0\.0\.1:\d+[^'\"]*", " ".join(gateway["healthcheck"]["test"]))
    assert url.startswith(f"http://127.0.0.1:{port}/")
    assert "/" + url.split("/", 3)[3] in gateway_paths()


def test_one_image_built_once(services: dict[str, dict[str, Any]]) -> None:
    built = [name for name, s in services.items() if "build" in s]
    assert built == ["migrate"]
    ours = {
        name: s["image"]
        for name, s in services.items()
        if s.get("image", "").startswith("${CLOUDOPTIMA_IMAGE")
    }
    assert set(ours) == {"migrate", "gateway", *(n for n in services if n.startswith("worker-"))}
    assert len(set(ours.values())) == 1


def test_the_environment_satisfies_production_mode(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The settings each of our services gets pass the gateway's own start-up check."""
    rendered = interpolate_tree(compose, throwaway_secrets())
    for name in ("migrate", "gateway", "worker-collection", "worker-processing"):
        env = rendered["services"][name]["environment"]
        for variable in [
            v for v in os.environ if v.startswith(("CLOUDOPTIMA_", "DATABASE_", "REDIS_", "JWT_"))
        ]:
            monkeypatch.delenv(variable)
        for key, value in env.items():
            monkeypatch.setenv(key, str(value))
        monkeypatch.setenv("CLOUDOPTIMA_STATE_DIR", str(tmp_path / name))
        settings = Settings()
        assert settings.mode == "production", name
        settings.check_production_safety()
        assert "gateway" in settings.trusted_hosts, "Prometheus scrapes the gateway by its service name"
        assert settings.resolved_database_url().endswith("@postgres:5432/cloudoptima")


def test_prometheus_scrapes_services_that_exist(services: dict[str, dict[str, Any]]) -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    targets = [t for job in config["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]]
    assert "gateway:8000" in targets
    for target in targets:
        host = target.split(":")[0]
        assert host in services, f"prometheus scrapes {target}: no such service"
    gateway_jobs = [
        j for j in config["scrape_configs"] if "gateway:8000" in j["static_configs"][0]["targets"]
    ]
    assert gateway_jobs[0]["metrics_path"] in gateway_paths()
    mounts = services["prometheus"]["volumes"]
    assert "./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in mounts


def test_prometheus_scrapes_every_worker_on_the_ports_its_command_opens(
    services: dict[str, dict[str, Any]],
) -> None:
    """Each worker's business metrics (/metrics on --health-port) and Temporal SDK metrics
    (--temporal-metrics-port) are scraped, on the ports its command really opens."""
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    targets = {t for job in config["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]}
    workers = {name: svc for name, svc in services.items() if name.startswith("worker-")}
    assert workers
    for name, svc in workers.items():
        command = svc["command"]
        for flag in ("--health-port", "--temporal-metrics-port"):
            assert flag in command, f"{name} does not open {flag}"
            assert f"{name}:{command[command.index(flag) + 1]}" in targets, f"{name}'s {flag} is not scraped"


def test_grafana_is_provisioned_with_the_dashboards_folder(services: dict[str, dict[str, Any]]) -> None:
    mounts = {m.split(":")[0]: m.split(":")[1] for m in services["grafana"]["volumes"]}
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    dashboards_in = mounts["./deploy/grafana/dashboards"]
    providers = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/cloudoptima.yml").read_text())
    assert [p["options"]["path"] for p in providers["providers"]] == [dashboards_in]
    sources = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text())
    (source,) = sources["datasources"]
    assert source["url"] == "http://prometheus:9090" and source["uid"]
    dashboards = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))
    assert dashboards, "at least one dashboard is provisioned"
    uids = []
    for path in dashboards:
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        assert dashboard["uid"] and dashboard["title"] and dashboard["panels"], path.name
        uids.append(dashboard["uid"])
        panels = [p for top in dashboard["panels"] for p in [top, *top.get("panels", [])]]
        for panel in [p for p in panels if p.get("targets")]:
            datasource = panel.get("datasource") or {}
            uid = datasource.get("uid", "") if isinstance(datasource, dict) else str(datasource)
            assert uid == source["uid"] or uid.startswith("$"), (
                f"{path.name}: {panel.get('title')} queries {uid!r}"
            )
    assert len(uids) == len(set(uids)), f"dashboard uids collide: {uids}"


def test_the_operations_dashboard_queries_metrics_the_gateway_exports() -> None:
    """Every ``cloudoptima_*`` series the operations dashboard (this file's) queries is one the gateway's registry
    really has. Dashboards over the worker and business metrics are checked by the tests beside those metrics."""
    from cloudoptima_gateway.observability import Metrics

    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
    exported = {
        family.name + suffix
        for family in Metrics().registry.collect()
        for suffix in suffixes.get(family.type, ("",))
    }
    for path in [DEPLOY / "grafana" / "dashboards" / "operations.json"]:
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        queries = " ".join(t["expr"] for panel in dashboard["panels"] for t in panel["targets"])
        used = set(re.findall(r"\bcloudoptima_[a-z_]+", queries))
        unknown = sorted(used - exported)
        assert used, f"{path.name} queries no cloudoptima metric"
        assert unknown == [], f"{path.name} queries metrics the gateway does not export: {unknown}"
