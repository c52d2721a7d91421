"""``hullguard forensics sources|ingest|query|ioc`` through the real CLI."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hullguard.cli.main import app
from hullguard.demo.registry_logs import ATTACKER, write_registry_day
from hullguard.forensics.sources import SOURCES
from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec, write_docker_archive
from tests.forensics.samples import GOOD, NOT_UTF8


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def case(tmp_path: Path, runner: CliRunner) -> Path:
    log = write_registry_day(tmp_path / "registry.log", 4000)
    result = runner.invoke(app, ["forensics", "ingest", "--case", str(tmp_path / "case"),
                                 f"distribution-log:{log}"])
    assert result.exit_code == 0, result.output
    return tmp_path / "case"


def test_sources_lists_every_source(runner: CliRunner) -> None:
    result = runner.invoke(app, ["forensics", "sources"])
    assert result.exit_code == 0
    assert all(source.name in result.stdout for source in SOURCES)


def test_ingest_reports_bad_lines_per_file_and_exits_1(runner: CliRunner, tmp_path: Path) -> None:
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_bytes(b"".join(GOOD["docker-log"]))
    bad.write_bytes(GOOD["docker-log"][0].replace(b"health", b"ready") + NOT_UTF8)
    result = runner.invoke(app, ["forensics", "ingest", "--case", str(tmp_path / "c"),
                                 f"docker-log:{good}", f"docker-log:{bad}"])
    assert result.exit_code == 1, result.output
    rows = [line.split() for line in result.stdout.splitlines()[1:3]]
    assert [(r[1], r[3], r[4], r[5]) for r in rows] == [(str(good), "1", "1", "0"),
                                                       (str(bad), "1", "1", "1")]
    assert "line 2: not UTF-8" in result.stdout
    assert "1 bad records" in result.stderr


def test_bad_arguments_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    for args in (["ingest", "--case", str(tmp_path), "nosuch:/etc/hostname"],
                 ["ingest", "--case", str(tmp_path), "cri-log"],
                 ["query", "--case", str(tmp_path / "none"), "timeline"]):
        result = runner.invoke(app, ["forensics", *args])
        assert result.exit_code == 2, result.output
        assert "error:" in result.stderr


def test_pulls_of_formats(runner: CliRunner, case: Path) -> None:
    args = ["forensics", "query", "--case", str(case), "pulls-of", "team/api:v1"]
    as_json = json.loads(runner.invoke(app, [*args, "-f", "json"]).stdout)
    as_csv = list(csv.DictReader(io.StringIO(runner.invoke(app, [*args, "-f", "csv"]).stdout)))
    assert len(as_json) == 1 and as_json[0]["count"] > 0
    totals = [row for row in as_csv if row["by"] == "total"]
    assert [int(row["count"]) for row in totals] == [as_json[0]["count"]]
    clients = sum(int(row["count"]) for row in as_csv if row["by"] == "client")
    assert clients == as_json[0]["count"]


def test_push_anomalies_exit_1_with_the_burst(runner: CliRunner, case: Path) -> None:
    result = runner.invoke(app, ["forensics", "query", "--case", str(case), "push-anomalies",
                                 "--threshold", "10", "--window", "1h", "-f", "json"])
    assert result.exit_code == 1
    bursts = [a for a in json.loads(result.stdout) if a["kind"] == "burst"]
    assert f"actor={ATTACKER[0]}" in {a["subject"] for a in bursts}


def test_sql_is_read_only_and_single_select(runner: CliRunner, case: Path) -> None:
    base = ["forensics", "query", "--case", str(case), "sql"]
    ok = runner.invoke(app, [*base, "WITH p AS (SELECT * FROM events WHERE action = 'push') "
                                    "SELECT count(*) AS n FROM p", "-f", "json"])
    assert ok.exit_code == 0 and json.loads(ok.stdout)[0]["n"] > 11
    for sql in ("DELETE FROM events", "SELECT 1; SELECT 2",
                "SELECT * FROM read_csv('/etc/passwd')", "COPY events TO '/tmp/x.csv'",
                "ATTACH '/tmp/other.db'"):
        result = runner.invoke(app, [*base, sql])
        assert result.exit_code == 2, (sql, result.output)


def test_timeline_window(runner: CliRunner, case: Path) -> None:
    result = runner.invoke(app, ["forensics", "query", "--case", str(case), "timeline",
                                 "--image", "team/api", "--since", "2026-03-02T13:00:00",
                                 "--until", "2026-03-02T14:00:00", "-f", "csv", "--limit", "50"])
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert 0 < len(rows) <= 50
    assert all(r["repository"] == "team/api" and r["time"].startswith("2026-03-02T13")
               for r in rows)


def test_ioc_with_an_indicator_file_only(runner: CliRunner, tmp_path: Path) -> None:
    layer = LayerSpec((FileSpec("etc/beacon.conf", b"host=pool.evil.example\n"),))
    image = write_docker_archive(tmp_path / "img.tar", ImageSpec([layer]), "img:1")
    iocs = tmp_path / "iocs.txt"
    iocs.write_text("string:pool.evil.example\n")
    result = runner.invoke(app, ["forensics", "ioc", "--iocs", str(iocs),
                                 f"docker-archive:{image}", "-f", "json"])
    assert result.exit_code == 1, result.output
    (match,) = json.loads(result.stdout)["matches"]
    assert (match["path"], match["state"]) == ("/etc/beacon.conf", "visible")
    none = runner.invoke(app, ["forensics", "ioc", f"docker-archive:{image}"])
    assert none.exit_code == 2


def test_ioc_with_a_stix_bundle_reports_what_it_cannot_use(runner: CliRunner,
                                                           tmp_path: Path) -> None:
    layer = LayerSpec((FileSpec("etc/beacon.conf", b"host=pool.evil.example\n"),))
    image = write_docker_archive(tmp_path / "img.tar", ImageSpec([layer]), "img:1")
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps({"type": "bundle", "id": "bundle--1", "objects": [
        {"type": "indicator", "id": "indicator--1", "pattern_type": "stix",
         "pattern": "[domain-name:value = 'pool.evil.example']"},
        {"type": "indicator", "id": "indicator--2", "pattern_type": "stix",
         "pattern": "[x-mine:thing = 'a']"}]}))
    result = runner.invoke(app, ["forensics", "ioc", "--iocs", str(bundle),
                                 f"docker-archive:{image}", "-f", "json"])
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert [m["indicator"] for m in doc["matches"]] == ["string:pool.evil.example"]
    assert doc["indicators"][0]["images"] == [f"docker-archive:{image}"]
    assert "x-mine:thing = is not supported" in result.stderr
    bundle.write_text('{"type": "bundle", "objects": [{"type": "indicator", "pattern": 5}]}')
    bad = runner.invoke(app, ["forensics", "ioc", "--iocs", str(bundle),
                              f"docker-archive:{image}"])
    assert bad.exit_code == 2 and "no usable indicators" in bad.stderr, bad.output
    assert "no pattern string" in bad.stderr
