"""Hand-built SBOMs for the format tests: realistic values, awkward corners on purpose."""

from __future__ import annotations

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

BASE = "sha256:" + "1" * 64
APP = "sha256:" + "2" * 64
DIGEST = Digest.parse("sha256:" + "a" * 64)


def image(digest: Digest | None = DIGEST) -> ImageInfo:
    layers = (
        Layer(0, Digest.parse("sha256:" + "3" * 64), Digest.parse(BASE),
              "application/vnd.oci.image.layer.v1.tar+gzip", 3_000_000,
              "ADD alpine-minirootfs-3.18.9-x86_64.tar.gz /"),
        Layer(1, Digest.parse("sha256:" + "4" * 64), Digest.parse(APP),
              "application/vnd.oci.image.layer.v1.tar+gzip", 1_000, "RUN pip install requests"),
    )
    config = ImageConfig(
        user="app", env=("PATH=/usr/bin",), cmd=("/bin/sh",), working_dir="/srv",
        labels=(("org.opencontainers.image.source", "https://example.org/app"),),
        exposed_ports=("8080/tcp",),
        history=(HistoryEntry("ADD alpine-minirootfs-3.18.9-x86_64.tar.gz /"),
                 HistoryEntry('CMD ["/bin/sh"]', empty_layer=True),
                 HistoryEntry("RUN pip install requests")),
        created="2024-09-06T12:00:00Z", os="linux", architecture="amd64",
    )
    return ImageInfo(
        reference="registry.example:5000/team/app:1.0", source_kind="registry", digest=digest,
        config_digest=Digest.parse("sha256:" + "b" * 64),
        repo_digests=(f"registry.example:5000/team/app@{DIGEST}",), tags=("1.0",),
        platform=Platform("linux", "amd64"), layers=layers, config=config,
        media_type="application/vnd.oci.image.manifest.v1+json",
    )


def apk(name: str, version: str, origin: str, licenses: tuple[str, ...]) -> Package:
    purl = f"pkg:apk/alpine/{name}@{version}?arch=x86_64&distro=alpine-3.18.9"
    return Package(
        name=name, version=version, type=PackageType.APK, purl=purl, cataloger="apk",
        source_name=origin, source_version=version, arch="x86_64", licenses=licenses,
        locations=(Location("/lib/apk/db/installed", BASE),), introduced_by=BASE,
        created_by="ADD alpine-minirootfs-3.18.9-x86_64.tar.gz /",
        metadata=(("checksum", "Q1zwvKMnYs1b6ZdPTBJ0Z7D5P3jyA="),),
    )


def python(name: str, version: str, path: str, licenses: tuple[str, ...]) -> Package:
    return Package(
        name=name, version=version, type=PackageType.PYTHON,
        purl=f"pkg:pypi/{name.lower()}@{version}", cataloger="python", licenses=licenses,
        locations=(Location(path, APP),), introduced_by=APP,
        created_by="RUN pip install requests",
    )


def packages() -> tuple[Package, ...]:
    return (
        apk("musl", "1.2.4-r2", "musl", ("MIT",)),
        apk("busybox", "1.36.1-r7", "busybox", ("GPL-2.0-only",)),
        apk("libcrypto3", "3.1.7-r0", "openssl", ("Apache-2.0",)),
        apk("ca-certificates-bundle", "20240226-r0", "ca-certificates",
            ("MPL-2.0 AND MIT",)),
        python("requests", "2.19.1", "/usr/lib/python3.11/site-packages/requests-2.19.1"
               ".dist-info/METADATA", ("Apache 2.0",)),
        # The same purl twice at two paths (vendored copy): two components, two ids.
        python("urllib3", "1.23", "/usr/lib/python3.11/site-packages/urllib3-1.23.dist-info"
               "/METADATA", ("MIT",)),
        python("urllib3", "1.23", "/opt/venv/lib/python3.11/site-packages/urllib3-1.23"
               ".dist-info/METADATA", ("MIT", "BSD-style license, see LICENSE")),
        Package(
            name="@babel/core", version="7.0.0", type=PackageType.NPM,
            purl="pkg:npm/%40babel/core@7.0.0", cataloger="node",
            licenses=("MIT OR Apache-2.0",),
            locations=(Location("/srv/node_modules/@babel/core/package.json", APP),),
            introduced_by=APP, created_by="RUN pip install requests",
        ),
        Package(
            name="lodash", version="4.17.21", type=PackageType.NPM,
            purl="pkg:npm/lodash@4.17.21", cataloger="node", licenses=("MIT",),
            locations=(Location("/usr/share/nodejs/lodash/package.json", BASE),),
            introduced_by=BASE, owned_by="apk:nodejs-lodash",
        ),
        Package(
            name="stdlib", version="go1.21.5", type=PackageType.GO_MODULE,
            purl="pkg:golang/stdlib@go1.21.5", cataloger="go-binary",
            locations=(Location("/usr/bin/app", APP),), introduced_by=APP,
            metadata=(("go_toolchain", "go1.21.5"), ("main_module", "example.org/app")),
        ),
        # Hostile text from an image: control characters must not break outputs.
        Package(
            name="evil\x1b[31mname", version="1.0\n2", type=PackageType.PYTHON,
            purl="pkg:pypi/evil-name@1.0", cataloger="python",
            locations=(Location("/srv/evil/METADATA", APP),), introduced_by=APP,
        ),
    )


def sample_sbom(digest: Digest | None = DIGEST) -> Sbom:
    return Sbom(
        image=image(digest),
        distro=Distro("alpine", "3.18.9", "", "Alpine Linux v3.18"),
        packages=packages(),
        statuses=(PluginStatus("apk", Status.OK, 1, 4), PluginStatus("python", Status.PARTIAL,
                  4, 4, "1 METADATA file unreadable")),
        warnings=("/srv/broken.dist-info/METADATA: not UTF-8",),
        tool="hullguard", tool_version="0.1.0",
    )
