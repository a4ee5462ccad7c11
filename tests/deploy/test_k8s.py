"""deploy/k8s: every manifest, and what ``kubectl kustomize`` renders from each kustomization (where kubectl is
installed), validates strictly against the Kubernetes OpenAPI schemas (``kubernetes-validate``, offline); and the
deployment holds together: probes on paths the gateway app serves and on the worker's health endpoint, non-root
containers with requests and limits, an HPA and a PodDisruptionBudget for every Deployment, one worker per task
queue, every setting production mode requires wired from the ConfigMap or the (uncommitted) Secret, the migrate Job
running ``cloudoptima db upgrade``."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from cloudoptima.settings import Settings
from cloudoptima_workflows.health import HEALTH_PATH
from cloudoptima_workflows.queues import ALL_QUEUES
from tests.deploy.deploy_support import (
    K8S,
    ROOT,
    cli_commands,
    gateway_paths,
    load_yaml_documents,
    throwaway_secrets,
    yaml_documents,
)

KUBERNETES_VERSIONS = ("1.29.0", "1.33.0")
"""The oldest Kubernetes the manifests target (autoscaling/v2, policy/v1, batch/v1 ttl) and a recent one."""
KUSTOMIZATIONS = ("base", "migrate", "overlays/production")
PATCHES = {"overlays/production/gateway-hpa-request-rate.yaml"}
"""Partial documents that only make sense merged by kustomize (validated in the rendered output)."""
SECRET_KEYS = {"DATABASE_URL", "REDIS_URL", "JWT_SECRET", "CLOUDOPTIMA_ENCRYPTION_KEY"}


def _manifest_files() -> list[Path]:
    return sorted(
        path
        for path in K8S.rglob("*.yaml")
        if path.name != "kustomization.yaml" and path.relative_to(K8S).as_posix() not in PATCHES
    )


def _render(kustomization: str) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip(
            "kubectl (with its built-in kustomize) is not installed: the raw manifests are still checked"
        )
    result = subprocess.run(
        [kubectl, "kustomize", str(K8S / kustomization)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"kubectl kustomize {kustomization}: {result.stderr}"
    return yaml_documents(result.stdout, f"kubectl kustomize {kustomization}")


@pytest.fixture(scope="module")
def raw() -> list[dict[str, Any]]:
    return [doc for path in _manifest_files() for doc in load_yaml_documents(path)]


@pytest.fixture(scope="module")
def production() -> list[dict[str, Any]]:
    return _render("overlays/production")


def _invalid(document: dict[str, Any], version: str) -> str | None:
    try:
        kubernetes_validate.validate(document, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return f"{document.get('kind')}/{document.get('metadata', {}).get('name')}: {exc.message} at {list(exc.path)}"
    return None


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_file_is_valid(version: str) -> None:
    errors = [
        f"{path.relative_to(ROOT)}: {error}"
        for path in _manifest_files()
        for doc in load_yaml_documents(path)
        if (error := _invalid(doc, version)) is not None
    ]
    assert _manifest_files(), "no manifests found"
    assert errors == []


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_every_rendered_kustomization_is_valid(kustomization: str) -> None:
    documents = _render(kustomization)
    assert documents
    for version in KUBERNETES_VERSIONS:
        assert [e for doc in documents if (e := _invalid(doc, version))] == []


def test_the_validation_catches_a_misspelt_field(raw: list[dict[str, Any]]) -> None:
    deployment = copy.deepcopy(next(d for d in raw if d["kind"] == "Deployment"))
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {
        "httpGet": {"path": "/", "port": 1}
    }
    assert _invalid(deployment, KUBERNETES_VERSIONS[0]) is not None
    deployment = copy.deepcopy(next(d for d in raw if d["kind"] == "Deployment"))
    deployment["spec"]["replicas"] = "two"
    assert _invalid(deployment, KUBERNETES_VERSIONS[0]) is not None


def _pod_specs(documents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        f"{d['kind']}/{d['metadata']['name']}": d["spec"]["template"]["spec"]
        for d in documents
        if d["kind"] in ("Deployment", "Job")
    }


def test_every_container_runs_as_non_root_with_requests_and_limits(raw: list[dict[str, Any]]) -> None:
    pods = _pod_specs(raw)
    assert len(pods) == 1 + len(ALL_QUEUES) + 1
    for name, pod in pods.items():
        pod_security = pod.get("securityContext", {})
        assert pod.get("automountServiceAccountToken") is False, name
        for container in pod["containers"]:
            security = {**pod_security, **container.get("securityContext", {})}
            assert security.get("runAsNonRoot") is True, name
            assert int(security.get("runAsUser", 0)) != 0, name
            assert security.get("allowPrivilegeEscalation") is False, name
            assert security.get("readOnlyRootFilesystem") is True, name
            assert security.get("capabilities", {}).get("drop") == ["ALL"], name
            mounted = {m["mountPath"] for m in container.get("volumeMounts", [])}
            assert {"/home/cloudoptima", "/tmp"} <= mounted, f"{name}: a read-only root needs a writable home"
            for kind in ("requests", "limits"):
                assert set(container["resources"][kind]) >= {"cpu", "memory"}, f"{name} {kind}"


def _probes(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        kind: container[kind]
        for kind in ("startupProbe", "livenessProbe", "readinessProbe")
        if kind in container
    }


def _port(container: dict[str, Any], probe: dict[str, Any]) -> int:
    port = probe["httpGet"]["port"]
    if isinstance(port, int):
        return port
    return int(next(p["containerPort"] for p in container["ports"] if p["name"] == port))


def _config_map(raw: list[dict[str, Any]]) -> dict[str, str]:
    data: dict[str, str] = next(d for d in raw if d["kind"] == "ConfigMap")["data"]
    return data


def test_gateway_probes_call_paths_the_app_serves(raw: list[dict[str, Any]]) -> None:
    (container,) = _pod_specs(raw)["Deployment/cloudoptima-gateway"]["containers"]
    assert container["args"][0] == "gateway" and "gateway" in cli_commands()
    port = int(container["args"][container["args"].index("--port") + 1])
    probes = _probes(container)
    assert {"livenessProbe", "readinessProbe"} <= set(probes)
    assert probes["readinessProbe"]["httpGet"]["path"] == "/health/detailed"
    trusted = json.loads(_config_map(raw)["TRUSTED_HOSTS"])
    for kind, probe in probes.items():
        assert probe["httpGet"]["path"] in gateway_paths(), f"{kind}: {probe['httpGet']['path']}"
        assert _port(container, probe) == port, kind
        hosts = [h["value"] for h in probe["httpGet"].get("httpHeaders", []) if h["name"] == "Host"]
        assert hosts and hosts[0] in trusted, f"{kind}: TrustedHostMiddleware answers 400 to another Host"


def test_one_worker_per_queue_probed_on_its_health_endpoint(raw: list[dict[str, Any]]) -> None:
    workers = {n: p for n, p in _pod_specs(raw).items() if n.startswith("Deployment/cloudoptima-worker-")}
    queues, scheduling = [], []
    for name, pod in workers.items():
        (container,) = pod["containers"]
        args = container["args"]
        assert args[0] == "worker", name
        queues.append(args[args.index("--queues") + 1])
        health_port = int(args[args.index("--health-port") + 1])
        probes = _probes(container)
        assert {"livenessProbe", "readinessProbe"} <= set(probes), name
        for kind, probe in probes.items():
            assert probe["httpGet"]["path"] == HEALTH_PATH, f"{name} {kind}"
            assert _port(container, probe) == health_port, f"{name} {kind}"
        env = {e["name"]: e.get("value") for e in container["env"]}
        if env["CLOUDOPTIMA_SCHEDULES"] == "true":
            scheduling.append(name)
    assert sorted(queues) == sorted(ALL_QUEUES)
    assert scheduling == ["Deployment/cloudoptima-worker-processing"]


def test_every_deployment_has_an_hpa_and_a_disruption_budget(raw: list[dict[str, Any]]) -> None:
    deployments = {d["metadata"]["name"]: d for d in raw if d["kind"] == "Deployment"}
    scaled = {d["spec"]["scaleTargetRef"]["name"]: d for d in raw if d["kind"] == "HorizontalPodAutoscaler"}
    budgets = [d for d in raw if d["kind"] == "PodDisruptionBudget"]
    assert set(scaled) == set(deployments)
    for name, deployment in deployments.items():
        hpa = scaled[name]
        assert hpa["spec"]["minReplicas"] >= 1 and hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
        assert any(m["type"] == "Resource" and m["resource"]["name"] == "cpu" for m in hpa["spec"]["metrics"])
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        matching = [b for b in budgets if b["spec"]["selector"]["matchLabels"].items() <= labels.items()]
        assert len(matching) == 1, f"{name}: {len(matching)} disruption budgets"
        assert matching[0]["spec"].get("maxUnavailable") == 1, f"{name}: a budget that lets a node drain"


def test_the_production_gateway_also_scales_on_request_rate(production: list[dict[str, Any]]) -> None:
    (hpa,) = [
        d
        for d in production
        if d["kind"] == "HorizontalPodAutoscaler" and d["metadata"]["name"] == "cloudoptima-gateway"
    ]
    kinds = {(m["type"], (m.get("resource") or m["pods"]["metric"])["name"]) for m in hpa["spec"]["metrics"]}
    assert kinds == {("Resource", "cpu"), ("Pods", "http_requests_per_second")}
    assert {d["metadata"].get("namespace") for d in production if d["kind"] != "Namespace"} == {"cloudoptima"}
    images = {
        c["image"]
        for d in production
        if d["kind"] == "Deployment"
        for c in d["spec"]["template"]["spec"]["containers"]
    }
    assert len(images) == 1 and "/" in next(iter(images)), images


def test_every_setting_production_requires_is_wired(
    raw: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Each container's environment (ConfigMap + Secret keys, with throwaway secret values) passes the
    production start-up check; no Secret with values is committed."""
    assert [d for d in raw if d["kind"] == "Secret"] == [], "secret values are never committed"
    config = _config_map(raw)
    fake = throwaway_secrets()
    values = {
        "DATABASE_URL": f"postgresql+psycopg://cloudoptima:{fake['POSTGRES_PASSWORD']}@db.example:5432/cloudoptima",
        "REDIS_URL": "rediss://redis.example:6380/0",
        "JWT_SECRET": fake["JWT_SECRET"],
        "CLOUDOPTIMA_ENCRYPTION_KEY": fake["CLOUDOPTIMA_ENCRYPTION_KEY"],
    }
    for name, pod in _pod_specs(raw).items():
        (container,) = pod["containers"]
        assert container["envFrom"] == [{"configMapRef": {"name": "cloudoptima-config"}}], name
        env: dict[str, str] = dict(config)
        for item in container["env"]:
            if "valueFrom" in item:
                ref = item["valueFrom"]["secretKeyRef"]
                assert ref["name"] == "cloudoptima-secrets" and ref["key"] == item["name"], name
                env[item["name"]] = values[ref["key"]]
            else:
                env[item["name"]] = item["value"]
        assert {k for k in env if k in SECRET_KEYS} == SECRET_KEYS, name
        for variable in [
            v for v in os.environ if v.startswith(("CLOUDOPTIMA_", "DATABASE_", "REDIS_", "JWT_"))
        ]:
            monkeypatch.delenv(variable)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("CLOUDOPTIMA_STATE_DIR", str(tmp_path))
        settings = Settings()
        assert settings.mode == "production", name
        settings.check_production_safety()
    docs = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert all(key in docs for key in SECRET_KEYS), "docs/deploy.md shows how to create every secret key"


def test_the_migrate_job_runs_db_upgrade_apart_from_the_rest(raw: list[dict[str, Any]]) -> None:
    (job,) = [d for d in raw if d["kind"] == "Job"]
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["containers"][0]["args"] == ["db", "upgrade"]
    assert "upgrade" in cli_commands()["db"]
    base = (K8S / "base" / "kustomization.yaml").read_text(encoding="utf-8")
    assert "job.yaml" not in base and "migrate" not in base.split("resources:")[1]
    assert "job.yaml" in (K8S / "migrate" / "kustomization.yaml").read_text(encoding="utf-8")
