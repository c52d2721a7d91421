"""Hostile feeds: every bad part is counted and skipped, the rest still loads."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from hullguard.vuln.importers import ImportStats, Limits, load_path
from tests.vuln.feeds import osv_record, write_zip


def _load(path: Path, limits: Limits | None = None) -> tuple[list[str], ImportStats]:
    stats = ImportStats(limits=limits or Limits())
    return sorted(a.id for a in load_path(path, stats)), stats


def test_zip_member_names_leaving_the_root_are_skipped(tmp_path: Path) -> None:
    good, evil = osv_record("GOOD-1", "a"), osv_record("EVIL-1", "b")
    archive = write_zip(tmp_path / "all.zip", {
        "GOOD-1.json": json.dumps(good).encode(), "../EVIL-1.json": json.dumps(evil).encode(),
        "/abs/EVIL-2.json": b"{}", "..\\EVIL-3.json": b"{}"})
    ids, stats = _load(archive)
    assert ids == ["GOOD-1"]
    assert stats.skipped == 3 and all("leaves the archive root" in w for w in stats.warnings)


def test_zip_bomb_is_refused_by_ratio_and_size(tmp_path: Path) -> None:
    bomb = b"{" + b" " * (8 << 20) + b"}"  # 8 MiB of spaces compresses ~1000:1
    archive = write_zip(tmp_path / "all.zip", {
        "bomb.json": bomb, "GOOD-1.json": json.dumps(osv_record("GOOD-1", "a")).encode()})
    ids, stats = _load(archive)
    assert ids == ["GOOD-1"] and "ratio" in stats.warnings[0]
    # A lying header cannot get past the byte cap either: the cap is applied while reading.
    ids, stats = _load(archive, Limits(max_member_bytes=1 << 20, max_ratio=10**9))
    assert ids == ["GOOD-1"] and "limit" in stats.warnings[0]


def test_total_archive_size_is_capped(tmp_path: Path) -> None:
    records = {f"R-{i}.json": json.dumps(osv_record(f"R-{i}", "a", details="x" * 3000)).encode()
               for i in range(10)}
    ids, stats = _load(write_zip(tmp_path / "all.zip", records), Limits(max_total_bytes=10_000))
    assert 0 < len(ids) < 10 and "total size limit" in stats.warnings[-1]


def test_invalid_json_and_yaml_are_counted(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"id": "X-1", "affected": [')
    (tmp_path / "bad.yaml").write_text("id: [unclosed\n")
    (tmp_path / "alias.yaml").write_text("a: &x [1, 2]\nb: *x\nid: ALIAS-1\nmodified: x\n")
    (tmp_path / "big.yaml").write_text("id: BIG-1\nmodified: x\ndetails: " + "y" * 5000 + "\n")
    (tmp_path / "ok.json").write_text(json.dumps(osv_record("OK-1", "a")))
    ids, stats = _load(tmp_path, Limits(max_yaml_bytes=4000))
    assert ids == ["OK-1"] and stats.skipped == 4
    reasons = " ".join(stats.warnings)
    assert "invalid JSON" in reasons and "invalid YAML" in reasons
    assert "aliases are not accepted" in reasons and "limit" in reasons


def test_absurd_records_are_skipped(tmp_path: Path) -> None:
    many_events = osv_record("ABSURD-1", "a")
    many_events["affected"][0]["ranges"][0]["events"] = [{"introduced": "0"}] * 5000
    bad_event = osv_record("ABSURD-2", "a")
    bad_event["affected"][0]["ranges"][0]["events"] = [{"introduced": "0", "fixed": "1"}]
    long_version = osv_record("ABSURD-3", "a", fixed="9" * 1000)
    bad_id = osv_record("\x1b[31mRED", "a")
    no_package = {"id": "ABSURD-4", "modified": "x", "affected": [{"versions": ["1"]}]}
    versions_not_strings = osv_record("ABSURD-5", "a")
    versions_not_strings["affected"][0]["versions"] = [{"nested": ["x"] * 10}]
    records = [many_events, bad_event, long_version, bad_id, no_package, versions_not_strings,
               osv_record("OK-1", "a")]
    (tmp_path / "list.json").write_text(json.dumps(records))
    ids, stats = _load(tmp_path / "list.json")
    assert ids == ["OK-1"] and stats.skipped == 6


def test_terminal_escapes_and_html_are_kept_verbatim(tmp_path: Path) -> None:
    hostile = "<script>alert(1)</script>\x1b[2J\x1b]0;pwned\x07"
    (tmp_path / "x.json").write_text(json.dumps(osv_record("ESC-1", "a", summary=hostile)))
    (adv,) = load_path(tmp_path / "x.json")
    assert adv.summary == hostile  # stored as-is; escaping is the output's job


def test_corrupt_zip_and_garbage_files(tmp_path: Path) -> None:
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    (tmp_path / "random.json").write_bytes(b"\xff\xfe garbage")
    ids, stats = _load(tmp_path)
    assert ids == [] and stats.skipped == 2


def test_corrupt_member_crc(tmp_path: Path) -> None:
    record = json.dumps(osv_record("A-1", "a")).encode()
    path = write_zip(tmp_path / "all.zip", {"A-1.json": record})
    with zipfile.ZipFile(path) as archive:
        offset = archive.infolist()[0].header_offset + 30 + len("A-1.json")
    raw = bytearray(path.read_bytes())
    raw[offset + 5] ^= 0xFF
    path.write_bytes(bytes(raw))
    ids, stats = _load(path)
    assert ids == [] and stats.skipped == 1


def test_epss_csv_with_bare_carriage_returns_and_a_huge_field(tmp_path: Path) -> None:
    """A bare CR ends a line like LF (csv.Error before); a field over csv's size limit skips
    and counts its row, and the rows after it still load."""
    from hullguard.vuln.importers import iter_records
    from hullguard.vuln.importers.base import EpssRecord

    path = tmp_path / "epss.csv"
    path.write_bytes(b"\r#model_version:v2023.03.01,score_date:2024-05-01T00:00:00+0000\r"
                     b"cve,epss,percentile\rCVE-2023-1234,0.00043,0.0812\r\n"
                     b'CVE-2023-0002,"' + b"9" * 200_000 + b'",0.5\n'
                     b"CVE-2023-0003,0.5,0.9\n")
    stats = ImportStats()
    records = [r for r in iter_records(path, stats) if isinstance(r, EpssRecord)]
    assert [(r.cve, r.epss.date) for r in records] == [
        ("CVE-2023-1234", "2024-05-01"), ("CVE-2023-0003", "2024-05-01")]
    assert stats.skipped == 1 and "field larger than field limit" in stats.warnings[0]
