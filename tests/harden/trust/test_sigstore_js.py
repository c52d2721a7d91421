"""A second implementation verifies hullguard's Sigstore bundles: the npm @sigstore/verify
library (pinned in tests/harden/trust/sigstore_js/package.json, installed by scripts/test),
offline and key-based, exactly as a JavaScript verifier would read them from the registry."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from hullguard.harden.trust import formats
from hullguard.harden.trust.attach import RegistryAttachments
from hullguard.images.manifest import parse_descriptor
from hullguard.images.registry import RegistryClient
from tests.harden.trust.conftest import Pushed, hullguard, push_image, target_of
from tests.support import oci_registry
from tests.support.env import npm_peer, tool
from tests.support.registry import RegistryServer

referrers_registry = oci_registry.referrers_registry
SCRIPT = Path(__file__).parent / "sigstore_js" / "verify.mjs"


def bundles_of(client: RegistryClient, image: Pushed) -> list[bytes]:
    """Every Sigstore bundle attached to ``image`` as a referrer, as stored."""
    target = target_of(client, image.by_digest)
    store = RegistryAttachments(client, target)
    found = []
    for item in store.referrers():
        manifest = store.manifest(item.descriptor.digest)
        # the listing's artifactType may be the config's media type (referrers-API registry)
        if manifest.get("artifactType") != formats.BUNDLE_MEDIA:
            continue
        layer = parse_descriptor(manifest["layers"][0], "bundle layer")
        found.append(store.blob(layer, 1 << 20))
    return found


def verify_js(bundle: bytes, public: Path, digest: str,
              tmp: Path) -> subprocess.CompletedProcess[str]:
    path = tmp / "bundle.json"
    path.write_bytes(bundle)
    env = {**os.environ, "SIGSTORE_JS_DIR": str(npm_peer("sigstore-verify"))}
    return subprocess.run([tool("node"), str(SCRIPT), str(path), str(public), digest],
                          capture_output=True, text=True, timeout=60, env=env, check=False)


@pytest.mark.parametrize("command", [("sign",), ("attest", "--type", "cyclonedx")])
def test_sigstore_js_verifies_hullguard_bundles(image: Pushed, client: RegistryClient,
                                                hg_keys: tuple[Path, Path],
                                                other_keys: tuple[Path, Path],
                                                tmp_path: Path, command: tuple[str, ...]) -> None:
    private, public = hg_keys
    done = hullguard(command[0], image.by_digest, "--key", str(private), "--format", "bundle",
                     *command[1:])
    assert done.returncode == 0, done.stderr
    (bundle,) = bundles_of(client, image)
    ok = verify_js(bundle, public, str(image.digest), tmp_path)
    assert ok.returncode == 0 and ok.stdout.startswith("verified"), ok.stdout + ok.stderr
    # the same bundle with another key, for another digest, or with a flipped payload byte
    assert verify_js(bundle, other_keys[1], str(image.digest), tmp_path).returncode == 1
    other_digest = "sha256:" + "0" * 64
    refused = verify_js(bundle, public, other_digest, tmp_path)
    assert refused.returncode == 1 and "does not name" in refused.stdout
    doc = json.loads(bundle)
    payload = doc["dsseEnvelope"]["payload"]
    doc["dsseEnvelope"]["payload"] = ("A" if payload[0] != "A" else "B") + payload[1:]
    tampered = verify_js(json.dumps(doc).encode(), public, str(image.digest), tmp_path)
    assert tampered.returncode == 1, tampered.stdout


def test_sigstore_js_verifies_bundles_found_through_the_referrers_api(
        referrers_registry: RegistryServer, hg_keys: tuple[Path, Path],
        other_keys: tuple[Path, Path], tmp_path: Path) -> None:
    """The same on a registry with the OCI 1.1 referrers API (no referrers tag index)."""
    image = push_image(referrers_registry, tmp_path, "js/referrers-api", "v1", "js-api")
    done = hullguard("sign", image.by_digest, "--key", str(hg_keys[0]), "--format", "bundle")
    assert done.returncode == 0, done.stderr
    with RegistryClient(image.host) as client:
        (bundle,) = bundles_of(client, image)
        assert client.list_tags(image.repository) == ["v1"]
    ok = verify_js(bundle, hg_keys[1], str(image.digest), tmp_path)
    assert ok.returncode == 0 and ok.stdout.startswith("verified"), ok.stdout + ok.stderr
    assert verify_js(bundle, other_keys[1], str(image.digest), tmp_path).returncode == 1
