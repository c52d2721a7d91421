"""Language packages Debian installs, compared with syft 1.18.1: Ruby's default gems, renamed
Debian jars (``maven3-core.jar`` holding org.apache.maven:maven-core), jars without any
version, and npm manifests that are not packages (sub-path entry points, the project root).

The image is built here from this machine's real Debian files (ruby, maven's jars,
ca-certificates-java, with their dpkg records) plus a real ``npm install``; hullguard must
find everything syft finds except the differences classified below, each with its reason.
"""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec, write_docker_archive
from hullguard.model import Package, Sbom
from tests.catalog.conftest import catalog_archive
from tests.catalog.images import _files_of
from tests.support.env import missing, syft, tool

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("catalog-gaps")]

# All installed by scripts/test (ruby, libmaven3-core-java and its dependencies,
# default-jre-headless -> ca-certificates-java).
DEBIAN_PACKAGES = ("libruby3.1", "libmaven3-core-java", "libplexus-utils2-java",
                   "libsisu-inject-java", "libsisu-plexus-java", "ca-certificates-java")
NPM_PACKAGES = ("web-streams-polyfill@3.2.1", "terser@5.16.5")
APP_ROOT = "/srv/app"
_SYFT_TYPES = {"npm": "npm", "java-archive": "maven", "gem": "gem"}
Key = tuple[str, str, str]  # ecosystem, name, version

# What syft reports that hullguard deliberately does not (fixed by the pinned npm versions).
ONLY_SYFT_NPM: dict[Key, str] = {
    ("npm", "bench-app", "1.0.0"): "/srv/app/package.json is the project that ran "
    "`npm install` (private), not an installed package; a PURL for it could only match an "
    "unrelated public package of the same name",
    **{("npm", name, "1.0.0"): f"terser/{name}/package.json is a private marker inside "
       f"terser (`type: commonjs` for its {name} bundle), not a package; terser itself is "
       "reported" for name in ("bin", "dist")},
    **{("npm", f"web-streams-{name}", "UNKNOWN"): "a sub-path entry point inside "
       "web-streams-polyfill without a version: nothing can match it"
       for name in ("polyfill-es6", "polyfill-es2018", "ponyfill", "ponyfill-es6",
                    "ponyfill-es2018")},
}
REASON_NO_VERSION = ("the archive itself has no version in its file name or manifest (syft "
                     "names it after the file, version UNKNOWN): no advisory can match it; "
                     "a pom.properties it embeds (plexus-utils2.jar: plexus-utils 3.4.2) is "
                     "reported with its real coordinates by both tools")
REASON_RENAMED = ("a Debian-renamed jar (maven3-core.jar) whose lone pom.properties has the "
                  "archive's version: hullguard reports those real Maven coordinates "
                  "(org.apache.maven/maven-core) once; syft adds a second package named "
                  "after the file with a guessed group (Main-Class) that no GHSA advisory "
                  "names")


def _package_files(package: str) -> list[FileSpec]:
    """The package's gemspecs and jars (regular files and symlinks) as in its file list."""
    return [spec for spec in _files_of(package) if spec.path.endswith((".gemspec", ".jar"))]


def _dpkg_records() -> list[FileSpec]:
    status = Path("/var/lib/dpkg/status").read_text()
    stanzas = [s for s in status.split("\n\n")
               if any(s.startswith(f"Package: {name}\n") for name in DEBIAN_PACKAGES)]
    specs = [FileSpec("var/lib/dpkg/status", ("\n\n".join(stanzas) + "\n").encode())]
    for name in DEBIAN_PACKAGES:
        info = Path("/var/lib/dpkg/info")  # NAME.list, or NAME:ARCH.list when multi-arch
        lists = [*info.glob(f"{name}.list"), *info.glob(f"{name}:*.list")]
        specs += [FileSpec(f"var/lib/dpkg/info/{p.name}", p.read_bytes()) for p in lists]
    return specs


def _npm_app(out: Path) -> list[FileSpec]:
    project = out / "app"
    project.mkdir()
    (project / "package.json").write_text(
        '{"name": "bench-app", "version": "1.0.0", "private": true}\n')
    done = subprocess.run([tool("npm"), "install", "--no-audit", "--no-fund", "--ignore-scripts",
                           "--loglevel=error", *NPM_PACKAGES], cwd=project,
                          capture_output=True, text=True)
    if done.returncode != 0:
        missing(f"npm install failed (registry unreachable?): {done.stderr[-400:]}")
    return [FileSpec(f"{APP_ROOT[1:]}/{path.relative_to(project)}", path.read_bytes())
            for path in sorted(project.rglob("*")) if path.is_file() and not path.is_symlink()]


@pytest.fixture(scope="module")
def gap_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gaps")
    for package in DEBIAN_PACKAGES:
        if subprocess.run(["dpkg-query", "-W", package], capture_output=True).returncode:
            missing(f"Debian package {package} not installed (scripts/test installs it)")
    base = [FileSpec("etc/os-release", Path("/etc/os-release").read_bytes()), *_dpkg_records()]
    for package in DEBIAN_PACKAGES:
        base += _package_files(package)
    spec = ImageSpec([LayerSpec(tuple(base), created_by="apt-get install ruby maven"),
                      LayerSpec(tuple(_npm_app(out)), created_by="RUN npm install")])
    return write_docker_archive(out / "gaps.tar", spec, "gaps:test")


@pytest.fixture(scope="module")
def gap_sbom(gap_archive: Path) -> Sbom:
    return catalog_archive(gap_archive)


@pytest.fixture(scope="module")
def syft_artifacts(gap_archive: Path) -> list[dict[str, Any]]:
    out = subprocess.run([syft(), "scan", f"docker-archive:{gap_archive}", "-o", "json", "-q"],
                         capture_output=True, text=True, check=True).stdout
    return [a for a in json.loads(out)["artifacts"] if a["type"] in _SYFT_TYPES]


def _key(artifact: dict[str, Any]) -> Key:
    return _SYFT_TYPES[artifact["type"]], artifact["name"], artifact["version"]


def _ours(sbom: Sbom) -> dict[Key, Package]:
    return {(p.type.value, p.name, p.version): p for p in sbom.packages if not p.type.is_os}


def _reason(artifact: dict[str, Any], sbom: Sbom) -> str:
    """Why a package syft reports is not in hullguard's SBOM ('' = unexplained)."""
    key, path = _key(artifact), artifact["locations"][0]["path"]
    if key in ONLY_SYFT_NPM:
        return ONLY_SYFT_NPM[key]
    if key[0] != "maven":
        return ""
    if artifact["version"] in ("", "UNKNOWN"):
        return REASON_NO_VERSION
    same_jar = [p for p in sbom.packages if p.locations[0].path == path]
    stem = Path(path).stem
    if artifact["name"] == stem and any(p.version == key[2] and p.meta("group_id")
                                        for p in same_jar):
        return REASON_RENAMED
    return ""


def test_superset_of_syft_with_every_difference_explained(
        gap_sbom: Sbom, syft_artifacts: list[dict[str, Any]]) -> None:
    ours = set(_ours(gap_sbom))
    only_syft = {_key(a): _reason(a, gap_sbom) for a in syft_artifacts if _key(a) not in ours}
    assert {k: r for k, r in only_syft.items() if not r} == {}  # nothing unexplained
    assert set(ONLY_SYFT_NPM) <= set(only_syft)
    reasons = set(only_syft.values())
    assert REASON_NO_VERSION in reasons and REASON_RENAMED in reasons
    assert ours - {_key(a) for a in syft_artifacts} == set()  # nothing only hullguard finds
    assert sum(1 for k in ours if k[0] == "gem") >= 70


def _ruby_gems(specs: list[Path]) -> set[tuple[str, str]]:
    """name and version of each gemspec, as Ruby itself loads it (independent oracle)."""
    script = ("ARGV.each { |f| s = Gem::Specification.load(f); "
              "puts \"#{s.name} #{s.version}\" }")
    out = subprocess.run([tool("ruby"), "-e", script, *map(str, specs)], capture_output=True,
                         text=True, check=True).stdout
    return {(name, version) for name, version in (line.split() for line in out.splitlines())}


def test_default_gems_found_and_owned_by_libruby(gap_sbom: Sbom) -> None:
    root = Path("/usr/lib/ruby/gems/3.1.0/specifications")
    specs = sorted(root.glob("*.gemspec")) + sorted(root.glob("default/*.gemspec"))
    expected = _ruby_gems(specs)
    gems = [p for p in gap_sbom.packages if p.type.value == "gem"]
    assert {(p.name, p.version) for p in gems} == expected
    assert len(list(root.glob("default/*.gemspec"))) >= 60  # bundler, json, psych, ...
    assert all(p.owned_by == "deb:libruby3.1" for p in gems)
    json_gem = next(p for p in gems if p.name == "json")
    assert json_gem.purl == f"pkg:gem/json@{json_gem.version}" and json_gem.licenses


def _lone_pom(jar: Path) -> dict[str, str] | None:
    with zipfile.ZipFile(jar) as archive:
        poms = [n for n in archive.namelist() if n.endswith("/pom.properties")]
        if len(poms) != 1:
            return None
        lines = archive.read(poms[0]).decode().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and line[0] != "#")


def test_renamed_debian_jars_carry_their_real_maven_coordinates(gap_sbom: Sbom) -> None:
    by_path: dict[str, list[Package]] = {}
    for package in gap_sbom.packages:
        by_path.setdefault(package.locations[0].path, []).append(package)
    jar = Path("/usr/share/java/maven3-artifact.jar")
    pom = _lone_pom(jar)
    assert pom and pom["artifactId"] == "maven-artifact"
    [package] = by_path[str(jar)]
    assert package.purl == f"pkg:maven/{pom['groupId']}/maven-artifact@{pom['version']}"
    assert package.owned_by == "deb:libmaven3-core-java"
    for path in ("/usr/share/java/plexus-utils2.jar", "/usr/share/java/sisu-inject.jar"):
        pom = _lone_pom(Path(path))
        assert pom is not None
        purls = {p.purl for p in by_path[path]}
        assert purls == {f"pkg:maven/{pom['groupId']}/{pom['artifactId']}@{pom['version']}"}


def test_jar_without_any_version_is_not_reported(gap_sbom: Sbom) -> None:
    jar = "/usr/share/ca-certificates-java/ca-certificates-java.jar"
    with zipfile.ZipFile(jar) as archive:
        assert not any(n.endswith("pom.properties") for n in archive.namelist())
    assert not [p for p in gap_sbom.packages if p.locations[0].path == jar]
    assert all(p.version for p in gap_sbom.packages)


def test_npm_manifests_that_are_not_packages_are_skipped(gap_sbom: Sbom) -> None:
    npm = {(p.name, p.version): p for p in gap_sbom.packages if p.type.value == "npm"}
    assert ("web-streams-polyfill", "3.2.1") in npm and ("terser", "5.16.5") in npm
    assert not [p for p in npm.values() if p.locations[0].path == f"{APP_ROOT}/package.json"]
    assert not [key for key in npm if key[0] in ("bin", "dist", "bench-app")]
