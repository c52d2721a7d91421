"""Keyless (Fulcio certificate + Rekor entry) Sigstore bundles, verified offline.

sigstore-python does the cryptography: the certificate chain to the trusted root's CAs at
the log's integration time, the certificate's SCT against the trusted root's CT logs, the
Rekor entry's inclusion proof, signed checkpoint and signed entry timestamp, the DSSE
signature and the entry's consistency with the envelope. It is given a trusted root *file*
and never asked to fetch one: no TUF, no network (docs/trust.md).

The identity policy is ours: an exact SAN or a regular expression (searched, unanchored,
like cosign's ``--certificate-identity-regexp``) and an exact OIDC issuer, both required.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hullguard.errors import InputError, IntegrityError

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

MAX_TRUSTED_ROOT = 4 << 20  # the public-good trusted_root.json is ~10 kB
# Fulcio's OIDC issuer extensions: v1 holds raw bytes, v2 a DER UTF8String.
ISSUER_V1 = "1.3.6.1.4.1.57264.1.1"
ISSUER_V2 = "1.3.6.1.4.1.57264.1.8"
OTHERNAME_OID = "1.3.6.1.4.1.57264.1.7"
LEGACY_CERT_ANNOTATION = "dev.sigstore.cosign/certificate"
INSTALL_HINT = "pip install 'hullguard[keyless]' (sigstore-python 4.x)"


@dataclass(frozen=True)
class Identity:
    """Who must have signed: an exact subject or a pattern, and the OIDC issuer."""

    issuer: str
    subject: str = ""
    subject_regexp: str = ""

    def describe(self) -> str:
        who = self.subject or f"/{self.subject_regexp}/"
        return f"{who} (issuer {self.issuer})"


@dataclass(frozen=True)
class Keyless:
    """What keyless verification needs: the parsed trusted root and the accepted identities."""

    trusted_root: Any  # sigstore.models.TrustedRoot (imported lazily)
    identities: tuple[Identity, ...]
    root_name: str

    def describe(self) -> str:
        names = ", ".join(identity.describe() for identity in self.identities)
        return f"trusted root {self.root_name}, identity {names}"


@dataclass(frozen=True)
class Signed:
    """A bundle that verified: its DSSE content and who signed it."""

    payload_type: str
    payload: bytes
    subject: str
    issuer: str


def _sigstore() -> Any:
    try:
        import sigstore.models
        import sigstore.verify
    except ImportError as error:
        raise InputError("keyless verification needs sigstore-python", where="--trusted-root",
                         hint=INSTALL_HINT) from error
    return sigstore


def identity(issuer: str | None, subject: str | None, subject_regexp: str | None,
             where: str) -> Identity:
    """One identity from the flags or the policy: an issuer and exactly one subject form."""
    if not issuer:
        raise InputError("keyless verification needs the OIDC issuer", where=where,
                         hint="give --certificate-oidc-issuer (there is no 'any issuer')")
    if bool(subject) == bool(subject_regexp):
        raise InputError("keyless verification needs exactly one of the certificate identity "
                         "and the identity pattern", where=where,
                         hint="give --certificate-identity or --certificate-identity-regexp "
                              "(there is no 'any identity')")
    if subject_regexp:
        try:
            re.compile(subject_regexp)
        except re.error as error:
            raise InputError(f"bad identity pattern: {error}", where=where) from error
    return Identity(issuer, subject or "", subject_regexp or "")


def load(path: Path, identities: tuple[Identity, ...]) -> Keyless:
    """Parse the trusted root file once (exit 2 on a bad file, before any registry call)."""
    sigstore = _sigstore()
    where = str(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_TRUSTED_ROOT + 1)
    except OSError as error:
        raise InputError(f"cannot read the trusted root: {error.strerror}", where=where) from error
    if len(data) > MAX_TRUSTED_ROOT:
        raise InputError("trusted root file is too large", where=where)
    try:
        inner = sigstore.models.trustroot_v1.TrustedRoot.from_json(data)
        root = sigstore.models.TrustedRoot(inner)
        sigstore.verify.Verifier(trusted_root=root)  # refuses a root without a log
    except Exception as error:  # pydantic, sigstore and JSON errors alike
        raise InputError(f"not a usable Sigstore trusted root: {_first_line(error)}",
                         where=where, hint="pass a trusted_root.json (Sigstore protobuf-specs "
                         "TrustedRoot, mediaType ...trustedroot+json;version=0.1)") from error
    return Keyless(root, identities, where)


def _first_line(error: BaseException) -> str:
    """The error's gist: a pydantic error's first lines name the field and the problem."""
    lines = [line.strip() for line in str(error).strip().splitlines()[:3] if line.strip()]
    text = "; ".join(line for line in lines if not line.startswith("For further"))
    return (text or type(error).__name__)[:300]


def verify_bundle(keyless: Keyless, data: bytes, where: str) -> Signed:
    """Verify a keyless DSSE bundle offline; :class:`IntegrityError` says why it failed."""
    sigstore = _sigstore()
    try:
        bundle = sigstore.models.Bundle.from_json(data)
    except Exception as error:  # malformed input of any shape
        raise IntegrityError(f"not a verifiable bundle: {_first_line(error)}",
                             where=where) from error
    verifier = sigstore.verify.Verifier(trusted_root=keyless.trusted_root)
    policy = _Policy(keyless.identities)
    try:
        payload_type, payload = verifier.verify_dsse(bundle, policy)
    except Exception as error:  # sigstore raises several error types
        raise IntegrityError(_explain(_first_line(error)), where=where) from error
    cert = bundle.signing_certificate
    return Signed(payload_type, payload, ", ".join(sans(cert)), issuer_of(cert))


def _explain(reason: str) -> str:
    """sigstore-python's reason, with what it means where that is not obvious."""
    if "certificate chain" in reason:
        return f"the certificate is not issued by a CA of the trusted root ({reason})"
    if reason.startswith("invalid log entry"):
        return f"the log entry is not signed by a log of the trusted root ({reason})"
    return reason


def sans(cert: Certificate) -> list[str]:
    """The identities a Fulcio certificate names (email, URI, Sigstore other name)."""
    from cryptography import x509

    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    found = [*names.get_values_for_type(x509.RFC822Name),
             *names.get_values_for_type(x509.UniformResourceIdentifier)]
    found += [other.value.decode(errors="replace")
              for other in names.get_values_for_type(x509.OtherName)
              if other.type_id.dotted_string == OTHERNAME_OID]
    return found


def issuer_of(cert: Certificate) -> str:
    """The OIDC issuer a Fulcio certificate records (v2 extension first, then v1)."""
    from cryptography import x509

    for oid, der in ((ISSUER_V2, True), (ISSUER_V1, False)):
        try:
            value = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier(oid)).value
        except x509.ExtensionNotFound:
            continue
        raw = getattr(value, "value", b"")
        return _der_utf8(raw) if der else raw.decode(errors="replace")
    return ""


def _der_utf8(raw: bytes) -> str:
    """A short DER UTF8String (tag 0x0c); issuer URLs fit a one- or two-byte length."""
    if len(raw) < 2 or raw[0] != 0x0C:
        return ""
    start = 2 if raw[1] < 0x80 else 2 + (raw[1] & 0x7F)
    return raw[start:].decode(errors="replace")


class _Policy:
    """sigstore-python's VerificationPolicy protocol: any one of the identities matches."""

    def __init__(self, identities: tuple[Identity, ...]) -> None:
        self.identities = identities

    def verify(self, cert: Certificate) -> None:
        from sigstore.errors import VerificationError

        issuer, names = issuer_of(cert), sans(cert)
        for wanted in self.identities:
            if wanted.issuer == issuer and any(_matches(wanted, name) for name in names):
                return
        shown = ", ".join(names)[:200] or "none"
        wants = "; ".join(identity.describe() for identity in self.identities)[:300]
        raise VerificationError(f"certificate identity {shown} (issuer {issuer[:120] or 'none'})"
                                f" is not the one required: {wants}")


def _matches(wanted: Identity, name: str) -> bool:
    if wanted.subject:
        return name == wanted.subject
    return re.search(wanted.subject_regexp, name) is not None
