"""The one image reference value: its texts, its order, and the store's text columns."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, select

from hullguard.images.reference import parse_reference
from hullguard.inventory.collect import collect
from hullguard.model.image import Digest
from hullguard.model.reference import ImageReference
from hullguard.store.inventory import load_inventory, save_inventory
from hullguard.store.models import OccurrenceRecord

DIGEST = "sha256:" + "ab" * 32


def test_key_keeps_tag_and_digest_while_name_does_not() -> None:
    ref = parse_reference(f"alpine:3.18@{DIGEST}")
    assert ref.key == str(ref) == f"docker.io/library/alpine:3.18@{DIGEST}"
    assert ref.name == "docker.io/library/alpine"
    assert ref.digest == Digest.parse(DIGEST) and ref.digest_text == DIGEST
    assert parse_reference("alpine").digest_text == ""


def test_order_is_by_the_text_fields_a_missing_tag_or_digest_first() -> None:
    # The order the inventory's ImageRef had (registry, repository, tag, digest; "" first).
    refs = [parse_reference(text) for text in
            (f"b@{DIGEST}", "b:1", "a:2", f"a:2@{DIGEST}", "quay.io/x/y:1")]
    assert [r.key for r in sorted(refs)] == [
        "docker.io/library/a:2", f"docker.io/library/a:2@{DIGEST}",
        f"docker.io/library/b@{DIGEST}", "docker.io/library/b:1", "quay.io/x/y:1"]
    assert parse_reference("a:1") <= parse_reference("a:1") < parse_reference("a:2")
    assert parse_reference("a:2") >= parse_reference("a:2") > parse_reference("a:1")


def test_the_store_keeps_the_digest_as_text_and_gives_the_same_value_back(
        tmp_path: Path) -> None:
    listed = tmp_path / "images.txt"
    listed.write_text(f"alpine:3.18@{DIGEST}\nregistry.corp.example:5000/app/web:2\n")
    inventory = collect([listed], environ={})
    engine = create_engine(f"sqlite:///{tmp_path / 'store.sqlite'}")
    try:
        save_inventory(engine, inventory)
        with engine.connect() as conn:
            rows = conn.execute(select(OccurrenceRecord.ref_digest,
                                       OccurrenceRecord.ref_name)).all()
        loaded = load_inventory(engine)
    finally:
        engine.dispose()
    assert sorted(tuple(r) for r in rows) == [
        ("", "registry.corp.example:5000/app/web:2"),
        (DIGEST, f"docker.io/library/alpine:3.18@{DIGEST}")]
    assert [i.ref for i in loaded.images] == sorted(i.ref for i in inventory.images)
    assert all(isinstance(i.ref, ImageReference) for i in loaded.images)
