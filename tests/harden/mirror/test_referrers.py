"""``hullguard mirror`` carries OCI 1.1 referrers between the two layouts, each on a real
registry: from go-containerregistry's registry (the referrers API, tests/support/oci_registry.py)
to Debian's docker-registry (no API: the mirror gets the referrers tag schema index), and the
other way (the API mirror indexes the subjects itself: no index tag is written). The
signatures verify at the mirror with hullguard and with the real cosign."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from hullguard.harden.trust import formats
from hullguard.images.registry import RegistryClient
from hullguard.images.registry.referrers import get_referrers
from tests.harden.mirror.conftest import (
    Pushed,
    hullguard,
    mirror,
    multiarch_layout,
    push,
    skopeo_raw,
)
from tests.harden.mirror.conftest import (
    test_name as name_of,
)
from tests.harden.mirror.test_mirror import mirror_ref, sign_and_attest
from tests.support import oci_registry
from tests.support.cli import EMPTY_TRUSTED_ROOT
from tests.support.env import go_tool
from tests.support.registry import RegistryServer

pytestmark = pytest.mark.slow
referrers_registry = oci_registry.referrers_registry


@pytest.fixture
def api_mirror(tmp_path: Path) -> Iterator[RegistryServer]:
    """A fresh, empty registry with the referrers API as the mirror."""
    with oci_registry.start_referrers_registry(tmp_path / "api-mirror") as server:
        yield server


def verify_everywhere(at_mirror: str, public: Path, tmp_path: Path) -> None:
    """hullguard (signatures and the attestation) and cosign (the bundle) at the mirror."""
    for command in (["verify", "--key", str(public), at_mirror],
                    ["verify-attestation", "--key", str(public), "--type", "cyclonedx",
                     at_mirror]):
        done = hullguard(*command)
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.count("OK   bundle") == 1, done.stdout
    root = tmp_path / "trusted_root.json"
    root.write_text(json.dumps(EMPTY_TRUSTED_ROOT))
    cosign = subprocess.run(
        [go_tool("cosign"), "verify", "--key", str(public), "--new-bundle-format",
         "--trusted-root", str(root), "--insecure-ignore-tlog=true",
         "--allow-insecure-registry", "--allow-http-registry", at_mirror],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "HOME": str(tmp_path), "TUF_ROOT": str(tmp_path / "tuf")})
    assert cosign.returncode == 0, cosign.stderr


def tags_at(server: RegistryServer, repository: str) -> set[str]:
    with RegistryClient(server.host) as client:
        return set(client.list_tags(repository))


def referrers_at(server: RegistryServer, repository: str, image: Pushed) -> list[str] | None:
    with RegistryClient(server.host) as client:
        body = get_referrers(client, repository, image.digest)
    return None if body is None else [m["digest"] for m in json.loads(body)["manifests"]]


def copy(image: Pushed, target: RegistryServer, tmp_path: Path) -> tuple[str, str]:
    done = mirror(image.by_tag, "--to", f"{target.host}/mirror", "--tags",
                  cache=tmp_path / "cache")
    assert done.returncode == 0, done.stdout + done.stderr
    name = mirror_ref(target, image)
    return name, name.split("/", 1)[1]


def test_api_source_to_a_mirror_without_the_api(
        referrers_registry: RegistryServer, target_registry: RegistryServer,
        keys: tuple[Path, Path], tmp_path: Path, request: pytest.FixtureRequest) -> None:
    name = name_of(request)
    image = push(referrers_registry, multiarch_layout(tmp_path, name), f"apps/{name}")
    sign_and_attest(image, keys, tmp_path)
    assert f"sha256-{image.digest.hex}" not in tags_at(referrers_registry, image.repository)
    source_referrers = referrers_at(referrers_registry, image.repository, image)
    assert source_referrers is not None and len(source_referrers) == 2
    name, repository = copy(image, target_registry, tmp_path)
    assert referrers_at(target_registry, repository, image) is None  # docker-registry
    index = json.loads(skopeo_raw(f"{name}:sha256-{image.digest.hex}"))
    assert sorted(m["digest"] for m in index["manifests"]) == sorted(source_referrers)
    # the source lists the config's media type; the tag index names the bundle type
    assert {m["artifactType"] for m in index["manifests"]} == {formats.BUNDLE_MEDIA}
    for digest in source_referrers:
        assert skopeo_raw(f"{name}@{digest}") == skopeo_raw(
            f"{image.host}/{image.repository}@{digest}")
    verify_everywhere(f"{name}@{image.digest}", keys[1], tmp_path)


def test_tag_schema_source_to_a_mirror_with_the_api(
        multiarch: Pushed, api_mirror: RegistryServer, keys: tuple[Path, Path],
        tmp_path: Path) -> None:
    sign_and_attest(multiarch, keys, tmp_path)
    hexdigest = multiarch.digest.hex
    name, repository = copy(multiarch, api_mirror, tmp_path)
    # the mirror indexes the referrers itself: no referrers tag schema index is written there
    assert tags_at(api_mirror, repository) == {"v1", f"sha256-{hexdigest}.sig",
                                               f"sha256-{hexdigest}.att"}
    source_index = json.loads(skopeo_raw(f"{multiarch.host}/{multiarch.repository}"
                                         f":sha256-{hexdigest}"))
    listed = referrers_at(api_mirror, repository, multiarch)
    assert listed is not None
    assert sorted(listed) == sorted(m["digest"] for m in source_index["manifests"])
    verify_everywhere(f"{name}@{multiarch.digest}", keys[1], tmp_path)
