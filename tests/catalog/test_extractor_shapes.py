"""Odd-but-real shapes of package evidence that catalogers once got wrong: Go toolchain
versions with GOEXPERIMENT and vendor suffixes, shaded and manifest-only jars, self-contained
.NET apps, unzipped eggs, legacy npm license arrays and dpkg source packages."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from hullguard.catalog.extractors.golang import go_toolchain
from hullguard.images.builder import FileSpec
from hullguard.model import Package, Sbom
from tests.catalog.test_language_extractors import _go_blob, keyed, one_layer
from tests.support.archives import zip_bytes
from tests.support.env import tool

Catalog = Callable[..., Sbom]


def _go_binary(version: str, modinfo: str) -> bytes:
    head = b"\x7fELF" + bytes(60)
    return head + bytes(8192) + _go_blob(version, modinfo) + bytes(4096)


def _stdlib(sbom: Sbom) -> list[Package]:
    return [p for p in sbom.packages if p.name == "stdlib"]


def test_go_toolchain_shapes() -> None:
    assert go_toolchain("go1.22.1 X:loopvar") == go_toolchain("go1.22.1-X:loopvar")
    assert go_toolchain("go1.22.1 X:loopvar").release == "go1.22.1"
    assert go_toolchain("go1.20.4 X:boringcrypto,arenas").experiment == "boringcrypto,arenas"
    assert go_toolchain("go1.21.5-bigcorp").release == "go1.21.5"
    assert go_toolchain("go1.21.5-bigcorp").suffix == "-bigcorp"
    assert go_toolchain("go1.21rc2").release == "go1.21rc2"
    google = go_toolchain("go1.22-20231128-RC02 cl/586117301 +6111acc8e6 "
                          "X:fieldtrack,boringcrypto")  # gcloud SDK's gke-gcloud-auth-plugin
    assert (google.release, google.experiment) == ("go1.22rc2", "fieldtrack,boringcrypto")
    assert go_toolchain("devel go1.23-1a2b3c4d Tue Jan 2 10:00:00 2024 +0000").release == ""
    assert go_toolchain("").release == ""


def test_go_experiment_devel_dirty_and_pseudo_versions(catalog: Catalog) -> None:
    modinfo = "\n".join([
        "path\texample.com/app", "mod\texample.com/app\tv1.4.0+dirty\t",
        "dep\tgolang.org/x/net\tv0.0.0-20240102030405-0123456789ab\th1:x=",
        "dep\tgithub.com/docker/docker\tv24.0.7+incompatible\th1:y=",
        "build\tvcs.modified=true"])
    sbom = catalog(one_layer(
        FileSpec("usr/bin/exp", _go_binary("go1.22.1 X:loopvar", modinfo), mode=0o755),
        FileSpec("usr/bin/dev", _go_binary("devel go1.23-1a2b3c4d Tue Jan 2 10:00:00 2024",
                                           "path\tx\nmod\tx\t(devel)\t\n"), mode=0o755)))
    [stdlib] = _stdlib(sbom)  # the devel toolchain has no release to report
    assert stdlib.purl == "pkg:golang/stdlib@1.22.1" and stdlib.version == "go1.22.1"
    assert stdlib.meta("go_experiment") == "loopvar"
    assert stdlib.meta("go_version") == "go1.22.1 X:loopvar"
    purls = {p.purl for p in sbom.packages}
    assert "pkg:golang/example.com/app@v1.4.0" in purls  # "+dirty" is build metadata
    assert "pkg:golang/golang.org/x/net@v0.0.0-20240102030405-0123456789ab" in purls
    assert "pkg:golang/github.com/docker/docker@v24.0.7%2Bincompatible" in purls
    assert "pkg:golang/x" in purls  # a (devel) main module: no version claimed
    assert any("devel go1.23" in w and "not a release" in w for w in sbom.warnings)


def test_real_go_build_with_goexperiment(catalog: Catalog, tmp_path: Path) -> None:
    go = tool("go")  # Debian's golang-go (1.19) or newer; fieldtrack exists in all of them
    (tmp_path / "go.mod").write_text("module example.com/exp\n\ngo 1.19\n")
    (tmp_path / "main.go").write_text("package main\n\nfunc main() {}\n")
    env = {**os.environ, "GOEXPERIMENT": "fieldtrack", "CGO_ENABLED": "0", "GOTOOLCHAIN": "local",
           "GOFLAGS": "-mod=mod"}
    subprocess.run([go, "build", "-o", "exp", "."], cwd=tmp_path, env=env, check=True,
                   capture_output=True)
    release = subprocess.run([go, "env", "GOVERSION"], env=env, capture_output=True,
                             text=True, check=True).stdout.strip()
    binary = (tmp_path / "exp").read_bytes()
    sbom = catalog(one_layer(FileSpec("usr/local/bin/exp", binary, mode=0o755)))
    [stdlib] = _stdlib(sbom)
    assert stdlib.version == release.split()[0].split("-X:")[0]
    assert stdlib.purl == f"pkg:golang/stdlib@{stdlib.version.removeprefix('go')}"
    assert stdlib.meta("go_experiment") == "fieldtrack"


def _pom(group: str, artifact: str, version: str) -> tuple[str, bytes]:
    return (f"META-INF/maven/{group}/{artifact}/pom.properties",
            f"#Created by Apache Maven\ngroupId={group}\nartifactId={artifact}\n"
            f"version={version}\n".encode())


def test_shaded_jar_is_its_own_pom_and_keeps_the_shaded_ones(catalog: Catalog) -> None:
    # hadoop-thirdparty's layout: guava's poms come first in the zip, the jar's own pom last
    hadoop = zip_bytes(dict([
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\nCreated-By: Maven\r\n\r\n"),
        _pom("com.google.guava", "guava", "32.0.1-jre"),
        _pom("com.google.guava", "failureaccess", "1.0.1"),
        _pom("org.apache.hadoop.thirdparty", "hadoop-shaded-guava", "1.1.0-SNAPSHOT")]))
    # two loose candidates (syft's prefix/suffix test): the one of the file's version wins
    loose = zip_bytes(dict([_pom("org.example", "core", "1.0"),
                            _pom("org.example", "app-core", "2.0")]))
    nogroup = zip_bytes({"META-INF/maven/org.lib/lib/pom.properties": b"artifactId=lib\n"
                                                                       b"version=3\n"})
    sbom = catalog(one_layer(
        FileSpec("opt/hadoop/hadoop-shaded-guava-1.1.0-SNAPSHOT.jar", hadoop),
        FileSpec("opt/app-core-2.0.jar", loose), FileSpec("opt/lib-3.jar", nogroup)))
    assert {p.purl for p in sbom.packages} == {
        "pkg:maven/org.apache.hadoop.thirdparty/hadoop-shaded-guava@1.1.0-SNAPSHOT",
        "pkg:maven/com.google.guava/guava@32.0.1-jre",
        "pkg:maven/com.google.guava/failureaccess@1.0.1",
        "pkg:maven/org.example/app-core@2.0", "pkg:maven/org.example/core@1.0",
        "pkg:maven/org.lib/lib@3"}


AXIS_MANIFEST = (b"Manifest-Version: 1.0\r\nAnt-Version: Apache Ant 1.6.5\r\n"
                 b"Created-By: 1.4.2_08-b03 (Sun Microsystems Inc.)\r\n\r\n"
                 b"Name: org/apache/axis\r\nComment: Apache Axis\r\n"
                 b"Implementation-Title: org.apache.axis\r\nImplementation-Version: 1.4\r\n"
                 b"Implementation-Vendor: Apache Web Services\r\n\r\n")
IVY_MANIFEST = (b"Manifest-Version: 1.0\r\nAnt-Version: Apache Ant 1.9.4\r\n"
                b"Bundle-SymbolicName: org.apache.ivy\r\nBundle-Version: 2.4.0.final_20141213"
                b"170938\r\nBundle-Name: Apache Ivy\r\nImplementation-Vendor: The Apache "
                b"Software Foundation\r\nImplementation-Title: org.apache.ivy\r\n"
                b"Implementation-Version: 2.4.0\r\nImplementation-Vendor-Id: org.apache\r\n"
                b"Main-Class: org.apache.ivy.Main\r\n\r\n")
JACKSON_MANIFEST = (b"Manifest-Version: 1.0\r\nBundle-SymbolicName: com.fasterxml.jackson"
                    b".core.jackson-databind\r\nImplementation-Vendor-Id: com.fasterxml.jack"
                    b"\r\n son.core\r\nImplementation-Version: 2.15.2\r\n\r\n")
SERVLET_SECTIONS = (b"Manifest-Version: 1.0\r\n\r\nName: javax/servlet/\r\n"
                    b"Specification-Version: 3.1\r\n\r\nName: javax/el/\r\n"
                    b"Implementation-Version: 3.0\r\n\r\n")


def test_manifest_only_jars_sections_and_specific_groups(catalog: Catalog) -> None:
    sbom = catalog(one_layer(
        FileSpec("usr/share/tomcat/webapps/axis/WEB-INF/lib/axis.jar",
                 zip_bytes({"META-INF/MANIFEST.MF": AXIS_MANIFEST})),
        FileSpec("opt/ant/lib/ivy-2.4.0.jar", zip_bytes({"META-INF/MANIFEST.MF": IVY_MANIFEST})),
        FileSpec("opt/lib/jackson-databind.jar",
                 zip_bytes({"META-INF/MANIFEST.MF": JACKSON_MANIFEST})),
        FileSpec("opt/lib/bundle.jar", zip_bytes({"META-INF/MANIFEST.MF": SERVLET_SECTIONS}))))
    assert {p.purl for p in sbom.packages} == {
        "pkg:maven/org.apache.axis/axis@1.4", "pkg:maven/org.apache.ivy/ivy@2.4.0",
        "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.15.2"}


GUICE_MANIFEST = (b"Manifest-Version: 1.0\r\nAutomatic-Module-Name: com.google.guice.extens"
                  b"ions.assistedinject\r\nBundle-Name: guice-assistedinject\r\nBundle-Sym"
                  b"bolicName: com.google.inject.assistedinject\r\nBundle-Version: 4.2.3\r\n"
                  b"\r\n")  # Debian's libguice-java


def test_disagreeing_group_fields_keep_the_earlier_one(catalog: Catalog) -> None:
    sbom = catalog(one_layer(FileSpec("usr/share/java/guice-assistedinject.jar",
                                      zip_bytes({"META-INF/MANIFEST.MF": GUICE_MANIFEST}))))
    assert [p.purl for p in sbom.packages] == [
        "pkg:maven/com.google.inject.assistedinject/guice-assistedinject@4.2.3"]


def _self_contained_deps(runtime: str) -> bytes:
    """What ``dotnet publish --self-contained -r linux-x64`` writes (SDK 8)."""
    target = ".NETCoreApp,Version=v8.0/linux-x64"
    netcore = f"runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/{runtime}"
    aspnet = f"runtimepack.Microsoft.AspNetCore.App.Runtime.linux-x64/{runtime}"
    return json.dumps({
        "runtimeTarget": {"name": target, "signature": ""},
        "targets": {target: {
            "shop/1.0.0": {"dependencies": {"Serilog": "3.1.1"}, "runtime": {"shop.dll": {}}},
            netcore: {"runtime": {"System.Private.CoreLib.dll": {
                "assemblyVersion": "8.0.0.0", "fileVersion": "8.0.123.58001"}}},
            aspnet: {"runtime": {"Microsoft.AspNetCore.dll": {}}},
            "Serilog/3.1.1": {"runtime": {"lib/net7.0/Serilog.dll": {}}}}},
        "libraries": {
            "shop/1.0.0": {"type": "project", "serviceable": False, "sha512": ""},
            netcore: {"type": "runtimepack", "serviceable": False, "sha512": ""},
            aspnet: {"type": "runtimepack", "serviceable": False, "sha512": ""},
            "Serilog/3.1.1": {"type": "package", "serviceable": True,
                              "sha512": "sha512-x", "path": "serilog/3.1.1"}}}).encode()


def test_dotnet_runtime_packs(catalog: Catalog) -> None:
    framework = json.dumps({"libraries": {"Microsoft.NETCore.App.Runtime.linux-x64/8.0.0": {
        "type": "runtimepack", "serviceable": False, "sha512": ""}}}).encode()
    sbom = catalog(one_layer(
        FileSpec("app/shop.deps.json", _self_contained_deps("8.0.1")),
        FileSpec("usr/share/dotnet/shared/Microsoft.NETCore.App/8.0.0/"
                 "Microsoft.NETCore.App.deps.json", framework)))
    assert {p.purl for p in sbom.packages} == {
        "pkg:nuget/Microsoft.NETCore.App.Runtime.linux-x64@8.0.1",
        "pkg:nuget/Microsoft.AspNetCore.App.Runtime.linux-x64@8.0.1",
        "pkg:nuget/Microsoft.NETCore.App.Runtime.linux-x64@8.0.0",
        "pkg:nuget/Serilog@3.1.1"}
    runtime = keyed(sbom)["Microsoft.NETCore.App.Runtime.linux-x64", "8.0.1"]
    assert runtime.meta("type") == "runtimepack"


def test_python_unzipped_eggs_and_not_the_interpreter(catalog: Catalog) -> None:
    site = "usr/lib/python2.7/site-packages"
    sbom = catalog(one_layer(
        FileSpec(f"{site}/setuptools-0.9.8-py2.7.egg/EGG-INFO/PKG-INFO",
                 b"Metadata-Version: 1.1\nName: setuptools\nVersion: 0.9.8\nLicense: PSF\n"),
        FileSpec(f"{site}/setuptools-0.9.8-py2.7.egg/EGG-INFO/top_level.txt", b"setuptools\n"),
        FileSpec(f"{site}/other/EGG-INFO/PKG-INFO", b"Name: loose\nVersion: 1\n"),
        FileSpec("usr/lib/python2.7/lib-dynload/Python-2.7.egg-info",
                 b"Metadata-Version: 1.0\nName: Python\nVersion: 2.7.13\nSummary: A high-"
                 b"level object-oriented programming language\nLicense: PSF license\n"),
        FileSpec("usr/local/lib/python3.11/Python-3.11.egg-info",
                 b"Metadata-Version: 1.0\nName: Python\nVersion: 3.11.2\n")))
    [egg] = sbom.packages
    assert (egg.purl, egg.licenses) == ("pkg:pypi/setuptools@0.9.8", ("PSF",))
    assert egg.meta("site") == f"/{site}"


def test_npm_legacy_license_arrays(catalog: Catalog) -> None:
    def manifest(name: str, **extra: object) -> FileSpec:
        return FileSpec(f"app/node_modules/{name}/package.json",
                        json.dumps({"name": name, "version": "1.0.0", **extra}).encode())

    mit = {"type": "MIT", "url": "https://github.com/x/y/raw/master/LICENSE"}
    sbom = catalog(one_layer(
        manifest("singular", license=[mit]),
        manifest("mixed", license=[mit, "Apache-2.0", 7, {"url": "only"}]),
        manifest("plural-string", licenses="BSD-3-Clause"),
        manifest("plural-object", licenses={"type": "ISC"}),
        manifest("empty-first", license="", licenses=[{"type": "WTFPL"}])))
    assert {p.name: p.licenses for p in sbom.packages} == {
        "singular": ("MIT",), "mixed": ("MIT", "Apache-2.0"),
        "plural-string": ("BSD-3-Clause",), "plural-object": ("ISC",),
        "empty-first": ("WTFPL",)}


DPKG_STATUS = b"""Package: libgcc-s1
Status: install ok installed
Architecture: amd64
Source: gcc-12 (12.2.0-14)
Version: 12.2.0-14

Package: libtinfo6
Status: install ok installed
Architecture: amd64
Source: ncurses
Version: 6.4-4

Package: bash
Status: install ok installed
Architecture: amd64
Version: 5.2.15-2+b2
Source: bash (5.2.15-2)

Package: base-files
Status: install ok installed
Architecture: amd64
Version: 12.4+deb12u5

"""


def test_dpkg_purl_upstream_qualifier(catalog: Catalog) -> None:
    os_release = FileSpec("etc/os-release", b'ID=debian\nVERSION_ID="12"\n')
    sbom = catalog(one_layer(os_release, FileSpec("var/lib/dpkg/status", DPKG_STATUS)))
    assert {p.purl for p in sbom.packages} == {
        "pkg:deb/debian/libgcc-s1@12.2.0-14?arch=amd64&distro=debian-12&upstream=gcc-12",
        "pkg:deb/debian/libtinfo6@6.4-4?arch=amd64&distro=debian-12&upstream=ncurses",
        "pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12"
        "&upstream=bash%405.2.15-2",
        "pkg:deb/debian/base-files@12.4%2Bdeb12u5?arch=amd64&distro=debian-12"}


def test_apk_purl_upstream_qualifier(catalog: Catalog) -> None:
    installed = (b"C:Q1abc=\nP:libcrypto3\nV:3.1.4-r0\nA:x86_64\no:openssl\n\n"
                 b"C:Q1def=\nP:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n\n")
    sbom = catalog(one_layer(FileSpec("etc/os-release", b"ID=alpine\nVERSION_ID=3.18.9\n"),
                             FileSpec("lib/apk/db/installed", installed)))
    assert {p.purl for p in sbom.packages} == {
        "pkg:apk/alpine/libcrypto3@3.1.4-r0?arch=x86_64&distro=alpine-3.18.9&upstream=openssl",
        "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.18.9"}


def test_composer_license_string_and_junk(catalog: Catalog) -> None:
    installed = json.dumps([  # Composer 1: a bare list, license as written in composer.json
        {"name": "monolog/monolog", "version": "1.25.1", "license": "MIT"},
        {"name": "acme/mixed", "version": "1.0.0", "license": ["MIT", {"x": 1}, 3]}]).encode()
    sbom = catalog(one_layer(FileSpec("srv/vendor/composer/installed.json", installed)))
    assert {p.name: p.licenses for p in sbom.packages} == {
        "monolog/monolog": ("MIT",), "acme/mixed": ("MIT",)}
