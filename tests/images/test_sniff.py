"""Local inputs: a bare existing path is sniffed (never looked up on Docker Hub), ``rootfs:``
reads a root-filesystem tarball through the layer walker, and local sources get stable names."""

from __future__ import annotations

import gzip
import io
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from hullguard.catalog import catalog_image
from hullguard.errors import InputError
from hullguard.graph.memory import image_names
from hullguard.images import FileTree, SourceOptions, open_image, parse_source
from hullguard.images.builder import (
    FileSpec,
    ImageSpec,
    LayerSpec,
    write_docker_archive,
    write_oci_archive,
    write_oci_layout,
    zstd_bytes,
)
from hullguard.sbom import render
from tests.sbom.samples import sample_sbom
from tests.support.env import alpine_tarballs

SPEC = ImageSpec([LayerSpec((FileSpec("etc/motd", b"hi\n"),))])


def _apk_names(image: str) -> set[str]:
    return {p.name for p in catalog_image(image).packages if p.type == "apk"}


def test_alpine_minirootfs_as_rootfs_and_as_a_bare_path(tmp_path: Path) -> None:
    tarball = alpine_tarballs()[-1]
    as_rootfs = _apk_names(f"rootfs:{tarball}")
    assert {"musl", "busybox", "alpine-baselayout"} <= as_rootfs
    assert parse_source(str(tarball)).kind == "rootfs"
    assert _apk_names(str(tarball)) == as_rootfs
    with open_image(f"rootfs:{tarball}") as source:
        assert source.info.source_kind == "rootfs" and len(source.info.layers) == 1
        assert source.info.digest is None and source.info.config.user == ""
        tree = FileTree()
        tree.start_layer(0)
        for entry in source.walk_layer(source.info.layers[0]):
            tree.apply(entry.info, 0)
        assert tree.visible("/etc/alpine-release") is not None


def test_rootfs_plain_and_zstd(tmp_path: Path) -> None:
    raw = gzip.decompress(alpine_tarballs()[0].read_bytes())
    plain, zst = tmp_path / "root.tar", tmp_path / "root.tar.zst"
    plain.write_bytes(raw)
    zst.write_bytes(zstd_bytes(raw))
    assert parse_source(str(plain)).kind == parse_source(str(zst)).kind == "rootfs"
    assert _apk_names(str(plain)) == _apk_names(f"rootfs:{zst}") != set()


def test_rootfs_never_leaves_the_root(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name in ("../../etc/evil", "etc/ok"):
            info = tarfile.TarInfo(name)
            info.size = 2
            tar.addfile(info, io.BytesIO(b"hi"))
    path = tmp_path / "hostile.tar"
    path.write_bytes(buffer.getvalue())
    with open_image(f"rootfs:{path}") as source:
        walk = source.walk_layer(source.info.layers[0])
        paths = [entry.info.path for entry in walk]
    assert paths == ["/etc/ok"] and any("escapes" in w for w in walk.warnings)


def test_every_local_kind_is_sniffed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docker = write_docker_archive(tmp_path / "deb.tar", SPEC, "web:2.3.1")
    oci_tar = write_oci_archive(tmp_path / "oci.tar", SPEC, tag="2.3.1")
    layout = write_oci_layout(tmp_path / "layout", SPEC)
    rootfs_dir = tmp_path / "rootfs"
    (rootfs_dir / "etc").mkdir(parents=True)
    sbom = tmp_path / "sbom.json"
    sbom.write_text(render(sample_sbom(), "json"))
    monkeypatch.chdir(tmp_path)
    found = {name: parse_source(name).kind for name in
             ("deb.tar", "oci.tar", "layout", "rootfs", "sbom.json")}
    assert found == {"deb.tar": "docker-archive", "oci.tar": "oci-archive", "layout": "oci",
                     "rootfs": "dir", "sbom.json": "sbom"}
    assert parse_source("deb.tar").path == str(docker)
    assert parse_source("oci.tar").path == str(oci_tar) and parse_source("layout").path == \
        str(layout)


def test_garbage_file_is_an_error_not_a_registry_lookup(tmp_path: Path) -> None:
    garbage = tmp_path / "deb.tar"
    garbage.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(InputError, match="not an image") as caught:
        parse_source(str(garbage))
    assert "docker.io" not in str(caught.value)


def test_the_cli_says_what_it_detected(tmp_path: Path) -> None:
    write_docker_archive(tmp_path / "deb.tar", SPEC, "web:2.3.1")
    result = subprocess.run([sys.executable, "-m", "hullguard", "sbom", "deb.tar", "-q"],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"deb.tar: detected docker-archive (reading it as docker-archive:{tmp_path}" \
        in result.stderr


def test_local_sources_have_stable_names(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The same archive scanned from two working directories is one image; its names are its
    RepoTags, not docker.io/library/<transport or tag>."""
    docker = write_docker_archive(tmp_path / "web.tar", SPEC, "web:2.3.1")
    (tmp_path / "sub").mkdir()
    references = []
    for cwd, text in ((tmp_path, "docker-archive:web.tar"),
                      (tmp_path / "sub", "docker-archive:../web.tar")):
        monkeypatch.chdir(cwd)
        with open_image(text) as source:
            references.append(source.info.reference)
            names = image_names(source.info)[0]
    assert references == [f"docker-archive:{docker}"] * 2
    assert names == ["docker.io/library/web:2.3.1"]
    untagged = write_docker_archive(tmp_path / "untagged.tar", SPEC, repo_tag="")
    with open_image(str(untagged)) as source:
        assert image_names(source.info)[0] == [f"docker-archive:{untagged}"]
    layout = write_oci_layout(tmp_path / "alp-py", SPEC, tag="2.3.1")
    monkeypatch.chdir(tmp_path)
    for text in ("oci:alp-py", "dir:alp-py"):
        with open_image(text, SourceOptions()) as source:
            names = image_names(source.info)[0]
        assert names == [f"{text.split(':')[0]}:{layout}"], names  # no library/2.3.1
