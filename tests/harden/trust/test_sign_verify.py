"""Sign, attest and verify against a real docker-registry (no referrers API: the referrers
tag schema is kept by us), through the CLI as a real process. Every legacy signature is also
checked with ``openssl dgst -verify``."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from hullguard.harden.trust import formats
from hullguard.harden.trust.attach import read_layers, read_referrers
from hullguard.images.manifest import Descriptor
from hullguard.images.reference import parse_reference
from hullguard.images.registry import RegistryClient
from hullguard.model import Digest
from hullguard.model.reference import ImageReference
from tests.harden.trust.conftest import Pushed, hullguard, push_image, target_of
from tests.support.env import tool
from tests.support.registry import RegistryServer


def openssl_verify(public: Path, payload: bytes, signature_b64: str, tmp: Path) -> bool:
    (tmp / "payload").write_bytes(payload)
    (tmp / "sig.der").write_bytes(base64.b64decode(signature_b64))
    done = subprocess.run([tool("openssl"), "dgst", "-sha256", "-verify", str(public),
                           "-signature", str(tmp / "sig.der"), str(tmp / "payload")],
                          capture_output=True, text=True, check=False)
    return done.returncode == 0 and "Verified OK" in done.stdout


def legacy_signatures(client: RegistryClient, ref: str) -> list[tuple[bytes, str]]:
    """(payload, base64 signature) of every ``.sig`` layer of ``ref``'s image."""
    target = target_of(client, ref)
    tag = f"sha256-{target.digest.hex}.sig"
    found = []
    for item in read_layers(client, target, tag):
        payload = client.fetch_blob_bytes(target.signature_repository, item.descriptor,
                                          1 << 20)
        found.append((payload, item.descriptor.annotation(formats.SIGNATURE_ANNOTATION) or ""))
    return found


def test_sign_writes_both_layouts_appends_and_verifies(
        image: Pushed, hg_keys: tuple[Path, Path], client: RegistryClient,
        tmp_path: Path) -> None:
    private, public = hg_keys
    first = hullguard("sign", image.by_tag, "--key", str(private), "-a", "team=blue")
    assert first.returncode == 0, first.stderr
    assert "warning:" in first.stderr and str(image.digest) in first.stderr  # a tag was given
    second = hullguard("sign", image.by_digest, "--key", str(private), "-a", "team=red")
    assert second.returncode == 0 and "warning" not in second.stderr, second.stderr
    signatures = legacy_signatures(client, image.by_digest)
    assert len(signatures) == 2  # appended, not replaced
    for payload, signature in signatures:
        claims = json.loads(payload)["critical"]
        assert claims["image"]["docker-manifest-digest"] == str(image.digest)
        assert claims["identity"]["docker-reference"] == f"{image.host}/{image.repository}"
        assert openssl_verify(public, payload, signature, tmp_path)
    assert {json.loads(p)["optional"]["team"] for p, _ in signatures} == {"blue", "red"}
    referrers = read_referrers(client, target_of(client, image.by_digest))
    assert [r.artifact_type for r in referrers] == [formats.BUNDLE_MEDIA] * 2
    verified = hullguard("verify", image.by_digest, "--key", str(public))
    assert verified.returncode == 0, verified.stderr
    assert "4 of 4 signature(s) verified" in verified.stdout
    assert verified.stdout.count("OK   legacy") == 2 and verified.stdout.count("OK   bundle") == 2


def test_format_choice_and_referrers_tag_schema(image: Pushed, hg_keys: tuple[Path, Path],
                                                client: RegistryClient) -> None:
    private, _ = hg_keys
    assert hullguard("sign", image.by_digest, "--key", str(private), "--format",
                     "bundle").returncode == 0
    target = target_of(client, image.by_digest)
    assert read_layers(client, target, f"sha256-{image.digest.hex}.sig") == []
    index, media_type, _ = client.get_manifest(_tag_ref(image, f"sha256-{image.digest.hex}"))
    doc = json.loads(index)
    assert media_type == "application/vnd.oci.image.index.v1+json"
    (entry,) = doc["manifests"]
    assert entry["artifactType"] == formats.BUNDLE_MEDIA
    manifest = json.loads(client.get_manifest(_digest_ref(image, entry["digest"]))[0])
    assert manifest["subject"]["digest"] == str(image.digest)
    assert manifest["config"]["mediaType"] == "application/vnd.oci.empty.v1+json"
    bad = hullguard("sign", image.by_digest, "--key", str(private), "--format", "cms")
    assert bad.returncode == 2 and "unknown format" in bad.stderr


def _tag_ref(image: Pushed, tag: str) -> ImageReference:
    return parse_reference(f"{image.host}/{image.repository}:{tag}")


def _digest_ref(image: Pushed, digest: str) -> ImageReference:
    return parse_reference(f"{image.host}/{image.repository}@{digest}")


def test_wrong_key_is_refused(image: Pushed, hg_keys: tuple[Path, Path],
                              other_keys: tuple[Path, Path]) -> None:
    assert hullguard("sign", image.by_digest, "--key", str(hg_keys[0])).returncode == 0
    done = hullguard("verify", image.by_digest, "--key", str(other_keys[1]))
    assert done.returncode == 1
    assert "0 of 2 signature(s) verified" in done.stdout
    assert "signature does not verify with the key" in done.stdout
    assert "no DSSE signature verifies" in done.stdout


def test_unsigned_image_and_errors(image: Pushed, hg_keys: tuple[Path, Path]) -> None:
    done = hullguard("verify", image.by_digest, "--key", str(hg_keys[1]))
    assert done.returncode == 1 and "0 of 0 signature(s)" in done.stdout
    missing = hullguard("verify", f"{image.host}/{image.repository}:nope", "--key",
                        str(hg_keys[1]))
    assert missing.returncode == 2 and "not found" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_moved_tag_is_not_covered(registry_server: RegistryServer, image: Pushed,
                                  hg_keys: tuple[Path, Path], tmp_path: Path) -> None:
    assert hullguard("sign", image.by_tag, "--key", str(hg_keys[0])).returncode == 0
    assert hullguard("verify", image.by_tag, "--key", str(hg_keys[1])).returncode == 0
    moved = push_image(registry_server, tmp_path, image.repository, image.tag, "other")
    assert moved.digest != image.digest
    done = hullguard("verify", image.by_tag, "--key", str(hg_keys[1]))
    assert done.returncode == 1 and str(moved.digest) in done.stdout


def copy_manifest(client: RegistryClient, image: Pushed, source_tag: str,
                  dest_tag: str) -> None:
    data, media_type, _ = client.get_manifest(_tag_ref(image, source_tag))
    client.push_manifest(image.repository, dest_tag, data, media_type)


def test_signature_for_another_digest_is_refused(
        registry_server: RegistryServer, image: Pushed, hg_keys: tuple[Path, Path],
        client: RegistryClient, tmp_path: Path) -> None:
    other = push_image(registry_server, tmp_path, image.repository, "v2", "second")
    assert hullguard("sign", image.by_digest, "--key", str(hg_keys[0]), "--format",
                     "legacy").returncode == 0
    # an attacker copies image 1's valid signature manifest to image 2's signature tag
    copy_manifest(client, image, f"sha256-{image.digest.hex}.sig",
                  f"sha256-{other.digest.hex}.sig")
    done = hullguard("verify", other.by_digest, "--key", str(hg_keys[1]))
    assert done.returncode == 1
    assert f"payload names image {image.digest}, not {other.digest}" in done.stdout


def test_tampered_payload_is_refused(image: Pushed, hg_keys: tuple[Path, Path],
                                     client: RegistryClient) -> None:
    assert hullguard("sign", image.by_digest, "--key", str(hg_keys[0]), "--format",
                     "legacy", "-a", "env=prod").returncode == 0
    tamper_legacy_payload(client, image, b'"env":"prod"', b'"env":"dev!"')
    done = hullguard("verify", image.by_digest, "--key", str(hg_keys[1]))
    assert done.returncode == 1 and "signature does not verify" in done.stdout


def tamper_legacy_payload(client: RegistryClient, image: Pushed, old: bytes,
                          new: bytes) -> None:
    """Rewrite the .sig layer's payload (same length), keeping its signature annotation."""
    tag = f"sha256-{image.digest.hex}.sig"
    data, media_type, _ = client.get_manifest(_tag_ref(image, tag))
    doc = json.loads(data)
    layer = doc["layers"][0]
    descriptor = Descriptor(layer["mediaType"], _digest(layer["digest"]), layer["size"])
    payload = client.fetch_blob_bytes(image.repository, descriptor, 1 << 20)
    assert old in payload
    forged = payload.replace(old, new)
    client.push_blob(image.repository, forged)
    layer["digest"] = "sha256:" + hashlib.sha256(forged).hexdigest()
    client.push_manifest(image.repository, tag, json.dumps(doc).encode(), media_type)


def _digest(text: str) -> Digest:
    return Digest.parse(text)


def test_attest_and_verify_attestation(image: Pushed, hg_keys: tuple[Path, Path],
                                       client: RegistryClient, tmp_path: Path) -> None:
    private, public = hg_keys
    predicate = tmp_path / "vuln.json"
    predicate.write_text('{"scanner": {"uri": "hullguard"}}')
    done = hullguard("attest", image.by_digest, "--key", str(private), "--type", "vuln",
                     "--predicate", str(predicate))
    assert done.returncode == 0, done.stderr
    data, _, _ = client.get_manifest(_tag_ref(image, f"sha256-{image.digest.hex}.att"))
    (layer,) = json.loads(data)["layers"]
    assert layer["mediaType"] == "application/vnd.dsse.envelope.v1+json"
    assert layer["annotations"]["predicateType"] == formats.PREDICATE_TYPES["vuln"]
    ok = hullguard("verify-attestation", image.by_digest, "--key", str(public), "--type",
                   "vuln")
    assert ok.returncode == 0 and "2 of 2 attestation(s) verified" in ok.stdout, ok.stdout
    other = hullguard("verify-attestation", image.by_digest, "--key", str(public), "--type",
                      "slsaprovenance")
    assert other.returncode == 1
    assert "not the 'https://slsa.dev/provenance/v0.2' asked for" in other.stdout
    # a signature is not an attestation and an attestation is not a signature
    assert hullguard("verify", image.by_digest, "--key", str(public)).returncode == 1


def test_attest_with_hullguards_own_sbom(image: Pushed, hg_keys: tuple[Path, Path]) -> None:
    private, public = hg_keys
    done = hullguard("attest", image.by_digest, "--key", str(private), "--type", "cyclonedx",
                     "--format", "legacy")
    assert done.returncode == 0, done.stderr
    ok = hullguard("verify-attestation", image.by_digest, "--key", str(public), "--type",
                   "cyclonedx")
    assert ok.returncode == 0 and "1 of 1" in ok.stdout
    needs_file = hullguard("attest", image.by_digest, "--key", str(private), "--type", "vuln")
    assert needs_file.returncode == 2 and "needs --predicate" in needs_file.stderr


def test_signature_repo(image: Pushed, hg_keys: tuple[Path, Path]) -> None:
    elsewhere = f"{image.host}/trust/signatures"
    done = hullguard("sign", image.by_digest, "--key", str(hg_keys[0]), "--signature-repo",
                     elsewhere)
    assert done.returncode == 0, done.stderr
    assert f"{elsewhere}:sha256-{image.digest.hex}.sig" in done.stdout
    assert hullguard("verify", image.by_digest, "--key", str(hg_keys[1]),
                     "--signature-repo", elsewhere).returncode == 0
    assert hullguard("verify", image.by_digest, "--key", str(hg_keys[1])).returncode == 1
    other_registry = hullguard("verify", image.by_digest, "--key", str(hg_keys[1]),
                               "--signature-repo", "quay.io/x/y")
    assert other_registry.returncode == 2 and "--signature-repo" in other_registry.stderr


def test_keygen_files_and_refusals(tmp_path: Path) -> None:
    done = hullguard("keygen", "--out-prefix", str(tmp_path / "k"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "k.key").stat().st_mode & 0o777 == 0o600
    assert b"ENCRYPTED SIGSTORE PRIVATE KEY" in (tmp_path / "k.key").read_bytes()
    assert b"BEGIN PUBLIC KEY" in (tmp_path / "k.pub").read_bytes()
    again = hullguard("keygen", "--out-prefix", str(tmp_path / "k"))
    assert again.returncode == 2 and "--force" in again.stderr
    env = {k: v for k, v in os.environ.items() if k != "COSIGN_PASSWORD"}
    no_password = subprocess.run([sys.executable, "-m", "hullguard", "sign", "r.example/x@sha256:"
                                  + "a" * 64, "--key", str(tmp_path / "k.key")],
                                 capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL,
                                 timeout=60, check=False)
    assert no_password.returncode == 2 and "COSIGN_PASSWORD" in no_password.stderr
