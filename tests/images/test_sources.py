from __future__ import annotations

import builtins
import gzip
import io
import json
import os
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hullguard.errors import (
    HullguardError,
    InputError,
    IntegrityError,
    LimitExceeded,
    NotFoundError,
)
from hullguard.images import FileTree, ImageSource, SourceOptions, open_image
from hullguard.images.builder import (
    FileSpec,
    ImageSpec,
    LayerSpec,
    write_docker_archive,
    write_oci_archive,
    write_oci_layout,
)
from hullguard.model import Platform

BASE = LayerSpec((FileSpec("etc", kind="dir", mode=0o755), FileSpec("etc/motd", b"hello\n"),
                  FileSpec("etc/secret", b"token=1"), FileSpec("bin/sh", b"#!", mode=0o755)),
                 created_by="ADD rootfs.tar /")
TOP = LayerSpec((FileSpec("etc/.wh.secret"), FileSpec("etc/motd", b"changed\n"),
                 FileSpec("app/run", b"go", mode=0o755)), created_by="RUN ./build.sh")
SPEC = ImageSpec([BASE, TOP], config={"User": "app", "Cmd": ["/app/run"]})


def squash(image: ImageSource) -> tuple[FileTree, dict[str, bytes]]:
    """Apply every layer; keep the content of visible small files."""
    tree, contents = FileTree(), {}
    for layer in image.info.layers:
        tree.start_layer(layer.index)
        for entry in image.walk_layer(layer):
            tree.apply(entry.info, layer.index)
            if entry.info.kind == "file" and entry.info.size < 1 << 20:
                contents[entry.info.path] = entry.read(1 << 20)
    return tree, contents


def check_spec_image(image: ImageSource) -> None:
    tree, contents = squash(image)
    visible = {info.path for _, info in tree.iter_visible()}
    assert visible == {"/etc", "/etc/motd", "/bin", "/bin/sh", "/app", "/app/run"}
    assert contents["/etc/motd"] == b"changed\n"
    assert tree.visible("/etc/motd")[0] == 1  # type: ignore[index]
    assert tree.was_deleted("/etc/secret", 0)
    info = image.info
    assert [layer.created_by for layer in info.layers] == ["ADD rootfs.tar /", "RUN ./build.sh"]
    assert info.config.user == "app" and info.config.cmd == ("/app/run",)
    assert all(layer.diff_id for layer in info.layers)


def test_docker_archive(tmp_path: Path) -> None:
    path = write_docker_archive(tmp_path / "img.tar", SPEC, "demo/app:1.0")
    with open_image(f"docker-archive:{path}") as image:
        check_spec_image(image)
        assert image.info.tags == ("demo/app:1.0",)
        assert image.info.digest is None and image.info.source_kind == "docker-archive"
        config = json.loads(_members(path)[_docker_manifest(path)["Config"]])
        assert [str(d) for d in image.info.chain] == config["rootfs"]["diff_ids"]


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_oci_layout(tmp_path: Path, compression: str) -> None:
    root = write_oci_layout(tmp_path / "oci", SPEC, tag="1.0", compression=compression)
    top = json.loads((root / "index.json").read_text())["manifests"][0]
    for ref in (f"oci:{root}", f"oci:{root}:1.0"):
        with open_image(ref) as image:
            check_spec_image(image)
            assert str(image.info.digest) == top["digest"]  # the resolved manifest digest
            assert image.info.tags == ("1.0",)
    with pytest.raises(NotFoundError) as caught:
        open_image(f"oci:{root}:2.0")
    assert "1.0" in caught.value.hint


def test_oci_multi_platform(tmp_path: Path) -> None:
    arm = ImageSpec([LayerSpec((FileSpec("arch", b"arm64"),))], architecture="arm64",
                    variant="v8")
    amd = ImageSpec([LayerSpec((FileSpec("arch", b"amd64"),))])
    root = write_oci_layout(tmp_path / "multi", [amd, arm], tag="multi")
    for platform, expected in (("linux/amd64", b"amd64"), ("linux/arm64", b"arm64"),
                               ("linux/arm64/v8", b"arm64")):
        options = SourceOptions(platform=Platform.parse(platform))
        with open_image(f"oci:{root}:multi", options) as image:
            assert squash(image)[1]["/arch"] == expected
            assert image.info.platform is not None
            assert image.info.platform.architecture == Platform.parse(platform).architecture
    with pytest.raises(NotFoundError) as caught:
        open_image(f"oci:{root}", SourceOptions(platform=Platform.parse("linux/s390x")))
    assert "linux/amd64" in caught.value.hint and "linux/arm64/v8" in caught.value.hint


def test_oci_archive_reads_blobs_in_place(tmp_path: Path) -> None:
    path = write_oci_archive(tmp_path / "img.oci.tar", SPEC, tag="2.0")
    before = set(tmp_path.rglob("*"))
    with open_image(f"oci-archive:{path}") as image:
        check_spec_image(image)
        assert image.info.digest is not None and image.info.tags == ("2.0",)
    assert set(tmp_path.rglob("*")) == before  # nothing extracted


def test_docker_25_archive_with_oci_layout(tmp_path: Path) -> None:
    layout = write_oci_layout(tmp_path / "layout", SPEC, tag="1.0", compression="none")
    index = json.loads((layout / "index.json").read_text())
    manifest_digest = index["manifests"][0]["digest"]
    index["manifests"][0]["annotations"] = {
        "io.containerd.image.name": "docker.io/demo/app:1.0",
        "org.opencontainers.image.ref.name": "1.0"}
    members = {str(p.relative_to(layout)): p.read_bytes() for p in layout.rglob("*")
               if p.is_file()}
    members["index.json"] = json.dumps(index).encode()
    manifest = json.loads(members["blobs/sha256/" + manifest_digest.split(":")[1]])
    members["manifest.json"] = json.dumps([{
        "Config": "blobs/sha256/" + manifest["config"]["digest"].split(":")[1],
        "RepoTags": ["demo/app:1.0"],
        "Layers": ["blobs/sha256/" + d["digest"].split(":")[1] for d in manifest["layers"]],
    }]).encode()
    path = _write_tar(tmp_path / "docker25.tar", members)
    with open_image(f"docker-archive:{path}") as image:
        check_spec_image(image)
        assert str(image.info.digest) == manifest_digest
        assert image.info.tags == ("demo/app:1.0",)


def test_dir_source(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "os-release").write_text("ID=test\n")
    (root / "bin").mkdir()
    (root / "bin" / "tool").write_bytes(b"x" * 10)
    (root / "bin" / "tool").chmod(0o755)
    (root / "lib").symlink_to("/etc")  # absolute: must not be followed on the host
    (root / "escape").symlink_to("../../../../etc/passwd")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "host-secret").write_text("no")
    (root / "hostdir").symlink_to(outside)
    with open_image(f"dir:{root}") as image:
        assert image.info.source_kind == "dir" and image.info.digest is None
        tree, contents = squash(image)
    paths = {info.path: info for _, info in tree.iter_visible()}
    assert set(paths) == {"/etc", "/etc/os-release", "/bin", "/bin/tool", "/lib", "/escape",
                          "/hostdir"}
    assert contents == {"/etc/os-release": b"ID=test\n", "/bin/tool": b"x" * 10}
    assert paths["/bin/tool"].is_executable
    assert paths["/hostdir"].kind == "symlink"
    assert tree.resolve("/lib/os-release") == "/etc/os-release"  # inside the image root
    assert tree.resolve("/escape") is None  # /etc/passwd of the image: absent


def test_alpine_corpus_images(alpine_archives: dict[str, Path]) -> None:
    for version, path in alpine_archives.items():
        with open_image(f"docker-archive:{path}") as image:
            tree, contents = squash(image)
        assert b"P:musl" in contents["/lib/apk/db/installed"]
        assert contents["/etc/alpine-release"].decode().strip() == version
        assert tree.resolve("/bin/sh") == "/bin/busybox"


# -- hostile archives -------------------------------------------------------------------------


def _members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isreg()}  # type: ignore[union-attr]


def _write_tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _docker_manifest(path: Path) -> dict[str, Any]:
    return json.loads(_members(path)["manifest.json"])[0]  # type: ignore[no-any-return]


def _tampered_archive(tmp_path: Path, change: Callable[[dict[str, bytes], dict[str, Any]],
                                                      None]) -> Path:
    original = write_docker_archive(tmp_path / "orig.tar", SPEC)
    members = _members(original)
    manifest = json.loads(members["manifest.json"])
    change(members, manifest[0])
    members["manifest.json"] = json.dumps(manifest).encode()
    return _write_tar(tmp_path / "bad.tar", members)


def _walk_all(ref: str) -> None:
    with open_image(ref) as image:
        squash(image)


def test_docker_archive_layer_count_mismatch(tmp_path: Path) -> None:
    bad = _tampered_archive(tmp_path, lambda m, e: e["Layers"].pop())
    with pytest.raises(IntegrityError, match="1 layers but the config has 2"):
        open_image(f"docker-archive:{bad}")


def test_docker_archive_layer_not_matching_diff_id(tmp_path: Path) -> None:
    def swap(members: dict[str, bytes], entry: dict[str, Any]) -> None:
        first, second = entry["Layers"]
        members[first] = members[second]  # a real tar, but not the one the config names

    with pytest.raises(IntegrityError, match="diffID") as caught:
        _walk_all(f"docker-archive:{_tampered_archive(tmp_path, swap)}")
    assert "layer" in caught.value.where
    _walk_all(f"docker-archive:{write_docker_archive(tmp_path / 'ok.tar', SPEC)}")  # benign


def test_docker_archive_missing_layer_and_bad_documents(tmp_path: Path) -> None:
    missing = _tampered_archive(tmp_path, lambda m, e: e["Layers"].__setitem__(0, "nope.tar"))
    with pytest.raises(IntegrityError, match="missing"):
        _walk_all(f"docker-archive:{missing}")
    bad_list = _write_tar(tmp_path / "list.tar", {"manifest.json": b'{"Config": 1}'})
    with pytest.raises(InputError, match="list of objects"):
        open_image(f"docker-archive:{bad_list}")
    nothing = _write_tar(tmp_path / "empty.tar", {"readme": b"hi"})
    with pytest.raises(InputError, match=r"manifest\.json is missing"):
        open_image(f"docker-archive:{nothing}")


def test_docker_archive_malformed_diff_id(tmp_path: Path) -> None:
    def corrupt(members: dict[str, bytes], entry: dict[str, Any]) -> None:
        config = json.loads(members[entry["Config"]])
        config["rootfs"]["diff_ids"][0] = "sha256:NOT-HEX"
        members[entry["Config"]] = json.dumps(config).encode()

    with pytest.raises(InputError, match="malformed digest"):
        open_image(f"docker-archive:{_tampered_archive(tmp_path, corrupt)}")


def test_compressed_or_non_tar_archives(tmp_path: Path) -> None:
    path = write_docker_archive(tmp_path / "img.tar", SPEC)
    gz = tmp_path / "img.tar.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    with pytest.raises(InputError, match="compressed"):
        open_image(f"docker-archive:{gz}")
    junk = tmp_path / "junk.tar"
    junk.write_bytes(os.urandom(4096))
    with pytest.raises(InputError):
        open_image(f"docker-archive:{junk}")
    with pytest.raises(InputError, match="no such file"):
        open_image(f"docker-archive:{tmp_path / 'absent.tar'}")


def _layout(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    root = write_oci_layout(tmp_path / "oci", SPEC, compression="gzip")
    top = json.loads((root / "index.json").read_text())["manifests"][0]
    manifest = json.loads(_blob(root, top["digest"]).read_bytes())
    return root, manifest


def _blob(root: Path, digest: str) -> Path:
    return root / "blobs" / "sha256" / digest.split(":")[1]


def test_oci_layer_blob_with_wrong_digest_or_size(tmp_path: Path) -> None:
    root, manifest = _layout(tmp_path)
    layer = _blob(root, manifest["layers"][1]["digest"])
    data = layer.read_bytes()
    layer.write_bytes(data[:-8] + bytes(reversed(data[-8:])))  # same size, other bytes
    with pytest.raises(IntegrityError) as caught:
        _walk_all(f"oci:{root}")
    assert manifest["layers"][1]["digest"][7:19] in caught.value.where
    layer.write_bytes(data + b"\0")
    with pytest.raises(IntegrityError, match="descriptor says"):
        _walk_all(f"oci:{root}")
    layer.write_bytes(data)
    _walk_all(f"oci:{root}")  # benign twin


def test_oci_config_or_manifest_tampered(tmp_path: Path) -> None:
    root, manifest = _layout(tmp_path)
    config = _blob(root, manifest["config"]["digest"])
    config.write_bytes(config.read_bytes().replace(b'"app"', b'"bad"'))
    with pytest.raises(IntegrityError, match="digest"):
        open_image(f"oci:{root}")


def test_oci_oversized_and_malformed_documents(tmp_path: Path) -> None:
    root, _ = _layout(tmp_path)
    index_path = root / "index.json"
    index = json.loads(index_path.read_text())
    index_path.write_text(json.dumps({**index, "annotations": {"pad": "x" * (5 << 20)}}))
    with pytest.raises(LimitExceeded):
        open_image(f"oci:{root}")
    index["manifests"][0]["size"] = 50 << 20
    index_path.write_text(json.dumps(index))
    with pytest.raises(LimitExceeded, match="descriptor declares"):
        open_image(f"oci:{root}")
    index["manifests"][0]["digest"] = "sha256:1234"
    index_path.write_text(json.dumps(index))
    with pytest.raises(InputError, match="malformed digest"):
        open_image(f"oci:{root}")
    index["manifests"][0]["digest"] = "sha256:" + "0" * 64
    index["manifests"][0]["size"] = 10
    index_path.write_text(json.dumps(index))
    with pytest.raises(NotFoundError, match="missing"):
        open_image(f"oci:{root}")


def test_oci_several_images_need_a_tag(tmp_path: Path) -> None:
    first = write_oci_layout(tmp_path / "a", SPEC, tag="a")
    second = write_oci_layout(tmp_path / "b", ImageSpec([BASE]), tag="b")
    index = json.loads((first / "index.json").read_text())
    index["manifests"] += json.loads((second / "index.json").read_text())["manifests"]
    for blob in (second / "blobs" / "sha256").iterdir():
        (first / "blobs" / "sha256" / blob.name).write_bytes(blob.read_bytes())
    (first / "index.json").write_text(json.dumps(index))
    with pytest.raises(InputError, match="choose one") as caught:
        open_image(f"oci:{first}")
    assert "a, b" in caught.value.hint
    with open_image(f"oci:{first}:b") as image:
        assert len(image.info.layers) == 1


def test_sbom_and_unknown_kinds_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not an image") as caught:
        open_image("sbom:x.json")
    assert "hullguard.sbom" in caught.value.hint
    with pytest.raises(InputError, match="not a directory"):
        open_image(f"oci:{tmp_path / 'missing'}")
    with pytest.raises(InputError, match="not a directory"):
        open_image(f"dir:{tmp_path / 'missing'}")


def test_registry_kind_is_dispatched_to_the_registry_client(monkeypatch:
                                                            pytest.MonkeyPatch) -> None:
    import hullguard.images.registry as registry

    seen: list[str] = []

    def fake(ref: object, options: object) -> str:
        seen.append(str(ref))
        return "img"

    monkeypatch.setattr(registry, "open_registry_image", fake)
    assert open_image("registry:localhost:5000/x:1") == "img"  # type: ignore[comparison-overlap]
    assert seen[0] == "localhost:5000/x:1"


def test_nothing_is_written_while_reading_any_source(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening and walking every local kind never opens a file for writing."""
    refs = [f"docker-archive:{write_docker_archive(tmp_path / 'd.tar', SPEC)}",
            f"oci:{write_oci_layout(tmp_path / 'o', SPEC, compression='zstd')}",
            f"oci-archive:{write_oci_archive(tmp_path / 'a.tar', SPEC)}",
            f"dir:{tmp_path / 'o'}"]
    writes: list[str] = []
    real_open, real_os_open = builtins.open, os.open

    def guarded_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if any(flag in mode for flag in "wax+"):
            writes.append(str(file))
        return real_open(file, mode, *args, **kwargs)

    def guarded_os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            writes.append(str(path))
        return real_os_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(os, "open", guarded_os_open)
    for ref in refs:
        _walk_all(ref)
    assert writes == []


def test_every_failure_is_a_hullguard_error(tmp_path: Path) -> None:
    """Random bytes in each role: one clear error, never a traceback of another type."""
    noise = tmp_path / "noise"
    noise.write_bytes(os.urandom(3000))
    layout = tmp_path / "layout"
    layout.mkdir()
    (layout / "index.json").write_bytes(os.urandom(200))
    for ref in (f"docker-archive:{noise}", f"oci-archive:{noise}", f"oci:{layout}"):
        with pytest.raises(HullguardError):
            _walk_all(ref)


def test_docker_archive_with_several_images_needs_a_selector(tmp_path: Path) -> None:
    first = _members(write_docker_archive(tmp_path / "a.tar", SPEC, "demo/a:1"))
    second = _members(write_docker_archive(tmp_path / "b.tar", ImageSpec([BASE]), "demo/b:2"))
    manifest = json.loads(first["manifest.json"]) + json.loads(second["manifest.json"])
    both = _write_tar(tmp_path / "both.tar", {**first, **second,
                                              "manifest.json": json.dumps(manifest).encode()})
    with pytest.raises(InputError, match="holds 2 images") as caught:
        open_image(f"docker-archive:{both}")
    assert "demo/b:2" in caught.value.hint
    with open_image(f"docker-archive:{both}:demo/b:2") as image:
        assert image.info.tags == ("demo/b:2",) and len(image.info.layers) == 1
    with open_image(f"docker-archive:{both}:@0") as image:
        check_spec_image(image)
    with pytest.raises(NotFoundError):
        open_image(f"docker-archive:{both}:demo/c:3")
