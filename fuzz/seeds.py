"""Realistic seeds, built by code: small but complete documents of every format the harnesses
mutate. They follow the real formats (field names, nesting, encodings) so mutations reach the
deep paths of each parser, not only its first type check."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import struct
import tarfile
import zipfile
from functools import cache
from typing import Any

D1 = "sha256:" + "a" * 64
D2 = "sha256:" + "b" * 64
D3 = "sha256:" + "c" * 64

# ---------------------------------------------------------------------------- images

OCI_MANIFEST = {
    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": D1,
               "size": 1234},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": D2,
                "size": 5678, "annotations": {"org.opencontainers.image.title": "l"}}],
    "annotations": {"org.opencontainers.image.created": "2024-01-01T00:00:00Z"},
}
DOCKER_MANIFEST = {
    "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": D1,
               "size": 1469},
    "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "digest": D2, "size": 3370628}],
}
OCI_INDEX = {
    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": D1, "size": 528,
         "platform": {"architecture": "amd64", "os": "linux"},
         "annotations": {"org.opencontainers.image.ref.name": "latest"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": D2, "size": 528,
         "platform": {"architecture": "arm64", "os": "linux", "variant": "v8",
                      "os.features": ["x"]}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": D3, "size": 840,
         "platform": {"architecture": "unknown", "os": "unknown"},
         "annotations": {"vnd.docker.reference.type": "attestation-manifest",
                         "vnd.docker.reference.digest": D1}},
    ],
}
IMAGE_CONFIG = {
    "architecture": "amd64", "os": "linux", "created": "2023-11-14T22:13:20Z",
    "config": {"User": "app", "Env": ["PATH=/usr/bin", "SECRET_TOKEN=x"],
               "Entrypoint": ["/bin/sh", "-c"], "Cmd": ["run"], "WorkingDir": "/app",
               "ExposedPorts": {"80/tcp": {}}, "Labels": {"maintainer": "me"},
               "Healthcheck": {"Test": ["CMD", "true"]}, "Volumes": {"/data": {}}},
    "rootfs": {"type": "layers", "diff_ids": [D2, D3]},
    "history": [{"created": "2023-11-14T22:13:20Z", "created_by": "ADD rootfs /"},
                {"created_by": "RUN true", "empty_layer": True},
                {"created_by": "COPY app /app", "comment": "buildkit"}],
}
DOCKER_ARCHIVE_MANIFEST = [
    {"Config": "CONFIG.json", "RepoTags": ["demo:latest", "demo:1"], "Layers": ["LAYER"],
     "LayerSources": {D2: {"mediaType": "application/vnd.oci.image.layer.v1.tar",
                           "size": 1, "digest": D2}}},
]


def _tar(members: list[tarfile.TarInfo | tuple[tarfile.TarInfo, bytes]], fmt: int) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:
        for member in members:
            info, data = member if isinstance(member, tuple) else (member, b"")
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buffer.getvalue()


def _info(name: str, kind: bytes = tarfile.REGTYPE, link: str = "", **pax: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode, info.mtime = kind, link, 0o755, 1_700_000_000
    info.pax_headers = dict(pax)
    return info


@cache
def layer_tars() -> list[bytes]:
    """Layers in PAX and GNU format: dirs, files, links, whiteouts, long names, pax records."""
    long = "usr/" + "d" * 120 + "/file"
    members: list[tarfile.TarInfo | tuple[tarfile.TarInfo, bytes]] = [
        _info("etc/", tarfile.DIRTYPE),
        (_info("etc/os-release"), b"ID=alpine\nVERSION_ID=3.19.1\n"),
        (_info("./usr/bin/app"), b"\x7fELF" + bytes(60)),
        _info("usr/bin/sh", tarfile.SYMTYPE, "/bin/busybox"),
        _info("usr/bin/hard", tarfile.LNKTYPE, "usr/bin/app"),
        _info("var/.wh.cache"), _info("opt/.wh..wh..opq"),
        (_info(long), b"long name"),
        _info("dev/null", tarfile.CHRTYPE),
        (_info("root/.aws/credentials", mtime="1700000000.5", uid="0",
               comment="x"), b"[default]\naws_secret_access_key=x\n"),
    ]
    return [_tar(members, tarfile.PAX_FORMAT), _tar(members, tarfile.GNU_FORMAT),
            _tar(members[:3], tarfile.USTAR_FORMAT)]


def header_offsets(data: bytes) -> list[int]:
    """Offsets of the 512-byte blocks that carry a ustar magic (tar headers)."""
    return [at for at in range(0, len(data) - 511, 512) if data[at + 257:at + 262] == b"ustar"]


def fix_checksums(data: bytes) -> bytes:
    """Recompute every tar header checksum, so mutations reach past the checksum test."""
    out = bytearray(data)
    for at in header_offsets(data):
        out[at + 148:at + 156] = b" " * 8
        out[at + 148:at + 156] = b"%06o\0 " % sum(out[at:at + 512])
    return bytes(out)


# ---------------------------------------------------------------------------- packages

APK_DB = """C:Q1abcdefghijklmnopqrstuvwxyz0=
P:musl
V:1.2.4_git20230717-r4
A:x86_64
S:383152
I:622592
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Timo Teräs <timo.teras@iki.fi>
t:1705422222
c:f93af038c3de7146121c2ea8124ba5ce29b4b058
p:so:libc.musl-x86_64.so.1=1
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1bcdefghijklmnopqrstuvwxyz01=
R:libc.musl-x86_64.so.1

C:Q1zyxwvutsrqponmlkjihgfedcba0=
P:busybox
V:1.36.1-r15
A:x86_64
L:GPL-2.0-only
o:busybox
D:so:libc.musl-x86_64.so.1
F:bin
R:busybox
F:etc
R:securetty
"""
DPKG_STATUS = """Package: base-files
Essential: yes
Status: install ok installed
Priority: required
Section: admin
Installed-Size: 341
Maintainer: Santiago Vila <sanvila@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 12.4+deb12u5
Replaces: base, dpkg (<= 1.15.0), miscutils
Provides: base
Conffiles:
 /etc/debian_version 1b3f0e4b4f1e0e9a0e4d2d4b6f8a0c2e
Description: Debian base system miscellaneous files
 This package contains the basic filesystem hierarchy.
 .
 More text.

Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl (3.0.11-1~deb12u2)
Version: 3.0.11-1~deb12u2
Depends: libc6 (>= 2.34)
"""
PY_METADATA = """Metadata-Version: 2.1
Name: requests
Version: 2.31.0
Summary: Python HTTP for Humans.
Home-page: https://requests.readthedocs.io
Author: Kenneth Reitz
License: Apache 2.0
License-Expression: Apache-2.0
Classifier: License :: OSI Approved :: Apache Software License
Requires-Python: >=3.7
Requires-Dist: charset-normalizer (<4,>=2)
Requires-Dist: idna (<4,>=2.5)

Body text of the description.
"""
JAR_MANIFEST = ("Manifest-Version: 1.0\r\nCreated-By: Maven\r\nBundle-SymbolicName: org.apache"
                ".commons.lang3\r\nBundle-Version: 3.12.0\r\nImplementation-Title: Apache Commo"
                "ns Lang\r\n Continued\r\nImplementation-Version: 3.12.0\r\nImplementation-Vendor"
                "-Id: org.apache.commons\r\nSpecification-Version: 3.12\r\n\r\nName: x/\r\nA: b"
                "\r\n")
POM_PROPERTIES = ("#Generated by Maven\n#Tue Feb 23 2021\ngroupId=org.apache.commons\n"
                  "artifactId=commons-lang3\nversion=3.12.0\n")
GEMSPEC = '''# -*- encoding: utf-8 -*-
# stub: rack 2.2.8 ruby lib

Gem::Specification.new do |s|
  s.name = "rack".freeze
  s.version = "2.2.8"
  s.required_rubygems_version = Gem::Requirement.new(">= 0".freeze) if s.respond_to? :x
  s.authors = ["Leah Neukirchen".freeze]
  s.licenses = ["MIT".freeze]
  s.homepage = "https://github.com/rack/rack".freeze
  s.summary = "a modular Ruby webserver interface".freeze
end
'''
OS_RELEASE = ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
              'VERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n'
              'ID_LIKE="rhel centos fedora"\nHOME_URL="https://www.debian.org/"\n')
NPM_PACKAGE = {
    "name": "@scope/lodash", "version": "4.17.21", "license": "MIT",
    "licenses": [{"type": "MIT", "url": "x"}], "author": {"name": "a", "email": "b"},
    "repository": {"type": "git", "url": "git+https://github.com/lodash/lodash.git"},
    "dependencies": {"minimist": "^1.2.0"}, "_resolved": "https://registry.npmjs.org/x.tgz",
    "_integrity": "sha512-abc", "private": False,
}
DOTNET_DEPS = {
    "runtimeTarget": {"name": ".NETCoreApp,Version=v8.0", "signature": ""},
    "targets": {".NETCoreApp,Version=v8.0": {
        "app/1.0.0": {"dependencies": {"Newtonsoft.Json": "13.0.1"}, "runtime": {"app.dll": {}}},
        "Newtonsoft.Json/13.0.1": {"runtime": {"lib/net6.0/Newtonsoft.Json.dll": {
            "assemblyVersion": "13.0.0.0", "fileVersion": "13.0.1.25517"}}}}},
    "libraries": {
        "app/1.0.0": {"type": "project", "serviceable": False, "sha512": ""},
        "Newtonsoft.Json/13.0.1": {"type": "package", "serviceable": True,
                                   "sha512": "sha512-ppPFpBcvxdsfUonNcvITKqLl3bqxWbDCZIzDWHzjpdAH",
                                   "path": "newtonsoft.json/13.0.1",
                                   "hashPath": "newtonsoft.json.13.0.1.nupkg.sha512"}},
}
COMPOSER_INSTALLED = {
    "packages": [
        {"name": "monolog/monolog", "version": "3.5.0", "version_normalized": "3.5.0.0",
         "license": ["MIT"], "type": "library",
         "source": {"type": "git", "url": "https://github.com/Seldaek/monolog.git",
                    "reference": "c915e2634718dbc8a4a15c61b0e62e7a44e14448"},
         "dist": {"type": "zip", "url": "https://api.github.com/x", "shasum": ""},
         "install-path": "../monolog/monolog"},
        {"name": "psr/log", "version": "v3.0.0", "license": "MIT"},
    ],
    "dev": True, "dev-package-names": [],
}


def _varint_string(text: bytes) -> bytes:
    size, out = len(text), bytearray()
    while True:
        byte, size = size & 0x7F, size >> 7
        out.append(byte | (0x80 if size else 0))
        if not size:
            return bytes(out) + text


GO_MODINFO = ("path\texample.com/app\nmod\texample.com/app\tv1.2.3\th1:abc=\n"
              "dep\tgithub.com/pkg/errors\tv0.9.1\th1:errs=\n"
              "dep\tgolang.org/x/net\tv0.17.0\n=>\tgolang.org/x/net\tv0.0.1\th1:r=\n"
              "dep\t../local\t(devel)\t\nbuild\t-compiler=gc\nbuild\tCGO_ENABLED=0\n")


@cache
def go_binaries() -> list[bytes]:
    """ELF-headed files with an inline (Go >= 1.18) build-info blob at a 16-byte boundary."""
    sentinel = bytes(range(16))
    out = []
    for modinfo in (GO_MODINFO, "path\tx\nmod\tx\t(devel)\t\n"):
        header = b"\xff Go buildinf:" + b"\x08\x02" + bytes(16)
        blob = header + _varint_string(b"go1.21.5") + _varint_string(
            sentinel + modinfo.encode() + sentinel)
        head = b"\x7fELF\x02\x01\x01" + bytes(57)
        out.append(head + bytes(4096 - len(head)) + blob + bytes(512))
    return out


def rpm_header(fields: dict[int, tuple[int, Any]]) -> bytes:
    """An rpm header blob (big-endian index entries + data store) of ``fields``:
    tag -> (type, value) with type 4 int32 list, 6 string, 8 string array."""
    index, store = b"", b""
    for tag, (kind, value) in sorted(fields.items()):
        if kind == 4:
            store += bytes(-len(store) % 4)
            data, count = struct.pack(f">{len(value)}i", *value), len(value)
        elif kind == 6:
            data, count = value.encode() + b"\0", 1
        else:
            data, count = b"".join(v.encode() + b"\0" for v in value), len(value)
        index += struct.pack(">iiii", tag, kind, len(store), count)
        store += data
    return struct.pack(">ii", len(fields), len(store)) + index + store


RPM_FIELDS: dict[int, tuple[int, Any]] = {
    1000: (6, "bash"), 1001: (6, "5.1.8"), 1002: (6, "6.el9"), 1003: (4, [1]),
    1014: (6, "GPLv3+"), 1022: (6, "x86_64"), 1044: (6, "bash-5.1.8-6.el9.src.rpm"),
    1011: (6, "Red Hat, Inc."), 1116: (4, [0, 0, 1]), 1117: (8, ["bash", "sh", "bashrc"]),
    1118: (8, ["/usr/bin/", "/etc/"]),
}


@cache
def rpm_headers() -> list[bytes]:
    return [rpm_header(RPM_FIELDS), rpm_header({1000: (6, "gpg-pubkey"), 1001: (6, "1")})]


@cache
def rpm_sqlite() -> bytes:
    """An rpmdb.sqlite with the table rpm 4.16+ writes (Packages: hnum, blob)."""
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, "
                       "blob BLOB NOT NULL)")
    connection.executemany("INSERT INTO Packages (blob) VALUES (?)",
                           [(blob,) for blob in rpm_headers()])
    connection.commit()
    data = connection.serialize()
    connection.close()
    return bytes(data)


@cache
def rpm_bdb() -> bytes:
    """A BerkeleyDB hash file (page size 512): meta page, one hash page holding two
    off-page items, and overflow chains carrying the header blobs."""
    page_size, blobs = 512, rpm_headers()
    pages: list[bytes] = []
    meta = bytearray(page_size)
    struct.pack_into("<III", meta, 12, 0x061561, 9, page_size)
    meta[25] = 8
    pages.append(bytes(meta))
    hash_page = bytearray(page_size)
    hash_page[25] = 13
    overflow: list[bytes] = []
    items, offset = [], page_size
    first = 2
    for blob in blobs:
        chunks = [blob[i:i + page_size - 26] for i in range(0, len(blob), page_size - 26)]
        offset -= 12
        item = bytearray(12)
        item[0] = 3
        struct.pack_into("<II", item, 4, first + len(overflow), len(blob))
        hash_page[offset:offset + 12] = item
        items += [offset, offset]  # key and value (the reader takes the odd ones)
        for number, chunk in enumerate(chunks):
            page = bytearray(page_size)
            page[25] = 7
            last = number == len(chunks) - 1
            struct.pack_into("<I", page, 16, 0 if last else first + len(overflow) + 1)
            struct.pack_into("<H", page, 22, len(chunk))
            page[26:26 + len(chunk)] = chunk
            overflow.append(bytes(page))
    struct.pack_into("<H", hash_page, 20, len(items))
    struct.pack_into(f"<{len(items)}H", hash_page, 26, *items)
    return b"".join([*pages, bytes(hash_page), *overflow])


@cache
def jars() -> list[bytes]:
    """A jar with MANIFEST.MF and pom.properties, and a fat jar nesting it."""
    def zipped(members: dict[str, bytes]) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in members.items():
                archive.writestr(name, data)
        return buffer.getvalue()

    inner = zipped({"META-INF/MANIFEST.MF": JAR_MANIFEST.encode(),
                    "META-INF/maven/org.apache.commons/commons-lang3/pom.properties":
                        POM_PROPERTIES.encode(), "org/x.class": b"\xca\xfe\xba\xbe"})
    fat = zipped({"META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\r\nMain-Class: a.B\r\n",
                  "BOOT-INF/lib/commons-lang3-3.12.0.jar": inner})
    return [inner, fat]


# ---------------------------------------------------------------------------- inventory

K8S_YAML = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web}
  annotations:
    a: b
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      initContainers:
      - name: init
        image: busybox:1.36
      containers:
      - name: web
        image: registry.example.com/shop/web@sha256:""" + "a" * 64 + """
        ports:
        - containerPort: 80
        env:
        - name: TOKEN
          value: &tok x
        - name: COPY
          value: *tok
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /
        backend: {service: {name: web}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 0 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: job, image: "alpine:3.19"}]
"""
COMPOSE_YAML = """name: shop
services:
  web:
    image: ${REGISTRY:-docker.io}/shop/web:${TAG:?tag required}
    build:
      context: ./web
      dockerfile: Dockerfile
      args:
        BASE: alpine:3.19
    ports:
      - "8080:80"
      - target: 443
        published: "8443"
    environment:
      - SECRET=$${not_interpolated}
    env_file: .env
  db:
    image: postgres:16
    volumes: [data:/var/lib/postgresql/data]
volumes:
  data: {}
"""
DOCKERFILE = """# syntax=docker/dockerfile:1
# escape=\\
ARG BASE=alpine:3.19
FROM ${BASE} AS build
ARG VERSION
RUN apk add --no-cache curl \\
    && echo done
COPY --from=golang:1.22 /usr/local/go /go
RUN <<EOF
echo heredoc
EOF
FROM --platform=$BUILDPLATFORM scratch
COPY --from=build /bin/app /app
USER 1000:1000
HEALTHCHECK CMD ["/app", "health"]
ENTRYPOINT ["/app"]
"""
KUBECTL_LIST = {"apiVersion": "v1", "kind": "List", "items": [
    {"apiVersion": "v1", "kind": "Pod",
     "metadata": {"name": "web-1", "namespace": "shop", "labels": {"app": "web"},
                  "ownerReferences": [{"kind": "ReplicaSet", "name": "web-5d4f"}]},
     "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]},
     "status": {"containerStatuses": [{"name": "web", "imageID":
                                       "docker.io/library/nginx@" + D1}]}}]}

# ---------------------------------------------------------------------------- vulnerability feeds

OSV_RECORD = {
    "schema_version": "1.6.0", "id": "GHSA-xxxx-yyyy-zzzz", "modified": "2024-01-01T00:00:00Z",
    "published": "2023-01-01T00:00:00Z", "aliases": ["CVE-2023-1234"],
    "summary": "bad thing", "details": "long text",
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
    "affected": [{
        "package": {"ecosystem": "PyPI", "name": "Requests_X", "purl": "pkg:pypi/requests-x"},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.31.0"}]},
                   {"type": "GIT", "repo": "https://x", "events": [{"introduced": "abc"}]}],
        "versions": ["2.0.0", "2.1.0"],
        "database_specific": {"severity": "HIGH"},
        "ecosystem_specific": {"affects": {"arch": ["x86"]}}},
        {"package": {"ecosystem": "Alpine:v3.19", "name": "openssl"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"},
                                                     {"last_affected": "3.1.4-r0"}]}]}],
    "references": [{"type": "WEB", "url": "https://example.com"}],
    "database_specific": {"severity": "HIGH", "cwe_ids": ["CWE-79"]},
}
ALPINE_SECDB = {
    "distroversion": "v3.19", "reponame": "main", "urlprefix": "https://dl-cdn.alpinelinux.org",
    "archs": ["x86_64", "aarch64"],
    "packages": [{"pkg": {"name": "openssl", "secfixes": {
        "3.1.4-r1": ["CVE-2023-5678", "CVE-2023-5363 GHSA-xxxx"], "0": ["CVE-2020-0001"]}}},
                 {"pkg": {"name": "musl", "secfixes": {"1.2.4-r2": ["CVE-2020-28928"]}}}],
}
NVD_FEED = {
    "resultsPerPage": 1, "startIndex": 0, "totalResults": 1, "format": "NVD_CVE",
    "version": "2.0", "timestamp": "2024-01-01T00:00:00.000",
    "vulnerabilities": [{"cve": {
        "id": "CVE-2023-1234", "sourceIdentifier": "x", "published": "2023-01-01T00:00:00.000",
        "metrics": {
            "cvssMetricV31": [{"source": "nvd@nist.gov", "type": "Primary", "cvssData": {
                "version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                "baseScore": 9.8, "baseSeverity": "CRITICAL"}, "exploitabilityScore": 3.9}],
            "cvssMetricV2": [{"source": "nvd@nist.gov", "type": "Primary", "cvssData": {
                "version": "2.0", "vectorString": "AV:N/AC:L/Au:N/C:P/I:P/A:P",
                "baseScore": 7.5}, "baseSeverity": "HIGH"}]}}}],
}
KEV_FEED = {
    "title": "CISA KEV", "catalogVersion": "2024.01.01", "dateReleased": "2024-01-01",
    "count": 1, "vulnerabilities": [{
        "cveID": "CVE-2021-44228", "vendorProject": "Apache", "product": "Log4j2",
        "dateAdded": "2021-12-10", "dueDate": "2021-12-24",
        "knownRansomwareCampaignUse": "Known"}],
}
DEBIAN_TRACKER = {
    "openssl": {
        "CVE-2023-5678": {"description": "x", "scope": "local", "releases": {
            "bookworm": {"status": "resolved", "repositories": {"bookworm": "3.0.11-1"},
                         "fixed_version": "3.0.13-1~deb12u1", "urgency": "not yet assigned"},
            "bullseye": {"status": "open", "repositories": {"bullseye": "1.1.1w-0"},
                         "urgency": "low", "nodsa": "Minor issue"},
            "sid": {"status": "resolved", "fixed_version": "0", "urgency": "unimportant"}}},
        "TEMP-0000000-ABCDEF": {"releases": {"bookworm": {"status": "undetermined"}}}},
}
EPSS_CSV = ("#model_version:v2023.03.01,score_date:2024-01-01T00:00:00+0000\n"
            "cve,epss,percentile\nCVE-2021-44228,0.97565,0.99996\nCVE-2023-1234,0.00043,0.0812\n")
PYPA_YAML = """id: PYSEC-2020-342
modified: 2023-11-07T20:24:23.946863Z
published: 2020-08-05T14:15:00Z
aliases:
- CVE-2020-13921
details: 'SQL injection'
affected:
- package:
    ecosystem: PyPI
    name: apache-skywalking
  ranges:
  - type: ECOSYSTEM
    events:
    - introduced: "0"
    - fixed: 8.0.0
  versions:
  - 0.1.0
severity:
- type: CVSS_V3
  score: CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H
references:
- type: WEB
  url: https://github.com/apache/skywalking/pull/4970
"""

# ---------------------------------------------------------------------------- SBOM, VEX, ignore

CYCLONEDX = {
    "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
    "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
    "metadata": {
        "timestamp": "2024-01-01T00:00:00Z",
        "tools": {"components": [{"type": "application", "name": "syft", "version": "1.18.1"}]},
        "component": {"type": "container", "name": "alpine:3.19", "version": D1,
                      "bom-ref": "img", "properties": [
                          {"name": "hullguard:image:platform", "value": "linux/amd64"},
                          {"name": "hullguard:image:layer", "value": D2}]}},
    "components": [
        {"type": "library", "name": "musl", "version": "1.2.4-r2", "bom-ref": "musl",
         "purl": "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.19.1",
         "licenses": [{"license": {"id": "MIT"}}, {"expression": "MIT OR Apache-2.0"}],
         "properties": [{"name": "syft:location:0:path", "value": "/lib/apk/db/installed"},
                        {"name": "syft:location:0:layerID", "value": D2}],
         "components": [{"type": "library", "name": "inner", "version": "1",
                         "purl": "pkg:pypi/inner@1"}]},
        {"type": "operating-system", "name": "alpine", "version": "3.19.1"},
    ],
    "dependencies": [{"ref": "img", "dependsOn": ["musl"]}],
}
SPDX = {
    "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
    "name": "alpine", "documentNamespace": "https://example.com/x",
    "creationInfo": {"created": "2024-01-01T00:00:00Z", "creators": ["Tool: syft-1.18.1"]},
    "documentDescribes": ["SPDXRef-image"],
    "packages": [
        {"SPDXID": "SPDXRef-image", "name": "alpine:3.19", "versionInfo": D1,
         "primaryPackagePurpose": "CONTAINER", "downloadLocation": "NOASSERTION",
         "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                           "referenceLocator": "pkg:oci/alpine@" + D1.replace(":", "%3A")}]},
        {"SPDXID": "SPDXRef-musl", "name": "musl", "versionInfo": "1.2.4-r2",
         "licenseConcluded": "MIT", "licenseDeclared": "LicenseRef-x AND MIT",
         "sourceInfo": "acquired package info from APK DB: /lib/apk/db/installed",
         "downloadLocation": "NOASSERTION",
         "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                           "referenceLocator": "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64"}]},
    ],
    "files": [{"SPDXID": "SPDXRef-f", "fileName": "/lib/apk/db/installed"}],
    "relationships": [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
                       "relatedSpdxElement": "SPDXRef-image"},
                      {"spdxElementId": "SPDXRef-image", "relationshipType": "CONTAINS",
                       "relatedSpdxElement": "SPDXRef-musl"}],
    "hasExtractedLicensingInfos": [{"licenseId": "LicenseRef-x", "extractedText": "x",
                                    "name": "X License"}],
}
OPENVEX = {
    "@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1",
    "author": "me", "timestamp": "2024-01-01T00:00:00Z", "version": 1,
    "statements": [
        {"vulnerability": {"name": "CVE-2023-1234", "aliases": ["GHSA-x"]},
         "products": [{"@id": "pkg:oci/web@" + D1, "subcomponents": [
             {"@id": "pkg:pypi/requests@2.31.0"}]}],
         "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"},
        {"vulnerability": {"name": "CVE-2023-9"}, "products": ["pkg:apk/alpine/musl"],
         "status": "fixed"},
        {"vulnerability": "CVE-2023-8", "status": "not_affected", "impact_statement": "x"},
    ],
}
CYCLONEDX_VEX = {
    "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
    "components": [{"bom-ref": "musl", "purl": "pkg:apk/alpine/musl@1.2.4-r2"}],
    "vulnerabilities": [
        {"id": "CVE-2023-1234", "references": [{"id": "GHSA-x"}],
         "analysis": {"state": "not_affected", "justification": "code_not_reachable",
                      "detail": "x"},
         "affects": [{"ref": "musl"}, {"ref": "urn:cdx:1234/1#musl"}, {"ref": "pkg:npm/x"}]},
        {"id": "CVE-2023-9", "analysis": {"state": "exploitable"}},
    ],
}
IGNORE_YAML = """# hullguard ignore file
ignore:
  - id: CVE-2023-1234
    package: pkg:pypi/requests
    reason: not reachable
    expires: 2026-12-31
  - id: GHSA-xxxx-yyyy-zzzz
    reason: accepted risk
  - id: CVE-2020-*
    package: pkg:apk/alpine/musl@1.2.4-r2
    reason: x
    expires: "2099-01-01"
"""

# ---------------------------------------------------------------------------- registry auth

CHALLENGES = [
    'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
    'scope="repository:library/alpine:pull"',
    'Basic realm="Registry Realm"',
    'Bearer realm="https://ghcr.io/token", service="ghcr.io", '
    'scope="repository:x/y:pull,push", Basic realm="r", Negotiate',
    'Bearer realm="https://x/token",error="invalid_token",error_description="a \\"b\\" c"',
]


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def pretty(doc: Any) -> str:
    return json.dumps(doc, indent=1)
