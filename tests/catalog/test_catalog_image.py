"""The public entry points: references route to image sources, ``sbom:`` to the reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from hullguard.catalog import catalog_image
from hullguard.errors import HullguardError
from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec, write_oci_layout
from hullguard.sbom import render

PACKAGE_JSON = b'{"name": "left-pad", "version": "1.3.0", "license": "WTFPL"}'
SPEC = ImageSpec([
    LayerSpec((FileSpec("etc/os-release", b"ID=alpine\nVERSION_ID=3.18.9\n"),
               FileSpec("lib/apk/db/installed", b"P:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n\n")),
              created_by="ADD rootfs /"),
    LayerSpec((FileSpec("app/node_modules/left-pad/package.json", PACKAGE_JSON),),
              created_by="RUN npm install"),
])


def test_oci_layout_with_gzip_layers(tmp_path: Path) -> None:
    layout = write_oci_layout(tmp_path / "layout", SPEC)
    messages: list[str] = []
    sbom = catalog_image(f"oci:{layout}", on_progress=messages.append)
    assert [(p.name, p.version) for p in sbom.packages] == [("musl", "1.2.4-r2"),
                                                            ("left-pad", "1.3.0")]
    assert sbom.packages[1].created_by == "RUN npm install"
    assert sbom.image.digest is not None
    assert len(messages) == 2


def test_sbom_reference_is_read_not_cataloged(tmp_path: Path) -> None:
    layout = write_oci_layout(tmp_path / "layout", SPEC)
    original = catalog_image(f"oci:{layout}")
    document = tmp_path / "sbom.cdx.json"
    document.write_text(render(original, "cyclonedx-json"))
    again = catalog_image(f"sbom:{document}")
    assert {p.purl for p in again.packages} == {p.purl for p in original.packages}


def test_dir_source(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    (root / "usr/lib/python3/site-packages/six-1.16.0.dist-info").mkdir(parents=True)
    (root / "usr/lib/python3/site-packages/six-1.16.0.dist-info/METADATA").write_text(
        "Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n")
    sbom = catalog_image(f"dir:{root}")
    [package] = sbom.packages
    assert (package.purl, package.locations[0].layer_diff_id) == ("pkg:pypi/six@1.16.0", "")


def test_missing_image_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(HullguardError):
        catalog_image(f"docker-archive:{tmp_path / 'absent.tar'}")


def test_tampered_layer_yields_no_sbom(tmp_path: Path) -> None:
    from hullguard.errors import IntegrityError
    from hullguard.images.builder import write_docker_archive

    archive = write_docker_archive(tmp_path / "image.tar", SPEC)
    data = archive.read_bytes()
    assert data.count(b"P:musl") == 1
    archive.write_bytes(data.replace(b"P:musl", b"P:mush"))
    with pytest.raises(IntegrityError):
        catalog_image(f"docker-archive:{archive}")
