"""The demo fleet's images, built at run time as real docker-archive files.

They share one Alpine-style base layer (old musl/openssl/busybox versions, so the bundled Alpine
advisories apply) and add small application layers with real package metadata: Python
dist-info directories, node_modules package.json files, and one leaked credential that a later
layer deletes (what the secrets stage must still find).
"""

from __future__ import annotations

import json
from pathlib import Path

from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec, write_docker_archive

BASE_REF = "docker.io/library/alpine:3.10"
SITE = "usr/lib/python3.7/site-packages"

# name, version, origin: the apk packages of the demo base (versions before Alpine's fixes).
APK_PACKAGES = (
    ("musl", "1.1.22-r2", "musl"),
    ("busybox", "1.30.1-r1", "busybox"),
    ("alpine-baselayout", "3.1.2-r0", "alpine-baselayout"),
    ("libcrypto1.1", "1.1.1c-r0", "openssl"),
    ("libssl1.1", "1.1.1c-r0", "openssl"),
    ("zlib", "1.2.11-r1", "zlib"),
    ("apk-tools", "2.10.4-r2", "apk-tools"),
    ("ca-certificates-cacert", "20190108-r0", "ca-certificates"),
)

OS_RELEASE = (
    'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.10.2\nPRETTY_NAME="Alpine Linux v3.10"\n'
    'HOME_URL="https://alpinelinux.org/"\n'
)

# A fake key in AWS's documented example format: it must be found, and never printed in clear.
LEAKED_ENV = "AWS_ACCESS_KEY_ID=AKIAQ4DEMOKEY7EXAMPL\nAWS_SECRET_ACCESS_KEY=" \
             "wJalrXUtnFEMI/K7MDENG/bPxRfiCYDEMOKEY0q2\n"


def _apk_db() -> bytes:
    records = []
    for name, version, origin in APK_PACKAGES:
        records.append(f"C:Q1demo{name}=\nP:{name}\nV:{version}\nA:x86_64\nS:1\nI:1\n"
                       f"T:{name} (demo)\nU:https://alpinelinux.org\nL:MIT\no:{origin}\n"
                       f"F:usr/share/doc/{name}\nR:README\n")
    return "\n".join(records).encode() + b"\n"


def _base_layer() -> LayerSpec:
    files = (
        FileSpec("bin", kind="dir", mode=0o755),
        FileSpec("bin/busybox", b"\x7fELF demo busybox", mode=0o755),
        FileSpec("bin/sh", kind="symlink", linkname="/bin/busybox"),
        FileSpec("etc", kind="dir", mode=0o755),
        FileSpec("etc/alpine-release", b"3.10.2\n"),
        FileSpec("etc/os-release", OS_RELEASE.encode()),
        FileSpec("lib/apk/db/installed", _apk_db()),
    )
    return LayerSpec(files, created_by="ADD alpine-minirootfs-3.10.2-x86_64.tar.gz / # demo")


def _python_layer(packages: tuple[tuple[str, str, str], ...], command: str) -> LayerSpec:
    files = []
    for name, version, license_name in packages:
        meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nLicense: {license_name}\n"
        files.append(FileSpec(f"{SITE}/{name}-{version}.dist-info/METADATA", meta.encode()))
    return LayerSpec(tuple(files), created_by=command)


def _node_layer(packages: tuple[tuple[str, str], ...]) -> LayerSpec:
    files = []
    for name, version in packages:
        manifest = {"name": name, "version": version, "license": "MIT"}
        files.append(FileSpec(f"srv/node_modules/{name}/package.json",
                              json.dumps(manifest).encode()))
    return LayerSpec(tuple(files), created_by="RUN cd /srv && npm ci")


def _app_layer(path: str, text: str, command: str) -> LayerSpec:
    return LayerSpec((FileSpec(path, text.encode()),), created_by=command)


def demo_images() -> dict[str, ImageSpec]:
    """Reference -> image spec for every image the demo fleet can pull."""
    base = _base_layer()
    web_deps = (("requests", "2.19.1", "Apache 2.0"), ("urllib3", "1.24.1", "MIT"),
                ("Jinja2", "2.10", "BSD"))
    return {
        BASE_REF: ImageSpec([base], config={"Cmd": ["/bin/sh"]}),
        "registry.shop.internal/shop/web:1.4.2": ImageSpec([
            base,
            _python_layer(web_deps, "RUN pip3 install -r /tmp/requirements.txt"),
            _app_layer("app/.env", LEAKED_ENV, "COPY . /app"),
            LayerSpec((FileSpec("app/.wh..env"),), created_by="RUN rm /app/.env"),
            _app_layer("app/shop/web.py", "print('shop')\n", "COPY app /app"),
        ], config={"Cmd": ["python3", "-m", "shop.web"], "WorkingDir": "/app"}),
        "registry.shop.internal/shop/worker:2.0.1": ImageSpec([
            base,
            _python_layer((("PyYAML", "5.3", "MIT"),), "RUN pip3 install PyYAML==5.3"),
            _app_layer("app/worker.py", "print('worker')\n", "COPY worker.py /app/"),
        ], config={"Cmd": ["python3", "/app/worker.py"], "User": "1000"}),
        "registry.shop.internal/shop/frontend:3.2.0": ImageSpec([
            base,
            _node_layer((("lodash", "4.17.15"), ("minimist", "1.2.0"))),
        ], config={"Cmd": ["node", "/srv/server.js"], "User": "1000"}),
    }


def build_demo_images(out: Path) -> dict[str, str]:
    """Write every demo image as a docker-archive under ``out``; reference -> source string."""
    out.mkdir(parents=True, exist_ok=True)
    sources = {}
    for ref, spec in demo_images().items():
        name = ref.rsplit("/", 1)[-1].replace(":", "-")
        tag = ref.removeprefix("docker.io/library/")  # docker save's RepoTags spelling
        path = write_docker_archive(out / f"{name}.tar", spec, tag)
        sources[ref] = f"docker-archive:{path}"
    return sources


DATA = Path(__file__).parent / "data"
FLEET_DIR = DATA / "fleet"
ADVISORIES_DIR = DATA / "advisories"
