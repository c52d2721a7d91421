"""``hullguard mirror`` between two real docker-registry instances: a multi-arch index signed
and attested with hullguard's signer is copied byte for byte; skopeo and crane see the same
digests on both sides, every blob is there, the signature verifies at the mirror (with
hullguard and with cosign), and a second run copies nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hullguard.harden.mirror.mapping import read_mapping
from hullguard.harden.mirror.upload import blob_size_at
from hullguard.images.registry import RegistryClient
from hullguard.model import Digest
from tests.harden.mirror.conftest import (
    Pushed,
    all_blobs,
    crane_digest,
    hullguard,
    mirror,
    multiarch_layout,
    push,
    report_of,
    skopeo_raw,
)
from tests.support.cli import EMPTY_TRUSTED_ROOT, REPO
from tests.support.env import go_tool, tool
from tests.support.registry import RegistryServer

pytestmark = pytest.mark.slow


def mirror_ref(target: RegistryServer, image: Pushed, prefix: str = "mirror") -> str:
    """Where the naming rule puts a 127.0.0.1:PORT image: the host becomes a component."""
    host = image.host.replace(":", "-")
    return f"{target.host}/{prefix}/{host}/{image.repository}"


def sign_and_attest(image: Pushed, keys: tuple[Path, Path], tmp_path: Path) -> None:
    predicate = tmp_path / "predicate.json"
    predicate.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5"}))
    for command in (["sign", "--key", str(keys[0]), image.by_digest],
                    ["attest", "--key", str(keys[0]), "--type", "cyclonedx", "--predicate",
                     str(predicate), image.by_digest]):
        done = hullguard(*command)
        assert done.returncode == 0, done.stderr


def test_signed_multiarch_index_is_copied_byte_for_byte(
        multiarch: Pushed, target_registry: RegistryServer, keys: tuple[Path, Path],
        tmp_path: Path) -> None:
    sign_and_attest(multiarch, keys, tmp_path)
    mapping = tmp_path / "mapping.json"
    done = mirror(multiarch.by_tag, "--to", f"{target_registry.host}/mirror", "--tags",
                  "--mapping", str(mapping), cache=tmp_path / "cache")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "mirroring" not in done.stderr  # the progress bar is for terminals only
    name = mirror_ref(target_registry, multiarch)
    at_mirror = f"{name}@{multiarch.digest}"

    # identical digests, seen by two independent tools, and identical bytes
    assert crane_digest(at_mirror) == crane_digest(multiarch.by_digest) == str(multiarch.digest)
    assert crane_digest(f"{name}:v1") == str(multiarch.digest)
    assert skopeo_raw(at_mirror) == skopeo_raw(multiarch.by_digest)
    # every blob of both platforms is at the mirror with its size
    with RegistryClient(target_registry.host) as client:
        repository = name.split("/", 1)[1]
        blobs = all_blobs(client, repository, multiarch.digest)
        assert len(blobs) == 4
        for digest, size in blobs:
            assert blob_size_at(client, repository, Digest.parse(digest)) == size
    # the signature and the attestation verify at the mirror (legacy tags and referrers)
    for command in (["verify", "--key", str(keys[1]), at_mirror],
                    ["verify-attestation", "--key", str(keys[1]), "--type", "cyclonedx",
                     at_mirror]):
        verified = hullguard(*command)
        assert verified.returncode == 0, verified.stdout + verified.stderr
    root = tmp_path / "trusted_root.json"
    root.write_text(json.dumps(EMPTY_TRUSTED_ROOT))
    # cosign reads the bundle through the referrers tag index the mirror now holds (with a
    # bundle present it does not fall back to the .sig tag, which hullguard verify covers)
    for flags in (["--new-bundle-format", "--trusted-root", str(root)],):
        cosign = subprocess.run(
            [go_tool("cosign"), "verify", "--key", str(keys[1]), *flags,
             "--insecure-ignore-tlog=true", "--allow-insecure-registry",
             "--allow-http-registry", at_mirror], capture_output=True, text=True,
            timeout=120, check=False,
            env={**os.environ, "HOME": str(tmp_path), "TUF_ROOT": str(tmp_path / "tuf")})
        assert cosign.returncode == 0, cosign.stderr

    entries = read_mapping(mapping)
    assert [(e.source, e.digest, e.mirror, e.mirror_digest, e.tags) for e in entries] == [
        (multiarch.by_tag, str(multiarch.digest), at_mirror, str(multiarch.digest), ["v1"])]
    assert any("signature" in item for item in entries[0].copied)
    assert any("attestation" in item for item in entries[0].copied)
    assert any("referrer" in item for item in entries[0].copied)

    # a second run finds everything at the mirror and writes nothing
    again = mirror(multiarch.by_tag, "--to", f"{target_registry.host}/mirror", "--tags",
                   cache=tmp_path / "cache")
    assert again.returncode == 0, again.stderr
    report = report_of(again)
    assert report["bytes_sent"] == 0
    images = report["images"]
    assert isinstance(images, list)
    assert [(i["status"], i["copied"]) for i in images] == [("present", [])]


def test_platform_selection_makes_a_new_index_and_says_so(
        multiarch: Pushed, target_registry: RegistryServer, tmp_path: Path) -> None:
    done = mirror(multiarch.by_tag, "--to", target_registry.host, "--platform", "linux/arm64",
                  cache=tmp_path / "cache")
    assert done.returncode == 0, done.stderr
    [image] = report_of(done)["images"]  # type: ignore[misc]
    assert image["digest"] == str(multiarch.digest)
    assert image["mirror_digest"] != str(multiarch.digest)
    assert any("NEW index" in note for note in image["notes"])
    raw = json.loads(skopeo_raw(image["mirror"]))
    assert [m["platform"]["architecture"] for m in raw["manifests"]] == ["arm64"]
    source = json.loads(skopeo_raw(multiarch.by_digest))
    assert raw["manifests"][0] == source["manifests"][1]  # the entry is kept as it was
    assert crane_digest(image["mirror"]) == image["mirror_digest"]


def test_inventory_input_and_name_map(multiarch: Pushed, target_registry: RegistryServer,
                                      tmp_path: Path) -> None:
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text(f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: shop}}
spec:
  template:
    spec:
      containers:
        - name: web
          image: {multiarch.by_tag}
""")
    name_map = tmp_path / "names.yaml"
    name_map.write_text(f"{multiarch.host}/{multiarch.repository}: "
                        f"{target_registry.host}/team/web\n")
    mapping = tmp_path / "mapping.json"
    done = mirror(str(manifest), "--to", target_registry.host, "--name-map", str(name_map),
                  "--mapping", str(mapping), cache=tmp_path / "cache")
    assert done.returncode == 0, done.stderr
    [entry] = read_mapping(mapping)
    assert entry.mirror == f"{target_registry.host}/team/web@{multiarch.digest}"
    assert crane_digest(entry.mirror) == str(multiarch.digest)


def test_a_blob_already_in_another_mirror_repository_is_mounted_not_sent(
        source_registry: RegistryServer, target_registry: RegistryServer,
        tmp_path: Path) -> None:
    layout = multiarch_layout(tmp_path, "shared-base")
    first, second = (push(source_registry, layout, f"mount/{name}") for name in ("one", "two"))
    done = mirror(first.by_tag, second.by_tag, "--to", target_registry.host, "--jobs", "1",
                  cache=tmp_path / "cache")
    assert done.returncode == 0, done.stderr
    images = report_of(done)["images"]
    assert isinstance(images, list)
    assert images[0]["bytes_sent"] > 0 and "4 blobs uploaded" in " ".join(images[0]["copied"])
    assert images[1]["bytes_sent"] == 0 and "4 blobs mounted" in images[1]["copied"]
    for image in images:
        assert crane_digest(image["mirror"]) == str(first.digest) == str(second.digest)


def test_the_progress_bar_is_drawn_on_a_terminal(
        multiarch: Pushed, target_registry: RegistryServer, tmp_path: Path) -> None:
    """Under ``script`` (a pseudo-terminal) rich draws the bar on stderr; piped, it does not
    (asserted in the first test)."""
    import shlex

    command = shlex.join([sys.executable, "-m", "hullguard", "mirror", multiarch.by_tag,
                          "--to", target_registry.host, "--cache-dir", str(tmp_path / "c")])
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "TERM": "xterm", "COLUMNS": "100"}
    done = subprocess.run([tool("script"), "-qec", command, "/dev/null"], capture_output=True,
                          text=True, timeout=180, env=env, check=False)
    assert done.returncode == 0, done.stdout
    assert "mirroring" in done.stdout or multiarch.repository[-20:] in done.stdout
    assert "\x1b[" in done.stdout  # terminal control: the bar was drawn (and cleared)
    name = f"{target_registry.host}/{multiarch.host.replace(':', '-')}/{multiarch.repository}"
    assert crane_digest(f"{name}@{multiarch.digest}") == str(multiarch.digest)
