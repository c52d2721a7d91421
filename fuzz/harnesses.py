"""One harness per parser of untrusted input: the strategy (seed + hostile mutations) and how
to drive the parser's public entry point. ``HARNESSES`` is the one list ``run.py`` and the
smoke test iterate."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from fuzz import seeds
from fuzz.core import Harness
from fuzz.hostile import blob_mutations, json_bytes, text_bytes, text_lines
from hullguard.catalog.api import Extractor, ScanInput
from hullguard.images.api import FileInfo, FileKind, MemoryEntry, SourceOptions

READ_LIMIT = 8 << 20  # per file read during a walk: the harness must not be the memory hog


def _write(scratch: Path, name: str, data: bytes | str) -> Path:
    path = scratch / name
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------------------- images

@st.composite
def _tar_layers(draw: st.DrawFn) -> bytes:
    """A layer tar with hostile header fields (checksums usually recomputed so the
    mutation reaches the field parsers), generic byte damage, sometimes gzip/zstd on top."""
    from hullguard.images.builder import gzip_bytes, zstd_bytes

    data = bytearray(draw(st.sampled_from(seeds.layer_tars())))
    offsets = seeds.header_offsets(bytes(data))
    fields = {"name": (0, 100), "mode": (100, 8), "uid": (108, 8), "size": (124, 12),
              "mtime": (136, 12), "type": (156, 1), "link": (157, 100), "prefix": (345, 155)}
    for _ in range(draw(st.integers(0, 4))):
        start, width = fields[draw(st.sampled_from(sorted(fields)))]
        at = draw(st.sampled_from(offsets)) + start
        value = draw(st.sampled_from([
            b"../../etc/passwd", b"/abs", b"a/../../b", b"\x80" + b"\xff" * 11,
            b"\xff" * 12, b"77777777777\0", b"-1", b"9" * 12, b" " * 12, b"", b"\0",
            b"x", b"g", b"L", b"K", b"5", b"1", b"2", b"S", b"\xc3\x28", b"a" * 155,
            b".wh..wh..opq", b".wh.", b"7", b"0000000000\0", b"17777777777\0"]))
        data[at:at + width] = value[:width].ljust(width, b"\0") if start != 156 else value[:1]
    out = bytes(data)
    if draw(st.booleans()):
        out = draw(blob_mutations([out], max_ops=4))
    if draw(st.integers(0, 3)):
        out = seeds.fix_checksums(out)
    squeeze = draw(st.sampled_from(["none", "none", "gzip", "zstd"]))
    if squeeze != "none":
        out = (gzip_bytes if squeeze == "gzip" else zstd_bytes)(out)
        if draw(st.booleans()):
            out = out[:draw(st.integers(0, len(out)))]
    return out


def _walk_layer(data: bytes, scratch: Path) -> object:
    from hullguard.images.layers import walk_blob

    path = _write(scratch, "layer.blob", data)
    walker = walk_blob(path, media_type="application/vnd.oci.image.layer.v1.tar",
                       digest=None, size=None, diff_id=None, options=SourceOptions(),
                       where="fuzz-layer")
    try:
        for entry in walker:
            if entry.info.kind is FileKind.FILE:
                entry.read(READ_LIMIT)
        return walker.warnings
    finally:
        walker.close()


def _oci_documents(data: bytes, _scratch: Path) -> object:
    from hullguard.images.manifest import Index, parse_document, select_platform
    from hullguard.model import Platform

    document = parse_document(data, "fuzz-manifest")
    if isinstance(document, Index):
        return select_platform(document, Platform(), "fuzz-manifest")
    return document


def _oci_config(data: bytes, _scratch: Path) -> object:
    from hullguard.images.manifest import diff_ids, image_config_from, parse_config

    config = parse_config(data, "fuzz-config")
    return image_config_from(config, "fuzz-config"), diff_ids(config, "fuzz-config")


def _archive_seed() -> tuple[bytes, bytes, bytes]:
    """(layer tar, config, manifest.json) of a valid one-layer docker-archive; the manifest
    names its members CONFIG.json and LAYER, replaced by the real names when written."""
    layer = seeds.layer_tars()[2]
    config = dict(seeds.IMAGE_CONFIG, rootfs={"type": "layers",
                                              "diff_ids": [seeds.digest(layer)]})
    config["history"] = [{"created_by": "ADD rootfs /"}]
    manifest = json.dumps(seeds.DOCKER_ARCHIVE_MANIFEST).encode()
    return layer, json.dumps(config).encode(), manifest


def _plain_tar(path: Path, members: Iterable[tuple[str, bytes]]) -> None:
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@st.composite
def _docker_archives(draw: st.DrawFn) -> tuple[bytes, bytes]:
    _layer, config, manifest = _archive_seed()
    manifest = draw(json_bytes([json.loads(manifest)]))
    if draw(st.integers(0, 3)) == 0:
        config = draw(json_bytes([json.loads(config)], max_ops=3))
    return manifest, config


def _open_docker_archive(value: tuple[bytes, bytes], scratch: Path) -> object:
    from hullguard.images.archive import open_docker_archive

    manifest, config = value
    layer = _archive_seed()[0]
    config_name = seeds.digest(config).split(":")[1] + ".json"
    layer_name = seeds.digest(layer).split(":")[1] + "/layer.tar"
    manifest = manifest.replace(b"CONFIG.json", config_name.encode()).replace(
        b"LAYER", layer_name.encode())
    path = scratch / "image.tar"
    _plain_tar(path, [("manifest.json", manifest), (config_name, config), (layer_name, layer)])
    with open_docker_archive(str(path), SourceOptions()) as image:
        info = image.info
        for layer_info in info.layers[:2]:
            walk = image.walk_layer(layer_info)
            try:
                for entry in walk:
                    if entry.info.kind is FileKind.FILE:
                        entry.read(READ_LIMIT)
            finally:
                walk.close()
        return info


SIZE_MARK = 987654321


def _layout_seed() -> tuple[dict[str, Any], dict[str, Any], dict[str, bytes]]:
    """(index, manifest, blobs) of a valid OCI layout; the index names the manifest by
    ``MANIFEST`` and ``SIZE_MARK``, filled in once the mutated manifest is known."""
    layer, config, _ = _archive_seed()
    blobs = {seeds.digest(layer): layer, seeds.digest(config): config}
    manifest = dict(seeds.OCI_MANIFEST,
                    config={"mediaType": "application/vnd.oci.image.config.v1+json",
                            "digest": seeds.digest(config), "size": len(config)},
                    layers=[{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                             "digest": seeds.digest(layer), "size": len(layer)}])
    index: dict[str, Any] = dict(seeds.OCI_INDEX)
    entries: list[dict[str, Any]] = index["manifests"]
    index["manifests"] = [dict(entries[0], digest="MANIFEST", size=SIZE_MARK), *entries[1:]]
    return index, manifest, blobs


@st.composite
def _oci_layouts(draw: st.DrawFn) -> tuple[bytes, bytes]:
    index, manifest, _ = _layout_seed()
    return draw(json_bytes([index])), draw(json_bytes([manifest], max_ops=3))


def _open_oci_layout(value: tuple[bytes, bytes], scratch: Path) -> object:
    from hullguard.images.oci import open_oci_layout

    index, manifest = value
    _, _, blobs = _layout_seed()
    root = scratch / "layout"
    shutil.rmtree(root, ignore_errors=True)
    (root / "blobs" / "sha256").mkdir(parents=True)
    blobs[seeds.digest(manifest)] = manifest
    for name, data in blobs.items():
        (root / "blobs" / "sha256" / name.split(":")[1]).write_bytes(data)
    index = index.replace(b'"MANIFEST"', json.dumps(seeds.digest(manifest)).encode()).replace(
        str(SIZE_MARK).encode(), str(len(manifest)).encode())
    (root / "index.json").write_bytes(index)
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    with open_oci_layout(str(root), "latest", SourceOptions()) as image:
        return image.info


# ---------------------------------------------------------------------------- catalog

def _extract(extractor: Callable[[], Extractor], path: str, mode: int = 0o644
             ) -> Callable[[bytes, Path], object]:
    """Drive ``extractor`` as the engine does: the header test, then extract."""
    def run(data: bytes, _scratch: Path) -> object:
        info = FileInfo(path, FileKind.FILE, mode=mode, size=len(data))
        instance = extractor()
        if not instance.file_required(info):
            return None
        return instance.extract(ScanInput(MemoryEntry(info, data), 0, seeds.D1))
    return run


def _extractors() -> list[Harness]:
    from hullguard.catalog.extractors.apk import ApkExtractor
    from hullguard.catalog.extractors.dotnet import DotnetDepsExtractor
    from hullguard.catalog.extractors.dpkg import DpkgExtractor
    from hullguard.catalog.extractors.golang import GoBinaryExtractor
    from hullguard.catalog.extractors.java import JavaArchiveExtractor
    from hullguard.catalog.extractors.node import NodeExtractor
    from hullguard.catalog.extractors.osrelease import OsReleaseExtractor
    from hullguard.catalog.extractors.php import ComposerExtractor
    from hullguard.catalog.extractors.python import PythonExtractor
    from hullguard.catalog.extractors.rpm import RpmExtractor
    from hullguard.catalog.extractors.ruby import RubyGemExtractor

    mod = "hullguard.catalog.extractors."
    lib = "/usr/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA"
    gem = "/usr/lib/ruby/gems/3.2.0/specifications/rack-2.2.8.gemspec"
    return [
        Harness("apk-installed", mod + "apk:ApkExtractor.extract",
                text_bytes([seeds.APK_DB]), _extract(ApkExtractor, "/lib/apk/db/installed")),
        Harness("dpkg-status", mod + "dpkg:DpkgExtractor.extract",
                text_bytes([seeds.DPKG_STATUS]),
                _extract(DpkgExtractor, "/var/lib/dpkg/status")),
        Harness("rpm-sqlite", mod + "rpm:RpmExtractor.extract",
                st.one_of(blob_mutations([seeds.rpm_sqlite()]), _rpm_sqlite_headers()),
                _extract(RpmExtractor, "/var/lib/rpm/rpmdb.sqlite")),
        Harness("rpm-bdb", mod + "rpm:RpmExtractor.extract (bdb.values)",
                blob_mutations([seeds.rpm_bdb()]),
                _extract(RpmExtractor, "/var/lib/rpm/Packages")),
        Harness("rpm-header", mod + "rpmheader:parse_header + rpm._extraction",
                blob_mutations(seeds.rpm_headers()), _rpm_header),
        Harness("python-metadata", mod + "python:PythonExtractor.extract",
                text_bytes([seeds.PY_METADATA]), _extract(PythonExtractor, lib)),
        Harness("npm-package-json", mod + "node:NodeExtractor.extract",
                json_bytes([seeds.NPM_PACKAGE]),
                _extract(NodeExtractor, "/app/node_modules/@scope/lodash/package.json")),
        Harness("go-buildinfo", mod + "golang:GoBinaryExtractor.extract",
                blob_mutations(seeds.go_binaries()),
                _extract(GoBinaryExtractor, "/usr/bin/app", 0o755)),
        Harness("java-archive", mod + "java:JavaArchiveExtractor.extract",
                st.one_of(blob_mutations(seeds.jars()), _jar_texts()),
                _extract(JavaArchiveExtractor, "/opt/app/lib/commons-lang3-3.12.0.jar")),
        Harness("dotnet-deps-json", mod + "dotnet:DotnetDepsExtractor.extract",
                json_bytes([seeds.DOTNET_DEPS]),
                _extract(DotnetDepsExtractor, "/app/app.deps.json")),
        Harness("ruby-gemspec", mod + "ruby:RubyGemExtractor.extract",
                text_bytes([seeds.GEMSPEC]), _extract(RubyGemExtractor, gem)),
        Harness("php-composer", mod + "php:ComposerExtractor.extract",
                json_bytes([seeds.COMPOSER_INSTALLED, seeds.COMPOSER_INSTALLED["packages"]]),
                _extract(ComposerExtractor, "/app/vendor/composer/installed.json")),
        Harness("os-release", mod + "osrelease:OsReleaseExtractor.extract",
                text_bytes([seeds.OS_RELEASE]), _extract(OsReleaseExtractor, "/etc/os-release")),
    ]


def _rpm_header(blob: bytes, _scratch: Path) -> object:
    """The header parser, then the extractor's own path from blobs to packages (which skips
    nameless headers and gpg keys)."""
    from hullguard.catalog.extractors.rpm import _extraction
    from hullguard.catalog.extractors.rpmheader import parse_header

    parse_header(blob)
    info = FileInfo("/var/lib/rpm/rpmdb.sqlite", FileKind.FILE, size=len(blob))
    return _extraction([blob], ScanInput(MemoryEntry(info, blob), 0, seeds.D1))


@st.composite
def _rpm_sqlite_headers(draw: st.DrawFn) -> bytes:
    """A well-formed rpmdb.sqlite whose header blobs are hostile."""
    import sqlite3

    blobs = draw(st.lists(blob_mutations(seeds.rpm_headers()), min_size=1, max_size=3))
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB NOT NULL)")
    connection.executemany("INSERT INTO Packages (blob) VALUES (?)", [(b,) for b in blobs])
    connection.commit()
    data = bytes(connection.serialize())
    connection.close()
    return data


@st.composite
def _jar_texts(draw: st.DrawFn) -> bytes:
    """A well-formed jar whose MANIFEST.MF and pom.properties are hostile text."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", draw(text_bytes([seeds.JAR_MANIFEST])))
        archive.writestr("META-INF/maven/org.apache.commons/commons-lang3/pom.properties",
                         draw(text_bytes([seeds.POM_PROPERTIES])))
    return buffer.getvalue()


# ---------------------------------------------------------------------------- inventory

def _yaml_loader(text: str, _scratch: Path) -> object:
    from hullguard.inventory.yamlsafe import loads_all, loads_json

    result = loads_all(text, "fuzz.yaml")
    if text.lstrip()[:1] in ("{", "["):
        loads_json(text, "fuzz.json")
    return result


def _collect_file(name: str) -> Callable[[bytes, Path], object]:
    """``inventory.collect`` on one file: per-file problems must become issues."""
    def run(data: bytes, scratch: Path) -> object:
        from hullguard.inventory.collect import collect

        path = _write(scratch, name, data)
        return collect([path], environ={"TAG": "1"})
    return run


def _dockerfile(text: str, _scratch: Path) -> object:
    from hullguard.inventory.dockerfile import parse_dockerfile

    parsed = parse_dockerfile(text, "Dockerfile", {"BASE": "alpine:3.19"})
    return parsed.image_uses(), parsed.final_stage


# ---------------------------------------------------------------------------- vuln, sbom

def _feed(name: str) -> Callable[[bytes, Path], object]:
    def run(data: bytes, scratch: Path) -> object:
        from hullguard.vuln.importers import ImportStats, iter_records

        stats = ImportStats()
        records = list(iter_records(_write(scratch, name, data), stats))
        return records, stats.total
    return run


def _sbom(data: bytes, scratch: Path) -> object:
    from hullguard.sbom.readers import read_sbom

    return read_sbom(_write(scratch, "sbom.json", data))


def _vex(data: bytes, scratch: Path) -> object:
    from hullguard.vuln.vex import load_vex

    statements, warnings = load_vex(_write(scratch, "vex.json", data))
    return [s.describe() for s in statements], warnings


def _ignore(data: bytes, scratch: Path) -> object:
    from hullguard.vuln.ignore import load_ignore_file, today

    rules = load_ignore_file(_write(scratch, ".hullguardignore.yaml", data))
    return [(rule.describe(), rule.expired(today())) for rule in rules]


def _challenges(headers: list[str], _scratch: Path) -> object:
    from hullguard.images.registry.challenge import parse_challenges

    return [(c.scheme, c.realm) for c in parse_challenges(headers, "fuzz-registry")]


def _all() -> list[Harness]:
    img = "hullguard.images."
    inv = "hullguard.inventory."
    feeds = "hullguard.vuln.importers:iter_records"
    oci_docs = [seeds.OCI_MANIFEST, seeds.DOCKER_MANIFEST, seeds.OCI_INDEX]
    return [
        Harness("layer-tar", img + "layers:walk_blob", _tar_layers(), _walk_layer),
        Harness("docker-archive", img + "archive:open_docker_archive", _docker_archives(),
                _open_docker_archive),
        Harness("oci-layout", img + "oci:open_oci_layout", _oci_layouts(), _open_oci_layout),
        Harness("oci-manifest", img + "manifest:parse_document", json_bytes(oci_docs),
                _oci_documents),
        Harness("oci-config", img + "manifest:parse_config/image_config_from",
                json_bytes([seeds.IMAGE_CONFIG]), _oci_config),
        *_extractors(),
        Harness("yaml-loader", inv + "yamlsafe:loads_all/loads_json",
                st.one_of(text_lines([seeds.K8S_YAML, seeds.COMPOSE_YAML]),
                          json_bytes([seeds.KUBECTL_LIST]).map(
                              lambda b: b.decode("utf-8", "surrogateescape"))), _yaml_loader),
        Harness("kubernetes-yaml", inv + "collect:collect (kubernetes)",
                st.one_of(text_bytes([seeds.K8S_YAML]), json_bytes([seeds.KUBECTL_LIST])),
                _collect_file("deploy.yaml")),
        Harness("compose", inv + "collect:collect (compose)", text_bytes([seeds.COMPOSE_YAML]),
                _collect_file("compose.yaml")),
        Harness("dockerfile", inv + "dockerfile:parse_dockerfile",
                text_lines([seeds.DOCKERFILE]), _dockerfile),
        Harness("osv", feeds + " (osv)",
                st.one_of(json_bytes([seeds.OSV_RECORD, [seeds.OSV_RECORD]]).map(
                    lambda b: (b, "osv.json")), text_bytes([seeds.PYPA_YAML]).map(
                    lambda b: (b, "PYSEC.yaml"))), _named_feed),
        Harness("alpine-secdb", feeds + " (alpine)", json_bytes([seeds.ALPINE_SECDB]),
                _feed("main.json")),
        Harness("nvd", feeds + " (nvd)", json_bytes([seeds.NVD_FEED]), _feed("nvd.json")),
        Harness("debian-tracker", feeds + " (debian)", json_bytes([seeds.DEBIAN_TRACKER]),
                _feed("debian.json")),
        Harness("kev-epss", feeds + " (kev, epss)",
                st.one_of(json_bytes([seeds.KEV_FEED]).map(lambda b: (b, "kev.json")),
                          text_bytes([seeds.EPSS_CSV]).map(lambda b: (b, "epss.csv"))),
                _named_feed),
        Harness("sbom-cyclonedx", "hullguard.sbom.readers:read_sbom (cyclonedx)",
                json_bytes([seeds.CYCLONEDX]), _sbom),
        Harness("sbom-spdx", "hullguard.sbom.readers:read_sbom (spdx)",
                json_bytes([seeds.SPDX]), _sbom),
        Harness("vex", "hullguard.vuln.vex:load_vex",
                json_bytes([seeds.OPENVEX, seeds.CYCLONEDX_VEX]), _vex),
        Harness("ignore-file", "hullguard.vuln.ignore:load_ignore_file",
                text_bytes([seeds.IGNORE_YAML]), _ignore),
        Harness("registry-challenge", "hullguard.images.registry.challenge:parse_challenges",
                st.lists(text_lines(seeds.CHALLENGES, max_ops=3).map(_one_line), min_size=1,
                         max_size=3), _challenges),
    ]


def _one_line(text: str) -> str:
    return text.replace("\n", " ")


def _named_feed(value: tuple[bytes, str], scratch: Path) -> object:
    data, name = value
    return _feed(name)(data, scratch)


HARNESSES: list[Harness] = _all()
BY_NAME: dict[str, Harness] = {h.name: h for h in HARNESSES}
