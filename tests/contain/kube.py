"""Real tools for the containment and remediation tests: the demo incident written by the
real ``respond``, kustomize (built by scripts/test), kubectl, kubernetes-validate and the
published AdminNetworkPolicy CRD (from the sigs.k8s.io/network-policy-api Go module)."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.support.env import REPO, go_tool, missing

KUBE_VERSIONS = ("1.30.0", "1.35.0")  # the oldest and a recent release we check against
ANP_MODULE = "sigs.k8s.io/network-policy-api@v0.1.7"
ANP_CRD = "config/crd/standard/policy.networking.k8s.io_adminnetworkpolicies.yaml"


def run_demo(out: Path) -> Path:
    """``hullguard respond --demo --out OUT`` (the real thing; ~6 s)."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run([sys.executable, "-m", "hullguard", "respond", "--demo", "--out",
                           str(out), "--quiet"], env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode in (0, 1), done.stderr  # 1: findings above the threshold
    assert (out / "findings.json").is_file(), done.stderr
    return out


def kustomize() -> str:
    return go_tool("kustomize")


def render(folder: Path) -> list[dict[str, Any]]:
    """``kustomize build FOLDER`` as parsed objects."""
    done = subprocess.run([kustomize(), "build", str(folder)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind} {name}: {len(matches)} found"
    return matches[0]


def validate(obj: dict[str, Any]) -> None:
    """Every core object against the published OpenAPI schemas of two Kubernetes versions
    (strict: unknown fields are errors); an AdminNetworkPolicy against its CRD schema."""
    if obj["kind"] == "AdminNetworkPolicy":
        validate_anp(obj)
        return
    import kubernetes_validate

    for version in KUBE_VERSIONS:
        kubernetes_validate.validate(obj, version, strict=True)


@functools.cache
def anp_schema() -> dict[str, Any]:
    go = shutil.which("go")
    if not go:
        missing("go not installed: the AdminNetworkPolicy CRD comes from its Go module")
    done = subprocess.run([str(go), "mod", "download", "-json", ANP_MODULE], capture_output=True,
                          text=True, timeout=300, check=False,
                          env={**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod"})
    if done.returncode != 0:
        missing(f"go mod download {ANP_MODULE} failed: {done.stderr[-300:]}")
    import json

    crd = yaml.safe_load((Path(json.loads(done.stdout)["Dir"]) / ANP_CRD).read_text())
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1")
    schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]
    return schema


def validate_anp(obj: dict[str, Any]) -> None:
    import jsonschema

    try:
        jsonschema.validate(obj, anp_schema())
    except jsonschema.ValidationError as error:  # the schema dump in str(error) is huge
        raise AssertionError(f"{error.message} at {list(error.absolute_path)}") from None
