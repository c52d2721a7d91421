"""SPDX 2.3 JSON via spdx-tools.

Shape (the one syft and trivy use, so both read it back): the document DESCRIBES the image
package (purpose CONTAINER); the image CONTAINS an OPERATING-SYSTEM package for the distro and
every language package; the OS package CONTAINS the OS packages. Every package carries its purl
as a PACKAGE-MANAGER external reference. Layer, location and cataloger go into package
annotations as ``Key: value`` comments (trivy's convention, read back by our reader).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hullguard import __version__
from hullguard.model import Distro, ImageInfo, Package, Sbom
from hullguard.sbom import ids

if TYPE_CHECKING:
    from spdx_tools.spdx.model.document import Document
    from spdx_tools.spdx.model.extracted_licensing_info import ExtractedLicensingInfo
    from spdx_tools.spdx.model.package import Package as SpdxPackage

SPDX_VERSION = "SPDX-2.3"
DOCUMENT_ID = "SPDXRef-DOCUMENT"
IMAGE_ID = "SPDXRef-Image"
OS_ID = "SPDXRef-OperatingSystem"
CHECKSUM_ALGORITHMS = {"sha1": "SHA1", "sha256": "SHA256", "sha512": "SHA512", "md5": "MD5"}


def render(sbom: Sbom) -> str:
    from spdx_tools.spdx.writer.json.json_writer import write_document_to_stream

    stream = io.StringIO()
    # Validation happens in the tests (validate_full_spdx_document); here it would double the
    # time for a large image without changing the bytes.
    write_document_to_stream(build_document(sbom), stream, validate=False)
    return stream.getvalue() + "\n"


def namespace(sbom: Sbom) -> str:
    """Unique per image digest and content (uuid5), hence stable across runs."""
    return f"urn:uuid:{ids.document_uuid(sbom)}"


def build_document(sbom: Sbom) -> Document:
    from spdx_tools.spdx.model.document import Document

    builder = _Builder(sbom, ids.created_at())
    return Document(
        creation_info=builder.creation_info(),
        packages=builder.packages(),
        relationships=builder.relationships(),
        extracted_licensing_info=[builder.extracted[ref] for ref in sorted(builder.extracted)],
    )


class _Builder:
    """Collects packages, relationships and the LicenseRefs that free-text licenses need."""

    def __init__(self, sbom: Sbom, created: datetime) -> None:
        self.sbom, self.created = sbom, created
        self.items = ids.unique_packages(sbom)
        self.extracted: dict[str, ExtractedLicensingInfo] = {}

    def creation_info(self) -> Any:
        from spdx_tools.spdx.model.actor import Actor, ActorType
        from spdx_tools.spdx.model.document import CreationInfo

        creators = [Actor(ActorType.TOOL, f"hullguard-{__version__}")]
        if self.sbom.tool and self.sbom.tool != "hullguard":
            creators.append(Actor(ActorType.TOOL, f"{self.sbom.tool}-{self.sbom.tool_version}"))
        return CreationInfo(spdx_version=SPDX_VERSION, spdx_id=DOCUMENT_ID,
                            name=self.sbom.image.name, document_namespace=namespace(self.sbom),
                            creators=creators, created=self.created)

    def packages(self) -> list[SpdxPackage]:
        out = [self._image(self.sbom.image)]
        if self.sbom.distro:
            out.append(self._distro(self.sbom.distro))
        out.extend(self._package(p) for p in self.items)
        return out

    def relationships(self) -> list[Any]:
        from spdx_tools.spdx.model.relationship import Relationship, RelationshipType

        contains = RelationshipType.CONTAINS
        out = [Relationship(DOCUMENT_ID, RelationshipType.DESCRIBES, IMAGE_ID)]
        if self.sbom.distro:
            out.append(Relationship(IMAGE_ID, contains, OS_ID))
        for package in self.items:
            parent = OS_ID if self.sbom.distro and package.type.is_os else IMAGE_ID
            out.append(Relationship(parent, contains, ids.spdx_id(package)))
        return out

    def _image(self, image: ImageInfo) -> SpdxPackage:
        from spdx_tools.spdx.model.checksum import Checksum, ChecksumAlgorithm
        from spdx_tools.spdx.model.package import PackagePurpose

        digest = image.digest
        checksums = [Checksum(ChecksumAlgorithm[CHECKSUM_ALGORITHMS[digest.algorithm]],
                              digest.hex)] if digest else []
        return _spdx_package(
            IMAGE_ID, image.reference.split("@", 1)[0] or "image",
            version=str(digest) if digest else None, checksums=checksums,
            primary_package_purpose=PackagePurpose.CONTAINER,
            comment="\n".join(f"{key}: {value}" for key, value in _image_facts(image) if value),
        )

    def _distro(self, distro: Distro) -> SpdxPackage:
        from spdx_tools.spdx.model.package import PackagePurpose

        return _spdx_package(OS_ID, distro.id, version=distro.version_id or None,
                             description=distro.pretty_name or None,
                             primary_package_purpose=PackagePurpose.OPERATING_SYSTEM)

    def _package(self, package: Package) -> SpdxPackage:
        from spdx_tools.spdx.model.checksum import Checksum, ChecksumAlgorithm
        from spdx_tools.spdx.model.package import (
            ExternalPackageRef,
            ExternalPackageRefCategory,
            PackagePurpose,
        )

        purl = ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", package.purl)
        checksums = [Checksum(ChecksumAlgorithm[CHECKSUM_ALGORITHMS[alg]], value)
                     for alg, value in ids.package_checksums(package)]
        return _spdx_package(
            ids.spdx_id(package), package.name, version=package.version or None,
            checksums=checksums, source_info=_source_info(package),
            license_declared=self._license(package.licenses),
            external_references=[purl], primary_package_purpose=PackagePurpose.LIBRARY,
            attribution_texts=None, comment=_package_comment(package) or None,
        )

    def _license(self, values: tuple[str, ...]) -> Any:
        from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion

        from hullguard.sbom.spdx_license import expression_for

        items = [value.strip() for value in values if value.strip()]
        if not items:
            return SpdxNoAssertion()
        return expression_for(items, self.extracted)


def _spdx_package(spdx_id: str, name: str, **fields: Any) -> SpdxPackage:
    from spdx_tools.spdx.model.package import Package as SpdxPackage
    from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion

    fields.setdefault("license_declared", SpdxNoAssertion())
    return SpdxPackage(spdx_id=spdx_id, name=name, download_location=SpdxNoAssertion(),
                       files_analyzed=False, license_concluded=SpdxNoAssertion(),
                       copyright_text=SpdxNoAssertion(), **fields)


def _source_info(package: Package) -> str | None:
    """trivy's wording for the source package (it reads this back), else where it was found."""
    if package.source_name:
        return f"built package from: {package.source_name} {package.source_version}".rstrip()
    if package.locations:
        return f"acquired package info from {package.cataloger or 'hullguard'}: " \
               f"{package.locations[0].path}"
    return None


def _image_facts(image: ImageInfo) -> Iterator[tuple[str, str]]:
    yield "Reference", image.reference
    yield "SourceKind", image.source_kind
    yield "ImageID", str(image.config_digest or "")
    yield "Platform", str(image.platform or "")
    for layer in image.layers:
        yield "DiffID", str(layer.diff_id or "")


def _package_comment(package: Package) -> str:
    """``Key: value`` lines, one fact each; read back by hullguard.sbom.readers."""
    facts = [("PkgType", package.type.value), ("Cataloger", package.cataloger),
             ("LayerDiffID", package.introduced_by), ("CreatedBy", package.created_by),
             ("OwnedBy", package.owned_by), ("Arch", package.arch),
             *(("Location", f"{loc.path} {loc.layer_diff_id}".rstrip())
               for loc in package.locations)]
    return "\n".join(f"{key}: {_one_line(value)}" for key, value in facts if value)


def _one_line(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ")
