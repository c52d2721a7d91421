"""STIX 2.1 bundles as --iocs: hash, file-name and string patterns parsed by the OASIS
stix2-patterns library and searched like the line format; every part that cannot be
evaluated (AND, other objects and operators, other pattern types, qualifiers, bad syntax)
is reported, never silently ignored."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from hullguard.errors import InputError
from hullguard.forensics.ioc import Indicators, ioc_scan, load_iocs
from tests.forensics.test_ioc import DROPPER, MINER, images  # noqa: F401 (module fixture)


def _bundle(path: Path, patterns: list[object], extra: list[object] | None = None) -> Path:
    objects: list[object] = [{"type": "indicator", "spec_version": "2.1",
                              "id": f"indicator--{n:08d}", "pattern_type": "stix",
                              "pattern": p} for n, p in enumerate(patterns)]
    path.write_text(json.dumps({"type": "bundle", "id": "bundle--1",
                                "objects": objects + (extra or [])}))
    return path


def _parsed(tmp_path: Path) -> Indicators:
    sha256, sha1 = hashlib.sha256(DROPPER).hexdigest(), hashlib.sha1(MINER).hexdigest()
    return load_iocs(_bundle(tmp_path / "b.json", [
        f"[file:hashes.'SHA-256' = '{sha256}']",
        f"[file:hashes.'SHA-1' = '{sha1}'] OR [file:name = 'helper']",
        "[domain-name:value = 'pool.evil.example'] WITHIN 300 SECONDS",
        "[process:command_line MATCHES 'xmrig --donate-level [0-9]+']",
        "[file:name = 'setup.sh' AND file:size > 10]",  # a conjunction: not usable
        "[network-traffic:dst_port = 3333]",
        "[file:hashes.MD5 != 'abc'] OR [url:value LIKE 'http://%']",
        "[file:hashes.'SHA-256' = 'not-hex']",
        "[this is not a pattern",
    ], extra=[{"type": "indicator", "id": "indicator--yara", "pattern_type": "yara",
               "pattern": "rule x { condition: true }"},
              {"type": "malware", "id": "malware--1", "name": "miner"}]))


def test_patterns_become_indicators_and_the_rest_is_reported(tmp_path: Path) -> None:
    found = _parsed(tmp_path)
    assert set(found.hashes) == {"sha256", "sha1"}
    assert list(found.names) == ["helper"]
    assert [i.value for i in found.strings] == ["pool.evil.example"]
    assert [i.value for i in found.regexes] == ["xmrig --donate-level [0-9]+"]
    notes = "\n".join(found.notes)
    for expected in ("qualifiers", "AND in", "network-traffic:dst_port", "file:hashes.MD5 !=",
                     "url:value LIKE", "not-hex", "does not parse", "'yara' not supported"):
        assert expected in notes, (expected, notes)
    assert len(found.notes) == 8  # one per unusable part; the malware object is no indicator


def test_stix_indicators_find_the_planted_files(tmp_path: Path,
                                                images: tuple[str, str]) -> None:  # noqa: F811
    report = ioc_scan(images, _parsed(tmp_path))
    bad = {(m.path, m.state, m.indicator.partition(":")[0]) for m in report.matches
           if m.target == images[0]}
    assert ("/opt/tools/setup.sh", "deleted", "sha256") in bad
    assert ("/usr/bin/helper", "overwritten", "sha1") in bad
    assert ("/usr/bin/helper", "visible", "name") in bad
    assert ("config:Env[0]", "config", "string") in bad
    assert ("/usr/bin/helper", "overwritten", "regex") in bad
    decoy = {m.indicator for m in report.matches if m.target == images[1]}
    assert decoy == {"name:helper"}  # the decoy has a file of that name, and nothing else
    assert any("not supported" in w for w in report.warnings)  # the notes reach the output


@pytest.mark.parametrize("text", ['{"type": "bundle"}', '{"type": "bundle", "objects": []}',
                                  '{"objects": [1, 2]', '{"type": "bundle", "objects": '
                                  '[{"type": "malware"}]}', "{" * 100_000])
def test_bad_bundles_are_input_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(InputError):
        load_iocs(path)


def test_a_bundle_with_nothing_usable_says_why(tmp_path: Path,
                                               images: tuple[str, str]) -> None:  # noqa: F811
    found = load_iocs(_bundle(tmp_path / "b.json", ["[x-custom:prop = 'a']"]))
    with pytest.raises(InputError, match="x-custom:prop"):
        ioc_scan(images, found)


def test_an_and_observation_is_skipped_but_its_or_siblings_are_used(tmp_path: Path) -> None:
    found = load_iocs(_bundle(tmp_path / "b.json", [
        "[url:value = 'http://c2.evil.example/x'] OR [file:name = 'x' AND file:size > 1]",
        "[file:name = 'a'] AND [file:name = 'b']",
        "[file:name = 'c'] FOLLOWEDBY [file:name = 'd']",
        "[file:name = 'it\\'s'] OR [file:name = 'e']"]))
    assert [i.value for i in found.strings] == ["http://c2.evil.example/x"]
    assert sorted(found.names) == ["e", "it's"]  # nothing of the AND/FOLLOWEDBY patterns
    assert [n.split(": ", 2)[2].split(" in ")[0] for n in found.notes] == [
        "AND", "AND", "FOLLOWEDBY"]
    assert "that observation not used" in found.notes[0]
    assert "indicator not used" in found.notes[1]
