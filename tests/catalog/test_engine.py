"""The walk engine: visibility after whiteouts, introducing layers, ownership, failures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hullguard.catalog.api import Extraction, ScanInput
from hullguard.catalog.registry import default_extractors
from hullguard.errors import InputError
from hullguard.images.api import FileInfo
from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec
from hullguard.model import Package, PackageType, Sbom, Status
from tests.catalog.conftest import catalog_spec

Catalog = Callable[..., Sbom]
OS_RELEASE = FileSpec("etc/os-release", b'ID=alpine\nVERSION_ID=3.18.9\n')


def apk_db(*packages: tuple[str, str]) -> FileSpec:
    stanzas = [f"P:{name}\nV:{version}\nA:x86_64\no:{name}\nL:MIT\n" for name, version in
               packages]
    return FileSpec("lib/apk/db/installed", ("\n".join(stanzas) + "\n").encode())


def metadata(site: str, name: str, version: str) -> FileSpec:
    path = f"{site}/{name}-{version}.dist-info/METADATA"
    return FileSpec(path, f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode())


def by_name(sbom: Sbom) -> dict[str, Package]:
    return {p.name: p for p in sbom.packages}


def test_whiteout_removes_packages_of_lower_layers(catalog: Catalog) -> None:
    site = "usr/lib/python3.11/site-packages"
    spec = ImageSpec([
        LayerSpec((OS_RELEASE, metadata(site, "requests", "2.19.1"),
                   metadata(site, "six", "1.16.0")), created_by="RUN pip install"),
        LayerSpec((FileSpec(f"{site}/.wh.requests-2.19.1.dist-info"),), created_by="RUN rm"),
    ])
    names = set(by_name(catalog(spec)))
    assert names == {"six"}


def test_opaque_directory_hides_lower_content(catalog: Catalog) -> None:
    site = "usr/lib/python3.11/site-packages"
    spec = ImageSpec([
        LayerSpec((metadata(site, "requests", "2.19.1"),)),
        LayerSpec((FileSpec(f"{site}/.wh..wh..opq"), metadata(site, "idna", "2.7"))),
    ])
    assert set(by_name(catalog(spec))) == {"idna"}


def test_later_layer_upgrade_replaces_version_and_layer(catalog: Catalog) -> None:
    site = "app"
    spec = ImageSpec([
        LayerSpec((metadata(site, "urllib3", "1.24.1"),), created_by="RUN install old"),
        LayerSpec((FileSpec(f"{site}/.wh.urllib3-1.24.1.dist-info"),
                   metadata(site, "urllib3", "1.26.18")), created_by="RUN upgrade"),
    ])
    sbom = catalog(spec)
    urllib3 = by_name(sbom)["urllib3"]
    assert urllib3.version == "1.26.18"
    assert urllib3.introduced_by == str(sbom.image.layers[1].diff_id)
    assert urllib3.created_by == "RUN upgrade"
    assert urllib3.locations[0].layer_diff_id == str(sbom.image.layers[1].diff_id)


def test_db_packages_keep_the_layer_that_first_listed_them(catalog: Catalog) -> None:
    spec = ImageSpec([
        LayerSpec((OS_RELEASE, apk_db(("musl", "1.2.4-r1"), ("busybox", "1.36.1-r2"))),
                  created_by="ADD rootfs /"),
        LayerSpec((apk_db(("musl", "1.2.4-r1"), ("busybox", "1.36.1-r2"), ("curl", "8.1-r0")),),
                  created_by="RUN apk add curl"),
        LayerSpec((apk_db(("musl", "1.2.4-r2"), ("busybox", "1.36.1-r2"), ("curl", "8.1-r0")),),
                  created_by="RUN apk upgrade musl"),
    ])
    sbom = catalog(spec)
    layers = [str(layer.diff_id) for layer in sbom.image.layers]
    found = by_name(sbom)
    assert found["busybox"].introduced_by == layers[0]
    assert found["busybox"].created_by == "ADD rootfs /"
    assert found["curl"].introduced_by == layers[1]
    assert found["curl"].created_by == "RUN apk add curl"
    assert found["musl"].version == "1.2.4-r2"
    assert found["musl"].introduced_by == layers[2]
    assert all(p.locations[0].layer_diff_id == layers[2] for p in sbom.packages)


def test_deleted_db_breaks_the_run(catalog: Catalog) -> None:
    spec = ImageSpec([
        LayerSpec((apk_db(("musl", "1.2.4-r1")),)),
        LayerSpec((FileSpec("lib/apk/db/.wh.installed"),)),
        LayerSpec((apk_db(("musl", "1.2.4-r1")),)),
    ])
    sbom = catalog(spec)
    assert by_name(sbom)["musl"].introduced_by == str(sbom.image.layers[2].diff_id)


def test_distro_qualifier_and_symlinked_os_release(catalog: Catalog) -> None:
    spec = ImageSpec([LayerSpec((
        FileSpec("usr/lib/os-release", b'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n'),
        FileSpec("etc/os-release", kind="symlink", linkname="../usr/lib/os-release"),
        FileSpec("etc/debian_version", b"12.5\n"),
        FileSpec("var/lib/dpkg/status", b"Package: bash\nStatus: install ok installed\n"
                 b"Version: 5.2.15-2+b2\nArchitecture: amd64\n"),
    ))])
    sbom = catalog(spec)
    assert sbom.distro is not None
    assert (sbom.distro.id, sbom.distro.version_id, sbom.distro.codename) == (
        "debian", "12", "bookworm")
    assert by_name(sbom)["bash"].purl == \
        "pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12"


def test_language_package_owned_by_os_package(catalog: Catalog) -> None:
    site = "usr/lib/python3.11/site-packages"
    installed = (
        "P:py3-six\nV:1.16.0-r6\nA:noarch\no:py3-six\n"
        f"F:{site}/six-1.16.0.dist-info\nR:METADATA\nR:RECORD\n\n"
    ).encode()
    spec = ImageSpec([
        LayerSpec((OS_RELEASE, FileSpec("lib/apk/db/installed", installed),
                   metadata(site, "six", "1.16.0"))),
        LayerSpec((metadata(site, "requests", "2.19.1"),)),
    ])
    found = by_name(catalog(spec))
    assert found["six"].owned_by == "apk:py3-six"
    assert found["requests"].owned_by == ""
    assert found["py3-six"].owned_by == ""


def test_ownership_through_merged_usr_symlink(catalog: Catalog) -> None:
    listing = b"/.\n/lib\n/lib/python3/dist-packages/foo-1.0.dist-info/METADATA\n"
    spec = ImageSpec([LayerSpec((
        FileSpec("lib", kind="symlink", linkname="usr/lib"),
        FileSpec("var/lib/dpkg/info/python3-foo.list", listing),
        metadata("usr/lib/python3/dist-packages", "foo", "1.0"),
    ))])
    assert by_name(catalog(spec))["foo"].owned_by == "deb:python3-foo"


class _Exploding:
    name = "exploding"

    def file_required(self, info: FileInfo) -> bool:
        return info.path.endswith(".boom")

    def extract(self, scan_input: ScanInput) -> Extraction:
        if scan_input.path.endswith("bad.boom"):
            raise ZeroDivisionError("plugin bug")
        raise InputError("hostile content", where=scan_input.path)


def test_failing_extractor_is_isolated(tmp_path: Path) -> None:
    spec = ImageSpec([LayerSpec((
        OS_RELEASE, apk_db(("musl", "1.2.4-r2")),
        FileSpec("x/bad.boom", b"1"), FileSpec("x/worse.boom", b"2"),
    ))])
    sbom = catalog_spec(spec, tmp_path, extractors=[*default_extractors(), _Exploding()])
    assert [p.name for p in sbom.packages] == ["musl"]
    status = next(s for s in sbom.statuses if s.name == "exploding")
    assert status.status is Status.FAILED and status.files == 2
    assert "ZeroDivisionError" in status.message and "hostile content" in status.message
    assert next(s for s in sbom.statuses if s.name == "apk").status is Status.OK
    assert any("exploding" in w and "bad.boom" in w for w in sbom.warnings)


def test_file_wanted_by_two_extractors_is_read_once_for_both(tmp_path: Path) -> None:
    seen: list[bytes] = []

    class Echo:
        def __init__(self, name: str) -> None:
            self.name = name

        def file_required(self, info: FileInfo) -> bool:
            return info.path == "/data.txt"

        def extract(self, scan_input: ScanInput) -> Extraction:
            seen.append(scan_input.read())
            return Extraction()

    spec = ImageSpec([LayerSpec((FileSpec("data.txt", b"payload"),))])
    catalog_spec(spec, tmp_path, extractors=[Echo("a"), Echo("b")])
    assert seen == [b"payload", b"payload"]


def test_progress_per_layer_and_walker_warnings_are_kept(tmp_path: Path) -> None:
    spec = ImageSpec([LayerSpec((OS_RELEASE, FileSpec("../escape", b"x"))),
                      LayerSpec((apk_db(("musl", "1")),))])
    messages: list[str] = []
    sbom = catalog_spec(spec, tmp_path, on_progress=messages.append)
    assert [m.split(" ")[1] for m in messages] == ["1/2", "2/2"]
    assert any("escape" in w for w in sbom.warnings)
    assert [p.name for p in sbom.packages] == ["musl"]


def test_output_is_sorted_and_typed(catalog: Catalog) -> None:
    site = "app"
    spec = ImageSpec([LayerSpec((OS_RELEASE, apk_db(("zlib", "1"), ("acl", "2")),
                                 metadata(site, "b", "1"), metadata(site, "a", "1")))])
    sbom = catalog(spec)
    keys = [(p.type, p.name) for p in sbom.packages]
    assert keys == sorted(keys)
    assert {p.type for p in sbom.packages} == {PackageType.APK, PackageType.PYTHON}


def test_db_version_listing_nothing_breaks_the_run(catalog: Catalog) -> None:
    spec = ImageSpec([
        LayerSpec((apk_db(("musl", "1.2.4-r1")),)),
        LayerSpec((FileSpec("lib/apk/db/installed", b""),)),
        LayerSpec((apk_db(("musl", "1.2.4-r1")),)),
    ])
    sbom = catalog(spec)
    assert by_name(sbom)["musl"].introduced_by == str(sbom.image.layers[2].diff_id)


def test_duplicate_entry_in_one_layer_last_wins(catalog: Catalog) -> None:
    spec = ImageSpec([LayerSpec((apk_db(("musl", "1.2.4-r1")), apk_db(("busybox", "1.36")),
                                 metadata("app", "six", "1.0"),
                                 FileSpec("app/six-1.0.dist-info/METADATA", b"garbage\n")))])
    assert set(by_name(catalog(spec))) == {"busybox"}
