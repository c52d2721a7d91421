"""Published CRD schemas, read from the Go modules that ship them (the module proxy is
reachable here; scripts/test downloads them ahead): what emitted custom resources are
validated against when the controller itself cannot run here."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.support.env import missing

KYVERNO_MODULE = "github.com/kyverno/kyverno@v1.19.1"
KYVERNO_CLUSTERPOLICY = "config/crds/kyverno/kyverno.io_clusterpolicies.yaml"
POLICY_CONTROLLER_MODULE = "github.com/sigstore/policy-controller@v0.13.1"
POLICY_CONTROLLER_CIP = "config/300-clusterimagepolicy.yaml"


@functools.cache
def module_dir(module: str) -> Path:
    go = shutil.which("go")
    if not go:
        missing(f"go not installed: {module} comes from the Go module proxy")
    done = subprocess.run([str(go), "mod", "download", "-json", module], capture_output=True,
                          text=True, timeout=600, check=False,
                          env={**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod"})
    if done.returncode != 0:
        missing(f"go mod download {module} failed: {done.stderr[-300:]}")
    return Path(json.loads(done.stdout)["Dir"])


@functools.cache
def crd_schema(module: str, path: str, version: str) -> dict[str, Any]:
    """The openAPIV3Schema of ``version`` in the CRD file ``path`` of ``module``."""
    documents = list(yaml.safe_load_all((module_dir(module) / path).read_text()))
    crd = next(d for d in documents if d and d.get("kind") == "CustomResourceDefinition")
    found = next(v for v in crd["spec"]["versions"] if v["name"] == version)
    schema: dict[str, Any] = found["schema"]["openAPIV3Schema"]
    return schema


def validate_against_crd(obj: dict[str, Any], module: str, path: str, version: str) -> None:
    """Unknown fields are errors too (the API server prunes them silently: a typo would be a
    policy that quietly verifies less)."""
    import jsonschema

    schema = _closed(crd_schema(module, path, version))
    # every object has these, whether or not the CRD spells them out
    schema["properties"] = {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                            "metadata": {"type": "object"}, **schema["properties"]}
    try:
        jsonschema.validate(obj, schema)
    except jsonschema.ValidationError as error:  # the schema dump in str(error) is huge
        raise AssertionError(f"{error.message} at {list(error.absolute_path)}") from None


def _closed(schema: Any) -> Any:
    """A copy where every object with declared properties refuses others (structural
    schemas without x-kubernetes-preserve-unknown-fields prune unknown fields)."""
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    closed = {key: _closed(value) for key, value in schema.items()}
    if "properties" in closed and "additionalProperties" not in closed \
            and not closed.get("x-kubernetes-preserve-unknown-fields"):
        closed["additionalProperties"] = False
    return closed
