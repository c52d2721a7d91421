"""The per-layer record cache: an image's catalog and secret report are the same with records
replayed as from a live walk (upper-layer package DB rewrite, whiteouts and opaque directories
across layers, a layer reused in another order, a child deleting or overwriting its base's
package DB or Go binary, a docker-archive whose diff_ids lie), a tampered or older-format
record is rejected and walked again, and a registry blob recorded once is not downloaded again
by a second image on the same base."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import zlib
from pathlib import Path
from typing import Any

import pytest

from hullguard.catalog import catalog_source
from hullguard.errors import IntegrityError
from hullguard.images import open_image
from hullguard.images.builder import (
    FileSpec,
    ImageSpec,
    LayerSpec,
    rootfs_layer,
    write_docker_archive,
    write_oci_layout,
)
from hullguard.images.layercache import LayerCache, open_layer_cache
from hullguard.images.registry import RegistryClient, push_layout
from hullguard.model import Sbom
from hullguard.model.secret import SecretReport
from hullguard.secrets import secret_visitor, visitor_report
from tests.catalog.test_extractor_shapes import _go_binary as _elf
from tests.support import registry as support
from tests.support.env import alpine_tarballs
from tests.support.registry import RegistryServer

registry_server = support.registry_server
AWS_KEY = b"aws_access_key_id = AKIAQ3EGUKJ7PZ5NR2XT\n"


def _base() -> LayerSpec:
    return rootfs_layer(alpine_tarballs()[-1])


def _installed(tarball: Path) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(tarball.read_bytes()))) as tar:
        found = [m for m in tar.getmembers() if m.name.lstrip("./") == "lib/apk/db/installed"]
        member = tar.extractfile(found[0])
        assert member is not None
        return member.read()


def _rewrite_db() -> LayerSpec:
    """The package DB rewritten upstairs: the first package dropped, one version bumped."""
    blocks = _installed(alpine_tarballs()[-1]).split(b"\n\n")
    changed = [blocks[1].replace(b"\nV:", b"\nV:99.", 1), *blocks[2:]]
    return LayerSpec((FileSpec("lib/apk/db/installed", b"\n\n".join(changed)),),
                     created_by="RUN apk upgrade")


def _app() -> LayerSpec:
    return LayerSpec((FileSpec("app", kind="dir", mode=0o755),
                      FileSpec("app/conf", kind="dir", mode=0o755),
                      FileSpec("app/conf/old.ini", AWS_KEY),
                      FileSpec("usr/lib/python3.11/site-packages/flask-2.0.1.dist-info/METADATA",
                               b"Metadata-Version: 2.1\nName: flask\nVersion: 2.0.1\n"),
                      FileSpec("etc/motd", b"hello\n")), created_by="COPY app /app")


def _hide() -> LayerSpec:
    """A whiteout of a file and an opaque directory over the app layer's."""
    return LayerSpec((FileSpec("etc/.wh.motd"), FileSpec("app/conf", kind="dir", mode=0o755),
                      FileSpec("app/conf/.wh..wh..opq"),
                      FileSpec("app/conf/new.ini", b"x=1\n")), created_by="RUN cleanup")


def _go_binary(version: str) -> FileSpec:
    modinfo = (f"path\texample.com/app\nmod\texample.com/app\t(devel)\t\n"
               f"dep\tgithub.com/pkg/errors\t{version}\th1:x=\n")
    return FileSpec("usr/local/bin/app", _elf("go1.21.5", modinfo), mode=0o755)


def _binary() -> LayerSpec:
    return LayerSpec((FileSpec("usr/local/bin", kind="dir", mode=0o755), _go_binary("v1.0.0")),
                     created_by="COPY app /usr/local/bin/app")


def _children() -> dict[str, LayerSpec]:
    """One layer each over the base and its Go binary: what a child does to its base."""
    bin_dir = FileSpec("usr/local/bin", kind="dir", mode=0o755)
    return {
        "delete-db": LayerSpec((FileSpec("lib/apk/db/.wh.installed"),), created_by="RUN rm"),
        "delete-db-dir": LayerSpec((FileSpec("lib/apk/.wh.db"),), created_by="RUN rm -r"),
        "overwrite-db": _rewrite_db(),
        "delete-binary": LayerSpec((FileSpec("usr/local/bin/.wh.app"),), created_by="RUN rm"),
        "overwrite-binary": LayerSpec((bin_dir, _go_binary("v2.0.0")), created_by="COPY v2"),
        "opaque-bin": LayerSpec((bin_dir, FileSpec("usr/local/bin/.wh..wh..opq"),
                                 FileSpec("usr/local/bin/tool", b"#!/bin/sh\n", mode=0o755)),
                                created_by="RUN rebuild bin"),
    }


def _images() -> dict[str, ImageSpec]:
    base = _base()
    binary = _binary()
    return {
        "rewrite": ImageSpec([base, _rewrite_db()]),
        "hide": ImageSpec([base, _app(), _hide()]),
        "reordered": ImageSpec([base, _hide(), _app()]),  # the same layers, another order
        "rewrite-hide": ImageSpec([base, _hide(), _rewrite_db(), _app()]),
        "binary": ImageSpec([base, binary]),
        **{name: ImageSpec([base, binary, child]) for name, child in _children().items()},
    }


def _walk(ref: str, cache: LayerCache | None) -> tuple[Sbom, SecretReport]:
    with open_image(ref) as source:
        visitor = secret_visitor()
        sbom = catalog_source(source, visitors=[visitor], cache=cache)
        return sbom, visitor_report(visitor, source.info)


def _layouts(tmp_path: Path) -> dict[str, str]:
    return {name: f"oci:{write_oci_layout(tmp_path / name, spec)}"
            for name, spec in _images().items()}


def test_cached_and_uncached_results_are_identical(tmp_path: Path) -> None:
    refs = _layouts(tmp_path)
    cache = LayerCache(tmp_path / "cache")
    uncached = {name: _walk(ref, None) for name, ref in refs.items()}
    cold = {name: _walk(ref, cache) for name, ref in refs.items()}
    assert cache.hits > 0  # the shared base and the reused layers came back already
    hits = cache.hits
    warm = {name: _walk(ref, cache) for name, ref in refs.items()}
    assert cache.hits - hits == sum(len(_images()[n].layers) for n in refs)  # all replayed
    assert cold == uncached and warm == uncached
    hide = uncached["hide"][0]
    assert any(p.name == "flask" for p in hide.packages)
    rewritten = {p.name: p.version for p in uncached["rewrite"][0].packages}
    alone = write_oci_layout(tmp_path / "base", ImageSpec([_base()]))
    base = {p.name: p.version for p in _walk(f"oci:{alone}", None)[0].packages}
    assert rewritten != base and len(rewritten) == len(base) - 1
    states = {loc.path: str(loc.state) for f in uncached["hide"][1].findings
              for loc in f.locations}
    assert states["/app/conf/old.ini"] == "deleted"  # hidden by the opaque directory
    assert uncached["reordered"][1] != uncached["hide"][1]  # order matters, and is kept
    _children_changed_their_base({name: sbom for name, (sbom, _) in uncached.items()})


def _children_changed_their_base(sboms: dict[str, Sbom]) -> None:
    """What each child did to its base shows (so identical results above mean something)."""
    def found(name: str, kind: str) -> dict[str, str]:
        return {p.name: p.version for p in sboms[name].packages if p.type.value == kind}

    assert found("binary", "apk") and found("binary", "golang")["github.com/pkg/errors"] == "v1.0.0"
    assert not found("delete-db", "apk") and not found("delete-db-dir", "apk")
    assert found("overwrite-db", "apk") == found("rewrite", "apk")
    assert "github.com/pkg/errors" not in found("delete-binary", "golang")
    assert "github.com/pkg/errors" not in found("opaque-bin", "golang")
    assert found("overwrite-binary", "golang")["github.com/pkg/errors"] == "v2.0.0"
    for name in ("delete-db", "delete-binary", "overwrite-binary", "opaque-bin"):
        assert found(name, "golang" if "db" in name else "apk") == \
            found("binary", "golang" if "db" in name else "apk")  # the rest is the base's


def test_docker_archive_with_lying_diff_ids_is_never_a_cache_key(tmp_path: Path) -> None:
    """An archive claiming the recorded layer's diffID for other content is walked (and its
    lie found) exactly as without a cache."""
    cache = LayerCache(tmp_path / "cache")
    honest = write_oci_layout(tmp_path / "honest", ImageSpec([_base(), _app()]))
    _walk(f"oci:{honest}", cache)
    archive = write_docker_archive(tmp_path / "lying.tar", ImageSpec([_base(), _hide()]))
    _swap_diff_ids(archive, _walk(f"oci:{honest}", None)[0].image.layers[1].diff_id)
    errors = []
    for chosen in (None, cache):
        with pytest.raises(IntegrityError) as error:
            _walk(f"docker-archive:{archive}", chosen)
        errors.append(str(error.value))
    assert errors[0] == errors[1]
    good = write_docker_archive(tmp_path / "good.tar", ImageSpec([_base(), _app()]))
    assert _walk(f"docker-archive:{good}", cache) == _walk(f"docker-archive:{good}", None)


def _swap_diff_ids(archive: Path, claimed: Any) -> None:
    """Rewrite the archive's config so that its second layer claims ``claimed``."""
    import hashlib
    import json

    with tarfile.open(archive) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()  # type: ignore[union-attr]
                   if m.isfile()}
    manifest = json.loads(members["manifest.json"])
    config = json.loads(members[manifest[0]["Config"]])
    config["rootfs"]["diff_ids"][1] = str(claimed)
    data = json.dumps(config).encode()
    name = f"{hashlib.sha256(data).hexdigest()}.json"
    del members[manifest[0]["Config"]]
    members[name] = data
    manifest[0]["Config"] = name
    members["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(archive, "w") as tar:
        for key, value in members.items():
            info = tarfile.TarInfo(key)
            info.size = len(value)
            tar.addfile(info, io.BytesIO(value))


def test_a_tampered_record_is_rejected_and_walked_again(tmp_path: Path) -> None:
    ref = _layouts(tmp_path)["hide"]
    cache = LayerCache(tmp_path / "cache")
    expected = _walk(ref, None)
    _walk(ref, cache)
    records = sorted(p for p in (tmp_path / "cache").glob("??/*"))
    assert records and oct((tmp_path / "cache" / "key").stat().st_mode & 0o777) == "0o600"
    for record in records:  # one flipped byte past the MAC in every record
        data = bytearray(record.read_bytes())
        data[-1] ^= 0x01
        record.write_bytes(bytes(data))
    again = LayerCache(tmp_path / "cache")
    assert _walk(ref, again) == expected
    assert again.rejected == len(records) and again.hits == 0
    assert _walk(ref, again) == expected and again.hits == len(records)  # re-recorded


def test_a_record_of_another_format_is_never_read(tmp_path: Path) -> None:
    """A record made by another release's format (here: the current record relabelled as
    format 1, under a valid MAC, as an older hullguard with the same key would have written
    it) is rejected and the layer walked again, never misread."""
    ref = f"oci:{write_oci_layout(tmp_path / 'image', ImageSpec([_base(), _binary()]))}"
    cache = LayerCache(tmp_path / "cache")
    expected = _walk(ref, None)
    _walk(ref, cache)
    records = sorted((tmp_path / "cache").glob("??/*"))
    for record in records:
        doc = json.loads(zlib.decompress(record.read_bytes()[32:]))
        assert doc["format"] == "hullguard-layer-record/2"
        doc["format"] = "hullguard-layer-record/1"
        body = zlib.compress(json.dumps(doc).encode())
        record.write_bytes(cache._mac(record.name, body) + body)
    again = LayerCache(tmp_path / "cache")
    assert _walk(ref, again) == expected
    assert len(records) == 2 and again.rejected == 2 and again.hits == 0


def test_layer_cache_setting(tmp_path: Path) -> None:
    assert open_layer_cache("off") is None
    chosen = open_layer_cache(str(tmp_path / "c"))
    assert chosen is not None and chosen.root == tmp_path / "c"


def test_second_image_on_a_cached_base_does_not_fetch_its_blobs(
        tmp_path: Path, registry_server: RegistryServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Blob GETs against the real registry, counted at our client's one blob download."""
    base = _base()
    first = write_oci_layout(tmp_path / "first", ImageSpec([base, _app()]), tag="v1")
    second = write_oci_layout(tmp_path / "second", ImageSpec([base, _hide()]), tag="v1")
    with RegistryClient(registry_server.host) as client:
        push_layout(client, first, "cache/first", "v1")
        push_layout(client, second, "cache/second", "v1")
    fetched: list[str] = []
    real = RegistryClient.fetch_blob

    def counting(self: RegistryClient, repository: str, descriptor: Any, path: Path) -> Path:
        fetched.append(str(descriptor.digest))
        return real(self, repository, descriptor, path)

    monkeypatch.setattr(RegistryClient, "fetch_blob", counting)
    cache = LayerCache(tmp_path / "cache")
    _walk(registry_server.ref("cache/first", "v1"), cache)
    assert len(fetched) == 2
    fetched.clear()
    cached = _walk(registry_server.ref("cache/second", "v1"), cache)
    base_digest = str(cached[0].image.layers[0].digest)
    assert base_digest not in fetched and len(fetched) == 1  # only the new app layer
    fetched.clear()
    assert _walk(registry_server.ref("cache/second", "v1"), None) == cached
    assert base_digest in fetched


def test_the_cache_is_trimmed_oldest_first_once_per_image(tmp_path: Path) -> None:
    """Over ``max_bytes``, a new cache's first write removes the least recently written
    records; later writes of the same cache (the same image) list the cache no more."""
    import os

    from hullguard.images.layercache import LayerRecord
    from hullguard.model import Digest, Layer

    def layer(n: int) -> Layer:
        digest = Digest.parse(f"sha256:{n:064x}")
        return Layer(n, digest, digest)

    def record(n: int) -> LayerRecord:  # ~3 KB after zlib: random bytes do not compress
        return LayerRecord([], [os.urandom(1500).hex()], str(layer(n).diff_id))
    root = tmp_path / "cache"
    first = LayerCache(root, max_bytes=1 << 30)
    for n in range(4):
        first.store(layer(n), ("v1",), record(n))
    files = sorted((p for p in root.glob("??/*")), key=lambda p: p.name)
    assert len(files) == 4
    for age, path in enumerate(sorted(files, key=lambda p: p.stat().st_mtime_ns)):
        os.utime(path, (1_000_000 + age, 1_000_000 + age))  # a known order of age
    oldest = min(files, key=lambda p: p.stat().st_mtime)
    total = sum(p.stat().st_size for p in files)
    second = LayerCache(root, max_bytes=total + oldest.stat().st_size // 2)
    second.store(layer(4), ("v1",), record(4))  # room for 4 records, not 5: the oldest goes
    left = set(root.glob("??/*"))
    assert len(left) == 4 and oldest not in left
    second.store(layer(5), ("v1",), record(5))  # same image: no second listing, no removal
    assert len(set(root.glob("??/*"))) == 5
    assert second.load(layer(5), ("v1",)) is not None
