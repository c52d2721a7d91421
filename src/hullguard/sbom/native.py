"""hullguard's native JSON: every field of the model, lossless, with a ``schema_version``.

The schema is documented in docs/sbom.md. ``to_dict``/``from_dict`` round-trip exactly (for a
sorted, deduplicated SBOM), so the native JSON is also what ``sbom:FILE`` reads back best.
"""

from __future__ import annotations

import json
from typing import Any

from hullguard import __version__
from hullguard.model import (
    Digest,
    Distro,
    HistoryEntry,
    ImageConfig,
    ImageInfo,
    Layer,
    Location,
    Package,
    PackageType,
    Platform,
    PluginStatus,
    Sbom,
    Status,
)
from hullguard.sbom import ids
from hullguard.sbom.fields import Fields

SCHEMA_VERSION = 1
SCHEMA_NAME = "hullguard-sbom"


def render(sbom: Sbom) -> str:
    return json.dumps(to_dict(sbom), indent=2, ensure_ascii=False) + "\n"


def to_dict(sbom: Sbom) -> dict[str, Any]:
    return {
        "schema": SCHEMA_NAME,
        "schema_version": SCHEMA_VERSION,
        "generator": {"name": "hullguard", "version": __version__},
        "tool": {"name": sbom.tool, "version": sbom.tool_version},
        "image": _image(sbom.image),
        "distro": _distro(sbom.distro) if sbom.distro else None,
        "packages": [_package(p) for p in ids.unique_packages(sbom)],
        "statuses": [_status(s) for s in sorted(sbom.statuses, key=lambda s: s.name)],
        "warnings": list(sbom.warnings),
        "extra": [list(pair) for pair in sbom.extra],
    }


def _digest(value: Digest | None) -> str | None:
    return str(value) if value else None


def _image(image: ImageInfo) -> dict[str, Any]:
    platform = image.platform
    return {
        "reference": image.reference,
        "source_kind": image.source_kind,
        "digest": _digest(image.digest),
        "config_digest": _digest(image.config_digest),
        "repo_digests": list(image.repo_digests),
        "tags": list(image.tags),
        "media_type": image.media_type,
        "platform": {"os": platform.os, "architecture": platform.architecture,
                     "variant": platform.variant} if platform else None,
        "layers": [_layer(layer) for layer in image.layers],
        "config": _config(image.config),
    }


def _layer(layer: Layer) -> dict[str, Any]:
    return {"index": layer.index, "digest": _digest(layer.digest),
            "diff_id": _digest(layer.diff_id), "media_type": layer.media_type,
            "size": layer.size, "created_by": layer.created_by}


def _config(config: ImageConfig) -> dict[str, Any]:
    return {
        "user": config.user, "env": list(config.env), "entrypoint": list(config.entrypoint),
        "cmd": list(config.cmd), "working_dir": config.working_dir,
        "labels": [list(pair) for pair in config.labels],
        "exposed_ports": list(config.exposed_ports), "healthcheck": list(config.healthcheck),
        "history": [{"created_by": h.created_by, "created": h.created, "comment": h.comment,
                     "empty_layer": h.empty_layer} for h in config.history],
        "created": config.created, "os": config.os, "architecture": config.architecture,
        "variant": config.variant, "volumes": list(config.volumes),
    }


def _distro(distro: Distro) -> dict[str, Any]:
    return {"id": distro.id, "version_id": distro.version_id, "codename": distro.codename,
            "pretty_name": distro.pretty_name, "id_like": list(distro.id_like)}


def _package(package: Package) -> dict[str, Any]:
    return {
        "name": package.name, "version": package.version, "type": package.type.value,
        "purl": package.purl, "cataloger": package.cataloger,
        "source_name": package.source_name, "source_version": package.source_version,
        "arch": package.arch, "licenses": list(package.licenses),
        "locations": [{"path": loc.path, "layer_diff_id": loc.layer_diff_id}
                      for loc in package.locations],
        "introduced_by": package.introduced_by, "created_by": package.created_by,
        "owned_by": package.owned_by, "metadata": [list(pair) for pair in package.metadata],
    }


def _status(status: PluginStatus) -> dict[str, Any]:
    return {"name": status.name, "status": status.status.value, "files": status.files,
            "packages": status.packages, "message": status.message}


# --- reading -------------------------------------------------------------------------------


def is_native(data: dict[str, Any]) -> bool:
    return data.get("schema") == SCHEMA_NAME


def from_dict(data: dict[str, Any], where: str) -> Sbom:
    """Rebuild the model from a native document; any wrong type is one InputError at ``where``."""
    doc = Fields(data, where)
    version = doc.integer("schema_version")
    if version != SCHEMA_VERSION:
        doc.fail(f"native schema_version {version} is not supported (expected {SCHEMA_VERSION})")
    tool = doc.obj("tool")
    distro = doc.optional_obj("distro")
    return Sbom(
        image=_read_image(doc.obj("image")),
        distro=_read_distro(distro) if distro else None,
        packages=tuple(_read_package(p) for p in doc.objects("packages")),
        statuses=tuple(_read_status(s) for s in doc.objects("statuses")),
        warnings=doc.strings("warnings"),
        tool=tool.string("name"), tool_version=tool.string("version"),
        extra=doc.pairs("extra"),
    )


def _read_digest(fields: Fields, key: str) -> Digest | None:
    text = fields.optional_string(key)
    return Digest.parse(text, where=f"{fields.where}.{key}") if text else None


def _read_image(image: Fields) -> ImageInfo:
    platform = image.optional_obj("platform")
    return ImageInfo(
        reference=image.string("reference"), source_kind=image.string("source_kind"),
        digest=_read_digest(image, "digest"), config_digest=_read_digest(image, "config_digest"),
        repo_digests=image.strings("repo_digests"), tags=image.strings("tags"),
        platform=Platform(platform.string("os"), platform.string("architecture"),
                          platform.string("variant")) if platform else None,
        layers=tuple(_read_layer(layer) for layer in image.objects("layers")),
        config=_read_config(image.obj("config")), media_type=image.string("media_type"),
    )


def _read_layer(layer: Fields) -> Layer:
    return Layer(index=layer.integer("index"), digest=_read_digest(layer, "digest"),
                 diff_id=_read_digest(layer, "diff_id"), media_type=layer.string("media_type"),
                 size=layer.integer("size"), created_by=layer.string("created_by"))


def _read_config(config: Fields) -> ImageConfig:
    history = tuple(
        HistoryEntry(h.string("created_by"), h.string("created"), h.string("comment"),
                     h.boolean("empty_layer")) for h in config.objects("history"))
    return ImageConfig(
        user=config.string("user"), env=config.strings("env"),
        entrypoint=config.strings("entrypoint"), cmd=config.strings("cmd"),
        working_dir=config.string("working_dir"), labels=config.pairs("labels"),
        exposed_ports=config.strings("exposed_ports"), healthcheck=config.strings("healthcheck"),
        history=history, created=config.string("created"), os=config.string("os"),
        architecture=config.string("architecture"), variant=config.string("variant"),
        volumes=config.strings("volumes"),
    )


def _read_distro(distro: Fields) -> Distro:
    return Distro(id=distro.string("id"), version_id=distro.string("version_id"),
                  codename=distro.string("codename"), pretty_name=distro.string("pretty_name"),
                  id_like=distro.strings("id_like"))


def _read_package(package: Fields) -> Package:
    kind = package.string("type")
    if kind not in PackageType._value2member_map_:
        package.fail(f"unknown package type {kind[:40]!r}")
    locations = tuple(Location(loc.string("path"), loc.string("layer_diff_id"))
                      for loc in package.objects("locations"))
    return Package(
        name=package.string("name"), version=package.string("version"), type=PackageType(kind),
        purl=package.string("purl"), cataloger=package.string("cataloger"),
        source_name=package.string("source_name"),
        source_version=package.string("source_version"), arch=package.string("arch"),
        licenses=package.strings("licenses"), locations=locations,
        introduced_by=package.string("introduced_by"), created_by=package.string("created_by"),
        owned_by=package.string("owned_by"), metadata=package.pairs("metadata"),
    )


def _read_status(status: Fields) -> PluginStatus:
    value = status.string("status")
    if value not in Status._value2member_map_:
        status.fail(f"unknown status {value[:40]!r}")
    return PluginStatus(name=status.string("name"), status=Status(value),
                        files=status.integer("files"), packages=status.integer("packages"),
                        message=status.string("message"))
