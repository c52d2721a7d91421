"""CycloneDX JSON (1.4-1.7) from syft, trivy or hullguard into the model.

Facts a peer keeps in properties are read from each tool's namespace: ours (``hullguard:``),
syft's (``syft:package:foundBy``, ``syft:location:N:*``, ``syft:metadata:originPackage``) and
trivy's (``aquasecurity:trivy:SrcName``, ``LayerDiffID``, ``DiffID``, ``ImageID``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from hullguard.model import (
    Distro,
    ImageConfig,
    ImageInfo,
    Layer,
    Location,
    Package,
    Platform,
    Sbom,
)
from hullguard.sbom.fields import Fields
from hullguard.sbom.readers.common import (
    ParsedPurl,
    Skips,
    digest_or_none,
    distro_from_purls,
    parse_purl,
    upstream,
)

TRIVY = "aquasecurity:trivy:"
_LOCATION = re.compile(
    r"^(?:hullguard:location|syft:location):(\d{1,6}):(path|layer_diff_id|layerID)$")
_LAYER = re.compile(r"^hullguard:image:layer:(\d{1,6}):(digest|diff_id|created_by)$")
PACKAGE_TYPES = ("library", "application", "framework", "firmware", "device-driver")


class Props:
    """A component's properties: name -> values in document order (names repeat)."""

    def __init__(self, component: Fields) -> None:
        self.values: dict[str, list[str]] = {}
        for item in component.objects("properties"):
            self.values.setdefault(item.string("name"), []).append(item.string("value"))

    def first(self, *names: str) -> str:
        for name in names:
            if self.values.get(name):
                return self.values[name][0]
        return ""

    def all(self, name: str) -> list[str]:
        return self.values.get(name, [])


def read_cyclonedx(data: dict[str, Any], where: str) -> Sbom:
    doc = Fields(data, where)
    metadata = doc.obj("metadata")
    skips = Skips()
    packages: list[Package] = []
    distro: Distro | None = None
    for component in _components(doc):
        kind = component.string("type")
        if kind == "operating-system" and distro is None:
            distro = _distro(component)
        elif kind in PACKAGE_TYPES:
            package = _package(component, skips)
            if package is not None:
                packages.append(package)
    found = tuple(packages)
    tool, version = _tool(metadata)
    return Sbom(image=_image(metadata.optional_obj("component"), where),
                distro=distro or distro_from_purls(found), packages=found,
                warnings=skips.warnings(), tool=tool, tool_version=version)


def _components(parent: Fields) -> Iterator[Fields]:
    """Depth-first over nested ``components`` (nesting is bounded by the JSON loader)."""
    for component in parent.objects("components"):
        yield component
        yield from _components(component)


def _tool(metadata: Fields) -> tuple[str, str]:
    tools = metadata.data.get("tools")
    if isinstance(tools, dict):  # 1.5+: {"components": [...], "services": [...]}
        candidates = metadata.obj("tools").objects("components")
    else:  # 1.4: a list of {vendor, name, version}
        candidates = metadata.objects("tools")
    for tool in candidates:
        if tool.string("name"):
            return tool.string("name"), tool.string("version")
    return "", ""


def _distro(component: Fields) -> Distro:
    props = Props(component)
    return Distro(
        id=component.string("name").lower(), version_id=component.string("version"),
        codename=props.first("hullguard:distro:codename", "syft:distro:versionCodename"),
        pretty_name=component.string("description") or props.first("syft:distro:prettyName"),
        id_like=tuple(props.all("hullguard:distro:id_like")),
    )


def _package(component: Fields, skips: Skips) -> Package | None:
    purl_text = component.string("purl")
    if not purl_text:
        if component.string("type") == "library":
            skips.add("no purl")
        return None  # trivy's aggregate "application" components carry no purl
    purl = parse_purl(purl_text)
    if not isinstance(purl, ParsedPurl):
        skips.add(purl)
        return None
    return _build_package(component, purl_text, purl, Props(component))


def _build_package(component: Fields, purl_text: str, purl: ParsedPurl, props: Props) -> Package:
    locations = _locations(props)
    layer = props.first("hullguard:package:layer_diff_id", TRIVY + "LayerDiffID") or (
        locations[0].layer_diff_id if locations else "")
    src_name, src_version = _source(props, purl, component.string("version"))
    return Package(
        name=component.string("name") or purl.name,
        version=component.string("version") or purl.version,
        type=purl.type, purl=purl_text,
        cataloger=props.first("hullguard:package:cataloger", "syft:package:foundBy",
                              TRIVY + "PkgType"),
        source_name=src_name, source_version=src_version,
        arch=props.first("hullguard:package:arch") or purl.qualifier("arch"),
        licenses=_licenses(component), locations=locations, introduced_by=layer,
        created_by=props.first("hullguard:package:created_by"),
        owned_by=props.first("hullguard:package:owned_by"),
        metadata=tuple(sorted((name.removeprefix("hullguard:metadata:"), value)
                              for name, values in props.values.items()
                              if name.startswith("hullguard:metadata:") for value in values)),
    )


def _source(props: Props, purl: ParsedPurl, version: str) -> tuple[str, str]:
    name = props.first("hullguard:package:source_name", TRIVY + "SrcName",
                       "syft:metadata:originPackage", "syft:metadata:source")
    source_version = props.first("hullguard:package:source_version", TRIVY + "SrcVersion",
                                 "syft:metadata:sourceVersion")
    if not name:
        name, source_version = upstream(purl)
    if name and not source_version:
        source_version = version  # apk origin and a bare upstream name share the version
    return name, source_version


def _locations(props: Props) -> tuple[Location, ...]:
    found: dict[tuple[str, int], dict[str, str]] = {}
    for name, values in props.values.items():
        match = _LOCATION.match(name)
        if match and values:
            tool = name.split(":", 1)[0]
            key = "path" if match.group(2) == "path" else "layer"
            found.setdefault((tool, int(match.group(1))), {})[key] = values[0]
    ours = sorted(k for k in found if k[0] == "hullguard") or sorted(found)
    out = [Location(found[k].get("path", ""), found[k].get("layer", "")) for k in ours]
    trivy_path = props.first(TRIVY + "FilePath")
    if not out and trivy_path:
        out.append(Location("/" + trivy_path.lstrip("/"), props.first(TRIVY + "LayerDiffID")))
    return tuple(loc for loc in out if loc.path)


def _licenses(component: Fields) -> tuple[str, ...]:
    out = []
    for choice in component.objects("licenses"):
        if choice.string("expression"):
            out.append(choice.string("expression"))
            continue
        license_ = choice.obj("license")
        text = license_.string("id") or license_.string("name")
        if text:
            out.append(text)
    return tuple(out)


def _image(component: Fields | None, where: str) -> ImageInfo:
    if component is None:
        return ImageInfo(reference=where, source_kind="sbom")
    props = Props(component)
    reference = props.first("hullguard:image:reference", TRIVY + "Reference",
                            TRIVY + "RepoTag") or component.string("name") or where
    digest = digest_or_none(component.string("version")) or digest_or_none(
        props.first(TRIVY + "RepoDigest").rpartition("@")[2])
    platform = props.first("hullguard:image:platform")
    return ImageInfo(
        reference=reference, source_kind="sbom", digest=digest,
        config_digest=digest_or_none(props.first("hullguard:image:config_digest",
                                                 TRIVY + "ImageID")),
        repo_digests=tuple(props.all("hullguard:image:repo_digest") or
                           props.all(TRIVY + "RepoDigest")),
        tags=tuple(props.all("hullguard:image:tag") or props.all(TRIVY + "RepoTag")),
        platform=_platform(platform), layers=_layers(props),
        media_type=props.first("hullguard:image:media_type"),
        config=ImageConfig(user=props.first("hullguard:image:user"),
                           user_known=bool(props.all("hullguard:image:user")),
                           volumes=tuple(props.all("hullguard:image:volume"))),
    )


def _platform(text: str) -> Platform | None:
    parts = text.split("/")
    if len(parts) in (2, 3) and all(parts):
        return Platform(*parts)
    return None


def _layers(props: Props) -> tuple[Layer, ...]:
    ours: dict[int, dict[str, str]] = {}
    for name, values in props.values.items():
        match = _LAYER.match(name)
        if match and values:
            ours.setdefault(int(match.group(1)), {})[match.group(2)] = values[0]
    if ours:
        return tuple(Layer(i, digest_or_none(f.get("digest", "")),
                           digest_or_none(f.get("diff_id", "")), created_by=f.get("created_by",
                                                                                   ""))
                     for i, f in sorted(ours.items()))
    return tuple(Layer(i, None, digest_or_none(d)) for i, d in
                 enumerate(props.all(TRIVY + "DiffID")))
