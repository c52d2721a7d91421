from __future__ import annotations

import json
import tarfile
from pathlib import Path

from hullguard.images.builder import (
    FileSpec,
    ImageSpec,
    LayerSpec,
    sha256,
    write_docker_archive,
    write_oci_layout,
)


def _spec() -> ImageSpec:
    layer = LayerSpec((FileSpec("etc/motd", b"hi\n"),), created_by="COPY motd /etc/")
    return ImageSpec([layer], config={"User": "1000"})


def test_docker_archive_is_deterministic_and_consistent(tmp_path: Path) -> None:
    first = write_docker_archive(tmp_path / "a.tar", _spec()).read_bytes()
    second = write_docker_archive(tmp_path / "b.tar", _spec()).read_bytes()
    assert sha256(first) == sha256(second)
    with tarfile.open(tmp_path / "a.tar") as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        config = json.load(tar.extractfile(manifest[0]["Config"]))  # type: ignore[arg-type]
        layer = tar.extractfile(manifest[0]["Layers"][0]).read()  # type: ignore[union-attr]
    assert config["rootfs"]["diff_ids"] == [sha256(layer)]
    assert config["history"][0]["created_by"] == "COPY motd /etc/"


def test_oci_layout_multi_platform_index(tmp_path: Path) -> None:
    arm = ImageSpec(_spec().layers, architecture="arm64", variant="v8")
    root = write_oci_layout(tmp_path / "oci", [_spec(), arm], tag="1.0")
    top = json.loads((root / "index.json").read_text())["manifests"][0]
    assert top["annotations"]["org.opencontainers.image.ref.name"] == "1.0"
    blob = root / "blobs" / "sha256" / top["digest"].split(":")[1]
    index = json.loads(blob.read_bytes())
    assert sha256(blob.read_bytes()) == top["digest"]
    assert [m["platform"]["architecture"] for m in index["manifests"]] == ["amd64", "arm64"]
