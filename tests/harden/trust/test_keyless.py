"""Keyless verification, offline, against a private Sigstore instance built in the test
(tests/harden/trust/private_sigstore.py: a Fulcio-like CA, a CT log key, a Rekor-like log key
and their trusted_root.json), on the real docker-registry, cross-checked with the real cosign
(``cosign verify --trusted-root ... --new-bundle-format``): both must accept the good bundle
and refuse the same forgeries."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from hullguard.harden.trust import formats, resolve
from hullguard.harden.trust.attach import append_layer, attach_referrer
from hullguard.images.reference import parse_reference
from hullguard.images.registry import RegistryClient
from hullguard.model import Digest
from tests.harden.trust.conftest import hullguard
from tests.harden.trust.private_sigstore import (
    Instance,
    envelope_for,
    signed_bundle,
)
from tests.harden.trust.test_cosign_interop import REGISTRY_FLAGS, cosign
from tests.support.registry import Pushed

ISSUER = "https://issuer.hullguard.test"
WHO = "release@hullguard.test"
OTHER_DIGEST = Digest.parse("sha256:" + "ab" * 32)


@pytest.fixture(scope="module")
def instance() -> Instance:
    return Instance("private")


@pytest.fixture
def root(instance: Instance, tmp_path: Path) -> Path:
    path = tmp_path / "trusted_root.json"
    path.write_text(instance.trusted_root_json())
    return path


def statement(image: Pushed, digest: Digest | None = None,
              predicate: str = formats.SIGN_PREDICATE) -> bytes:
    return formats.statement(f"{image.host}/{image.repository}", digest or image.digest,
                             predicate, {})


def attach(image: Pushed, blob: bytes, predicate: str = formats.SIGN_PREDICATE) -> None:
    """Push ``blob`` as a bundle referrer the way ``hullguard sign --format bundle`` does."""
    with RegistryClient(image.host) as client:
        target = resolve(client, parse_reference(image.by_digest))
        attach_referrer(client, target, formats.BUNDLE_MEDIA, blob,
                        {"dev.sigstore.bundle.content": "dsse-envelope",
                         "dev.sigstore.bundle.predicateType": predicate})


def verify(image: Pushed, root: Path, *extra: str, identity: str = WHO,
           issuer: str = ISSUER, command: str = "verify") -> tuple[int, str]:
    done = hullguard(command, image.by_digest, "--trusted-root", str(root),
                     "--certificate-identity", identity, "--certificate-oidc-issuer", issuer,
                     *extra)
    return done.returncode, done.stdout + done.stderr


def cosign_verify(image: Pushed, root: Path, home: Path, identity: str = WHO,
                  issuer: str = ISSUER) -> tuple[int, str]:
    done = cosign("verify", "--trusted-root", str(root), "--new-bundle-format",
                  "--certificate-identity", identity, "--certificate-oidc-issuer", issuer,
                  *REGISTRY_FLAGS, image.by_digest, home=home)
    return done.returncode, done.stdout + done.stderr


# -- each forgery: (name, how to make the bundle, identity asked, issuer asked, reason) ------

def _good(instance: Instance, image: Pushed) -> bytes:
    return signed_bundle(instance, statement(image), WHO, ISSUER)


def _other_signature_entry(instance: Instance, image: Pushed) -> bytes:
    """The envelope's own signature is valid, but the log entry records another one."""
    signer = ec.generate_private_key(ec.SECP256R1())
    cert = instance.certificate(signer, WHO, ISSUER)
    envelope = envelope_for(signer, statement(image))
    other = envelope_for(signer, statement(image, predicate="https://example.test/other"))
    return instance.bundle(envelope, cert, instance.tlog_entry(cert, other))


def _other_digest(instance: Instance, image: Pushed) -> bytes:
    return signed_bundle(instance, statement(image, OTHER_DIGEST), WHO, ISSUER)


def _untrusted_ca(instance: Instance, image: Pushed) -> bytes:
    """A rogue CA (and CT log) the trusted root does not name; the log entry itself is
    signed by the trusted log, so only the certificate chain is wrong."""
    rogue = Instance("rogue", log_key=instance.log_key)
    return signed_bundle(rogue, statement(image), WHO, ISSUER)


def _untrusted_log(instance: Instance, image: Pushed) -> bytes:
    """The trusted CA and CT log, but the entry and checkpoint signed by an unknown log."""
    rogue = copy.copy(instance)
    rogue.log_key = ec.generate_private_key(ec.SECP256R1())
    return signed_bundle(rogue, statement(image), WHO, ISSUER)


Maker = Callable[[Instance, Pushed], bytes]
CASES: list[tuple[str, Maker, str, str, bool, str]] = [
    ("good", _good, WHO, ISSUER, True, f"signed by {WHO} (issuer {ISSUER})"),
    ("wrong-identity", _good, "someone@else.test", ISSUER, False, "is not the one required"),
    ("wrong-issuer", _good, WHO, "https://other-issuer.test", False,
     "is not the one required"),
    ("tlog-of-another-signature", _other_signature_entry, WHO, ISSUER, False,
     "log entry payload hash does not match bundle"),
    ("payload-for-another-digest", _other_digest, WHO, ISSUER, False,
     "statement subjects do not include"),
    ("untrusted-ca", _untrusted_ca, WHO, ISSUER, False, "certificate chain"),
    ("untrusted-log", _untrusted_log, WHO, ISSUER, False, "invalid log entry"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "make", "identity", "issuer", "accepted", "reason"), CASES,
                         ids=[case[0] for case in CASES])
def test_keyless_matrix_hullguard_and_cosign(name: str, make: Maker, identity: str,
                                             issuer: str, accepted: bool, reason: str,
                                             image: Pushed, instance: Instance, root: Path,
                                             tmp_path: Path) -> None:
    attach(image, make(instance, image))
    code, out = verify(image, root, identity=identity, issuer=issuer)
    assert code == (0 if accepted else 1), out
    assert reason in out
    cosign_code, cosign_out = cosign_verify(image, root, tmp_path, identity, issuer)
    assert (cosign_code == 0) == accepted, cosign_out
    if accepted:  # cosign checked the log entry too, not just the signature
        assert "transparency log was verified offline" in cosign_out, cosign_out
    said = next(line for line in out.splitlines() if "bundle" in line).strip()
    print(f"{name}: hullguard exit {code}: {said[:300]}\n  cosign exit {cosign_code}: "
          f"{cosign_out.strip().splitlines()[-1][:300]}")  # the matrix in the docs


@pytest.mark.slow
def test_identity_regexp_and_attestation(image: Pushed, instance: Instance,
                                         root: Path, tmp_path: Path) -> None:
    attach(image, _good(instance, image))
    custom = formats.predicate_type("custom")
    attach(image, signed_bundle(instance, statement(image, predicate=custom), WHO, ISSUER),
           custom)
    done = hullguard("verify", image.by_digest, "--trusted-root", str(root),
                     "--certificate-identity-regexp", r"^release@hullguard\.test$",
                     "--certificate-oidc-issuer", ISSUER)
    assert done.returncode == 0, done.stderr
    assert "1 of 1 signature(s) verified with trusted root" in done.stdout
    code, out = verify(image, root, "--type", "custom", command="verify-attestation")
    assert code == 0, out
    assert f"signed by {WHO}" in out
    missed = hullguard("verify", image.by_digest, "--trusted-root", str(root),
                       "--certificate-identity-regexp", r"^ops@", "--certificate-oidc-issuer",
                       ISSUER)
    assert missed.returncode == 1, missed.stdout
    # cosign agrees on both (its regexp flag, its verify-attestation of the bundle)
    flags = ["--trusted-root", str(root), "--new-bundle-format", "--certificate-oidc-issuer",
             ISSUER, *REGISTRY_FLAGS]
    regexp = cosign("verify", *flags, "--certificate-identity-regexp",
                    r"^release@hullguard\.test$", image.by_digest, home=tmp_path)
    assert regexp.returncode == 0, regexp.stderr
    attested = cosign("verify-attestation", *flags, "--type", "custom",
                      "--certificate-identity", WHO, image.by_digest, home=tmp_path)
    assert attested.returncode == 0, attested.stderr


def test_legacy_keyless_signature_is_reported_not_skipped(image: Pushed,
                                                          root: Path) -> None:
    with RegistryClient(image.host) as client:
        target = resolve(client, parse_reference(image.by_digest))
        payload = formats.simple_signing(target.reference.name, target.digest)
        append_layer(client, target, "sig", payload, formats.SIMPLE_SIGNING,
                     {formats.SIGNATURE_ANNOTATION: "MEUCIQ==",
                      "dev.sigstore.cosign/certificate": "-----BEGIN CERTIFICATE-----"})
    code, out = verify(image, root)
    assert code == 1
    assert "NOT VERIFIED: a legacy keyless signature" in out
    assert "0 of 1 signature(s) verified" in out


def test_key_bundle_is_not_accepted_as_keyless(image: Pushed, hg_keys: tuple[Path, Path],
                                               root: Path) -> None:
    assert hullguard("sign", image.by_digest, "--key", str(hg_keys[0])).returncode == 0
    code, out = verify(image, root)
    assert code == 1
    assert "0 of 2 signature(s) verified" in out


@pytest.mark.parametrize("args", [
    ["--trusted-root", "ROOT", "--certificate-oidc-issuer", ISSUER],
    ["--trusted-root", "ROOT", "--certificate-identity", WHO],
    ["--trusted-root", "ROOT", "--certificate-identity", WHO, "--certificate-identity-regexp",
     "x", "--certificate-oidc-issuer", ISSUER],
    ["--trusted-root", "ROOT", "--certificate-identity-regexp", "(",
     "--certificate-oidc-issuer", ISSUER],
    ["--key", "ROOT", "--trusted-root", "ROOT"],
    ["--key", "ROOT", "--certificate-identity", WHO],
    [],
    ["--trusted-root", "BAD", "--certificate-identity", WHO, "--certificate-oidc-issuer",
     ISSUER],
])
def test_flag_mistakes_exit_2(args: list[str], root: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"mediaType": "nope"}')
    swapped = [str(root) if a == "ROOT" else str(bad) if a == "BAD" else a for a in args]
    done = hullguard("verify", "127.0.0.1:1/none/x@sha256:" + "a" * 64, *swapped)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "error" in done.stderr.lower()


def test_hostile_bundles_are_refused_with_a_reason(image: Pushed, instance: Instance,
                                                   root: Path) -> None:
    good = _good(instance, image).decode()
    der = good.split('"rawBytes":"', 1)[1].split('"', 1)[0]
    attach(image, good.replace(der, "AAAA" * 8).encode())  # a certificate that is not one
    attach(image, b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", '
                  b'"dsseEnvelope": {"payload": "", "payloadType": "x", "signatures": []}}')
    code, out = verify(image, root)
    assert code == 1, out
    assert "Traceback" not in out
    assert out.count("FAIL bundle") == 2
    assert "not a verifiable bundle" in out
