"""Writable paths from the image config: an image built here declares ``Volumes`` in its
config, the real ``respond`` records them in the incident's SBOM, and ``contain`` mounts an
emptyDir (Kubernetes) or a tmpfs (compose) there under the read-only root filesystem. Hostile
volume paths never reach the YAML or the scripts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from hullguard.contain.hardening import _volume_name, _volume_names
from hullguard.contain.model import ContainOptions
from hullguard.contain.run import contain
from hullguard.contain.volumes import MAX_PATHS, ImageWrites, check_writable
from hullguard.errors import InputError
from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec, write_docker_archive
from hullguard.sbom.readers.cyclonedx import read_cyclonedx
from tests.contain.kube import find, render, validate
from tests.support.env import REPO

REF = "registry.shop.internal/shop/api:1"
EVIL_VOLUMES = ["/data", "/var/cache/api/", "relative", "/../etc", "/x$(id)", "/", "/a_b",
                "/a-b"]
APPS = f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: api, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: api}}}}
  template:
    metadata: {{labels: {{app: api}}}}
    spec:
      containers:
        - name: api
          image: {REF}
        - name: sidecar
          image: registry.shop.internal/shop/other:1
"""
COMPOSE = f"""services:
  api:
    image: {REF}
    ports: ["8080:8080"]
"""


def _image(path: Path, volumes: list[str]) -> Path:
    release = b"ID=alpine\nVERSION_ID=3.19.1\n"
    spec = ImageSpec([LayerSpec((FileSpec("etc/os-release", release),), created_by="ADD /")],
                     config={"Volumes": {v: {} for v in volumes}, "User": "0"})
    return write_docker_archive(path, spec, REF)


def _empty_db(tmp_path: Path) -> Path:
    """A real advisory database without a single advisory."""
    from hullguard.vuln.dbwrite import ImportInput, import_inputs

    (tmp_path / "none").mkdir()
    db = tmp_path / "empty.sqlite"
    import_inputs(db, [ImportInput(tmp_path / "none", name="none")])
    return db


def _respond(tmp_path: Path, volumes: list[str]) -> Path:
    """The real ``respond`` over a deployment, a compose file and the image built here."""
    (tmp_path / "apps.yaml").write_text(APPS)
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop/compose.yaml").write_text(COMPOSE)  # compose project "shop"
    archive = _image(tmp_path / "api.tar", volumes)
    out = tmp_path / "incident"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run(
        [sys.executable, "-m", "hullguard", "respond", str(tmp_path / "apps.yaml"),
         str(tmp_path / "shop/compose.yaml"), "--image", f"{REF}=docker-archive:{archive}",
         "--offline", "--no-store", "--quiet", "--db", str(_empty_db(tmp_path)),
         "--out", str(out)], env=env, capture_output=True, text=True, timeout=300,
        check=False)
    assert done.returncode in (0, 1), done.stderr
    return out


@pytest.fixture(scope="module")
def incident(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _respond(tmp_path_factory.mktemp("volumes"), EVIL_VOLUMES)


def _sbom(incident: Path) -> dict[str, Any]:
    listed = json.loads((incident / "findings.json").read_text())["sboms"]
    entry = next(s for s in listed if s["image"] == REF)
    doc: dict[str, Any] = json.loads((incident / entry["file"]).read_text())
    return doc


def test_respond_records_the_config_volumes_in_the_sbom(incident: Path) -> None:
    sbom = read_cyclonedx(_sbom(incident), "sbom")
    assert set(sbom.image.config.volumes) == set(EVIL_VOLUMES)


def test_contain_mounts_an_emptydir_at_each_config_volume(incident: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    changes = contain([incident], ContainOptions(out, workloads=("shop/Deployment/api",)))
    objects = render(out / "kustomize/overlay")
    deployment = find(objects, "Deployment", "api")
    validate(deployment)
    spec = deployment["spec"]["template"]["spec"]
    api, sidecar = spec["containers"]
    mounts = {m["mountPath"]: m["name"] for m in api["volumeMounts"]}
    assert set(mounts) == {"/tmp", "/data", "/var/cache/api", "/a_b", "/a-b"}
    assert api["securityContext"]["readOnlyRootFilesystem"] is True
    assert [m["mountPath"] for m in sidecar["volumeMounts"]] == ["/tmp"]  # its image: none
    assert len(set(mounts.values())) == len(mounts)  # /a_b and /a-b do not share a volume
    assert {v["name"] for v in spec["volumes"]} == set(mounts.values())
    assert all("emptyDir" in v for v in spec["volumes"])
    notes = (out / "CONTAINMENT.md").read_text()
    assert "emptyDir at /data (Volumes in the image config (sboms/" in notes
    warned = [w for c in changes.changes for w in c.warnings]
    assert any("not plain absolute paths" in w and "'relative'" in w and "'/x$(id)'" in w
               for w in warned)
    applied = "".join((out / name).read_text() for name in changes.files
                      if not name.endswith(".md"))  # the YAML and the scripts
    assert "$(id)" not in applied and "/etc" not in mounts


def test_compose_service_gets_a_tmpfs_at_each_config_volume(incident: Path,
                                                            tmp_path: Path) -> None:
    out = tmp_path / "out"
    contain([incident], ContainOptions(out, workloads=("shop/compose-service/api",)))
    (override,) = (out / "compose").glob("*.override.yml")
    service = yaml.safe_load(override.read_text().replace("!reset ", "").replace(
        "!override ", ""))["services"]["api"]
    assert service["read_only"] is True
    assert set(service["tmpfs"]) == {"/tmp", "/data", "/var/cache/api", "/a_b", "/a-b"}


def test_an_sbom_path_out_of_the_folder_is_not_followed(incident: Path, tmp_path: Path) -> None:
    """A findings.json pointing the image's SBOM elsewhere: no volumes from there."""
    import shutil

    copy = tmp_path / "incident"
    shutil.copytree(incident, copy)
    outside = tmp_path / "outside.cdx.json"
    outside.write_text(json.dumps(_sbom(incident)))
    doc = json.loads((copy / "findings.json").read_text())
    for image in doc["images"]:
        image["sbom"] = "../outside.cdx.json"
    (copy / "findings.json").write_text(json.dumps(doc))
    out = tmp_path / "out"
    contain([copy], ContainOptions(out, workloads=("shop/Deployment/api",)))
    spec = find(render(out / "kustomize/overlay"), "Deployment", "api")["spec"]["template"]
    assert {m["mountPath"] for m in spec["spec"]["containers"][0]["volumeMounts"]} == {"/tmp"}


def test_too_many_paths_are_capped_and_said() -> None:
    writes = ImageWrites()
    writes.add("api", [f"/v{i}" for i in range(MAX_PATHS + 10)], "Volumes in the image config")
    assert len(writes.paths["api"]) == MAX_PATHS
    assert any(f"more than {MAX_PATHS}" in w for w in writes.warnings)


def test_crafted_paths_never_share_a_volume_name() -> None:
    """``/a/b/<hash>`` reproduces the hashed name of ``/a-b``: the counter keeps them apart."""
    crafted = "/" + _volume_name("/a-b").removeprefix("hullguard-").replace("-", "/")
    assert _volume_name(crafted) == _volume_name("/a-b")
    assert len(set(_volume_names(["/a-b", crafted]).values())) == 2


def test_writable_option_refuses_what_is_not_a_plain_path() -> None:
    assert check_writable(["/var/cache/nginx/", "/tmp"], "--writable") == (
        "/var/cache/nginx", "/tmp")
    with pytest.raises(InputError, match="not a plain absolute path"):
        check_writable(["/tmp; rm -rf /"], "--writable")
