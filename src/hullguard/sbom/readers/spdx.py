"""SPDX 2.2/2.3 JSON from syft, trivy or hullguard into the model.

The image is the package the document DESCRIBES (purpose CONTAINER); the distro is the
OPERATING-SYSTEM package (trivy, hullguard) or, failing that, the purls' ``distro`` qualifier
(syft). ``Key: value`` facts are read from trivy's annotations and our package comment.
"""

from __future__ import annotations

from typing import Any

from hullguard.model import Distro, ImageInfo, Layer, Location, Package, Platform, Sbom
from hullguard.sbom.fields import Fields
from hullguard.sbom.readers.common import (
    ParsedPurl,
    Skips,
    digest_or_none,
    distro_from_purls,
    parse_purl,
    split_tool,
    upstream,
)

NO_LICENSE = ("", "NOASSERTION", "NONE")


class Facts:
    """``Key: value`` lines from a package's comment and its annotations' comments."""

    def __init__(self, package: Fields) -> None:
        self.values: dict[str, list[str]] = {}
        lines = package.string("comment").splitlines()
        for annotation in package.objects("annotations"):
            lines.extend(annotation.string("comment").splitlines())
        for line in lines:
            key, sep, value = line.partition(": ")
            if sep and key and " " not in key:
                self.values.setdefault(key, []).append(value.strip())

    def first(self, key: str) -> str:
        return self.values.get(key, [""])[0]

    def all(self, key: str) -> list[str]:
        return self.values.get(key, [])


def read_spdx(data: dict[str, Any], where: str) -> Sbom:
    doc = Fields(data, where)
    described = _described(doc)
    refs = {ref.string("licenseId"): ref.string("name") or ref.string("extractedText")
            for ref in doc.objects("hasExtractedLicensingInfos")}
    skips, packages = Skips(), []
    image: ImageInfo | None = None
    distro: Distro | None = None
    for item in doc.objects("packages"):
        purpose = item.string("primaryPackagePurpose")
        if image is None and (purpose == "CONTAINER" or item.string("SPDXID") in described):
            image = _image(item, where)
        elif purpose in ("OPERATING-SYSTEM", "OPERATING_SYSTEM") and distro is None:
            distro = Distro(id=item.string("name").lower(), version_id=item.string("versionInfo"),
                            pretty_name=item.string("description"))
        else:
            package = _package(item, refs, skips)
            if package is not None:
                packages.append(package)
    found = tuple(packages)
    tool, version = _tool(doc)
    return Sbom(image=image or ImageInfo(reference=doc.string("name") or where,
                                         source_kind="sbom"),
                distro=distro or distro_from_purls(found), packages=found,
                warnings=skips.warnings(), tool=tool, tool_version=version)


def _described(doc: Fields) -> set[str]:
    out = set(doc.strings("documentDescribes"))
    for relation in doc.objects("relationships"):
        if (relation.string("relationshipType") == "DESCRIBES"
                and relation.string("spdxElementId") == doc.string("SPDXID")):
            out.add(relation.string("relatedSpdxElement"))
    return out


def _tool(doc: Fields) -> tuple[str, str]:
    for creator in doc.obj("creationInfo").strings("creators"):
        if creator.startswith("Tool:"):
            return split_tool(creator.removeprefix("Tool:"))
    return "", ""


def _purl(item: Fields) -> str:
    for ref in item.objects("externalRefs"):
        if ref.string("referenceType") == "purl":
            return ref.string("referenceLocator")
    return ""


def _package(item: Fields, refs: dict[str, str], skips: Skips) -> Package | None:
    purl_text = _purl(item)
    if not purl_text:
        skips.add("no purl")
        return None
    purl = parse_purl(purl_text)
    if not isinstance(purl, ParsedPurl):
        skips.add(purl)
        return None
    facts = Facts(item)
    locations = _locations(item, facts)
    src_name, src_version = _source(item.string("sourceInfo"), purl, item.string("versionInfo"))
    return Package(
        name=item.string("name") or purl.name, version=item.string("versionInfo") or purl.version,
        type=purl.type, purl=purl_text, cataloger=facts.first("Cataloger")
        or facts.first("PkgType"), source_name=src_name, source_version=src_version,
        arch=facts.first("Arch") or purl.qualifier("arch"), licenses=_licenses(item, refs),
        locations=locations, introduced_by=facts.first("LayerDiffID") or (
            locations[0].layer_diff_id if locations else ""),
        created_by=facts.first("CreatedBy"), owned_by=facts.first("OwnedBy"),
    )


def _source(info: str, purl: ParsedPurl, version: str) -> tuple[str, str]:
    """trivy (and we) write ``built package from: NAME VERSION``; syft a purl qualifier."""
    if info.startswith("built package from: "):
        name, _, source_version = info.removeprefix("built package from: ").partition(" ")
        return name, source_version
    name, source_version = upstream(purl)
    return name, source_version or (version if name else "")


def _locations(item: Fields, facts: Facts) -> tuple[Location, ...]:
    ours = [Location(*value.rsplit(" ", 1)) if " sha" in value else Location(value)
            for value in facts.all("Location")]
    if ours:
        return tuple(ours)
    info = item.string("sourceInfo")
    if info.startswith("acquired package info from ") and ": /" in info:
        layer = facts.first("LayerDiffID")
        return tuple(Location(path.strip(), layer)
                     for path in info.split(": ", 1)[1].split(", ") if path.startswith("/"))
    return ()


def _licenses(item: Fields, refs: dict[str, str]) -> tuple[str, ...]:
    for key in ("licenseDeclared", "licenseConcluded"):
        value = item.string(key).strip()
        if value not in NO_LICENSE:
            return (refs.get(value, value),)  # a lone LicenseRef reads back as its text
    return ()


def _image(item: Fields, where: str) -> ImageInfo:
    facts = Facts(item)
    digest = digest_or_none(item.string("versionInfo"))
    for checksum in item.objects("checksums"):
        if digest is None and checksum.string("algorithm") == "SHA256":
            digest = digest_or_none("sha256:" + checksum.string("checksumValue").lower())
    return ImageInfo(
        reference=facts.first("Reference") or facts.first("RepoTag") or item.string("name")
        or where, source_kind="sbom", digest=digest,
        config_digest=digest_or_none(facts.first("ImageID")),
        repo_digests=tuple(facts.all("RepoDigest")), tags=tuple(facts.all("RepoTag")),
        platform=_platform(facts.first("Platform")),
        layers=tuple(Layer(i, None, digest_or_none(d)) for i, d in
                     enumerate(facts.all("DiffID"))),
    )


def _platform(text: str) -> Platform | None:
    parts = text.split("/")
    return Platform(*parts) if len(parts) in (2, 3) and all(parts) else None
