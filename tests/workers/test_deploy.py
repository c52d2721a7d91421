"""The deployment examples: the Kubernetes manifests build with kustomize and validate
against the published Kubernetes schemas; the compose file runs serve, workers, RabbitMQ and
PostgreSQL with commands hullguard knows."""

from __future__ import annotations

import subprocess

import yaml

from tests.support.cli import REPO, run_hullguard
from tests.support.env import go_tool

DEPLOY = REPO / "deploy"


def test_kubernetes_manifests_build_and_validate() -> None:
    import kubernetes_validate

    built = subprocess.run([go_tool("kustomize"), "build", str(DEPLOY / "kubernetes")],
                           capture_output=True, text=True, check=True, timeout=60).stdout
    objects = [doc for doc in yaml.safe_load_all(built) if doc]
    kinds = sorted(f"{o['kind']}/{o['metadata']['name']}" for o in objects)
    assert "Deployment/hullguard-worker-push" in kinds
    assert "Deployment/hullguard-worker-rescan" in kinds
    assert "Deployment/hullguard-serve" in kinds
    for obj in objects:
        kubernetes_validate.validate(obj, "1.30", strict=True)
    queues = {o["metadata"]["name"]: o["spec"]["template"]["spec"]["containers"][0]["args"]
              for o in objects if o["kind"] == "Deployment"}
    assert queues["hullguard-worker-push"][:3] == ["worker", "--queues", "push"]


def test_compose_file_runs_the_commands_hullguard_has() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "rabbitmq", "serve", "worker"} <= set(services)
    worker = services["worker"]["command"]
    assert worker[0] == "worker"
    assert services["serve"]["command"][:3] == ["serve", "--store", "${HULLGUARD_STORE}"]
    # every flag the worker is started with is one `hullguard worker` accepts
    helped = run_hullguard("worker", "--help").stdout
    assert all(flag in helped for flag in worker if flag.startswith("--"))
