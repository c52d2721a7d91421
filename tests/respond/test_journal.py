"""The resumable journal under OUT/.hullguard-state: never code (a planted pickle does not
run), never stale (a changed image or advisory database is scanned/matched again), and still
reused for the very same image."""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
from pathlib import Path

from hullguard.demo import prepare_demo
from hullguard.demo.images import demo_images
from hullguard.images.builder import (
    FileSpec,
    ImageSpec,
    LayerSpec,
    write_docker_archive,
    write_oci_layout,
)
from hullguard.pipeline.respond import STATE_DIR, RespondOptions, respond

WEB = "registry.shop.internal/shop/web:1.4.2"


def _fleet(tmp_path: Path, source: str, db: Path, out: str = "out") -> RespondOptions:
    listing = tmp_path / "images.txt"
    listing.write_text(WEB + "\n")
    return RespondOptions([str(listing)], tmp_path / out, str(db), image_sources={WEB: source},
                          offline=True, workers=1)


def _clean_image(path: Path) -> Path:
    spec = ImageSpec([LayerSpec((FileSpec("etc/os-release", b"ID=alpine\nVERSION_ID=3.18.0\n"),),
                                created_by="ADD rootfs /")])
    return write_docker_archive(path, spec, "shop/web:1.4.2")


class _Planted:
    """A pickle that, when loaded, creates ``marker``: what an attacker drops in the folder."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (Path.write_text, (str(self.marker), "pwned"))  # type: ignore[return-value]


def test_a_planted_journal_entry_never_runs_and_is_scanned_again(tmp_path: Path) -> None:
    demo = prepare_demo(tmp_path / "demo")
    source = demo.image_sources[WEB]
    options = _fleet(tmp_path, source, demo.db_path)
    first = respond(options)
    assert first.images[0].findings
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Planted(marker))
    scans = tmp_path / "out" / STATE_DIR / "scans"
    # Overwrite every entry, and plant one where a pickle journal would look for it.
    for entry in scans.iterdir():
        entry.write_bytes(payload)
    key = hashlib.sha256(f"{WEB}\0{source}\0{demo.db_path}".encode()).hexdigest()
    (scans / f"{key[:32]}.pickle").write_bytes(payload)
    second = respond(options)
    assert not marker.exists(), "a journal entry was executed"
    web = second.images[0]
    assert web.scanned and not web.reused
    assert {f.id for f in web.findings} == {f.id for f in first.images[0].findings}
    assert any("journal entry" in w and "ignored" in w for w in second.warnings)
    for entry in scans.glob("*.json"):  # replaced by a valid JSON entry
        assert json.loads(entry.read_text())["schema"] == "hullguard-journal"


def test_a_changed_image_file_is_scanned_again(tmp_path: Path) -> None:
    demo = prepare_demo(tmp_path / "demo")
    archive = _clean_image(tmp_path / "web.tar")
    options = _fleet(tmp_path, f"docker-archive:{archive}", demo.db_path)
    first = respond(options).images[0]
    assert first.scanned and not first.findings and not first.secrets
    # Same path, same reference, same database: only the file's content changed.
    write_docker_archive(archive, demo_images()[WEB], "shop/web:1.4.2")
    second = respond(options).images[0]
    assert not second.reused
    assert second.findings and second.secrets


def test_a_changed_advisory_database_is_used(tmp_path: Path) -> None:
    from hullguard.vuln.dbwrite import ImportInput, import_inputs

    demo = prepare_demo(tmp_path / "demo")
    empty = tmp_path / "empty-advisories"
    empty.mkdir()
    db = tmp_path / "advisories.sqlite"
    import_inputs(db, [ImportInput(empty, name="nothing yet")])
    options = _fleet(tmp_path, demo.image_sources[WEB], db)
    assert not respond(options).images[0].findings
    shutil.copyfile(demo.db_path, db)  # the database at the same path gained advisories
    second = respond(options).images[0]
    assert second.reused, "the image itself did not change: its scan is reused"
    assert second.findings


def test_the_same_image_is_reused_without_reading_its_layers(tmp_path: Path) -> None:
    demo = prepare_demo(tmp_path / "demo")
    layout = write_oci_layout(tmp_path / "web-oci", demo_images()[WEB], tag="1.4.2")
    options = _fleet(tmp_path, f"oci:{layout}:1.4.2", demo.db_path)
    first = respond(options).images[0]
    assert first.findings and first.secrets and not first.reused
    index = json.loads((layout / "index.json").read_text())
    manifest_hex = index["manifests"][0]["digest"].split(":")[1]
    manifest = json.loads((layout / "blobs" / "sha256" / manifest_hex).read_text())
    keep = {manifest_hex, manifest["config"]["digest"].split(":")[1]}
    for blob in (layout / "blobs" / "sha256").iterdir():
        if blob.name not in keep:
            blob.unlink()  # only the journal can supply the layers' results now
    second = respond(options).images[0]
    assert second.reused and second.scanned, second.error
    assert {f.id for f in second.findings} == {f.id for f in first.findings}
    assert [s.fingerprint for s in second.secrets] == [s.fingerprint for s in first.secrets]


def test_hostile_entries_are_ignored_with_a_warning(tmp_path: Path) -> None:
    from hullguard.respond.journal import Journal

    journal = Journal(tmp_path)
    key = "ab" * 32
    valid_head = {"schema": "hullguard-journal", "version": 2, "key": key}
    hostile = [
        b"\x80\x04\x95 not json, a pickle",
        b"[" * 200_000 + b"]" * 200_000,  # nesting past the recursion limit
        json.dumps({**valid_head, "sbom": {"schema_version": "one"}}).encode(),
        json.dumps({**valid_head, "key": "cd" * 32, "sbom": {}}).encode(),  # another image
        json.dumps({**valid_head, "sbom": [], "secrets": {}}).encode(),
        json.dumps([valid_head]).encode(),
        b"\xff\xfe invalid utf-8",
    ]
    for data in hostile:
        (tmp_path / f"{key[:40]}.json").write_bytes(data)
        entry, warning = journal.load(key)
        assert entry is None and "ignored" in warning, data[:40]
    assert journal.load("ef" * 32) == (None, "")  # no entry: no warning

