"""Java archives (jar/war/ear and nested jars): pom.properties and MANIFEST.MF.

An archive needs random access (its directory is at the end), so it is spooled: in memory up
to 8 MiB, to an anonymous temporary file beyond (never the image's own path). Nesting depth,
member sizes, compression ratios and total inflated bytes are capped against zip bombs.
"""

from __future__ import annotations

import io
import posixpath
import re
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import IO

from hullguard.catalog.api import Extraction, ScanInput
from hullguard.catalog.extractors._common import purl
from hullguard.errors import LimitExceeded
from hullguard.images.api import FileInfo
from hullguard.model import Location, Package, PackageType

ARCHIVE_SUFFIXES = (".jar", ".war", ".ear", ".par", ".sar", ".jpi", ".hpi", ".nar")
_LOWER_SUFFIXES = frozenset(ARCHIVE_SUFFIXES)
MAX_ARCHIVE = 1 << 30
MAX_DEPTH = 4
MAX_MEMBER = 4 << 20  # pom.properties / MANIFEST.MF
MAX_NESTED = 256 << 20
MAX_RATIO = 200
MAX_TOTAL_INFLATED = 1 << 30
SPOOL_IN_MEMORY = 8 << 20
_PROPERTY_RE = re.compile(r"^(?P<key>[^=:\s]+)\s*[=:\s]\s*(?P<value>.*)$")
_GROUP_RE = re.compile(r"^(com|org|io|net|dev|de|ch|uk|edu|eu|fr|nl|at|be|info)\.[\w.\-]+$")
_FILENAME_RE = re.compile(r"^(?P<name>.+?)-(?P<version>\d[\w.\-+~]*)$")


class JavaArchiveExtractor:
    name = "java"

    def file_required(self, info: FileInfo) -> bool:
        path = info.path
        if not path.endswith(ARCHIVE_SUFFIXES) and not (
                path[-4:-3] == "." and path[-4:].lower() in _LOWER_SUFFIXES):  # .JAR, .War
            return False
        return 0 < info.size <= MAX_ARCHIVE

    def extract(self, scan_input: ScanInput) -> Extraction:
        budget = _Budget()
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
            for chunk in scan_input.entry.chunks():
                spool.write(chunk)
            spool.seek(0)
            packages = _archive(spool, scan_input.path, "", 0, budget, scan_input.layer_diff_id)
        return Extraction(tuple(packages), warnings=tuple(budget.warnings))


@dataclass
class _Budget:
    inflated: int = 0
    warnings: list[str] = field(default_factory=list)

    def take(self, size: int, where: str) -> None:
        self.inflated += size
        if self.inflated > MAX_TOTAL_INFLATED:
            raise LimitExceeded("java archive inflates beyond 1 GiB in total", where=where)


def _archive(handle: IO[bytes], path: str, inner: str, depth: int, budget: _Budget,
             diff_id: str) -> list[Package]:
    where = f"{path}:{inner}" if inner else path
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError,
            NotImplementedError) as error:  # the last: a "version needed" beyond zipfile's
        budget.warnings.append(f"{where}: not a readable zip archive ({error})")
        return []
    with archive:
        packages = _own_packages(archive, path, inner, budget, diff_id)
        if depth < MAX_DEPTH:
            for member in archive.infolist():
                if member.filename.lower().endswith(ARCHIVE_SUFFIXES) and not member.is_dir():
                    packages += _nested(archive, member, path, inner, depth, budget, diff_id)
        elif any(m.filename.lower().endswith(ARCHIVE_SUFFIXES) for m in archive.infolist()):
            budget.warnings.append(f"{where}: archives nested deeper than {MAX_DEPTH} skipped")
    return packages


def _nested(archive: zipfile.ZipFile, member: zipfile.ZipInfo, path: str, inner: str,
            depth: int, budget: _Budget, diff_id: str) -> list[Package]:
    name = f"{inner}:{member.filename}" if inner else member.filename
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        try:
            _copy_member(archive, member, MAX_NESTED, budget, f"{path}:{name}", spool)
        except LimitExceeded as error:
            budget.warnings.append(error.diagnostics())
            return []
        spool.seek(0)
        return _archive(spool, path, name, depth + 1, budget, diff_id)


def _member_bytes(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limit: int,
                  budget: _Budget, where: str) -> bytes:
    sink = io.BytesIO()
    _copy_member(archive, member, limit, budget, where, sink)
    return sink.getvalue()


def _copy_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limit: int,
                 budget: _Budget, where: str, sink: IO[bytes]) -> None:
    """Copy a member after checking its declared size and ratio; the copy is bounded too,
    because the declared size in a hostile zip can lie."""
    if member.file_size > limit:
        raise LimitExceeded(f"member is {member.file_size} bytes (limit {limit})", where=where)
    if member.compress_size and member.file_size / member.compress_size > MAX_RATIO:
        raise LimitExceeded("member compression ratio is implausible (zip bomb?)", where=where)
    budget.take(member.file_size, where)
    copied = 0
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(1 << 20):
                copied += len(chunk)
                if copied > limit:
                    raise LimitExceeded(f"member inflates beyond {limit} bytes", where=where)
                sink.write(chunk)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError,
            zlib.error) as error:
        raise LimitExceeded(f"unreadable member ({error})", where=where) from None


def _text(archive: zipfile.ZipFile, member: zipfile.ZipInfo, budget: _Budget,
          where: str) -> str:
    try:
        return _member_bytes(archive, member, MAX_MEMBER, budget, where).decode(
            "utf-8", "replace")
    except LimitExceeded as error:
        budget.warnings.append(error.diagnostics())
        return ""


def _own_packages(archive: zipfile.ZipFile, path: str, inner: str, budget: _Budget,
                  diff_id: str) -> list[Package]:
    """The archive itself (file name and manifest, completed by its own pom.properties) and
    one package per embedded pom.properties of another artifact (shaded jars): syft's model."""
    where = f"{path}:{inner}" if inner else path
    manifest = next((m for m in archive.infolist()
                     if m.filename.upper() == "META-INF/MANIFEST.MF"), None)
    attrs = parse_manifest(_text(archive, manifest, budget, where)) if manifest else {}
    stem = posixpath.basename(inner.rsplit(":", 1)[-1] if inner else path).rsplit(".", 1)[0]
    parent = _from_manifest(attrs, stem)
    match = _FILENAME_RE.match(stem)
    file_name = match["name"] if match else stem
    poms = _pom_properties(archive, budget, where)
    own = _own_pom(poms, file_name, parent)
    coordinates = []
    for index, props in enumerate(poms):
        found = (props.get("groupId", ""), props["artifactId"], props["version"])
        if index == own:
            parent = found  # the archive's own pom: authoritative coordinates
        else:
            coordinates.append(found)
    if parent:
        coordinates.insert(0, parent)
    return [_package(*c, attrs, path, inner, diff_id) for c in dict.fromkeys(coordinates)]


def _own_pom(poms: list[dict[str, str]], file_name: str,
             parent: tuple[str, str, str] | None) -> int:
    """Index of the one pom.properties that describes the archive itself, or -1.

    An exact artifactId match on the file name wins over syft's looser prefix/suffix test:
    ``hadoop-shaded-guava-1.1.0-SNAPSHOT.jar`` holds its own pom and guava's, and only
    ``hadoop-shaded-guava`` is the archive (guava is a shaded package of its own). Among
    several candidates the one whose version is the archive's own wins; the others stay."""
    version = parent[2] if parent else ""
    for test in (lambda a: a == file_name, lambda a: _is_own_pom(a, file_name)):
        matches = [i for i, props in enumerate(poms) if test(props["artifactId"])]
        if matches:
            same = [i for i in matches if poms[i]["version"] == version]
            return (same or matches)[0]
    return 0 if _is_renamed_own_pom(poms, parent) else -1


def _pom_properties(archive: zipfile.ZipFile, budget: _Budget, where: str) -> list[dict[str, str]]:
    found = []
    for member in archive.infolist():
        name = member.filename
        if name.startswith("META-INF/maven/") and name.endswith("/pom.properties"):
            props = parse_properties(_text(archive, member, budget, where))
            group_dir = name.split("/")[2] if name.count("/") == 4 else ""
            if not props.get("groupId") and group_dir:
                props["groupId"] = group_dir  # META-INF/maven/<group>/<artifact>/: Maven's own
            if props.get("artifactId") and props.get("version"):
                found.append(props)
    return found


def _is_own_pom(artifact_id: str, file_name: str) -> bool:
    """syft's test on the file name without version: ``commons-lang3`` holds commons-lang3;
    ``wagon-http-shaded`` does not hold the wagon-http it embeds (Debian renames such as
    ``maven3-core`` holding maven-core are caught by :func:`_is_renamed_own_pom`)."""
    return artifact_id.startswith(file_name) or file_name.endswith(artifact_id)


def _is_renamed_own_pom(poms: list[dict[str, str]],
                       parent: tuple[str, str, str] | None) -> bool:
    """A lone pom.properties whose version is the archive's own (from its file name or
    manifest) describes the archive itself even when the file was renamed: Debian ships
    org.apache.maven:maven-artifact 3.8.7 as ``maven3-artifact.jar`` (manifest 3.8.7),
    plexus-utils as ``plexus-utils2.jar``. syft then also reports the archive under its file
    name (``maven3-artifact``, group guessed from ``Main-Class``): a second package that no
    Maven advisory can name, so the real coordinates replace it here. A different version
    means a shaded dependency, which stays a package of its own."""
    return len(poms) == 1 and parent is not None and poms[0]["version"] == parent[2]


def _from_manifest(attrs: dict[str, str], stem: str) -> tuple[str, str, str] | None:
    """(group, artifact, version) of the archive from its file name (``guice-4.2.3``) and
    manifest, in syft's order: the file name first."""
    match = _FILENAME_RE.match(stem)
    artifact = match["name"] if match else (stem or attrs.get("Implementation-Title", ""))
    version = (match["version"] if match else "") or attrs.get("Implementation-Version") \
        or attrs.get("Specification-Version") or attrs.get("Bundle-Version", "")
    if not artifact or not version:
        return None  # nothing could ever match a package without a version
    return _group_id(attrs, artifact) or artifact, artifact, version


_GROUP_FIELDS = ("Bundle-SymbolicName", "Automatic-Module-Name", "Implementation-Title",
                 "Implementation-Vendor-Id", "Extension-Name")


def _group_id(attrs: dict[str, str], artifact: str = "") -> str:
    """A Maven group from the manifest: the most specific of the fields that look like a
    reverse domain name and agree with each other. Ivy 2.4.0 says ``Implementation-Vendor-Id:
    org.apache`` but ``Bundle-SymbolicName: org.apache.ivy`` (its real group): the longer one
    extends the shorter and wins. Fields that disagree (guice's ``com.google.inject.*`` and
    ``com.google.guice.extensions.*``) keep the earlier field, in syft's order. A value that
    is the group plus the (dashed) artifact, ``com.fasterxml.jackson.core.jackson-databind``,
    loses that last part first."""
    best = ""
    for field_name in _GROUP_FIELDS:
        value = _group_candidate(attrs.get(field_name, "").split(";")[0].strip(), artifact)
        if value and (not best or value.startswith(best + ".")):
            best = value
    return best


def _group_candidate(value: str, artifact: str) -> str:
    if not _GROUP_RE.match(value) or value != value.lower():
        return ""  # class names (org.example.Main) and prose are not groups
    head, _, last = value.rpartition(".")
    if "-" in last and last == artifact and head.count(".") >= 1:
        return head  # group + "." + artifact, as Jackson's Bundle-SymbolicName
    return value


def _package(group: str, artifact: str, version: str, attrs: dict[str, str], path: str,
             inner: str, diff_id: str) -> Package:
    license_value = attrs.get("Bundle-License", "")
    metadata = [("archive", f"{path}:{inner}" if inner else path)]
    if inner:
        metadata.append(("nested", inner))
    return Package(
        name=artifact, version=version, type=PackageType.JAVA,
        purl=purl("maven", artifact, version, group or None), cataloger="java",
        licenses=(license_value,) if license_value and len(license_value) < 200 else (),
        locations=(Location(path, diff_id),),
        metadata=tuple(sorted([*metadata, ("group_id", group)])) if group else tuple(
            sorted(metadata)),
    )


def parse_properties(text: str) -> dict[str, str]:
    """Java .properties lines: ``key=value`` or ``key: value`` (comments start with # or !)."""
    props = {}
    for line in text.splitlines():
        match = _PROPERTY_RE.match(line.strip())
        if match and not line.lstrip().startswith(("#", "!")):
            props[match["key"]] = match["value"].strip()
    return props


def parse_manifest(text: str) -> dict[str, str]:
    """The main section of MANIFEST.MF, completed by the per-entry sections when the main one
    lacks identity fields: Apache Axis 1.4 keeps its version only under ``Name:
    org/apache/axis``. A section that names the archive's package wins; otherwise only a
    lone versioned section is trusted (others describe bundled APIs such as javax/servlet)."""
    main, *sections = _manifest_sections(text)
    if not sections or any(main.get(k) for k in _VERSION_FIELDS):
        return main
    versioned = [s for s in sections if any(s.get(k) for k in _VERSION_FIELDS)]
    title = main.get("Implementation-Title", "")
    chosen = next((s for s in versioned if title and title in (
        s.get("Implementation-Title"), s.get("Name", "").strip("/").replace("/", "."))), None)
    if chosen is None and len(versioned) == 1:
        chosen = versioned[0]
    if chosen is None:
        return main
    return {**{k: v for k, v in chosen.items() if k != "Name"}, **main}


_VERSION_FIELDS = ("Implementation-Version", "Specification-Version", "Bundle-Version")


def _manifest_sections(text: str) -> list[dict[str, str]]:
    """Every section of MANIFEST.MF, main first (continuation lines start with one space)."""
    sections: list[dict[str, str]] = [{}]
    key = ""
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line:
            if sections[-1]:
                sections.append({})
            key = ""
        elif line.startswith(" ") and key:
            sections[-1][key] += line[1:]
        elif ":" in line:
            key, _, value = line.partition(":")
            key = key.strip()  # the continuation lines below append under this same key
            sections[-1][key] = value.strip()
        if len(sections) > 10_000:
            break  # a real manifest has a few hundred sections at most
    return [sections[0], *(s for s in sections[1:] if s)]
