"""``hullguard pin`` with a mapping file: golden diffs (demo fleet, YAML layouts, CRLF,
Dockerfiles), the re-inventoried result, idempotence, kustomize output and the report.

Golden diffs live in golden/; regenerate with ``HULLGUARD_REGOLD=1`` and review them by eye:
each must be exactly the minimal edit (one value replaced, one comment added)."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hullguard.cli.main import app
from hullguard.harden.mirror.mapping import MappingEntry, mirror_name, parse_target, write_mapping
from hullguard.images.reference import parse_reference
from hullguard.inventory.collect import collect

GOLDEN = Path(__file__).parent / "golden"
DEMO = Path(__file__).parents[3] / "src" / "hullguard" / "demo" / "data" / "fleet"
TARGET = "mirror.example.com/hub"
MIRROR_HOST = "mirror.example.com"


def fake_digest(source: str) -> str:
    """The digest a mapping records for ``source`` (any sha256 will do for pin)."""
    return "sha256:" + hashlib.sha256(source.encode()).hexdigest()


def mapping_file(path: Path, sources: list[str]) -> Path:
    """A mapping as ``hullguard mirror`` writes it, for ``sources``."""
    target = parse_target(TARGET)
    entries = [MappingEntry(s, fake_digest(s), f"{mirror_name(parse_reference(s), target)}@"
                            f"{fake_digest(s)}", fake_digest(s), ["manifest"]) for s in sources]
    write_mapping(path, entries, target)
    return path


def run(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["pin", *args])
    # the bytes: Result.stdout would turn CRLF into LF
    return result.exit_code, result.stdout_bytes.decode(), result.stderr


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("HULLGUARD_REGOLD"):
        path.write_bytes(text.encode())
    assert text == path.read_bytes().decode(), f"diff differs from {path}"


DEMO_SOURCES = ["alpine:3.10", "redis:7.2", "registry.shop.internal/shop/web:1.4.2",
                "registry.shop.internal/shop/worker:2.0.1",
                "registry.shop.internal/shop/frontend:3.2.0"]


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the demo fleet and its mapping; the working directory is its parent, so
    the diff names relative paths."""
    shutil.copytree(DEMO, tmp_path / "fleet")
    mapping_file(tmp_path / "mapping.json", DEMO_SOURCES)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "fleet"


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_demo_fleet_diff_write_reinventory_idempotent(fleet: Path) -> None:
    before = snapshot(fleet)
    code, out, err = run(["fleet", "--map", "mapping.json"])
    assert code == 0, err
    check_golden("demo-fleet.diff", out)
    assert snapshot(fleet) == before  # a diff only: nothing written
    assert "10 reference(s) pinned in 6 file(s), 0 already pinned, 0 not pinned" in err

    code, out, err = run(["fleet", "--map", "mapping.json", "--write"])
    assert code == 0 and out == "", err
    assert err.count("wrote ") == 6
    inventory = collect([fleet], environ={})
    refs = [o.ref for image in inventory.images for o in image.occurrences]
    assert len(refs) >= 10 and not [i for i in inventory.issues if i.severity == "error"]
    for ref in refs:  # every reference, FROM ${BASE} included, now names the mirror
        assert ref.registry == MIRROR_HOST and ref.repository.startswith("hub/"), ref
        assert ref.digest and not ref.tag, ref
    sources = {mirror_name(parse_reference(s), parse_target(TARGET)): fake_digest(s)
               for s in DEMO_SOURCES}
    assert {f"{r.registry}/{r.repository}": r.digest_text for r in refs}.items() <= sources.items()

    written = snapshot(fleet)
    code, out, err = run(["fleet", "--map", "mapping.json", "--write"])
    assert code == 0 and out == "" and "wrote" not in err, err
    assert "0 reference(s) pinned in 0 file(s), 10 already pinned, 0 not pinned" in err
    assert snapshot(fleet) == written  # idempotent


LAYOUTS = """\
# Manifests in every layout pin must keep as written.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web   # the front end
spec:
  template:
    spec:
      initContainers:
        - name: init
          image: &base alpine:3.19
      containers:
        - name: web
          image: "nginx:1.25"   # keep this comment
        - {name: side, image: 'redis:7.2', args: [a, b]}
        - name: again
          image: *base
      ephemeralContainers:
        - name: debug
          image: busybox
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: job,
                        image: ghcr.io/acme/job:2.0}]
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: templated
  spec:
    containers:
    - name: a
      image: ghcr.io/acme/app:${TAG}
    - name: b
      image: "{{ .Values.image }}"
    - name: c
      image: quay.io/unknown/thing:1
    - name: d
      image: ghcr.io/acme/app:${TAG:-1.0}
"""
LAYOUT_SOURCES = ["alpine:3.19", "nginx:1.25", "redis:7.2", "busybox:latest",
                  "ghcr.io/acme/job:2.0", "ghcr.io/acme/app:1.0"]


def test_yaml_layouts_minimal_edits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("k8s.yaml").write_text(LAYOUTS)
    mapping_file(tmp_path / "m.json", LAYOUT_SOURCES)
    code, out, err = run(["k8s.yaml", "--map", "m.json", "--fail-on-unpinned"])
    assert code == 1, err
    check_golden("yaml-layouts.diff", out)
    assert "k8s.yaml:43: not pinned: ghcr.io/acme/app:${TAG}: a template variable with no " \
           "default" in err
    assert "k8s.yaml:45: not pinned: {{ .Values.image }}: a template expression" in err
    assert "k8s.yaml:47: not pinned: quay.io/unknown/thing:1: not in the mapping" in err
    assert "7 reference(s) pinned in 1 file(s), 0 already pinned, 3 not pinned" in err
    code, _, err = run(["k8s.yaml", "--map", "m.json", "--write"])
    assert code == 0, err  # without --fail-on-unpinned the gaps are listed, exit 0
    assert Path("k8s.yaml").read_text().count("# was:") == 7 - 1  # the alias shares one


def test_crlf_and_bom_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = "\ufeffapiVersion: v1\r\nkind: Pod\r\nmetadata: {name: p}\r\nspec:\r\n" \
           "  containers:\r\n  - name: a\r\n    image: alpine:3.19 # old\r\n" \
           "  - name: b\r\n    image: redis:7.2"  # no newline at the end
    Path("pod.yaml").write_bytes(text.encode())
    mapping_file(tmp_path / "m.json", LAYOUT_SOURCES)
    code, out, err = run(["pod.yaml", "--map", "m.json"])
    assert code == 0, err
    check_golden("crlf.diff", out)
    assert run(["pod.yaml", "--map", "m.json", "--write"])[0] == 0
    data = Path("pod.yaml").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\r\n") == 8
    assert b"\n" not in data.replace(b"\r\n", b"") and not data.endswith(b"\n")


COMPOSE = """\
x-base: &base
  image: python:3.12   # shared through a merge key
  restart: always
services:
  api:
    <<: *base
  web:
    image: ${WEB_IMAGE:-nginx:1.25}
  worker:
    image: ghcr.io/acme/worker:${WORKER_TAG}
  cache:
    image: "redis:${REDIS_TAG}"
"""


def test_compose_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("compose.yaml").write_text(COMPOSE)
    Path(".env").write_text("REDIS_TAG=7.2\n")
    mapping_file(tmp_path / "m.json", ["python:3.12", "nginx:1.25", "redis:7.2"])
    code, out, err = run(["compose.yaml", "--map", "m.json"])
    assert code == 0, err
    check_golden("compose.diff", out)
    assert "compose.yaml:10: not pinned: ghcr.io/acme/worker:${WORKER_TAG}: ${WORKER_TAG} " \
           "has no default and no value" in err
    assert "3 reference(s) pinned in 1 file(s), 0 already pinned, 1 not pinned" in err


DOCKERFILE = """\
# syntax=docker/dockerfile:1
ARG BASE=alpine:3.19
ARG PY=3.12
ARG NOVALUE
FROM --platform=$BUILDPLATFORM golang:1.22 AS build
RUN go build ./...

FROM ${BASE} AS runtime
COPY --from=build /out /usr/bin/
COPY --from=nginx:1.25 /etc/nginx /etc/nginx

FROM python:${PY}-slim AS tools
FROM ${NOVALUE} AS nothing
FROM ghcr.io/acme/base-$TARGETARCH:1 AS per-arch
FROM scratch AS empty
FROM runtime
"""


def test_dockerfile_from_arg_and_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("Dockerfile").write_text(DOCKERFILE)
    mapping_file(tmp_path / "m.json", ["golang:1.22", "alpine:3.19", "nginx:1.25",
                                      "python:3.12-slim"])
    code, out, err = run(["Dockerfile", "--map", "m.json", "--write"])
    assert code == 0 and out == "", err
    assert "Dockerfile:13: not pinned: ${NOVALUE}: ARG NOVALUE has no default" in err
    assert "Dockerfile:14: not pinned: ghcr.io/acme/base-$TARGETARCH:1: depends on the " \
           "build platform ($TARGETARCH)" in err
    assert "4 reference(s) pinned in 1 file(s), 0 already pinned, 2 not pinned" in err
    import difflib

    check_golden("dockerfile.diff", "".join(difflib.unified_diff(
        DOCKERFILE.splitlines(True), Path("Dockerfile").read_text().splitlines(True),
        "a/Dockerfile", "b/Dockerfile")))
    inventory = collect(["Dockerfile"], environ={})
    uses = sorted(o.ref.key for i in inventory.images for o in i.occurrences)
    pinned = [u for u in uses if u != "ghcr.io/acme/base-amd64:1"]  # the per-platform one
    assert len(pinned) == 4 and all(u.startswith(f"{TARGET}/library/") for u in pinned), uses
    code, _, err = run(["Dockerfile", "--map", "m.json", "--write"])
    assert code == 0
    assert "0 reference(s) pinned in 0 file(s), 4 already pinned, 2 not pinned" in err


def test_kustomize_output_instead_of_edits(fleet: Path) -> None:
    before = snapshot(fleet)
    code, out, err = run(["fleet/k8s", "--map", "mapping.json", "--kustomize", "images.yaml"])
    assert code == 0 and out == "", err
    assert snapshot(fleet) == before
    text = Path("images.yaml").read_text()
    digest = fake_digest("registry.shop.internal/shop/web:1.4.2")
    assert f'- name: "registry.shop.internal/shop/web"\n  newName: ' \
           f'"{TARGET}/registry.shop.internal/shop/web"\n  digest: "{digest}"' in text
    assert text.count("- name:") == 4  # alpine, web, worker, frontend
    import yaml

    assert len(yaml.safe_load(text)["images"]) == 4
    Path("kustomization.yaml").write_text("resources: [a.yaml]\n")
    code, _, err = run(["fleet/k8s", "--map", "mapping.json", "--kustomize",
                        "kustomization.yaml"])
    assert code == 2 and "was not written by `hullguard pin --kustomize`" in err
    assert Path("kustomization.yaml").read_text() == "resources: [a.yaml]\n"


def test_kustomize_one_name_two_tags_is_reported(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("a.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n"
                              "  containers: [{name: a, image: alpine:3.19},\n"
                              "               {name: b, image: alpine:3.18}]\n")
    mapping_file(tmp_path / "m.json", ["alpine:3.19", "alpine:3.18"])
    code, _, err = run(["a.yaml", "--map", "m.json", "--kustomize", "k.yaml",
                        "--fail-on-unpinned"])
    assert code == 1
    assert "a.yaml:6: not pinned: alpine:3.18: kustomize matches alpine by name" in err


def test_json_manifest_gets_no_comment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = ('{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},\n'
            ' "spec": {"containers": [{"name": "a", "image": "alpine:3.19"}]}}\n')
    Path("pod.json").write_text(text)
    mapping_file(tmp_path / "m.json", ["alpine:3.19"])
    assert run(["pod.json", "--map", "m.json", "--write"])[0] == 0
    import json

    pinned = json.loads(Path("pod.json").read_text())["spec"]["containers"][0]["image"]
    assert pinned == f"{TARGET}/library/alpine@{fake_digest('alpine:3.19')}"


def test_anchor_shared_with_other_field_is_not_rewritten(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n"
            "    source: &img alpine:3.19\nspec:\n  containers:\n  - name: a\n"
            "    image: *img\n")
    Path("pod.yaml").write_text(text)
    mapping_file(tmp_path / "m.json", ["alpine:3.19"])
    code, out, err = run(["pod.yaml", "--map", "m.json", "--fail-on-unpinned"])
    assert code == 1 and out == ""
    assert "pod.yaml:6: not pinned: alpine:3.19: the value is an anchor also used outside " \
           "image fields" in err


def test_named_file_without_references_is_said(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("images.txt").write_text("alpine:3.19\nnginx:1.25\n")  # an image list: not pinned
    mapping_file(tmp_path / "m.json", ["alpine:3.19"])
    code, out, err = run(["images.txt", "--map", "m.json"])
    assert code == 0 and out == ""
    assert "warning: images.txt: no image references (not a Kubernetes manifest, " \
           "compose file or Dockerfile?)" in err


def test_needs_exactly_one_source(tmp_path: Path) -> None:
    code, _, err = run([str(tmp_path)])
    assert code == 2 and "give exactly one of --map MAPPING and --mirror REGISTRY" in err
    code, _, err = run([str(tmp_path), "--map", "x.json", "--mirror", "m.example.com"])
    assert code == 2 and "give exactly one of" in err


def test_dockerfile_bom_crlf_and_quoted_arg_defaults(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("Dockerfile").write_bytes(b"\xef\xbb\xbfARG BASE=\"alpine:3.19\"\r\n"
                                   b"ARG B2='redis:7.2'\r\nFROM ${BASE}\r\nFROM $B2\r\n")
    mapping_file(tmp_path / "m.json", ["alpine:3.19", "redis:7.2"])
    assert run(["Dockerfile", "--map", "m.json", "--write"])[0] == 0
    alpine = f"{TARGET}/library/alpine@{fake_digest('alpine:3.19')}"
    redis = f"{TARGET}/library/redis@{fake_digest('redis:7.2')}"
    assert Path("Dockerfile").read_bytes().decode() == (
        f"\ufeff# was: alpine:3.19\r\nARG BASE=\"{alpine}\"\r\n# was: redis:7.2\r\n"
        f"ARG B2='{redis}'\r\nFROM ${{BASE}}\r\nFROM $B2\r\n")


def test_every_workload_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hullguard.inventory.kubernetes import WORKLOAD_KINDS

    monkeypatch.chdir(tmp_path)
    from textwrap import indent

    pod = "spec:\n  containers:\n  - name: a\n    image: alpine:3.19\n"
    nested = {"Pod": pod, "PodTemplate": "template:\n" + indent(pod, "  "),
              "CronJob": "spec:\n  jobTemplate:\n    spec:\n      template:\n" +
                         indent(pod, "        ")}
    documents = [f"apiVersion: v1\nkind: {kind}\nmetadata: {{name: x}}\n" + nested.get(
        kind, "spec:\n  template:\n" + indent(pod, "    ")) for kind in WORKLOAD_KINDS]
    Path("all.yaml").write_text("---\n".join(documents))
    mapping_file(tmp_path / "m.json", ["alpine:3.19"])
    code, out, err = run(["all.yaml", "--map", "m.json", "--fail-on-unpinned"])
    assert code == 0, err
    added = [line for line in out.splitlines() if line.startswith("+ ")]
    assert len(added) == len(WORKLOAD_KINDS) == 9, out
    assert all(line.endswith("  # was: alpine:3.19") for line in added)
    assert f"{len(WORKLOAD_KINDS)} reference(s) pinned in 1 file(s)" in err


def test_flag_mistakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    mapping_file(tmp_path / "m.json", ["alpine:3.19"])
    code, _, err = run([".", "--map", "m.json", "--write", "--diff"])
    assert code == 2 and "--write and --diff exclude each other" in err
    code, _, err = run([".", "--map", "m.json", "--name-map", "m.json"])
    assert code == 2 and "--name-map only applies with --mirror" in err
    code, _, err = run([".", "--mirror", "not-a-host"])
    assert code == 2 and "the mirror must start with a registry host" in err


def test_flow_style_yaml_file_is_not_json(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A whole file in YAML flow style (not JSON: unquoted keys) still gets the comment."""
    monkeypatch.chdir(tmp_path)
    Path("pod.yaml").write_text("{apiVersion: v1, kind: Pod, metadata: {name: p},\n"
                                " spec: {containers: [{name: a, image: alpine:3.19}]}}\n")
    mapping_file(tmp_path / "m.json", ["alpine:3.19"])
    code, out, _ = run(["pod.yaml", "--map", "m.json"])
    assert code == 0
    assert out.endswith(f"+ spec: {{containers: [{{name: a, image: {TARGET}/library/alpine@"
                        f"{fake_digest('alpine:3.19')}}}]}}}}  # was: alpine:3.19\n")


def test_diff_equals_difflib_and_applies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The diff is built from the edits (difflib is slow on repeated lines); it must be what
    difflib writes, and `git apply` must take it."""
    import difflib
    import subprocess

    from hullguard.harden.mirror.mapping import read_mapping
    from hullguard.harden.mirror.pin import MapResolver, PinOptions, plan, unified_diff

    monkeypatch.chdir(tmp_path)
    shutil.copytree(DEMO, "fleet")
    Path("fleet/k8s.yaml").write_text(LAYOUTS)
    Path("fleet/compose.yaml").write_text(COMPOSE)
    Path("fleet/Dockerfile").write_text(DOCKERFILE)
    Path("fleet/.env").write_text("REDIS_TAG=7.2\n")
    sources = DEMO_SOURCES + LAYOUT_SOURCES + ["python:3.12", "golang:1.22", "python:3.12-slim"]
    resolver = MapResolver(read_mapping(mapping_file(tmp_path / "m.json", sources)))
    plans = plan(["fleet"], resolver, PinOptions(environ={})).plans
    ours = unified_diff(plans)
    theirs = "".join(line for p in plans if p.changed for line in difflib.unified_diff(
        p.original.splitlines(True), p.updated.splitlines(True), f"a/{p.path.as_posix()}",
        f"b/{p.path.as_posix()}"))
    assert ours == theirs and ours.count("+++ ") == 9
    Path("pin.diff").write_text(ours)
    subprocess.run(["git", "apply", "pin.diff"], check=True, capture_output=True)
    assert all(Path(p.path).read_text() == p.updated for p in plans)


def test_source_digest_and_file_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``alpine@<the digest alpine:3.19 resolved to>`` is that mapping entry; another digest
    is not. A rewritten file keeps its mode."""
    monkeypatch.chdir(tmp_path)
    other = "sha256:" + "1" * 64
    Path("Dockerfile").write_text(f"FROM alpine@{fake_digest('alpine:3.19')}\n"
                                  f"FROM alpine@{other}\n")
    os.chmod("Dockerfile", 0o640)
    mapping_file(tmp_path / "m.json", ["alpine:3.19"])
    code, _, err = run(["Dockerfile", "--map", "m.json", "--write"])
    assert code == 0
    assert Path("Dockerfile").read_text() == (
        f"# was: alpine@{fake_digest('alpine:3.19')}\n"
        f"FROM {TARGET}/library/alpine@{fake_digest('alpine:3.19')}\nFROM alpine@{other}\n")
    assert f"Dockerfile:2: not pinned: alpine@{other}: not in the mapping" in err
    assert Path("Dockerfile").stat().st_mode & 0o777 == 0o640
