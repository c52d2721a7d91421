"""Language catalogers on real-format inputs built here (and real Debian files)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

from hullguard.catalog.extractors.golang import MAGIC, find_buildinfo, parse_buildinfo
from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec
from hullguard.model import Package, PackageType, Sbom
from tests.support.archives import zip_bytes
from tests.support.env import missing

Catalog = Callable[..., Sbom]


def one_layer(*files: FileSpec) -> ImageSpec:
    return ImageSpec([LayerSpec(tuple(files))])


def keyed(sbom: Sbom) -> dict[tuple[str, str], Package]:
    return {(p.name, p.version): p for p in sbom.packages}


def test_python_dist_info_egg_info_dir_and_file(catalog: Catalog) -> None:
    site = "usr/local/lib/python3.11/site-packages"
    sbom = catalog(one_layer(
        FileSpec(f"{site}/Jinja2-2.10.dist-info/METADATA",
                 b"Metadata-Version: 2.1\nName: Jinja2\nVersion: 2.10\nLicense: BSD\n\n"
                 b"Name: not-a-header\n"),
        FileSpec(f"{site}/PyYAML-5.3.egg-info/PKG-INFO",
                 b"Metadata-Version: 1.1\nName: PyYAML\nVersion: 5.3\nLicense: UNKNOWN\n"
                 b"Classifier: License :: OSI Approved :: MIT License\n"),
        FileSpec(f"{site}/distro_info-1.0.egg-info",
                 b"Metadata-Version: 1.1\nName: distro-info\nVersion: 1.0\n"
                 b"License-Expression: ISC\n"),
        FileSpec(f"{site}/broken-1.0.dist-info/METADATA", b"Metadata-Version: 2.1\n"),
        FileSpec(f"{site}/requests/METADATA", b"Name: not-a-dist-info\nVersion: 1\n"),
    ))
    found = keyed(sbom)
    assert set(found) == {("Jinja2", "2.10"), ("PyYAML", "5.3"), ("distro-info", "1.0")}
    assert found["Jinja2", "2.10"].purl == "pkg:pypi/jinja2@2.10"
    assert found["Jinja2", "2.10"].licenses == ("BSD",)
    assert found["PyYAML", "5.3"].licenses == ("MIT License",)
    assert found["distro-info", "1.0"].licenses == ("ISC",)
    assert any("broken-1.0.dist-info" in w for w in sbom.warnings)


def _package_json(name: str, version: str, **extra: object) -> bytes:
    return json.dumps({"name": name, "version": version, **extra}).encode()


def test_node_installed_packages_only(catalog: Catalog) -> None:
    sbom = catalog(one_layer(
        FileSpec("app/package.json", _package_json("my-app", "1.0.0")),
        FileSpec("app/node_modules/lodash/package.json",
                 _package_json("lodash", "4.17.15", license="MIT")),
        FileSpec("app/node_modules/lodash/fp/package.json", b'{"main": "../fp.js"}'),
        FileSpec("app/node_modules/@babel/core/package.json",
                 _package_json("@babel/core", "7.0.0", licenses=[{"type": "MIT"}])),
        FileSpec("app/node_modules/a/node_modules/minimist/package.json",
                 _package_json("minimist", "1.2.0")),
        FileSpec("app/node_modules/broken/package.json", b"{not json"),
        FileSpec("app/node_modules/.package-lock.json", b"{}"),
        FileSpec("usr/share/nodejs/lodash/package.json", _package_json("lodash", "4.17.21")),
        FileSpec("usr/share/nodejs/lodash/fp/package.json", _package_json("lodash-fp", "1")),
    ))
    found = keyed(sbom)
    assert set(found) == {("lodash", "4.17.15"), ("@babel/core", "7.0.0"),
                          ("minimist", "1.2.0"), ("lodash", "4.17.21")}
    assert found["@babel/core", "7.0.0"].purl == "pkg:npm/%40babel/core@7.0.0"
    assert found["@babel/core", "7.0.0"].licenses == ("MIT",)
    assert found["lodash", "4.17.15"].licenses == ("MIT",)
    assert any("invalid JSON" in w for w in sbom.warnings)


def _go_blob(version: str, modinfo: str) -> bytes:
    def varint_string(text: str) -> bytes:
        data, size, out = text.encode(), len(text.encode()), bytearray()
        while True:
            byte = size & 0x7F
            size >>= 7
            out.append(byte | (0x80 if size else 0))
            if not size:
                return bytes(out) + data
    sentinel = bytes(range(16))
    wrapped = sentinel.decode("latin-1") + modinfo + "\n" + sentinel.decode("latin-1")
    header = MAGIC + bytes([8, 2]) + bytes(16)
    return header + varint_string(version) + varint_string(wrapped)


def test_go_inline_build_info_with_replacements() -> None:
    modinfo = "\n".join([
        "path\texample.com/app/cmd/app",
        "mod\texample.com/app\tv1.2.3\th1:main=",
        "dep\tgithub.com/pkg/errors\tv0.9.1\th1:errs=",
        "dep\tgolang.org/x/net\tv0.0.1\th1:old=",
        "=>\tgolang.org/x/net\tv0.17.0\th1:new=",
        "dep\texample.com/local\tv0.0.0",
        "=>\t../local\t",
        "build\tGOOS=linux",
        "build\tvcs.revision=abc123",
    ])
    info = parse_buildinfo(_go_blob("go1.21.5", modinfo))
    assert info is not None and info.go_version == "go1.21.5"
    assert info.main is not None and (info.main.path, info.main.version) == (
        "example.com/app", "v1.2.3")
    deps = {d.path: d for d in info.deps}
    assert deps["github.com/pkg/errors"].sum == "h1:errs="
    assert deps["golang.org/x/net"].version == "v0.17.0"
    assert deps["golang.org/x/net"].replaces == "golang.org/x/net@v0.0.1"
    assert deps["../local"].version == "(devel)"


def test_go_binary_streamed_in_chunks_across_boundaries() -> None:
    with_note = b"\x7fELF" + bytes(60) + b"\x04\0\0\0\x08\0\0\0\x04\0\0\0Go\0\0"
    blob = _go_blob("go1.22.1", "path\tx\nmod\tx\t(devel)\t\n")
    for head in (with_note, b"\x7fELF" + bytes(60)):  # lld/Bazel links drop the Go note
        padding = bytes(70000 - (70000 + len(head)) % 16)
        binary = head + padding + b"\xff Go buildinf:decoy" + bytes(13) + blob + bytes(5000)
        assert (len(head) + len(padding)) % 16 == 0
        for size in (7, 4096, 1 << 20):
            chunks = iter([binary[i:i + size] for i in range(0, len(binary), size)])
            found = find_buildinfo(chunks)
            assert found is not None and found.startswith(blob), size
    assert find_buildinfo(iter([b"#!/bin/sh\n" * 10000])) is None


def debian_file(path: str, package: str, field: str) -> tuple[bytes, str]:
    """A file of an installed Debian package and one field of that package's record."""
    if not Path(path).exists():
        missing(f"Debian's {package} package is not installed")
    value = subprocess.run(["dpkg-query", "-W", "-f", f"${{{field}}}", package],
                           capture_output=True, text=True, check=True).stdout
    return Path(path).read_bytes(), value


def test_real_debian_go_binary(catalog: Catalog) -> None:
    skopeo, built_using = debian_file("/usr/bin/skopeo", "skopeo", "Built-Using")
    toolchain = next(part for part in built_using.split(",") if "golang-1." in part)
    upstream = toolchain.split("(= ")[1].split("-")[0]  # golang-1.19 (= 1.19.8-2) -> 1.19.8
    sbom = catalog(one_layer(FileSpec("usr/bin/skopeo", skopeo, mode=0o755)))
    stdlib = next(p for p in sbom.packages if p.name == "stdlib")
    assert stdlib.version == f"go{upstream}"
    assert stdlib.purl == f"pkg:golang/stdlib@{upstream}"
    assert stdlib.type is PackageType.GO_MODULE


def test_java_pom_properties_manifest_and_nested_jars(catalog: Catalog) -> None:
    inner = zip_bytes({"META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\r\nImplementation-Title: "
                  b"inner\r\nImplementation-Version: 3.4.5\r\n\r\n"})
    deep = zip_bytes({"META-INF/maven/org.deep/deep/pom.properties":
                 b"groupId=org.deep\nartifactId=deep\nversion=9.9\n"})
    bomb = zip_bytes({"META-INF/maven/x/y/pom.properties": b"version=1\n" + b"#" * (3 << 20)})
    outer = zip_bytes({
        "META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\nBundle-License: Apache-2.0\n\n",
        "META-INF/maven/com.example/app/pom.properties":
            b"#Generated\nversion=1.0.0\ngroupId=com.example\nartifactId=app\n",
        "BOOT-INF/lib/inner-3.4.5.jar": inner,
        "BOOT-INF/lib/wrapper.jar": zip_bytes({"lib/deep.jar": deep}),
        "BOOT-INF/lib/bomb.jar": bomb,
    })
    sbom = catalog(one_layer(FileSpec("opt/app.jar", outer),
                             FileSpec("opt/not-a.jar", b"plain text")))
    found = keyed(sbom)
    assert set(found) == {("app", "1.0.0"), ("inner", "3.4.5"), ("deep", "9.9")}
    assert found["app", "1.0.0"].purl == "pkg:maven/com.example/app@1.0.0"
    assert found["app", "1.0.0"].licenses == ("Apache-2.0",)
    assert found["deep", "9.9"].meta("nested") == "BOOT-INF/lib/wrapper.jar:lib/deep.jar"
    assert all(p.locations[0].path == "/opt/app.jar" for p in sbom.packages)
    assert any("ratio" in w and "bomb.jar" in w for w in sbom.warnings)
    assert any("not-a.jar" in w for w in sbom.warnings)


def test_real_debian_jar(catalog: Catalog) -> None:
    jar, version = debian_file("/usr/share/java/commons-lang3.jar", "libcommons-lang3-java",
                               "Version")
    sbom = catalog(one_layer(FileSpec("usr/share/java/commons-lang3.jar", jar)))
    [package] = sbom.packages
    assert package.purl == f"pkg:maven/org.apache.commons/commons-lang3@{version.split('-')[0]}"


def test_ruby_php_dotnet(catalog: Catalog) -> None:
    gemspec = (b'# -*- encoding: utf-8 -*-\nGem::Specification.new do |s|\n'
               b'  s.name = "rack".freeze\n  s.version = "2.2.3"\n'
               b'  s.licenses = ["MIT".freeze]\nend\n')
    composer = json.dumps({"packages": [
        {"name": "monolog/monolog", "version": "2.9.1", "license": ["MIT"]},
        {"name": "nonsense"}]}).encode()
    deps = json.dumps({"libraries": {
        "MyApp/1.0.0": {"type": "project"},
        "Newtonsoft.Json/13.0.1": {"type": "package", "sha512": "sha512-abc"}}}).encode()
    sbom = catalog(one_layer(
        FileSpec("usr/lib/ruby/gems/3.1.0/specifications/rack-2.2.3.gemspec", gemspec),
        FileSpec("usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec",
                 gemspec.replace(b'"rack"', b'"json"').replace(b'"2.2.3"', b'"2.6.1"')),
        FileSpec("usr/lib/ruby/gems/3.1.0/gems/rack-2.2.3/rack.gemspec",
                 gemspec.replace(b'"rack"', b'"not-installed"')),
        FileSpec("srv/vendor/composer/installed.json", composer),
        FileSpec("app/MyApp.deps.json", deps)))
    found = keyed(sbom)
    assert found["rack", "2.2.3"].purl == "pkg:gem/rack@2.2.3"
    assert found["rack", "2.2.3"].licenses == ("MIT",)
    assert found["monolog/monolog", "2.9.1"].purl == "pkg:composer/monolog/monolog@2.9.1"
    assert found["Newtonsoft.Json", "13.0.1"].purl == "pkg:nuget/Newtonsoft.Json@13.0.1"
    assert found["json", "2.6.1"].purl == "pkg:gem/json@2.6.1"  # a default gem
    assert len(found) == 4  # a gem's own source gemspec is not an installed gem


def test_java_archive_identity_like_syft(catalog: Catalog) -> None:
    def pom(group: str, artifact: str, version: str) -> tuple[str, bytes]:
        return (f"META-INF/maven/{group}/{artifact}/pom.properties",
                f"groupId={group}\nartifactId={artifact}\nversion={version}\n".encode())

    shaded = zip_bytes(dict([pom("org.apache.maven.wagon", "wagon-http", "3.5.3"),
                        pom("commons-codec", "commons-codec", "1.15")]))
    renamed = zip_bytes(dict([("META-INF/MANIFEST.MF", b"Implementation-Version: 3.8.7\n\n"),
                         pom("org.apache.maven", "maven-core", "3.8.7")]))
    osgi = zip_bytes({"META-INF/MANIFEST.MF": b"Bundle-SymbolicName: com.google.inject\n"
                                         b"Bundle-Version: 4.2.3\n\n"})
    one_shaded = zip_bytes(dict([pom("org.ow2.asm", "asm", "9.4")]))
    sbom = catalog(one_layer(
        FileSpec("usr/share/java/wagon-http-shaded-3.5.3.jar", shaded),
        FileSpec("usr/share/java/maven3-core.jar", renamed),
        FileSpec("usr/share/java/guice.jar", osgi),
        FileSpec("usr/share/java/unversioned.jar",
                 zip_bytes({"META-INF/MANIFEST.MF": b"X: y\n\n"})),
        FileSpec("opt/tool-2.0.jar", one_shaded),
    ))
    assert {p.purl for p in sbom.packages} == {
        "pkg:maven/wagon-http-shaded/wagon-http-shaded@3.5.3",
        "pkg:maven/org.apache.maven.wagon/wagon-http@3.5.3",
        "pkg:maven/commons-codec/commons-codec@1.15",
        # a renamed Debian jar whose lone pom has the manifest's version: its real coordinates
        "pkg:maven/org.apache.maven/maven-core@3.8.7",
        "pkg:maven/com.google.inject/guice@4.2.3",
        # a lone pom of another version is an embedded dependency: both stay
        "pkg:maven/tool/tool@2.0",
        "pkg:maven/org.ow2.asm/asm@9.4",
    }
