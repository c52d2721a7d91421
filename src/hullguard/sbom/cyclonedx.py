"""CycloneDX 1.6 JSON via cyclonedx-python-lib.

``build_bom`` is public so that later stages (the vulnerability report) can add a
``vulnerabilities`` section to the same document; ``bom_ref(package)`` gives the id a package's
component carries. Our own properties use the ``hullguard:`` namespace (CycloneDX property
taxonomy convention); the native JSON stays the lossless format.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

from hullguard import __version__
from hullguard.model import Distro, ImageInfo, Package, Sbom
from hullguard.sbom import ids

if TYPE_CHECKING:
    from cyclonedx.model import Property
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component
    from cyclonedx.model.license import License
    from cyclonedx.model.tool import ToolRepository
    from packageurl import PackageURL

SPEC_VERSION = "1.6"
bom_ref = ids.bom_ref

# Property names: documented in docs/sbom.md and read back by hullguard.sbom.readers.
PROP = "hullguard:"
PACKAGE_PROPS = {
    "cataloger": "hullguard:package:cataloger",
    "source_name": "hullguard:package:source_name",
    "source_version": "hullguard:package:source_version",
    "arch": "hullguard:package:arch",
    "introduced_by": "hullguard:package:layer_diff_id",
    "created_by": "hullguard:package:created_by",
    "owned_by": "hullguard:package:owned_by",
}


def render(sbom: Sbom) -> str:
    return to_json(build_bom(sbom))


def to_json(bom: Bom) -> str:
    """The Bom as CycloneDX 1.6 JSON, header keys first.

    The library's ``JsonV1Dot6`` output first runs ``Bom.validate()``, which looks up every
    component's dependency entry by linear search (quadratic: 18 s for 5,000 packages). We
    build the dependency graph complete and with unique refs ourselves (the tests validate
    every document against the schema and with the library's validator), so we serialize
    with the library's own serializer directly.
    """
    from cyclonedx.schema.schema import SchemaVersion1Dot6

    body = json.loads(bom.as_json(view_=SchemaVersion1Dot6))  # type: ignore[attr-defined]
    header = {"$schema": f"http://cyclonedx.org/schema/bom-{SPEC_VERSION}.schema.json",
              "bomFormat": "CycloneDX", "specVersion": SPEC_VERSION}
    return json.dumps({**header, **body}, indent=2) + "\n"


def build_bom(sbom: Sbom) -> Bom:
    """The cyclonedx-python-lib Bom for ``sbom``: deterministic serial, timestamp and refs."""
    from cyclonedx.model.bom import Bom, BomMetaData

    packages = ids.unique_packages(sbom)
    image = image_component(sbom.image)
    os_component = distro_component(sbom.distro) if sbom.distro else None
    components = [package_component(p) for p in packages]
    metadata = BomMetaData(timestamp=ids.created_at(), tools=_tools(sbom), component=image)
    bom = Bom(serial_number=ids.document_uuid(sbom), metadata=metadata,
              components=[*([os_component] if os_component else []), *components])
    _register_dependencies(bom, image, os_component, packages, components)
    return bom


def _tools(sbom: Sbom) -> ToolRepository:
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.tool import ToolRepository

    tools = [Component(type=ComponentType.APPLICATION, name="hullguard", version=__version__,
                       bom_ref="tool:hullguard")]
    if sbom.tool and sbom.tool != "hullguard":  # an SBOM read from another tool
        tools.append(Component(type=ComponentType.APPLICATION, name=sbom.tool,
                               version=sbom.tool_version or None,
                               bom_ref=f"tool:{ids.spdx_safe(sbom.tool)}"))
    return ToolRepository(components=tools)


def _register_dependencies(bom: Bom, image: Component, os_component: Component | None,
                           packages: Iterable[Package], components: list[Component]) -> None:
    """image -> OS -> OS packages, image -> language packages (how trivy links them too).

    Built as Dependency objects directly: ``Bom.register_dependency`` searches linearly."""
    from cyclonedx.model.dependency import Dependency

    os_children = [c for p, c in zip(packages, components, strict=True) if p.type.is_os]
    others = [c for p, c in zip(packages, components, strict=True) if not p.type.is_os]
    graph = [(image, [*os_children, *others])] if os_component is None else [
        (image, [os_component, *others]), (os_component, os_children)]
    graph.extend((component, []) for component in components)
    bom.dependencies.update(
        Dependency(ref=parent.bom_ref, dependencies=[Dependency(ref=c.bom_ref) for c in children])
        for parent, children in graph)


def image_component(image: ImageInfo) -> Component:
    """The image as a ``container`` component: name, digest as version, our image properties."""
    from cyclonedx.model import HashAlgorithm, HashType
    from cyclonedx.model.component import Component, ComponentType

    digest = image.digest
    hashes = [HashType(alg=HashAlgorithm.SHA_256, content=digest.hex)] if (
        digest and digest.algorithm == "sha256") else []
    return Component(
        type=ComponentType.CONTAINER, name=_image_name(image),
        version=str(digest) if digest else None, hashes=hashes,
        bom_ref=f"image:{ids.short_hash(image.name)}",
        properties=_properties(_image_properties(image)),
    )


def _image_name(image: ImageInfo) -> str:
    return image.reference.split("@", 1)[0] or "image"


def _image_properties(image: ImageInfo) -> Iterator[tuple[str, str]]:
    yield "hullguard:image:reference", image.reference
    yield "hullguard:image:source_kind", image.source_kind
    yield "hullguard:image:config_digest", str(image.config_digest or "")
    yield "hullguard:image:platform", str(image.platform or "")
    yield "hullguard:image:media_type", image.media_type
    for tag in image.tags:
        yield "hullguard:image:tag", tag
    for repo_digest in image.repo_digests:
        yield "hullguard:image:repo_digest", repo_digest
    # an unset User runs as root: recorded as such, so a reader knows it was looked at
    yield "hullguard:image:user", image.config.user or "root"
    for volume in image.config.volumes:  # what contain mounts emptyDirs at
        yield "hullguard:image:volume", volume
    for layer in image.layers:
        prefix = f"hullguard:image:layer:{layer.index}:"
        yield prefix + "digest", str(layer.digest or "")
        yield prefix + "diff_id", str(layer.diff_id or "")
        yield prefix + "created_by", layer.created_by


def distro_component(distro: Distro) -> Component:
    from cyclonedx.model.component import Component, ComponentType

    props = [("hullguard:distro:codename", distro.codename),
             ("hullguard:distro:pretty_name", distro.pretty_name),
             *(("hullguard:distro:id_like", like) for like in distro.id_like)]
    return Component(type=ComponentType.OPERATING_SYSTEM, name=distro.id,
                     version=distro.version_id or None, description=distro.pretty_name or None,
                     bom_ref=f"os:{ids.spdx_safe(distro.id)}@{ids.spdx_safe(distro.version_id)}",
                     properties=_properties(props))


def package_component(package: Package) -> Component:
    from cyclonedx.model.component import Component, ComponentType

    return Component(
        type=ComponentType.LIBRARY, name=package.name, version=package.version or None,
        purl=_purl(package.purl), bom_ref=bom_ref(package),
        licenses=licenses(package.licenses), properties=_properties(_package_properties(package)),
    )


def _package_properties(package: Package) -> Iterator[tuple[str, str]]:
    yield "hullguard:package:type", package.type.value
    for field, name in PACKAGE_PROPS.items():
        yield name, getattr(package, field)
    for index, location in enumerate(package.locations):
        yield f"hullguard:location:{index}:path", location.path
        yield f"hullguard:location:{index}:layer_diff_id", location.layer_diff_id
    for key, value in package.metadata:
        yield f"hullguard:metadata:{key}", value


def _properties(pairs: Iterable[tuple[str, str]]) -> list[Property]:
    from cyclonedx.model import Property

    return [Property(name=name, value=value) for name, value in pairs if value]


def _purl(text: str) -> PackageURL | None:
    from packageurl import PackageURL

    try:
        return PackageURL.from_string(text)
    except ValueError:
        return None  # kept out of the document rather than written malformed


def licenses(values: Iterable[str]) -> list[License]:
    """One value: an SPDX id, an expression or a name. Several: each an id or a name, because
    CycloneDX forbids mixing an expression with other licenses."""
    items = [value.strip() for value in values if value.strip()]
    if len(items) == 1:
        return [_license_from_string(items[0])]
    return [_license_id_or_name(value) for value in dict.fromkeys(items)]


@lru_cache(maxsize=4096)
def _license_from_string(value: str) -> License:
    from cyclonedx.contrib.license.exceptions import FactoryException
    from cyclonedx.contrib.license.factories import LicenseFactory

    try:
        return LicenseFactory().make_from_string(value)
    except (FactoryException, ValueError):
        return _license_id_or_name(value)


@lru_cache(maxsize=4096)
def _license_id_or_name(value: str) -> License:
    from cyclonedx.contrib.license.exceptions import FactoryException
    from cyclonedx.contrib.license.factories import LicenseFactory
    from cyclonedx.model.license import DisjunctiveLicense

    try:
        return LicenseFactory().make_with_id(value)
    except (FactoryException, ValueError):
        return DisjunctiveLicense(name=value)
