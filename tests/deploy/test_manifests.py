"""The deployment examples (deploy/) and their walk-through (docs/deploy.md): the Kubernetes
manifests build with the real kustomize and validate strictly against the published
Kubernetes schemas of two releases; every pod is restricted (non-root, read-only root
file system, no privilege escalation, no capabilities, resources); serve is probed on
/healthz; push and rescan workers are separate Deployments; and every hullguard command
the manifests, the compose file and the walk-through run is one the CLI has, with flags it
accepts (walked from the real click command tree)."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.cli import REPO
from tests.support.env import go_tool

DEPLOY = REPO / "deploy"
WALKTHROUGH = REPO / "docs" / "deploy.md"
KUBE_VERSIONS = ("1.30.0", "1.35.0")  # the oldest and a recent release we check against
WORKLOADS = ("Deployment", "CronJob")


def cli_problems(argv: list[str]) -> list[str]:
    """What in ``hullguard ARGV`` the CLI does not have: a command, or an option of it."""
    import typer

    from hullguard.cli.main import app

    command: Any = typer.main.get_command(app)
    path, rest = ["hullguard"], list(argv)
    while hasattr(command, "commands") and rest and rest[0] in command.commands:
        command = command.commands[rest[0]]
        path.append(rest.pop(0))
    if hasattr(command, "commands"):
        return [f"{' '.join(path)}: no command {rest[:1]}"]
    known = {name for param in command.params for name in (*param.opts, *param.secondary_opts)}
    return [f"{' '.join(path)} {word}" for word in rest
            if word.startswith("-") and word.split("=", 1)[0] not in known]


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    built = subprocess.run([go_tool("kustomize"), "build", str(DEPLOY / "kubernetes")],
                           capture_output=True, text=True, timeout=120, check=False)
    assert built.returncode == 0, built.stderr
    return [doc for doc in yaml.safe_load_all(built.stdout) if doc]


def _named(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def _pod(obj: dict[str, Any]) -> dict[str, Any]:
    template = (obj["spec"]["jobTemplate"]["spec"]["template"] if obj["kind"] == "CronJob"
                else obj["spec"]["template"])
    spec: dict[str, Any] = template["spec"]
    return spec


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod.get("initContainers", []), *pod["containers"]]


def test_kubernetes_manifests_build_and_validate(objects: list[dict[str, Any]]) -> None:
    import kubernetes_validate

    kinds = sorted(f"{o['kind']}/{o['metadata']['name']}" for o in objects)
    assert {"Deployment/hullguard-serve", "Deployment/hullguard-worker-push",
            "Deployment/hullguard-worker-rescan", "Deployment/hullguard-monitor",
            "CronJob/hullguard-db-update", "Service/hullguard-serve"} <= set(kinds)
    assert not [k for k in kinds if k.startswith("Secret/")]  # never an example over real ones
    for obj in objects:
        assert obj["metadata"].get("namespace", "hullguard") == "hullguard"
        for version in KUBE_VERSIONS:
            kubernetes_validate.validate(obj, version, strict=True)


def test_every_pod_is_restricted(objects: list[dict[str, Any]]) -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    user = re.findall(r"^USER (\d+)", dockerfile, re.M)
    assert user and int(user[-1]) > 0  # numeric: runAsNonRoot can check it
    for obj in (o for o in objects if o["kind"] in WORKLOADS):
        pod, name = _pod(obj), obj["metadata"]["name"]
        context = pod["securityContext"]
        assert context["runAsNonRoot"] is True and context["runAsUser"] == int(user[-1]), name
        assert context["seccompProfile"]["type"] == "RuntimeDefault", name
        assert pod["automountServiceAccountToken"] is False, name
        for container in _containers(pod):
            where = f"{name}/{container['name']}"
            restricted = container["securityContext"]
            assert restricted["readOnlyRootFilesystem"] is True, where
            assert restricted["allowPrivilegeEscalation"] is False, where
            assert restricted["capabilities"]["drop"] == ["ALL"], where
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), where
            assert "memory" in container["resources"]["limits"], where
            assert container["image"] == "hullguard:local", where  # the images: transformer


def test_serve_is_probed_and_the_worker_pools_are_separate(
        objects: list[dict[str, Any]]) -> None:
    deployments = _named(objects, "Deployment")
    serve = deployments["hullguard-serve"]["spec"]["template"]["spec"]["containers"][0]
    assert serve["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert serve["livenessProbe"]["httpGet"]["port"] == "http"
    assert serve["ports"][0]["containerPort"] == 8080
    args = {name: _pod(obj)["containers"][0]["args"] for name, obj in deployments.items()}
    assert args["hullguard-worker-push"][:3] == ["worker", "--queues", "push"]
    assert args["hullguard-worker-rescan"][:2] == ["worker", "--queues"]
    assert args["hullguard-worker-rescan"][2].split(",")[0] == "rescan"
    monitor = deployments["hullguard-monitor"]["spec"]
    assert monitor["replicas"] == 1 and monitor["strategy"]["type"] == "Recreate"
    update = _named(objects, "CronJob")["hullguard-db-update"]
    assert _pod(update)["containers"][0]["args"][:2] == ["db", "update"]


def _secret_keys() -> dict[str, set[str]]:
    """The example Secrets (not applied): their names and keys."""
    docs = yaml.safe_load_all((DEPLOY / "kubernetes" / "secret.example.yaml").read_text())
    return {d["metadata"]["name"]: set(d["stringData"]) for d in docs if d}


def test_manifest_commands_exist_and_their_variables_are_defined(
        objects: list[dict[str, Any]]) -> None:
    secrets = _secret_keys()
    assert {"HULLGUARD_STORE", "HULLGUARD_BROKER"} <= secrets["hullguard"]
    for obj in (o for o in objects if o["kind"] in WORKLOADS):
        for container in _containers(_pod(obj)):
            assert not cli_problems(container["args"]), container["args"]
            refs = [ref["secretRef"]["name"] for ref in container.get("envFrom", [])]
            assert set(refs) <= set(secrets), refs
            defined = {e["name"] for e in container.get("env", [])}.union(
                *(secrets[ref] for ref in refs))
            used = {v for arg in container["args"] for v in re.findall(r"\$\((\w+)\)", arg)}
            assert used <= defined, (obj["metadata"]["name"], used - defined)


def test_compose_file_runs_commands_hullguard_has() -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    services = yaml.safe_load(text)["services"]
    assert {"postgres", "rabbitmq", "migrate", "serve", "worker", "monitor"} <= set(services)
    for name in ("migrate", "serve", "worker", "monitor"):
        assert not cli_problems(services[name]["command"]), services[name]["command"]
    # Compose fills ${X} from the shell that runs it, never from a service's environment: a
    # bare ${X} must be one the file requires (${X:?...}) elsewhere, or it is silently "".
    required = set(re.findall(r"\$\{(\w+):\?", text))
    bare = set(re.findall(r"\$\{(\w+)\}", text))
    assert bare <= required, bare - required


def _walkthrough_commands(text: str) -> list[list[str]]:
    """Each ``hullguard ...`` command in the code blocks of a page (after ``$ ``, ``--``
    of ``kubectl exec``, or at the start of a line), up to a shell operator."""
    commands = []
    for block in re.findall(r"```\w*\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line.strip().removeprefix("$ "), comments=True)
            for start in [i for i, w in enumerate(words) if w == "hullguard"
                          and (i == 0 or words[i - 1] in ("--", "|", "&&", ";")
                               or re.fullmatch(r"[A-Z_]+=.*", words[i - 1]))]:
                argv = []
                for word in words[start + 1:]:
                    if word in ("|", "&&", ";", "&", ">", "||") or word.startswith(">"):
                        break
                    argv.append(word)
                commands.append(argv)
    return commands


def test_the_walkthrough_runs_only_commands_and_flags_that_exist() -> None:
    text = WALKTHROUGH.read_text()
    commands = _walkthrough_commands(text)
    named = {" ".join(w for w in argv[:2] if not w.startswith("-")) for argv in commands}
    assert {"token create", "store migrate", "db update", "monitor run", "monitor status",
            "serve", "worker"} <= named, named
    problems = [p for argv in commands for p in cli_problems(argv)]
    assert not problems, problems
    for path in set(re.findall(r"\bdeploy/(?:kubernetes|compose|Dockerfile)[\w./-]*", text)):
        assert (REPO / path).exists(), path
    for step in ("kubectl apply -k deploy/kubernetes", "/healthz", "/metrics",
                 "create secret generic hullguard", "docker build -f deploy/Dockerfile"):
        assert step in text, step


def test_walkthrough_parser_sees_through_kubectl_exec(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```console\n$ kubectl exec deploy/x -- hullguard token create \\\n"
                    "    --scope admin --nope | tee t\n```\n")
    commands = _walkthrough_commands(page.read_text())
    assert commands == [["token", "create", "--scope", "admin", "--nope"]]
    assert cli_problems(commands[0]) == ["hullguard token create --nope"]
