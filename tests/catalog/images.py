"""Slow real-world test images for the accuracy tests (built once per session).

- ``debian_minbase``: Debian bookworm from Debian's own packages via mmdebstrap.
- ``application_image``: a Debian base layer with files copied from this machine's Debian
  packages (skopeo, commons-lang3.jar, node-lodash, with their dpkg records) and an
  application layer of old PyPI and npm packages installed for real.
"""

from __future__ import annotations

import os
import subprocess
import tarfile
import time
from pathlib import Path

from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec, write_docker_archive
from tests.support.env import missing, tool

PIP_PACKAGES = ("requests==2.19.1", "urllib3==1.24.1", "Jinja2==2.10", "idna==2.7",
                "chardet==3.0.4", "six==1.11.0")
NPM_PACKAGES = ("lodash@4.17.15", "minimist@1.2.0", "left-pad@1.3.0")
DEBIAN_PACKAGES = ("node-lodash", "libcommons-lang3-java", "skopeo")
SITE = "usr/local/lib/python3.11/site-packages"


def debian_minbase(out: Path) -> tuple[Path, Path]:
    """``mmdebstrap --variant=minbase`` bookworm wrapped as a one-layer docker-archive;
    returns the archive and the root filesystem tar."""
    rootfs = out / "bookworm.tar"
    command = [tool("mmdebstrap"), "--variant=minbase", "--format=tar", "--quiet",
               "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr", "bookworm", str(rootfs)]
    for attempt in range(2):  # apt-get update fails now and then (mirror sync, apt locks)
        done = subprocess.run(command, capture_output=True, text=True,
                              env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"})
        if done.returncode == 0:
            break
        time.sleep(5 * (attempt + 1))
    else:
        missing(f"mmdebstrap could not build bookworm here: {done.stderr[-600:]}")
    layer = LayerSpec(tar=rootfs.read_bytes(), created_by="mmdebstrap --variant=minbase")
    archive = write_docker_archive(out / "debian.tar", ImageSpec([layer]), "bookworm:minbase")
    return archive, rootfs


def machine_dpkg_image(out: Path) -> Path:
    """This Debian machine's own package database (status and info/*.list) and os-release
    as a one-layer image: a large real dpkg database (the issue's ``dir:`` variant)."""
    info = Path("/var/lib/dpkg/info")
    files = [FileSpec("etc/os-release", Path("/etc/os-release").read_bytes()),
             FileSpec("var/lib/dpkg/status", Path("/var/lib/dpkg/status").read_bytes())]
    files += [FileSpec(f"var/lib/dpkg/info/{p.name}", p.read_bytes())
              for p in sorted(info.glob("*.list"))]
    spec = ImageSpec([LayerSpec(tuple(files), created_by="COPY /var/lib/dpkg")])
    return write_docker_archive(out / "machine-dpkg.tar", spec, "machine:dpkg")


def extract_dpkg_admindir(archive_rootfs: Path, out: Path) -> Path:
    """Only var/lib/dpkg of a root filesystem tar, for dpkg-query's --admindir."""
    with tarfile.open(archive_rootfs) as tar:
        members = [m for m in tar if m.name.lstrip("./").startswith("var/lib/dpkg/")
                   and (m.isfile() or m.isdir())]
        tar.extractall(out, members=members, filter="data")
    return out / "var" / "lib" / "dpkg"


def _files_of(package: str) -> list[FileSpec]:
    listing = subprocess.run(["dpkg-query", "-L", package], capture_output=True, text=True,
                             check=True).stdout.split("\n")
    specs = []
    for path in listing:
        local = Path(path)
        if not path.startswith("/usr/") or (not local.exists() and not local.is_symlink()):
            continue
        if local.is_symlink():
            specs.append(FileSpec(path[1:], kind="symlink", linkname=os.readlink(local)))
        elif local.is_file():
            specs.append(FileSpec(path[1:], local.read_bytes(), mode=local.stat().st_mode & 0o777))
    return specs


def _dpkg_records(packages: tuple[str, ...]) -> list[FileSpec]:
    status = Path("/var/lib/dpkg/status").read_text()
    stanzas = [s for s in status.split("\n\n")
               if any(s.startswith(f"Package: {name}\n") for name in packages)]
    specs = [FileSpec("var/lib/dpkg/status", ("\n\n".join(stanzas) + "\n").encode())]
    for name in packages:
        info = Path(f"/var/lib/dpkg/info/{name}.list")
        specs.append(FileSpec(f"var/lib/dpkg/info/{name}.list", info.read_bytes()))
    return specs


def _tree(root: Path, prefix: str) -> list[FileSpec]:
    specs = []
    for path in sorted(root.rglob("*")):
        rel = f"{prefix}/{path.relative_to(root)}"
        if path.is_symlink():
            specs.append(FileSpec(rel, kind="symlink", linkname=os.readlink(path)))
        elif path.is_file():
            specs.append(FileSpec(rel, path.read_bytes()))
    return specs


def install_pip(out: Path) -> Path:
    target = out / "site"
    subprocess.run(["python3", "-m", "pip", "install", "--quiet", "--target", str(target),
                    "--no-deps", "--no-compile", "--only-binary=:all:",
                    "--disable-pip-version-check", *PIP_PACKAGES], check=True,
                   capture_output=True)
    return target


def install_npm(out: Path) -> Path:
    project = out / "app"
    project.mkdir()
    (project / "package.json").write_text('{"name": "demo-app", "version": "0.1.0"}')
    subprocess.run([tool("npm"), "install", "--no-audit", "--no-fund", "--ignore-scripts",
                    "--loglevel=error", *NPM_PACKAGES], cwd=project, check=True,
                   capture_output=True)
    return project


def application_image(out: Path) -> Path:
    base = [FileSpec("etc/os-release", Path("/etc/os-release").read_bytes()),
            *_dpkg_records(DEBIAN_PACKAGES)]
    for package in DEBIAN_PACKAGES:
        base += _files_of(package)
    app = _tree(install_pip(out), SITE) + _tree(install_npm(out), "app")
    spec = ImageSpec([LayerSpec(tuple(base), created_by="debian packages"),
                      LayerSpec(tuple(app), created_by="RUN pip install && npm install")])
    return write_docker_archive(out / "application.tar", spec, "app:test")
