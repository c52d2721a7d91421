"""Hostile file content: binaries, archives nested too deep, zip/gzip bombs, invalid UTF-8,
huge lines, lying sizes. Everything bounded, reported, never a crash."""

from __future__ import annotations

import gzip
import io
import random
import time

from hullguard.secrets import Limits, scan_bytes
from hullguard.secrets.collect import Collector, Place
from hullguard.secrets.content import is_binary
from hullguard.secrets.engine import Matcher
from tests.secrets.corpus import GITHUB, STRIPE, checksummed
from tests.support.archives import zip_bytes

TOKEN = f"token: {GITHUB}\n".encode()


def _scan(data: bytes, path: str = "/f", limits: Limits | None = None) -> Collector:
    collector = Collector(Matcher(), limits=limits or Limits())
    collector.scan_file(data, path, Place())
    return collector


def test_binary_detection() -> None:
    assert is_binary(b"\x7fELF\x02" + TOKEN)
    assert is_binary(b"MZ\x90\x00" + TOKEN)
    assert is_binary(TOKEN + b"\x00")
    assert not is_binary(TOKEN)
    collector = _scan(b"\x7fELF" + TOKEN)
    assert not collector.groups and collector.binaries == 1


def test_nested_archives_up_to_depth_three() -> None:
    level3 = zip_bytes({"c.properties": TOKEN})
    level2 = zip_bytes({"c.jar": level3})
    level1 = zip_bytes({"b.jar": level2})
    report = scan_bytes(level1, "/a.war")
    assert [loc.path for f in report.findings for loc in f.locations] == [
        "/a.war!/b.jar!/c.jar!/c.properties"]
    too_deep = zip_bytes({"a.war": level1})
    report = scan_bytes(too_deep, "/x.zip")
    assert not report.findings
    assert any("nested deeper than 3" in s.reason for s in report.skipped)


def test_zip_bomb_ratio_and_total_caps() -> None:
    bomb = zip_bytes({"zeros.txt": b"0" * (20 << 20), "ok.txt": TOKEN})
    collector = _scan(bomb, "/bomb.zip", Limits(max_file_size=64 << 20))
    assert any("ratio" in s.reason for s in collector.skipped)
    assert collector.groups  # the small member is still scanned
    many = zip_bytes({f"m{i}.txt": b"x" * 1000 for i in range(50)})
    collector = _scan(many, "/many.zip", Limits(max_expanded=10_000))
    assert any("expansion cap" in s.reason for s in collector.skipped)


def test_gzip_bomb_is_bounded() -> None:
    bomb = gzip.compress(b"\0" * (30 << 20))
    started = time.monotonic()
    collector = _scan(bomb, "/x.gz", Limits(max_file_size=1 << 20))
    assert time.monotonic() - started < 5
    assert any("expands beyond" in s.reason for s in collector.skipped)
    ok = _scan(gzip.compress(TOKEN), "/logs/a.log.gz")
    assert ok.groups


def test_corrupt_archives_are_skipped_with_reason() -> None:
    for data, path in ((b"PK\x03\x04garbage" + b"\x00" * 40, "/bad.jar"),
                       (b"\x1f\x8bgarbage", "/bad.gz")):
        collector = _scan(data, path)
        assert collector.skipped and "unreadable archive" in collector.skipped[0].reason


def test_zip_member_lying_about_its_size() -> None:
    data = bytearray(zip_bytes({"a.txt": TOKEN * 100}))
    # shrink the declared size in the central directory so the member lies
    central = data.rfind(b"PK\x01\x02")
    data[central + 24:central + 28] = (10).to_bytes(4, "little")
    collector = _scan(bytes(data), "/liar.zip")
    assert not collector.groups
    assert collector.skipped


def test_invalid_utf8_and_escapes() -> None:
    data = b"\xff\xfe\xc3(" + TOKEN + b"\x1b]0;evil\x07 password=\xff\xff\n"
    report = scan_bytes(data, "/we\x1b[31mird")
    assert [f.rule_id for f in report.findings] == ["github-personal-token"]
    from hullguard.secrets.report import render

    table = render(report, "table")
    assert "\x1b" not in table and "\\x1b[31m" in table


def test_huge_line_is_fast() -> None:
    line = b"a" * (8 << 20) + b" " + TOKEN + b"=" * (1 << 20) + b"\n"
    started = time.monotonic()
    report = scan_bytes(line, "/huge")
    assert time.monotonic() - started < 10
    assert report.findings and report.findings[0].locations[0].line == 1


def test_stripe_inside_tar_gz() -> None:
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        payload = f"STRIPE={STRIPE}\n".encode()
        info = tarfile.TarInfo("conf/app.env")
        info.size = len(payload)
        archive.addfile(info, io.BytesIO(payload))
    report = scan_bytes(buffer.getvalue(), "/backup.tgz")
    assert report.findings[0].locations[0].path == "/backup.tgz!/backup!/conf/app.env"


def test_file_full_of_secrets_is_capped() -> None:
    from hullguard.secrets.engine import MAX_MATCHES

    rng = random.Random(7)
    lines = "".join(f"t {checksummed('ghp_', rng)}\n" for _ in range(MAX_MATCHES + 500)).encode()
    started = time.monotonic()
    report = scan_bytes(lines, "/many")
    assert time.monotonic() - started < 30
    assert len(report.findings) == MAX_MATCHES
    assert report.warnings and "more than" in report.warnings[0]
