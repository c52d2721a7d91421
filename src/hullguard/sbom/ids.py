"""Deterministic identifiers and timestamps shared by the SBOM writers.

Every writer must produce byte-identical output for the same catalog: packages are sorted and
deduplicated here, ids are derived from the package key (purl + first location), the document
serial number / namespace from the image digest, and timestamps from ``SOURCE_DATE_EPOCH``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import uuid
from datetime import UTC, datetime

from hullguard import __version__
from hullguard.errors import InputError
from hullguard.model import Package, Sbom

# Fixed namespace for our uuid5 values, so the same image always gets the same serial number.
HULLGUARD_UUID_NAMESPACE = uuid.UUID("6f1d9c2e-8a4b-5e37-9c1f-2b7d4e0a9c31")
_NOT_REF_SAFE = re.compile(r"[^\x21-\x7e]")
_NOT_SPDX_SAFE = re.compile(r"[^A-Za-z0-9.-]+")


def short_hash(text: str, length: int = 16) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:length]


def created_at() -> datetime:
    """``SOURCE_DATE_EPOCH`` when set (reproducible builds convention), else now (UTC)."""
    raw = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not raw:
        return datetime.now(UTC).replace(microsecond=0)
    if not raw.isdigit() or len(raw) > 12:
        raise InputError(f"not a number of seconds: {raw[:40]!r}", where="SOURCE_DATE_EPOCH")
    return datetime.fromtimestamp(int(raw), UTC)


def iso_timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def unique_packages(sbom: Sbom) -> tuple[Package, ...]:
    """Packages in deterministic order, one per key (a repeated key is the same evidence)."""
    seen: set[str] = set()
    out = []
    for package in sbom.sorted().packages:
        if package.key not in seen:
            seen.add(package.key)
            out.append(package)
    return tuple(out)


def fingerprint(sbom: Sbom) -> str:
    """A digest of what the document says, so a changed catalog gets a new serial number."""
    keys = "\n".join(p.key + "|" + p.version for p in unique_packages(sbom))
    return short_hash(f"{sbom.image.name}\n{__version__}\n{keys}", 64)


def document_uuid(sbom: Sbom) -> uuid.UUID:
    """uuid5 of the image digest (or reference for digest-less sources) and the content."""
    anchor = str(sbom.image.digest) if sbom.image.digest else sbom.image.reference
    from hullguard.textsafe import escape_surrogates  # uuid5 encodes strictly as UTF-8

    return uuid.uuid5(HULLGUARD_UUID_NAMESPACE, escape_surrogates(f"{anchor}|{fingerprint(sbom)}"))


def bom_ref(package: Package) -> str:
    """The CycloneDX bom-ref of a package: its purl plus a ``package-id`` derived from its key
    (the same purl can occur at two locations), made safe for any consumer."""
    separator = "&" if "?" in package.purl else "?"
    ref = f"{package.purl}{separator}package-id={short_hash(package.key)}"
    return _NOT_REF_SAFE.sub("_", ref)


def spdx_id(package: Package) -> str:
    """An SPDXID (only letters, digits, ``.`` and ``-``) stable for the package key."""
    readable = _NOT_SPDX_SAFE.sub("-", f"{package.type.value}-{package.name}")[:80].strip("-")
    return f"SPDXRef-Package-{readable}-{short_hash(package.key)}"


def spdx_safe(text: str) -> str:
    return _NOT_SPDX_SAFE.sub("-", text).strip("-")[:80] or "x"


_HEX_LENGTHS = {"sha1": 40, "sha256": 64, "sha512": 128, "md5": 32}


def package_checksums(package: Package) -> tuple[tuple[str, str], ...]:
    """``(algorithm, hex)`` pairs from the ``checksum`` metadata a cataloger recorded: apk's
    ``Q1<base64 sha1>`` or ``algo:hex``. Anything else is ignored (not an error: metadata)."""
    text = package.meta("checksum")
    if text.startswith("Q1"):
        try:
            raw = base64.b64decode(text[2:], validate=True)
        except binascii.Error:
            return ()
        return (("sha1", raw.hex()),) if len(raw) == 20 else ()
    algorithm, _, hexpart = text.partition(":")
    algorithm = algorithm.lower()
    if _HEX_LENGTHS.get(algorithm) == len(hexpart) and re.fullmatch(r"[0-9a-fA-F]+", hexpart):
        return ((algorithm, hexpart.lower()),)
    return ()
