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
    go = tool("go")
    (tmp_path / "go.mod").write_text("module example.com/exp\n\ngo 1.21\n")
    (tmp_path / "main.go").write_text("package main\n\nfunc main() {}\n")
    env = {**os.environ, "GOEXPERIMENT": "loopvar", "CGO_ENABLED": "0", "GOTOOLCHAIN": "local",
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
    assert stdlib.meta("go_experiment") == "loopvar"


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
