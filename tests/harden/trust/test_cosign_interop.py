"""Interop with the real cosign (built by scripts/test from source, pinned) on a real
docker-registry: hullguard signs -> cosign verifies, cosign signs (with its own key and with a
hullguard key) -> hullguard verifies, and the same forgeries are refused by both. ``crane``
inspects what was written; ``openssl`` checks cosign's legacy signatures too."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from hullguard.images.registry import RegistryClient
from tests.harden.trust.conftest import PASSWORD, Pushed, hullguard, push_image
from tests.harden.trust.test_sign_verify import (
    copy_manifest,
    legacy_signatures,
    openssl_verify,
    tamper_legacy_payload,
)
from tests.support.cli import EMPTY_TRUSTED_ROOT
from tests.support.env import go_tool
from tests.support.registry import RegistryServer

pytestmark = pytest.mark.slow
REGISTRY_FLAGS = ["--allow-insecure-registry", "--allow-http-registry"]
OFFLINE_VERIFY = ["--insecure-ignore-tlog=true", *REGISTRY_FLAGS]
OFFLINE_SIGN = ["--tlog-upload=false", "--yes", *REGISTRY_FLAGS]


def bundle_flags(tmp: Path) -> list[str]:
    path = tmp / "trusted_root.json"
    path.write_text(json.dumps(EMPTY_TRUSTED_ROOT))
    return ["--new-bundle-format", "--trusted-root", str(path), *OFFLINE_VERIFY]


def cosign(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COSIGN_PASSWORD": PASSWORD, "HOME": str(home),
           "TUF_ROOT": str(home / "tuf"), "COSIGN_EXPERIMENTAL": "0"}
    return subprocess.run([go_tool("cosign"), *args], capture_output=True, text=True,
                          timeout=180, env=env, check=False)


def crane_manifest(ref: str) -> dict[str, object]:
    done = subprocess.run([go_tool("crane"), "manifest", "--insecure", ref],
                          capture_output=True, text=True, timeout=60, check=True)
    doc: dict[str, object] = json.loads(done.stdout)
    return doc


@pytest.fixture(scope="session")
def cosign_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(private, public) made by ``cosign generate-key-pair``."""
    root = tmp_path_factory.mktemp("cosign-keys")
    done = cosign("generate-key-pair", "--output-key-prefix", str(root / "cs"), home=root)
    assert done.returncode == 0, done.stderr
    return root / "cs.key", root / "cs.pub"


def test_hullguard_signs_cosign_verifies(image: Pushed, hg_keys: tuple[Path, Path],
                                         tmp_path: Path) -> None:
    private, public = hg_keys
    assert hullguard("sign", image.by_digest, "--key", str(private), "-a", "team=blue",
                     "--format", "legacy").returncode == 0
    manifest = crane_manifest(f"{image.host}/{image.repository}:sha256-{image.digest.hex}.sig")
    (layer,) = manifest["layers"]  # type: ignore[misc]
    assert layer["mediaType"] == "application/vnd.dev.cosign.simplesigning.v1+json"
    done = cosign("verify", "--key", str(public), *OFFLINE_VERIFY, image.by_digest,
                  home=tmp_path)
    assert done.returncode == 0, done.stderr
    (claims,) = json.loads(done.stdout)
    assert claims["critical"]["image"]["docker-manifest-digest"] == str(image.digest)
    assert claims["optional"] == {"team": "blue"}
    # cosign's annotation check (-a) reads our optional section too
    assert cosign("verify", "--key", str(public), *OFFLINE_VERIFY, "-a", "team=red",
                  image.by_digest, home=tmp_path).returncode != 0


def test_hullguard_bundles_cosign_verifies(image: Pushed, hg_keys: tuple[Path, Path],
                                           other_keys: tuple[Path, Path],
                                           tmp_path: Path) -> None:
    private, public = hg_keys
    assert hullguard("sign", image.by_digest, "--key", str(private), "--format",
                     "bundle").returncode == 0
    index = crane_manifest(f"{image.host}/{image.repository}:sha256-{image.digest.hex}")
    assert index["manifests"][0]["artifactType"] == \
        "application/vnd.dev.sigstore.bundle.v0.3+json"  # type: ignore[index]
    done = cosign("verify", "--key", str(public), *bundle_flags(tmp_path), image.by_digest,
                  home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["critical"]["image"]["docker-manifest-digest"] == \
        str(image.digest)
    assert cosign("verify", "--key", str(other_keys[1]), *bundle_flags(tmp_path),
                  image.by_digest, home=tmp_path).returncode != 0
    predicate = tmp_path / "p.json"
    predicate.write_text('{"hello": "world"}')
    assert hullguard("attest", image.by_digest, "--key", str(private), "--type", "custom",
                     "--predicate", str(predicate), "--format", "bundle").returncode == 0
    attested = cosign("verify-attestation", "--key", str(public), "--type", "custom",
                      *bundle_flags(tmp_path), image.by_digest, home=tmp_path)
    assert attested.returncode == 0, attested.stderr


def test_hullguard_attests_cosign_verifies(image: Pushed, hg_keys: tuple[Path, Path],
                                           tmp_path: Path) -> None:
    private, public = hg_keys
    predicate = tmp_path / "p.json"
    predicate.write_text('{"hello": "world"}')
    assert hullguard("attest", image.by_digest, "--key", str(private), "--type", "custom",
                     "--predicate", str(predicate), "--format", "legacy").returncode == 0
    assert hullguard("attest", image.by_digest, "--key", str(private), "--type",
                     "cyclonedx", "--format", "legacy").returncode == 0
    for kind in ("custom", "cyclonedx"):
        done = cosign("verify-attestation", "--key", str(public), "--type", kind,
                      *OFFLINE_VERIFY, image.by_digest, home=tmp_path)
        assert done.returncode == 0, done.stderr
    refused = cosign("verify-attestation", "--key", str(public), "--type", "spdx",
                     *OFFLINE_VERIFY, image.by_digest, home=tmp_path)
    assert refused.returncode != 0


@pytest.mark.parametrize("signer", ["cosign-key", "hullguard-key"])
def test_cosign_signs_hullguard_verifies(image: Pushed, signer: str,
                                         cosign_keys: tuple[Path, Path],
                                         hg_keys: tuple[Path, Path], client: RegistryClient,
                                         tmp_path: Path) -> None:
    private, public = cosign_keys if signer == "cosign-key" else hg_keys
    done = cosign("sign", "--key", str(private), *OFFLINE_SIGN, image.by_digest,
                  home=tmp_path)
    assert done.returncode == 0, done.stderr
    verified = hullguard("verify", image.by_digest, "--key", str(public))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "1 of 1 signature(s) verified" in verified.stdout
    ((payload, signature),) = legacy_signatures(client, image.by_digest)
    assert openssl_verify(public, payload, signature, tmp_path)
    # hullguard appends to cosign's manifest; cosign then sees both
    assert hullguard("sign", image.by_digest, "--key", str(hg_keys[0]),
                     "--format", "legacy").returncode == 0
    assert len(legacy_signatures(client, image.by_digest)) == 2
    assert cosign("verify", "--key", str(public), *OFFLINE_VERIFY, image.by_digest,
                  home=tmp_path).returncode == 0


def test_cosign_attests_hullguard_verifies(image: Pushed, cosign_keys: tuple[Path, Path],
                                           tmp_path: Path) -> None:
    private, public = cosign_keys
    predicate = tmp_path / "bom.json"
    predicate.write_text('{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1}')
    done = cosign("attest", "--key", str(private), "--type", "cyclonedx", "--predicate",
                  str(predicate), *OFFLINE_SIGN, image.by_digest, home=tmp_path)
    assert done.returncode == 0, done.stderr
    ok = hullguard("verify-attestation", image.by_digest, "--key", str(public), "--type",
                   "cyclonedx")
    assert ok.returncode == 0 and "1 of 1 attestation(s) verified" in ok.stdout, ok.stdout
    other = hullguard("verify-attestation", image.by_digest, "--key", str(public), "--type",
                      "spdx")
    assert other.returncode == 1 and "not the 'https://spdx.dev/Document' asked for" \
        in other.stdout


def _both_refuse(ref: str, public: Path, home: Path) -> None:
    ours = hullguard("verify", ref, "--key", str(public))
    assert ours.returncode == 1, ours.stdout + ours.stderr
    theirs = cosign("verify", "--key", str(public), *OFFLINE_VERIFY, ref, home=home)
    assert theirs.returncode != 0, theirs.stdout


def test_forgeries_are_refused_by_both(registry_server: RegistryServer, image: Pushed,
                                       cosign_keys: tuple[Path, Path],
                                       hg_keys: tuple[Path, Path], client: RegistryClient,
                                       tmp_path: Path) -> None:
    private, public = cosign_keys
    assert cosign("sign", "--key", str(private), *OFFLINE_SIGN, "-a", "env=prod",
                  image.by_digest, home=tmp_path).returncode == 0
    _both_refuse(image.by_digest, hg_keys[1], tmp_path)  # wrong key
    other = push_image(registry_server, tmp_path, image.repository, "v2", "second")
    copy_manifest(client, image, f"sha256-{image.digest.hex}.sig",
                  f"sha256-{other.digest.hex}.sig")
    _both_refuse(other.by_digest, public, tmp_path)  # a signature for another digest
    moved = push_image(registry_server, tmp_path, image.repository, image.tag, "moved")
    assert moved.digest != image.digest
    _both_refuse(image.by_tag, public, tmp_path)  # the tag moved to an unsigned image
    tamper_legacy_payload(client, image, b'"env":"prod"', b'"env":"dev!"')
    _both_refuse(image.by_digest, public, tmp_path)  # tampered payload


def test_offline_layout_from_cosign_save(image: Pushed, hg_keys: tuple[Path, Path],
                                         other_keys: tuple[Path, Path],
                                         tmp_path: Path) -> None:
    private, public = hg_keys
    predicate = tmp_path / "p.json"
    predicate.write_text('{"hello": "world"}')
    assert hullguard("sign", image.by_digest, "--key", str(private), "--format",
                     "legacy").returncode == 0
    assert hullguard("attest", image.by_digest, "--key", str(private), "--type", "custom",
                     "--predicate", str(predicate), "--format", "legacy").returncode == 0
    saved = tmp_path / "saved"
    done = cosign("save", "--dir", str(saved), *REGISTRY_FLAGS, image.by_digest, home=tmp_path)
    assert done.returncode == 0, done.stderr
    ok = hullguard("verify", f"oci:{saved}", "--key", str(public))
    assert ok.returncode == 0 and "1 of 1 signature(s) verified" in ok.stdout, ok.stdout
    assert str(image.digest) in ok.stdout
    att = hullguard("verify-attestation", f"oci:{saved}", "--key", str(public), "--type",
                    "custom")
    assert att.returncode == 0 and "1 of 1" in att.stdout, att.stdout
    assert hullguard("verify", f"oci:{saved}", "--key", str(other_keys[1])).returncode == 1
    # tamper with the signed payload on disk: its digest no longer matches the descriptor
    payloads = [p for p in (saved / "blobs" / "sha256").iterdir()
                if b"cosign container image signature" in p.read_bytes()]
    assert len(payloads) == 1
    payloads[0].write_bytes(payloads[0].read_bytes().replace(b"critical", b"CRITICAL"))
    tampered = hullguard("verify", f"oci:{saved}", "--key", str(public))
    assert tampered.returncode == 1 and "FAIL legacy" in tampered.stdout
    not_a_layout = hullguard("verify", f"oci:{tmp_path}", "--key", str(public))
    assert not_a_layout.returncode == 2 and "index.json" in not_a_layout.stderr
