"""Signing keys in cosign's file formats.

A private key is PKCS#8 DER sealed with a password: scrypt derives a 32-byte key, NaCl's
secretbox (XSalsa20-Poly1305) encrypts, and a JSON envelope carries the KDF parameters, salt,
nonce and ciphertext; the envelope is PEM-armoured as ``ENCRYPTED SIGSTORE PRIVATE KEY``
(cosign 2) or ``ENCRYPTED COSIGN PRIVATE KEY`` (older cosign, same content). Plain PKCS#8 and
SEC1 PEM private keys are read too. Public keys are PKIX ``PUBLIC KEY`` PEM.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hullguard.errors import InputError, LimitExceeded

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import (
        PrivateKeyTypes,
        PublicKeyTypes,
    )

SIGSTORE_PEM = "ENCRYPTED SIGSTORE PRIVATE KEY"
COSIGN_PEM = "ENCRYPTED COSIGN PRIVATE KEY"
ENCRYPTED_PEMS = (SIGSTORE_PEM, COSIGN_PEM)
SCRYPT_N, SCRYPT_R, SCRYPT_P = 65536, 8, 1  # what cosign 2 writes
MAX_SCRYPT_N = 1 << 20
MAX_SCRYPT_MEMORY = 1 << 29  # 128*r*N bytes; a hostile key file must not take gigabytes
MAX_KEY_FILE = 64 * 1024
_PEM_RE = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\s*(.*?)\s*-----END \1-----", re.S)


@dataclass(frozen=True)
class KeyPair:
    private_pem: bytes
    public_pem: bytes


def generate_key_pair(password: bytes) -> KeyPair:
    """A fresh ECDSA P-256 key pair as cosign writes it (``cosign generate-key-pair``)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return KeyPair(encrypt_private_key(key, password), public_pem(key.public_key()))


def public_pem(key: PublicKeyTypes) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def encrypt_private_key(key: PrivateKeyTypes, password: bytes) -> bytes:
    """PKCS#8 DER of ``key`` sealed as an ``ENCRYPTED SIGSTORE PRIVATE KEY`` PEM."""
    import nacl.secret
    from cryptography.hazmat.primitives import serialization

    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    salt, nonce = os.urandom(32), os.urandom(nacl.secret.SecretBox.NONCE_SIZE)
    box = nacl.secret.SecretBox(_scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P))
    sealed = box.encrypt(der, nonce).ciphertext
    envelope = {
        "kdf": {"name": "scrypt", "params": {"N": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P},
                "salt": _b64(salt)},
        "cipher": {"name": "nacl/secretbox", "nonce": _b64(nonce)},
        "ciphertext": _b64(sealed)}
    return _armor(SIGSTORE_PEM, json.dumps(envelope).encode())


def _scrypt(password: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    # hashlib's default maxmem (32 MiB) is below what N=65536, r=8 needs (64 MiB)
    return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, dklen=32,
                          maxmem=MAX_SCRYPT_MEMORY + (1 << 24))


def _armor(kind: str, body: bytes) -> bytes:
    lines = base64.b64encode(body).decode()
    wrapped = "\n".join(lines[i:i + 64] for i in range(0, len(lines), 64))
    return f"-----BEGIN {kind}-----\n{wrapped}\n-----END {kind}-----\n".encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def read_key_file(path: Path) -> bytes:
    """A key file's bytes, read bounded (one byte over the limit, so the loaders refuse an
    oversized file with their own message); an unreadable file is an InputError."""
    try:
        with path.open("rb") as handle:
            return handle.read(MAX_KEY_FILE + 1)
    except OSError as error:
        raise InputError(f"cannot read the key: {error.strerror or error}",
                         where=str(path)) from None


def pem_blocks(data: bytes, where: str) -> list[tuple[str, bytes]]:
    """Every ``(type, DER/body)`` PEM block in ``data`` (bounded, strict base64)."""
    if len(data) > MAX_KEY_FILE:
        raise LimitExceeded(f"key file is {len(data)} bytes, over {MAX_KEY_FILE}", where=where)
    blocks = []
    for match in _PEM_RE.finditer(data):
        try:
            body = base64.b64decode(b"".join(match.group(2).split()), validate=True)
        except (binascii.Error, ValueError):
            raise InputError("PEM block is not valid base64", where=where) from None
        blocks.append((match.group(1).decode(), body))
    if not blocks:
        raise InputError("no PEM block in the key file", where=where,
                         hint="expected a cosign key (cosign.key / cosign.pub) or a PEM key")
    return blocks


def load_private_key(data: bytes, password: bytes | None, where: str) -> PrivateKeyTypes:
    """A private key from cosign's encrypted PEM or a plain PKCS#8 / SEC1 PEM."""
    from cryptography.hazmat.primitives import serialization

    kind, body = pem_blocks(data, where)[0]
    if kind in ENCRYPTED_PEMS:
        if password is None:
            raise InputError("the key is encrypted and no password was given", where=where,
                             hint="set COSIGN_PASSWORD")
        der = decrypt_envelope(body, password, where)
        return _checked(serialization.load_der_private_key(der, password=None), where)
    if kind in ("PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY"):
        secret = password if kind == "ENCRYPTED PRIVATE KEY" else None
        try:
            key = serialization.load_pem_private_key(data, password=secret)
        except (ValueError, TypeError) as error:
            raise InputError(f"cannot read the private key: {error}", where=where) from None
        return _checked(key, where)
    raise InputError(f"PEM block {kind!r} is not a private key", where=where)


def _checked(key: Any, where: str) -> PrivateKeyTypes:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
                      | ed25519.Ed25519PrivateKey):
        raise InputError(f"unsupported key type {type(key).__name__}", where=where,
                         hint="use an ECDSA (cosign's default), RSA or Ed25519 key")
    return key


def decrypt_envelope(body: bytes, password: bytes, where: str) -> bytes:
    """The PKCS#8 DER inside cosign's scrypt + secretbox JSON envelope."""
    import nacl.exceptions
    import nacl.secret

    try:
        doc = json.loads(body)
        kdf, cipher = doc["kdf"], doc["cipher"]
        params = kdf["params"]
        n, r, p = int(params["N"]), int(params["r"]), int(params["p"])
        salt, nonce = _unb64(kdf["salt"]), _unb64(cipher["nonce"])
        sealed = _unb64(doc["ciphertext"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InputError("malformed encrypted key envelope", where=where) from None
    if kdf.get("name") != "scrypt" or cipher.get("name") != "nacl/secretbox":
        raise InputError(f"unsupported key encryption {kdf.get('name')!r}/"
                         f"{cipher.get('name')!r}", where=where)
    if not (2 <= n <= MAX_SCRYPT_N and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16
            and 128 * r * n <= MAX_SCRYPT_MEMORY):
        raise LimitExceeded(f"scrypt parameters N={n} r={r} p={p} are out of bounds",
                            where=where)
    try:
        box = nacl.secret.SecretBox(_scrypt(password, salt, n, r, p))
        return bytes(box.decrypt(sealed, nonce))
    except (nacl.exceptions.CryptoError, ValueError):
        raise InputError("wrong password or corrupt key file", where=where,
                         hint="check COSIGN_PASSWORD") from None


def _unb64(value: Any) -> bytes:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return base64.b64decode(value, validate=True)


def load_public_key(data: bytes, where: str) -> PublicKeyTypes:
    """A PKIX ``PUBLIC KEY`` PEM (cosign.pub); a certificate's key is accepted too."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    kind, body = pem_blocks(data, where)[0]
    try:
        if kind == "PUBLIC KEY":
            key: Any = serialization.load_der_public_key(body)
        elif kind == "CERTIFICATE":
            key = x509.load_der_x509_certificate(body).public_key()
        else:
            raise InputError(f"PEM block {kind!r} is not a public key", where=where,
                             hint="give the public key (cosign.pub), not the private one")
    except ValueError as error:
        raise InputError(f"cannot read the public key: {error}", where=where) from None
    return _public_checked(key, where)


def _public_checked(key: Any, where: str) -> PublicKeyTypes:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey
                      | ed25519.Ed25519PublicKey):
        raise InputError(f"unsupported public key type {type(key).__name__}", where=where)
    key_type: PublicKeyTypes = key
    return key_type


def key_id(key: PublicKeyTypes) -> str:
    """``sha256:<hex>`` of the key's PKIX DER: how reports name a key."""
    from cryptography.hazmat.primitives import serialization

    der = key.public_bytes(serialization.Encoding.DER,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()


def key_hint(key: PublicKeyTypes) -> str:
    """The bundle's ``publicKey.hint``: base64 of the SHA-256 of the PKIX DER."""
    return base64.b64encode(bytes.fromhex(key_id(key).removeprefix("sha256:"))).decode()


def sign(key: PrivateKeyTypes, data: bytes) -> bytes:
    """A signature over ``data``: ECDSA (DER, hash by curve), RSA PKCS#1 v1.5 or Ed25519."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(_curve_hash(key.curve)))
    if isinstance(key, rsa.RSAPrivateKey):
        from cryptography.hazmat.primitives import hashes

        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    raise InputError(f"cannot sign with a {type(key).__name__}")


def verify(key: PublicKeyTypes, signature: bytes, data: bytes) -> bool:
    """True when ``signature`` over ``data`` verifies with ``key``."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(_curve_hash(key.curve)))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, data)
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True


def _curve_hash(curve: Any) -> Any:
    """cosign's hash per curve: SHA-256 for P-256, SHA-384 for P-384, SHA-512 for P-521."""
    from cryptography.hazmat.primitives import hashes

    return {"secp384r1": hashes.SHA384(), "secp521r1": hashes.SHA512()}.get(
        curve.name, hashes.SHA256())


def public_key_of(key: PrivateKeyTypes) -> PublicKeyTypes:
    public: PublicKeyTypes = key.public_key()
    return public
