"""Key files: cosign's encrypted envelope (written and read), plain PEM keys, hostile files."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from hullguard.errors import InputError, LimitExceeded
from hullguard.harden.trust import keys
from tests.support.env import tool

PASSWORD = b"pw-for-tests"


def _envelope(pem: bytes) -> dict[str, object]:
    kind, body = keys.pem_blocks(pem, "test")[0]
    assert kind == keys.SIGSTORE_PEM
    doc: dict[str, object] = json.loads(body)
    return doc


def test_generated_key_is_cosigns_envelope_and_round_trips() -> None:
    pair = keys.generate_key_pair(PASSWORD)
    doc = _envelope(pair.private_pem)
    assert doc["kdf"] == {"name": "scrypt", "params": {"N": 65536, "r": 8, "p": 1},
                          "salt": doc["kdf"]["salt"]}  # type: ignore[index]
    assert doc["cipher"]["name"] == "nacl/secretbox"  # type: ignore[index]
    assert len(base64.b64decode(doc["cipher"]["nonce"])) == 24  # type: ignore[index]
    private = keys.load_private_key(pair.private_pem, PASSWORD, "k")
    public = keys.load_public_key(pair.public_pem, "p")
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    assert private.curve.name == "secp256r1"
    assert keys.key_id(keys.public_key_of(private)) == keys.key_id(public)
    signature = keys.sign(private, b"payload")
    assert keys.verify(public, signature, b"payload")
    assert not keys.verify(public, signature, b"payload!")


def test_wrong_password_and_missing_password() -> None:
    pair = keys.generate_key_pair(PASSWORD)
    with pytest.raises(InputError, match="wrong password"):
        keys.load_private_key(pair.private_pem, b"nope", "k")
    with pytest.raises(InputError, match="no password"):
        keys.load_private_key(pair.private_pem, None, "k")


def test_older_cosign_pem_type_reads_the_same() -> None:
    pair = keys.generate_key_pair(PASSWORD)
    older = pair.private_pem.replace(b"SIGSTORE", b"COSIGN")
    key = keys.load_private_key(older, PASSWORD, "k")
    assert keys.key_id(keys.public_key_of(key)) == \
        keys.key_id(keys.load_public_key(pair.public_pem, "p"))


def test_hostile_scrypt_parameters_are_refused_before_deriving() -> None:
    pair = keys.generate_key_pair(PASSWORD)
    doc = _envelope(pair.private_pem)
    doc["kdf"]["params"]["N"] = 1 << 30  # type: ignore[index]  # 128 GiB of scrypt memory
    hostile = keys._armor(keys.SIGSTORE_PEM, json.dumps(doc).encode())
    with pytest.raises(LimitExceeded, match="out of bounds"):
        keys.load_private_key(hostile, PASSWORD, "k")


def test_malformed_files() -> None:
    with pytest.raises(InputError, match="no PEM block"):
        keys.load_private_key(b"hello", PASSWORD, "k")
    with pytest.raises(LimitExceeded):
        keys.load_private_key(b"A" * (keys.MAX_KEY_FILE + 1), PASSWORD, "k")
    bad = keys._armor(keys.SIGSTORE_PEM, b'{"kdf": 1}')
    with pytest.raises(InputError, match="malformed"):
        keys.load_private_key(bad, PASSWORD, "k")
    pair = keys.generate_key_pair(PASSWORD)
    with pytest.raises(InputError, match="not a public key"):
        keys.load_public_key(pair.private_pem, "k")


@pytest.mark.parametrize("fmt", ["pkcs8", "sec1"])
def test_plain_pem_private_keys_from_openssl(tmp_path: Path, fmt: str) -> None:
    openssl = tool("openssl")
    path = tmp_path / "key.pem"
    subprocess.run([openssl, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out",
                    str(path)], check=True, capture_output=True)  # SEC1 "EC PRIVATE KEY"
    if fmt == "pkcs8":
        converted = tmp_path / "pkcs8.pem"
        subprocess.run([openssl, "pkcs8", "-topk8", "-nocrypt", "-in", str(path), "-out",
                        str(converted)], check=True, capture_output=True)
        path = converted
    data = path.read_bytes()
    assert (b"BEGIN EC PRIVATE KEY" in data) == (fmt == "sec1")
    key = keys.load_private_key(data, None, str(path))
    reloaded = serialization.load_pem_private_key(data, None)
    assert keys.key_id(keys.public_key_of(key)) == keys.key_id(reloaded.public_key())
