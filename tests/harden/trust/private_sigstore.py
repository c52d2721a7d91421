"""A private Sigstore instance made in the test, with real cryptography and no network.

* a Fulcio-like CA (self-signed root, ECDSA P-256) issuing short-lived code-signing
  certificates with the signer's identity as SAN and the OIDC issuer in Fulcio's v1 and v2
  extensions, each carrying one embedded SCT (RFC 6962 precertificate entry) signed by a
  CT log key;
* a Rekor-like log key signing a ``dsse/0.0.1`` entry: its signed entry timestamp
  (inclusion promise) over the canonical entry, and a checkpoint (signed note) over a
  two-leaf Merkle tree holding the entry, with the inclusion proof;
* ``trusted_root.json`` (Sigstore protobuf-specs ``TrustedRoot``) naming the three.

The formats follow the protobuf-specs and Rekor's/RFC 6962's definitions; nothing here is
copied from a verifier: the tests check it against sigstore-python and the real cosign.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import struct
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hullguard.harden.trust import formats

NOW = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
ISSUER_V1 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
ISSUER_V2 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
SCT_LIST = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
P256 = "PKIX_ECDSA_P256_SHA_256"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def spki(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def key_id(key: ec.EllipticCurvePrivateKey) -> bytes:
    """A log's id: SHA-256 of its public key's SubjectPublicKeyInfo (RFC 6962, Rekor)."""
    return hashlib.sha256(spki(key)).digest()


def sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


def _der_octets(data: bytes) -> bytes:
    """A DER OCTET STRING (the SCT list extension wraps its TLS bytes in one)."""
    size = len(data)
    length = bytes([size]) if size < 0x80 else bytes([0x82]) + struct.pack(">H", size)
    return b"\x04" + length + data


def _der_utf8(text: str) -> bytes:
    data = text.encode()
    return b"\x0c" + bytes([len(data)]) + data


@dataclass
class Instance:
    """The three private keys of one Sigstore deployment, and its trusted root."""

    name: str = "private"
    ca_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    ct_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    log_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    ca_cert: x509.Certificate = field(init=False)

    def __post_init__(self) -> None:
        subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.name),
                             x509.NameAttribute(NameOID.COMMON_NAME, f"{self.name} fulcio")])
        public = self.ca_key.public_key()
        self.ca_cert = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(public).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - datetime.timedelta(days=1))
            .not_valid_after(NOW + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                         False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(self.ca_key, hashes.SHA256()))

    # -- the trusted root ------------------------------------------------------------------

    def trusted_root(self) -> dict[str, Any]:
        start = (NOW - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

        def log(key: ec.EllipticCurvePrivateKey, url: str) -> dict[str, Any]:
            return {"baseUrl": url, "hashAlgorithm": "SHA2_256",
                    "publicKey": {"rawBytes": b64(spki(key)), "keyDetails": P256,
                                  "validFor": {"start": start}},
                    "logId": {"keyId": b64(key_id(key))}}

        der = self.ca_cert.public_bytes(serialization.Encoding.DER)
        return {"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
                "tlogs": [log(self.log_key, f"https://rekor.{self.name}.test")],
                "certificateAuthorities": [{
                    "subject": {"organization": self.name, "commonName": f"{self.name} fulcio"},
                    "uri": f"https://fulcio.{self.name}.test",
                    "certChain": {"certificates": [{"rawBytes": b64(der)}]},
                    "validFor": {"start": start}}],
                "ctlogs": [log(self.ct_key, f"https://ctfe.{self.name}.test")],
                "timestampAuthorities": []}

    def trusted_root_json(self) -> str:
        return json.dumps(self.trusted_root())

    # -- Fulcio ----------------------------------------------------------------------------

    def certificate(self, signer: ec.EllipticCurvePrivateKey, identity: str,
                    issuer: str) -> x509.Certificate:
        """A leaf certificate for ``identity`` (email or URI SAN) with one embedded SCT."""
        builder = self._leaf(signer, identity, issuer)
        precert = builder.sign(self.ca_key, hashes.SHA256())
        sct = self._sct(precert.tbs_certificate_bytes)
        extension = x509.UnrecognizedExtension(SCT_LIST, _der_octets(sct))
        return builder.add_extension(extension, critical=False).sign(self.ca_key,
                                                                    hashes.SHA256())

    def _leaf(self, signer: ec.EllipticCurvePrivateKey, identity: str,
              issuer: str) -> x509.CertificateBuilder:
        name: x509.GeneralName = (x509.RFC822Name(identity) if "@" in identity
                                  and "://" not in identity
                                  else x509.UniformResourceIdentifier(identity))
        public = signer.public_key()
        return (
            x509.CertificateBuilder().subject_name(x509.Name([]))
            .issuer_name(self.ca_cert.subject).public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - datetime.timedelta(minutes=5))
            .not_valid_after(NOW + datetime.timedelta(minutes=10))
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False,
                                         False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]),
                           critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                self.ca_key.public_key()), critical=False)
            .add_extension(x509.SubjectAlternativeName([name]), critical=True)
            .add_extension(x509.UnrecognizedExtension(ISSUER_V1, issuer.encode()),
                           critical=False)
            .add_extension(x509.UnrecognizedExtension(ISSUER_V2, _der_utf8(issuer)),
                           critical=False))

    def _sct(self, tbs: bytes) -> bytes:
        """An SCT list holding one v1 SCT for a precertificate entry (RFC 6962 3.2, 3.3)."""
        millis = int(NOW.timestamp() * 1000)
        issuer_hash = hashlib.sha256(spki(self.ca_key)).digest()
        signed = (struct.pack("!BBQH", 0, 0, millis, 1) + issuer_hash
                  + struct.pack("!I", len(tbs))[1:] + tbs + struct.pack("!H", 0))
        signature = sign(self.ct_key, signed)
        sct = (bytes([0]) + key_id(self.ct_key) + struct.pack("!QH", millis, 0)
               + bytes([4, 3]) + struct.pack("!H", len(signature)) + signature)
        return struct.pack("!HH", len(sct) + 2, len(sct)) + sct

    # -- Rekor -----------------------------------------------------------------------------

    def tlog_entry(self, cert: x509.Certificate, envelope: formats.Envelope,
                   log_index: int = 1) -> dict[str, Any]:
        """A ``dsse/0.0.1`` entry for ``envelope`` signed by ``cert``'s key, with its signed
        entry timestamp and an inclusion proof in a two-leaf tree with a signed checkpoint."""
        body = self.entry_body(cert, envelope)
        integrated = int(NOW.timestamp())
        log_id = key_id(self.log_key)
        promise = json.dumps({"body": b64(body), "integratedTime": integrated,
                              "logID": log_id.hex(), "logIndex": log_index},
                             sort_keys=True, separators=(",", ":")).encode()
        leaf = hashlib.sha256(b"\x00" + body).digest()
        other = hashlib.sha256(b"\x00" + b'{"other":"entry"}').digest()
        root = hashlib.sha256(b"\x01" + other + leaf).digest()
        return {"logIndex": str(log_index), "logId": {"keyId": b64(log_id)},
                "kindVersion": {"kind": "dsse", "version": "0.0.1"},
                "integratedTime": str(integrated),
                "inclusionPromise": {"signedEntryTimestamp": b64(sign(self.log_key, promise))},
                "inclusionProof": {"logIndex": "1", "rootHash": b64(root), "treeSize": "2",
                                   "hashes": [b64(other)],
                                   "checkpoint": {"envelope": self.checkpoint(root, 2)}},
                "canonicalizedBody": b64(body)}

    def entry_body(self, cert: x509.Certificate, envelope: formats.Envelope) -> bytes:
        pem = cert.public_bytes(serialization.Encoding.PEM)
        body = {"apiVersion": "0.0.1", "kind": "dsse", "spec": {
            "envelopeHash": {"algorithm": "sha256", "value": hashlib.sha256(
                formats.compact(envelope.to_json())).hexdigest()},
            "payloadHash": {"algorithm": "sha256",
                            "value": hashlib.sha256(envelope.payload).hexdigest()},
            "signatures": [{"signature": b64(sig), "verifier": b64(pem)}
                           for sig in envelope.signatures]}}
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def checkpoint(self, root: bytes, size: int) -> str:
        """A signed note: origin, size, root hash; signed with the log key (key hint = the
        first 4 bytes of the log id)."""
        note = f"rekor.{self.name}.test - 1\n{size}\n{b64(root)}\n"
        signature = key_id(self.log_key)[:4] + sign(self.log_key, note.encode())
        return f"{note}\n\u2014 rekor.{self.name}.test {b64(signature)}\n"

    # -- a keyless bundle ------------------------------------------------------------------

    def bundle(self, envelope: formats.Envelope, cert: x509.Certificate,
               entry: dict[str, Any]) -> bytes:
        der = cert.public_bytes(serialization.Encoding.DER)
        doc = {"mediaType": formats.BUNDLE_MEDIA,
               "verificationMaterial": {"certificate": {"rawBytes": b64(der)},
                                        "tlogEntries": [entry]},
               "dsseEnvelope": envelope.to_json()}
        return formats.compact(doc)


def envelope_for(signer: ec.EllipticCurvePrivateKey, payload: bytes) -> formats.Envelope:
    signature = sign(signer, formats.pae(formats.INTOTO_PAYLOAD, payload))
    return formats.Envelope(formats.INTOTO_PAYLOAD, payload, (signature,))


def signed_bundle(instance: Instance, payload: bytes, identity: str,
                  issuer: str) -> bytes:
    """A complete keyless bundle: fresh signing key, certificate, envelope, log entry."""
    signer = ec.generate_private_key(ec.SECP256R1())
    cert = instance.certificate(signer, identity, issuer)
    envelope = envelope_for(signer, payload)
    return instance.bundle(envelope, cert, instance.tlog_entry(cert, envelope))
