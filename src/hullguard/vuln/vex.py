"""VEX documents: OpenVEX JSON and CycloneDX VEX. A ``not_affected`` statement (with a
justification or impact statement) removes the finding it names; the report lists it as
suppressed with the statement. CycloneDX ``false_positive`` and ``resolved`` suppress too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hullguard.errors import InputError
from hullguard.model import Finding, ImageInfo
from hullguard.vuln.purl import purl_matches

MAX_VEX_BYTES = 64 << 20
_CDX_SUPPRESS = frozenset(("not_affected", "false_positive", "resolved"))
_OPENVEX_SUPPRESS = frozenset(("not_affected", "fixed"))


@dataclass(frozen=True)
class VexStatement:
    """One suppressing statement, normalized from either format."""

    ids: frozenset[str]  # the vulnerability name and its aliases
    products: tuple[str, ...]  # purls or image names it applies to; () = any
    subcomponents: tuple[str, ...]  # package purls inside an image product; () = all
    status: str
    justification: str
    statement: str
    origin: str  # file it came from

    def describe(self) -> str:
        why = f" ({self.justification})" if self.justification else ""
        said = f": {self.statement}" if self.statement else ""
        return f"vex {self.origin}: {self.status}{why}{said}"

    def applies(self, finding: Finding, image: ImageInfo | None) -> bool:
        if not ({finding.id, *finding.aliases} & self.ids):
            return False
        purl = finding.package.purl
        if not self.products:
            return self._sub_ok(purl)
        for product in self.products:
            if purl_matches(product, purl):
                return True
            if image is not None and _names_image(product, image) and self._sub_ok(purl):
                return True
        return False

    def _sub_ok(self, purl: str) -> bool:
        return not self.subcomponents or any(purl_matches(s, purl) for s in self.subcomponents)


def _names_image(product: str, image: ImageInfo) -> bool:
    """An image product: its reference, its digest, or a pkg:oci purl carrying the digest."""
    digest = str(image.digest) if image.digest else ""
    candidates = {image.reference, image.name, digest, *image.repo_digests}
    if product in candidates:
        return True
    if product.startswith("pkg:oci/") and digest:
        return f"@{digest.replace(':', '%3A')}" in product or f"@{digest}" in product
    return False


class _BadStatement(Exception):
    """A statement of the wrong shape: ignored with a warning, never read as broader than
    it is (``"products": 1`` must not become "every product")."""


def load_vex(path: Path) -> tuple[list[VexStatement], list[str]]:
    """The suppressing statements of one VEX file, and warnings for ignored ones."""
    from hullguard.fsutil import read_bounded
    from hullguard.inventory.yamlsafe import loads_json  # the bounded untrusted-JSON loader

    data = read_bounded(path, MAX_VEX_BYTES)  # a regular file, size-capped
    try:
        text = data.decode(json.detect_encoding(data))  # UTF-8 (BOM or not), -16, -32
    except UnicodeDecodeError as error:
        raise InputError(f"not Unicode text: {error.reason}", where=str(path)) from None
    try:
        doc = loads_json(text, str(path))
    except ValueError as error:
        raise InputError(f"invalid JSON: {error}", where=str(path)) from None
    if isinstance(doc, dict) and isinstance(doc.get("statements"), list):
        return _openvex(doc, path.name)
    if isinstance(doc, dict) and doc.get("bomFormat") == "CycloneDX":
        return _cyclonedx(doc, path, path.name)
    raise InputError("neither an OpenVEX nor a CycloneDX VEX document", where=str(path))


def _list(item: dict[str, Any], key: str) -> list[Any]:
    """``item[key]`` as a list: absent or null is empty, any other non-list is a bad shape."""
    value = item.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _BadStatement(f"{key} is a {type(value).__name__}, not a list")
    return value


def _id_of(item: Any) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        value = item.get("@id") or item.get("name") or item.get("id") or ""
        return value if isinstance(value, str) else ""
    return ""


def _strings(items: Any) -> tuple[str, ...]:
    return tuple(s for s in (_id_of(i) for i in items) if s) if isinstance(items, list) else ()


def _scope(items: list[Any], what: str) -> tuple[str, ...]:
    """Product or subcomponent ids; one that names nothing is a bad shape, since dropping it
    could leave an empty list, which means "every product"."""
    ids = tuple(_id_of(item) for item in items)
    if not all(ids):
        raise _BadStatement(f"a {what} entry names no product")
    return ids


def _openvex(doc: dict[str, Any], origin: str) -> tuple[list[VexStatement], list[str]]:
    out, warnings = [], []
    for index, raw in enumerate(doc["statements"]):
        try:
            statement = _openvex_statement(raw, origin) if isinstance(raw, dict) else None
        except _BadStatement as error:
            warnings.append(f"{origin}: statement {index}: {error}; ignored")
            continue
        if statement is None:
            continue
        if statement.status == "not_affected" and not statement.justification and (
                not statement.statement):
            warnings.append(f"{origin}: statement {index} is not_affected without a "
                            "justification or impact statement; ignored")
            continue
        out.append(statement)
    return out, warnings


def _openvex_statement(raw: dict[str, Any], origin: str) -> VexStatement | None:
    status = str(raw.get("status", ""))
    if status not in _OPENVEX_SUPPRESS:
        return None
    vuln = raw.get("vulnerability")
    ids = {_id_of(vuln), *(_strings(vuln.get("aliases")) if isinstance(vuln, dict) else ())}
    products = _list(raw, "products")
    subs = [s for p in products if isinstance(p, dict)
            for s in _scope(_list(p, "subcomponents"), "subcomponents")]
    subs += _scope(_list(raw, "subcomponents"), "subcomponents")
    return VexStatement(frozenset(i for i in ids if i), _scope(products, "products"),
                        tuple(subs), status,
                        str(raw.get("justification", "")),
                        str(raw.get("impact_statement", "") or raw.get("status_notes", "")),
                        origin)


def _cyclonedx(doc: dict[str, Any], path: Path,
               origin: str) -> tuple[list[VexStatement], list[str]]:
    try:
        components, vulnerabilities = _list(doc, "components"), _list(doc, "vulnerabilities")
    except _BadStatement as error:
        raise InputError(f"CycloneDX VEX document: {error}", where=str(path)) from None
    refs = {c["bom-ref"]: c["purl"] for c in components if isinstance(c, dict)
            and isinstance(c.get("bom-ref"), str) and isinstance(c.get("purl"), str)}
    out, warnings = [], []
    for index, raw in enumerate(vulnerabilities):
        try:
            statement = _cyclonedx_statement(raw, refs, origin) if isinstance(raw, dict) else None
        except _BadStatement as error:
            warnings.append(f"{origin}: vulnerability {index}: {error}; ignored")
            continue
        if statement is not None:
            out.append(statement)
    return out, warnings


def _cyclonedx_statement(raw: dict[str, Any], refs: dict[str, str],
                         origin: str) -> VexStatement | None:
    analysis = raw.get("analysis")
    state = analysis.get("state") if isinstance(analysis, dict) else None
    if not isinstance(analysis, dict) or not isinstance(state, str) or (
            state not in _CDX_SUPPRESS):
        return None
    ids = {_id_of(raw), *_strings(raw.get("references"))}
    products = tuple(_resolve_ref(_ref(a), refs) for a in _list(raw, "affects"))
    if not all(products):
        raise _BadStatement("an affects entry has no ref")
    return VexStatement(frozenset(i for i in ids if i), products,
                        (), state, str(analysis.get("justification", "")),
                        str(analysis.get("detail", "")), origin)


def _ref(item: Any) -> str:
    return str(item.get("ref", "")) if isinstance(item, dict) else ""


def _resolve_ref(ref: str, refs: dict[str, str]) -> str:
    """``affects.ref`` is a bom-ref of this document, a BOM-link ``urn:cdx:...#ref`` or a purl."""
    local = ref.rpartition("#")[2] if ref.startswith("urn:cdx:") else ref
    return str(refs.get(local, local))
