"""Package databases the runtime reaches through a directory symlink (catalog.aliases)."""

from __future__ import annotations

from collections.abc import Callable

from hullguard.catalog.aliases import aliases
from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec
from hullguard.model import Sbom

Catalog = Callable[..., Sbom]
OS_RELEASE = FileSpec("etc/os-release", b"ID=alpine\nVERSION_ID=3.10.3\n")
MUSL = b"C:Q1abc=\nP:musl\nV:1.1.22-r2\nA:x86_64\no:musl\nL:MIT\n\n"


def _link(path: str, target: str) -> FileSpec:
    return FileSpec(path, kind="symlink", linkname=target)


def _db(path: str) -> FileSpec:
    return FileSpec(path, MUSL)


def _purls(sbom: Sbom) -> set[str]:
    return {p.purl for p in sbom.packages}


MUSL_PURL = "pkg:apk/alpine/musl@1.1.22-r2?arch=x86_64&distro=alpine-3.10.3"


def test_apk_database_through_a_symlinked_lib(catalog: Catalog) -> None:
    # a root assembled from a staged sysroot: /lib -> sysroot/lib
    spec = ImageSpec([LayerSpec((OS_RELEASE, FileSpec("sysroot/lib", kind="dir", mode=0o755),
                                 _link("lib", "sysroot/lib"),
                                 _db("sysroot/lib/apk/db/installed")))])
    sbom = catalog(spec)
    assert _purls(sbom) == {MUSL_PURL}
    assert sbom.packages[0].locations[0].path == "/lib/apk/db/installed"


def test_dpkg_status_through_a_symlinked_directory(catalog: Catalog) -> None:
    status = b"Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13.dfsg-1\n\n"
    spec = ImageSpec([LayerSpec((
        FileSpec("etc/os-release", b'ID=debian\nVERSION_ID="12"\n'),
        FileSpec("var/lib", kind="dir", mode=0o755), _link("var/lib/dpkg", "../../srv/dpkg"),
        FileSpec("srv/dpkg/status", status)))])
    assert [p.name for p in catalog(spec).packages] == ["zlib1g"]


def test_symlink_made_in_a_later_layer_and_absolute(catalog: Catalog) -> None:
    spec = ImageSpec([
        LayerSpec((OS_RELEASE, _db("opt/apk-state/db/installed"))),
        LayerSpec((FileSpec("lib", kind="dir", mode=0o755), _link("lib/apk", "/opt/apk-state")),
                  created_by="RUN ln -s /opt/apk-state /lib/apk")])
    assert _purls(catalog(spec)) == {MUSL_PURL}


def test_no_double_count_when_the_database_is_also_real(catalog: Catalog) -> None:
    # the tar entry itself goes through the link: it lands in usr/lib, offered once
    spec = ImageSpec([LayerSpec((OS_RELEASE, FileSpec("usr/lib", kind="dir", mode=0o755),
                                 _link("lib", "usr/lib"), _db("lib/apk/db/installed")))])
    sbom = catalog(spec)
    assert len(sbom.packages) == 1 and _purls(sbom) == {MUSL_PURL}


def test_a_hidden_database_stays_hidden(catalog: Catalog) -> None:
    spec = ImageSpec([
        LayerSpec((OS_RELEASE, FileSpec("usr/lib", kind="dir", mode=0o755),
                   _link("lib", "usr/lib"), _db("usr/lib/apk/db/installed"))),
        LayerSpec((FileSpec("usr/lib/apk/db/.wh.installed"),))])
    assert catalog(spec).packages == ()


def test_alias_paths_are_bounded_and_chained() -> None:
    links = {"/usr/lib": ["/lib"], "/var/apk": ["/usr/lib/apk"]}
    assert aliases("/var/apk/db/installed", links) == ["/usr/lib/apk/db/installed",
                                                       "/lib/apk/db/installed"]
    many = {"/d": [f"/l{i}" for i in range(50)]}
    assert len(aliases("/d/f", many)) == 8


def test_iter_metas_matches_iter_visible() -> None:
    from hullguard.images.api import FileInfo, FileKind
    from hullguard.images.tree import FileTree

    tree = FileTree()
    tree.start_layer(0)
    for info in (FileInfo("/usr", FileKind.DIR, 0o755), FileInfo("/usr/lib/x", FileKind.FILE),
                 FileInfo("/lib", FileKind.SYMLINK, linkname="usr/lib")):
        tree.apply(info, 0)
    assert sorted((meta[0], meta[1], path) for path, meta in tree.iter_metas()) == sorted(
        (layer, info.kind, info.path) for layer, info in tree.iter_visible())
