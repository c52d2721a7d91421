"""``collect``: all source kinds together, dedup, exposure, environment, criticality, and every
bad-input case leaving the rest of the inventory intact."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hullguard.inventory.collect import collect
from hullguard.inventory.context import load_criticality_rules
from hullguard.model.inventory import (
    Criticality,
    Environment,
    Inventory,
    Origin,
    SourceKind,
)

FIXTURES = Path(__file__).parent / "fixtures"
ENV = {"NGINX_TAG": "1.25.3"}


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    rules = load_criticality_rules(FIXTURES / "criticality.yaml")
    return collect([FIXTURES], environ=ENV, criticality_rules=rules)


def test_every_source_kind_is_read(inventory: Inventory) -> None:
    kinds = {o.location.kind for i in inventory.images for o in i.occurrences}
    assert kinds == {SourceKind.KUBERNETES, SourceKind.KUBECTL, SourceKind.COMPOSE,
                     SourceKind.DOCKERFILE, SourceKind.LIST}
    assert not [i for i in inventory.issues if i.severity == "error"]


def test_normalization_and_dedup(inventory: Inventory) -> None:
    alpine = inventory.image("docker.io/library/alpine:3.18")
    assert alpine is not None  # "alpine:3.18" and "docker.io/library/alpine:3.18" in the list
    assert [o.location.line for o in alpine.occurrences] == [2, 3]
    nginx = inventory.image("docker.io/library/nginx:1.25.3")
    assert nginx is not None
    places = {o.location.workload_key for o in nginx.occurrences}
    assert places == {"shop/Deployment/web", "shop/ReplicaSet/legacy",
                      "storefront/compose-service/proxy"}
    assert inventory.image("docker.io/library/alpine:latest") is not None  # implied tag
    names = [i.ref.key for i in inventory.images]
    assert len(names) == len(set(names))


def test_kubectl_pods_merge_into_their_deployment(inventory: Inventory) -> None:
    checkout = inventory.image("ghcr.io/example/checkout:3.1.0")
    assert checkout is not None
    assert checkout.workload_keys == ("payments-prod/Deployment/checkout",)
    assert checkout.running_digests == ("sha256:" + "a1" * 32,)
    envoy = inventory.image("docker.io/envoyproxy/envoy:v1.29.1")
    assert envoy is not None and envoy.running_digests == ("sha256:" + "b2" * 32,)
    workload = inventory.workload("payments-prod/Deployment/checkout")
    assert workload is not None and workload.containers == ("checkout", "envoy", "migrate")
    assert inventory.workload("payments-prod/Pod/checkout-6d4b8c9f7-abcde") is None


def test_origins(inventory: Inventory) -> None:
    origin = {i.ref.key: i.origin for i in inventory.images}
    assert origin["docker.io/library/redis:7.2-alpine"] is Origin.DOCKER_HUB
    assert origin["quay.io/coreos/etcd:v3.5.11"] is Origin.PUBLIC
    assert origin["registry.k8s.io/pause:3.9"] is Origin.PUBLIC
    assert origin["public.ecr.aws/docker/library/busybox:1.36"] is Origin.PUBLIC
    assert origin["registry.corp.example:5000/tools/backup:1.2"] is Origin.INTERNAL


@pytest.mark.parametrize(("key", "facing", "via"), [
    ("shop/Deployment/web", True, ("Ingress shop/web",)),
    ("shop/Deployment/api", True, ("Service shop/api-nodeport (NodePort)",)),
    ("payments-prod/Deployment/checkout", True, ("Service payments-prod/checkout (LoadBalancer)",)),
    ("staging/Deployment/storefront", True, ("HTTPRoute staging/storefront",)),
    ("storefront/compose-service/web", True, ("compose port 0.0.0.0:8080->80",)),
    ("staging/Deployment/storefront-worker", False, ()),
    ("shop/StatefulSet/db", False, ()),  # ClusterIP Service only
    ("storefront/compose-service/worker", False, ()),  # published on 127.0.0.1 only
])
def test_exposure(inventory: Inventory, key: str, facing: bool, via: tuple[str, ...]) -> None:
    workload = inventory.workload(key)
    assert workload is not None
    assert workload.exposure.internet_facing is facing
    assert workload.exposure.via == via


@pytest.mark.parametrize(("key", "environment"), [
    ("shop/Deployment/web", Environment.PRODUCTION),  # Namespace label environment=production
    ("payments-prod/Deployment/checkout", Environment.PRODUCTION),  # namespace name
    ("staging/Deployment/storefront", Environment.STAGING),
    ("payments-dev/Deployment/cache", Environment.DEVELOPMENT),
    ("dev-tools/Pod/debug", Environment.DEVELOPMENT),
    ("monitoring/DaemonSet/node-exporter", Environment.UNKNOWN),
])
def test_environment(inventory: Inventory, key: str, environment: Environment) -> None:
    workload = inventory.workload(key)
    assert workload is not None and workload.environment is environment


@pytest.mark.parametrize(("key", "level", "source"), [
    ("shop/Deployment/web", Criticality.CRITICAL, "label"),
    ("shop/Deployment/api", Criticality.HIGH, "annotation"),  # on the pod template
    ("payments-prod/Deployment/checkout", Criticality.CRITICAL, "config payments-*/*"),
    ("monitoring/DaemonSet/node-exporter", Criticality.MEDIUM, "config monitoring/*"),
    ("shop/StatefulSet/db", Criticality.LOW, "config default"),
    ("storefront/compose-service/web", Criticality.HIGH, "label"),
])
def test_criticality(inventory: Inventory, key: str, level: Criticality, source: str) -> None:
    workload = inventory.workload(key)
    assert workload is not None
    assert (workload.criticality, workload.criticality_source) == (level, source)


def test_compose_build_reads_the_dockerfile(inventory: Inventory) -> None:
    python = inventory.image("docker.io/library/python:3.12-slim")  # build arg beats ARG default
    assert python is not None
    assert {o.role for o in python.occurrences} == {"build", "final"}
    bases = {d.base.key: d for d in inventory.declared_bases}
    declared = bases["docker.io/library/python:3.12-slim"]
    assert declared.target is not None
    assert declared.target.key == "registry.corp.example:5000/storefront/web:2.4.1"
    assert declared.consumer == "storefront/compose-service/web"
    worker = bases["registry.corp.example:5000/base/worker:1.0"]
    assert worker.target is None and worker.consumer == "storefront/compose-service/worker"


def test_dockerfile_stages(inventory: Inventory) -> None:
    golang = inventory.image("docker.io/library/golang:1.22-alpine")
    assert golang is not None and golang.occurrences[0].role == "build"
    assert golang.occurrences[0].location.container == "builder"
    assert inventory.image("docker.io/library/scratch:latest") is None
    assert all("inside-heredoc" not in i.ref.key for i in inventory.images)


def test_helm_source_is_kept(inventory: Inventory) -> None:
    aspnet = inventory.image("mcr.microsoft.com/dotnet/aspnet:8.0")
    assert aspnet is not None
    assert {o.location.helm_source for o in aspnet.occurrences} == {
        "storefront/templates/deployment.yaml", "storefront/templates/worker.yaml"}


# ---------------------------------------------------------------------------- bad input

GOOD = "apiVersion: v1\nkind: Pod\nmetadata: {name: ok, namespace: a}\n" \
       "spec:\n  containers:\n    - name: c\n      image: nginx:1.25\n"


def _with_bad_file(tmp_path: Path, name: str, text: str) -> Inventory:
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / name).write_text(text)
    return collect([tmp_path], environ={})


def _assert_rest_processed(inventory: Inventory) -> None:
    assert inventory.image("docker.io/library/nginx:1.25") is not None


BAD_INPUTS = [
    ("malformed.yaml", "apiVersion: v1\nkind: Pod\nspec: [\n", "error", 4, "malformed YAML"),
    ("bomb.yaml", "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n"
        for i in range(8)), "error", None, "alias bomb"),
    ("deep.yaml", "[" * 1000 + "]" * 1000, "error", None, "nesting deeper"),  # read as JSON
    ("deep2.yaml", "".join(f"{' ' * i}k{i}:\n" for i in range(1000)), "error", 128,
     "nesting deeper"),  # the limit (128 levels) is passed on line 128
    ("evil.yaml", "apiVersion: v1\nkind: Pod\nx: !!python/object/apply:os.system [id]\n",
     "error", 3, "unsafe YAML tag"),
    ("dup.yaml", GOOD.replace("ok", "dup") + "kind: Pod\n", "warning", 8, "duplicate key"),
    ("docker-compose.yml", "services:\n  a:\n    image: ${BROKEN\n  b:\n    image: redis:7\n",
     "error", 3, "unclosed"),
]


@pytest.mark.parametrize(("name", "text", "severity", "line", "message"), BAD_INPUTS,
                         ids=[case[0] for case in BAD_INPUTS])
def test_bad_input(tmp_path: Path, name: str, text: str, severity: str, line: int | None,
                   message: str) -> None:
    inventory = _with_bad_file(tmp_path, name, text)
    _assert_rest_processed(inventory)
    issues = [i for i in inventory.issues if i.path.endswith(name)]
    assert len(issues) == 1, issues
    assert issues[0].severity == severity and message in issues[0].message
    if line is not None:
        assert issues[0].line == line


def test_broken_compose_keeps_other_services(tmp_path: Path) -> None:
    inventory = _with_bad_file(
        tmp_path, "compose.yaml", "services:\n  a:\n    image: ${NEED:?missing}\n"
        "  b:\n    image: redis:7\n")
    assert inventory.image("docker.io/library/redis:7") is not None
    assert inventory.workload(f"{tmp_path.name}/compose-service/b") is not None  # project = dir
    issue = next(i for i in inventory.issues if i.path.endswith("compose.yaml"))
    assert issue.line == 3 and "required variable NEED" in issue.message


def test_heredoc_and_escape_dockerfile_in_a_tree(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "dockerfiles" / "Containerfile.heredoc", tmp_path / "Dockerfile")
    inventory = _with_bad_file(tmp_path, "Dockerfile.broken", "FROM ${UNSET}\nRUN <<EOF\nx\n")
    _assert_rest_processed(inventory)
    assert inventory.image("docker.io/library/ubuntu:22.04") is not None
    messages = [i.message for i in inventory.issues if i.path.endswith("Dockerfile.broken")]
    assert any("ARG UNSET" in m for m in messages) and any("not terminated" in m for m in messages)


def test_invalid_references_and_missing_paths(tmp_path: Path) -> None:
    bad_image = GOOD.replace("nginx:1.25", "UPPER/Case:1").replace("name: ok", "name: bad")
    inventory = _with_bad_file(tmp_path, "bad-image.yaml", bad_image)
    issue = next(i for i in inventory.issues if i.path.endswith("bad-image.yaml"))
    assert issue.line == 7 and "invalid image reference" in issue.message
    missing = collect([tmp_path / "nope.yaml"], environ={})
    assert missing.issues[0].message == "no such file or directory"


def test_symlinked_directories_are_not_followed(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "pod.yaml").write_text(GOOD)
    (tmp_path / "real" / "loop").symlink_to(tmp_path / "real")
    inventory = collect([tmp_path], environ={})
    assert len(inventory.images) == 1


def test_compose_dockerfile_pointing_at_a_device_or_secret(tmp_path: Path) -> None:
    """A hostile compose file may aim ``dockerfile:`` at a device (never-ending read) or at
    a local secret (whose text must not be echoed in warnings)."""
    secret = tmp_path / "secret.txt"
    secret.write_text("FROM alpine:3.18\nTOP-SECRET-VALUE=hunter2\n")
    (tmp_path / "compose.yaml").write_text(
        "services:\n  a:\n    build: {context: /dev, dockerfile: zero}\n"
        f"  b:\n    build: {{context: {tmp_path}, dockerfile: secret.txt}}\n")
    inventory = collect([tmp_path / "compose.yaml"], environ={})
    messages = [str(i) for i in inventory.issues]
    assert any("/dev/zero: error: not a regular file" in m for m in messages)
    assert not any("hunter2" in m for m in messages)
    assert inventory.image("docker.io/library/alpine:3.18") is not None


def test_light_submodules_do_not_load_the_collector() -> None:
    """lint, secrets and the store import these; the package must not pull in ``collect``."""
    code = ("import sys, hullguard.inventory.dockerfile, hullguard.inventory.yamlsafe, "
            "hullguard.inventory.references; print('hullguard.inventory.collect' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"


def test_text_files_that_are_not_image_lists(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("flask\nrequests\n")  # bare words, valid refs
    (tmp_path / "notes.txt").write_text("remember to rotate the keys\n")
    (tmp_path / "images.txt").write_text("redis:7\nghcr.io/x/y:1\n")
    inventory = collect([tmp_path], environ={})
    assert [i.ref.key for i in inventory.images] == ["docker.io/library/redis:7",
                                                      "ghcr.io/x/y:1"]
    assert inventory.issues == ()
