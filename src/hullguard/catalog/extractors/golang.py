"""Go binaries: module build info from the ``.go.buildinfo`` section (Go 1.18+ inline format).

The binary is streamed, never held whole: a file that does not start with the ELF magic is
dropped after its first chunk; an ELF file is scanned in chunks for the 16-byte-aligned
build-info magic and only the bytes after it are kept. The Go build-ID note is not required:
externally linked Go binaries (Bazel, lld) can lack it and still carry build info.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from hullguard.catalog.api import Extraction, ScanInput
from hullguard.catalog.extractors._common import location, purl, sorted_meta
from hullguard.errors import InputError
from hullguard.images.api import FileInfo
from hullguard.model import Location, Package, PackageType

MAGIC = b"\xff Go buildinf:"
TAIL_BYTES = 16 << 20  # bound on build info (version + module list): real ones are < 1 MiB
MIN_BINARY = 4 << 10
_NOT_BINARIES = (".jar", ".war", ".ear", ".sh", ".py", ".pl", ".rb", ".js", ".txt", ".json")


class GoBinaryExtractor:
    name = "golang"

    def file_required(self, info: FileInfo) -> bool:
        # executable archives and scripts are left to their own catalogers
        return info.is_executable and info.size >= MIN_BINARY and \
            not info.path.endswith(_NOT_BINARIES)

    def extract(self, scan_input: ScanInput) -> Extraction:
        blob = find_buildinfo(scan_input.entry.chunks())
        if blob is None:
            return Extraction()
        info = parse_buildinfo(blob)
        if info is None:
            return Extraction()
        warnings: tuple[str, ...] = ()
        if info.go_version and not go_toolchain(info.go_version).release:
            warnings = (f"{scan_input.path}: Go toolchain {info.go_version[:60]!r} is not a "
                        "release; its standard library is not reported",)
        return Extraction(tuple(_packages(info, location(scan_input))), warnings=warnings)


def find_buildinfo(chunks: Iterator[bytes]) -> bytes | None:
    """Bytes from the build-info magic on (at most TAIL_BYTES), or None if not a Go binary."""
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= 4:
            break
    if head[:4] != b"\x7fELF":
        return None
    offset, window = 0, head  # ``offset``: file offset of window[0]
    keep = len(MAGIC) + 15  # a magic split across chunks is found in the next window
    while True:
        found = _aligned_magic(window, offset)
        if found >= 0:
            return _collect(window[found:], chunks)
        chunk = next(chunks, b"")
        if not chunk:
            return None
        cut = max(0, len(window) - keep)
        offset += cut
        window = window[cut:] + chunk


def _aligned_magic(window: bytes, offset: int) -> int:
    start = window.find(MAGIC)
    while start >= 0 and ((offset + start) % 16 or not _plausible(window[start:start + 16])):
        start = window.find(MAGIC, start + 1)
    return start


def _plausible(header: bytes) -> bool:
    return len(header) < 16 or header[14] in (4, 8)


def _collect(data: bytes, chunks: Iterator[bytes]) -> bytes:
    """Just the build-info bytes: the 32-byte header, then the two length-prefixed strings
    (version, module info), read from the stream only as far as their lengths say."""
    buffer = bytearray(data)
    position = 32
    for _ in range(2):
        _fill(buffer, chunks, position + 10)  # a varint takes at most 10 bytes
        length, position = _varint(buffer, position)
        position += length
        if position > TAIL_BYTES:
            raise InputError(f"Go build info claims {position} bytes")
    _fill(buffer, chunks, position)
    return bytes(buffer[:position])


def _fill(buffer: bytearray, chunks: Iterator[bytes], need: int) -> None:
    while len(buffer) < need:
        chunk = next(chunks, b"")
        if not chunk:
            return
        buffer += chunk


def _varint(data: bytes | bytearray, position: int) -> tuple[int, int]:
    """An unsigned LEB128 varint at ``position``: (value, position after it)."""
    value, shift = 0, 0
    while True:
        if position >= len(data) or shift > 35:
            raise InputError("Go build info string length is malformed")
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, position


@dataclass(frozen=True)
class Module:
    path: str
    version: str
    sum: str = ""
    replaces: str = ""


@dataclass(frozen=True)
class BuildInfo:
    go_version: str
    main_package: str
    main: Module | None
    deps: tuple[Module, ...]
    settings: tuple[tuple[str, str], ...]


def parse_buildinfo(blob: bytes) -> BuildInfo | None:
    """Decode the inline format; the older pointer format (Go < 1.18) returns None."""
    if len(blob) < 32 or blob[:14] != MAGIC:
        raise InputError("Go build info header truncated")
    if not blob[15] & 2:
        return None  # pointer format: needs the binary's address map (not supported)
    version, position = _varint_string(blob, 32)
    modinfo, _ = _varint_string(blob, position)
    if len(modinfo) >= 33 and modinfo[-17] == "\n":
        modinfo = modinfo[16:-16]  # sentinels the linker wraps around the module info
    return _parse_modinfo(version, modinfo)


def _varint_string(blob: bytes, position: int) -> tuple[str, int]:
    length, position = _varint(blob, position)
    end = position + length
    if end > len(blob):
        raise InputError("Go build info string runs past the data read")
    return blob[position:end].decode("utf-8", "replace"), end


def _parse_modinfo(go_version: str, modinfo: str) -> BuildInfo:
    main_package, main, deps, settings = "", None, [], []
    for line in modinfo.splitlines():
        kind, _, rest = line.partition("\t")
        fields = rest.split("\t")
        if kind == "path":
            main_package = rest
        elif kind == "mod":
            main = _module(fields)
        elif kind == "dep":
            deps.append(_module(fields))
        elif kind == "=>" and deps:
            deps[-1] = _replaced(deps[-1], fields)
        elif kind == "=>" and main:
            main = _replaced(main, fields)
        elif kind == "build":
            key, _, value = rest.partition("=")
            settings.append((key, value))
    return BuildInfo(go_version, main_package, main, tuple(deps), tuple(settings))


def _module(fields: list[str]) -> Module:
    padded = [*fields, "", "", ""]
    return Module(padded[0], padded[1], padded[2])


def _replaced(original: Module, fields: list[str]) -> Module:
    replacement = _module(fields)
    return Module(replacement.path, replacement.version or "(devel)", replacement.sum,
                  replaces=f"{original.path}@{original.version}")


def _packages(info: BuildInfo, where: tuple[Location, ...]) -> Iterator[Package]:
    settings = dict(info.settings)
    toolchain = go_toolchain(info.go_version)
    common = {"go_version": info.go_version, "goos": settings.get("GOOS", ""),
              "goarch": settings.get("GOARCH", ""), "main_package": info.main_package,
              "go_experiment": toolchain.experiment}
    main = info.main
    if (main is None or not main.path) and info.main_package not in ("",
                                                                       "command-line-arguments"):
        # GOPATH-mode builds (e.g. Debian's) record only the main package path
        main = Module(info.main_package, "(devel)")
    if main and main.path:
        vcs = {"vcs_revision": settings.get("vcs.revision", ""),
               "vcs_modified": settings.get("vcs.modified", "")}
        yield _package(main, where, {**common, **vcs, "main": "true"})
    for dep in info.deps:
        yield _package(dep, where, common)
    if toolchain.release:
        yield _package(Module("stdlib", toolchain.release), where,
                       {**common, "go_toolchain_suffix": toolchain.suffix})


@dataclass(frozen=True)
class Toolchain:
    """The Go release a build info version string names, and what else the string said."""

    release: str  # "go1.22.1"; "" for development toolchains (no release to match)
    experiment: str = ""  # "loopvar" from "go1.22.1 X:loopvar"
    suffix: str = ""  # a vendor suffix such as "-bigcorp" in "go1.21.5-bigcorp"


# go1.21, go1.21.5, go1.21rc2, go1.9beta1; an optional vendor suffix ("-1", "-bigcorp")
_RELEASE_RE = re.compile(r"^(go\d+(?:\.\d+){0,2}(?:(?:rc|beta)\d+)?)([-+][^\s]*)?$")


def go_toolchain(version: str) -> Toolchain:
    """Split the toolchain version Go records (``runtime.Version()``): ``go1.22.1 X:loopvar``
    (GOEXPERIMENT builds up to Go 1.22), ``go1.26.8-X:loopvar`` (later ones),
    ``go1.21.5-bigcorp`` (vendor builds) and ``devel go1.23-abc123 Tue ...`` (unreleased
    toolchains, whose standard library no advisory range can honestly be matched against)."""
    words = version.split()
    experiments = [w[2:] for w in words[1:] if w.startswith("X:")]
    first = words[0] if words else ""
    if "-X:" in first:
        first, _, experiment = first.partition("-X:")
        experiments.insert(0, experiment)
    match = _RELEASE_RE.match(first)
    if match is None:
        return Toolchain("", ",".join(experiments))
    release, suffix = match.group(1), match.group(2) or ""
    candidate = _GOOGLE_RC_RE.match(suffix)
    if candidate and "rc" not in release and "beta" not in release:
        release = f"{release}rc{int(candidate.group(1))}"  # a release candidate: ordered so
    return Toolchain(release, ",".join(experiments), suffix)


# Google's internal toolchains (gcloud SDK binaries): "go1.22-20231128-RC02 cl/586117301 ..."
# is release candidate 2 of go1.22, not go1.22.0
_GOOGLE_RC_RE = re.compile(r"^-\d{8}-RC(\d{1,2})$")


def _package(module: Module, where: tuple[Location, ...], extra: dict[str, str]) -> Package:
    # local replacements look like "./private/repo/" or "../lib"
    namespace, _, name = module.path.strip("/").rpartition("/")
    version = module.version
    purl_version = version.removeprefix("go") if module.path == "stdlib" else version
    # Go 1.24 stamps "+dirty" on builds from a modified checkout: build metadata, not part of
    # the module version advisories name ("+incompatible" is, and stays)
    purl_version = purl_version.removesuffix("+dirty")
    return Package(
        name=module.path, version=version, type=PackageType.GO_MODULE,
        purl=purl("golang", name, purl_version if purl_version != "(devel)" else "",
                  namespace or None),
        cataloger="golang", locations=where,
        metadata=sorted_meta({**extra, "h1": module.sum, "replaces": module.replaces}),
    )
