"""``hullguard scan`` / ``explain`` / ``rescan`` through the CLI: formats, exit codes,
suppressions, staleness warning, escaping, a real Alpine image end to end."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hullguard.cli.main import app
from hullguard.sbom import render
from hullguard.vuln.dbwrite import ImportInput, import_inputs
from tests.vuln.feeds import make_sbom, scan_db, scan_packages, secdb


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A database and a store for this test only, and an SBOM file to scan."""
    monkeypatch.setenv("HULLGUARD_DB", str(scan_db(tmp_path)))
    monkeypatch.setenv("HULLGUARD_STORE", f"sqlite:///{tmp_path / 'store.sqlite'}")
    monkeypatch.setenv("HULLGUARD_CONFIG", str(tmp_path / "none.toml"))
    sbom_file = tmp_path / "app.json"
    sbom_file.write_text(render(make_sbom(scan_packages()), "json"))
    return sbom_file


def _scan(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["scan", *args])
    return result.exit_code, result.stdout, result.stderr


def test_table_and_fail_on(env: Path) -> None:
    code, out, err = _scan(f"sbom:{env}")
    assert code == 0, err
    assert "CVE-2018-18074" in out and "Total: 5" in out
    assert _scan(f"sbom:{env}", "--fail-on", "critical")[0] == 1
    assert _scan(f"sbom:{env}", "--fail-on", "high", "--severity", "medium,low")[0] == 0


def test_json_to_file_with_filters(env: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "scan.json"
    code, stdout, _ = _scan(f"sbom:{env}", "-f", "json", "-o", str(out), "--ignore-unfixed",
                            "--severity", "critical,medium")
    assert code == 0 and stdout == ""
    doc = json.loads(out.read_text())
    assert [f["id"] for f in doc["findings"]] == ["CVE-2018-18074", "CVE-2019-10906"]
    assert doc["filtered"] == 3


def test_vex_and_ignore_file(env: Path, tmp_path: Path) -> None:
    vex = tmp_path / "vex.json"
    vex.write_text(json.dumps({"@context": "https://openvex.dev/ns/v0.2.0", "statements": [
        {"vulnerability": {"name": "CVE-2018-18074"}, "products": [{"@id": "pkg:pypi/requests"}],
         "status": "not_affected", "justification": "component_not_present"}]}))
    ignore = tmp_path / "ignore.yaml"
    ignore.write_text("ignore:\n  - id: CVE-2023-0001\n    reason: accepted\n"
                      "    expires: 2000-01-01\n  - id: CVE-2023-5678\n    reason: accepted\n")
    code, out, err = _scan(f"sbom:{env}", "--vex", str(vex), "--ignore-file", str(ignore),
                           "-f", "json", "--fail-on", "critical")
    assert code == 0  # the only critical finding is suppressed by the VEX statement
    doc = json.loads(out)
    assert {f["id"] for f in doc["suppressed"]} == {"CVE-2018-18074", "CVE-2023-5678"}
    assert "CVE-2023-0001" in {f["id"] for f in doc["findings"]}  # its rule expired
    assert "expired on 2000-01-01" in err


@pytest.mark.parametrize(("args", "message"), [
    (["-f", "xml"], "unknown format"),
    (["--fail-on", "urgent"], "unknown severity"),
    (["--severity", "high,bogus"], "unknown severity"),
    (["--vex", "/nonexistent/vex.json"], "--vex /nonexistent/vex.json: no such file"),
    (["--db", "/nonexistent/db.sqlite"], "database not found"),
])
def test_errors_exit_2(env: Path, args: list[str], message: str) -> None:
    code, _out, err = _scan(f"sbom:{env}", *args)
    assert code == 2 and message in err


def test_unwritable_output_and_unknown_formats_exit_2(env: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _out, err = _scan(f"sbom:{env}", "-o", str(blocker / "out.json"))
    assert code == 2 and "cannot write" in err and "Traceback" not in err
    for args in (["rescan", "-f", "xml"], ["explain", "CVE-2018-18074", f"sbom:{env}", "-f", "xml"],
                 ["db", "status", "-f", "xml"]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2 and "unknown format 'xml'" in result.stderr, args


def test_store_failure_is_a_warning(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HULLGUARD_STORE", "postgresql://postgres@127.0.0.1:9/none")
    code, out, err = _scan(f"sbom:{env}", "--fail-on", "critical")
    assert code == 1 and "CVE-2018-18074" in out
    assert "scan not recorded in the store" in err


def test_missing_image_exits_2(env: Path, tmp_path: Path) -> None:
    code, _out, err = _scan(f"sbom:{tmp_path / 'missing.json'}")
    assert code == 2 and err.startswith("error:")


def test_stale_database_warns(env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
                              ) -> None:
    import os

    with sqlite3.connect(os.environ["HULLGUARD_DB"]) as conn:
        conn.execute("UPDATE sources SET imported_at = '2020-01-01T00:00:00+00:00'")
    assert "days old" in _scan(f"sbom:{env}")[2]
    assert "days old" not in _scan(f"sbom:{env}", "--max-age-days", "100000")[2]
    (tmp_path / "config.toml").write_text("[vulndb]\nmax_age_days = 100000\n")
    monkeypatch.setenv("HULLGUARD_CONFIG", str(tmp_path / "config.toml"))
    assert "days old" not in _scan(f"sbom:{env}")[2]


def test_terminal_escapes_are_escaped(env: Path, tmp_path: Path) -> None:
    packages = scan_packages()  # a hostile package name and image reference
    packages.append(dataclasses.replace(packages[0], name="x\x1b[2J", version="1"))
    hostile = tmp_path / "hostile.json"
    hostile.write_text(render(make_sbom(packages, "app\x1b]0;owned\x07:1"), "json"))
    code, out, _ = _scan(f"sbom:{hostile}")
    assert code == 0 and "\x1b" not in out and "\\x1b]0;owned" in out
    explained = CliRunner().invoke(app, ["explain", "CVE-2018-18074", f"sbom:{env}"])
    assert "\x1b" not in explained.stdout and "\\x1b[31mcredentials" in explained.stdout


def test_explain(env: Path) -> None:
    result = CliRunner().invoke(app, ["explain", "GHSA-xxxx-yyyy-zzzz", f"sbom:{env}"])
    assert result.exit_code == 0
    out = result.stdout
    assert "CVE-2018-18074 affects requests 2.19.1" in out
    assert "matched record PYSEC-2018-28 (source osv) as PyPI requests" in out
    assert "installed 2.19.1: ECOSYSTEM introduced 0 <= 2.19.1 < fixed 2.20.0" in out
    assert "range PyPI requests: ECOSYSTEM [introduced 0, fixed 2.20.0]" in out
    assert "CVSS 3.1 9.8" in out and "percentile 0.950" in out
    other = CliRunner().invoke(app, ["explain", "PYSEC-2021-5", f"sbom:{env}", "-f", "json"])
    assert other.exit_code == 1
    doc = json.loads(other.stdout)
    assert doc["affected"] is False and doc["records"][0]["withdrawn"]


def test_alpine_image_end_to_end(alpine_archives: dict[str, Path], tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A real corpus image, a secdb written for it: fixed above installed matches, below not,
    ``0`` never; binary packages match through their origin."""
    db = tmp_path / "alpine.sqlite"
    feed = tmp_path / "main.json"
    feed.write_text(json.dumps(secdb("v3.18", {
        "openssl": {"3.1.99-r0": ["CVE-2099-0001"], "3.0.0-r0": ["CVE-2099-0002"]},
        "musl": {"0": ["CVE-2099-0003"]}})))
    import_inputs(db, [ImportInput(feed)])
    monkeypatch.setenv("HULLGUARD_STORE", f"sqlite:///{tmp_path / 'store.sqlite'}")
    image = f"docker-archive:{alpine_archives['3.18.9']}"
    code, out, err = _scan(image, "--db", str(db), "-f", "json", "--fail-on", "unknown")
    assert code == 1, err
    doc = json.loads(out)
    found = {(f["package"]["name"], f["id"]) for f in doc["findings"]}
    assert found == {("libcrypto3", "CVE-2099-0001"), ("libssl3", "CVE-2099-0001")}
    assert all(f["layer"]["diff_id"] == doc["image"]["chain"][0] for f in doc["findings"])


def test_scan_stores_and_rescan_reports_changes(env: Path, tmp_path: Path) -> None:
    import os

    assert _scan(f"sbom:{env}")[0] == 0
    assert _scan(f"sbom:{env}", "--no-store", "-q")[0] == 0
    feed = tmp_path / "new.json"
    feed.write_text(json.dumps({"id": "PYSEC-2099-1", "modified": "2099-01-01T00:00:00Z",
                                "affected": [{"package": {"ecosystem": "PyPI",
                                                          "name": "urllib3"},
                                              "versions": ["1.24.1"]}]}))
    import_inputs(Path(os.environ["HULLGUARD_DB"]), [ImportInput(feed)])
    result = CliRunner().invoke(app, ["rescan", "-f", "json"])
    assert result.exit_code == 0, result.stderr
    (image,) = json.loads(result.stdout)["images"]
    assert [f["id"] for f in image["new"]] == ["PYSEC-2099-1"]
    assert image["fixed"] == [] and image["withdrawn"] == []
    table = CliRunner().invoke(app, ["rescan"])
    assert "unchanged (6 findings)" in table.stdout




def test_uncovered_image_is_not_reported_clean(alpine_archives: dict[str, Path],
                                               pypa_only_db: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Alpine 3.20 against a PyPA-only database: every face says its packages were not
    checked, stderr warns once per source, --fail-on-uncovered exits 1."""
    monkeypatch.setenv("HULLGUARD_STORE", f"sqlite:///{tmp_path / 'store.sqlite'}")
    image = f"docker-archive:{alpine_archives['3.20.3']}"
    code, out, err = _scan(image, "--db", str(pypa_only_db), "--no-store")
    assert code == 0, err
    assert "Not covered:" in out and "alpine 3.20" in out
    assert "no vulnerabilities found in the checked packages" in out
    assert err.count("NOT checked") == 1 and "alpine 3.20" in err and "db update" in err
    doc = json.loads(_scan(image, "--db", str(pypa_only_db), "--no-store", "-f", "json")[1])
    [entry] = doc["coverage"]
    assert entry["source"] == "alpine 3.20" and entry["covered"] is False
    assert entry["packages"] == len(doc_packages(image)) > 10 and entry["reason"]
    sarif = json.loads(_scan(image, "--db", str(pypa_only_db), "--no-store", "-f", "sarif")[1])
    [run] = sarif["runs"]
    assert run["properties"]["coverage"][0]["covered"] is False
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert any("alpine 3.20" in n["message"]["text"] for n in notes)
    assert _scan(image, "--db", str(pypa_only_db), "--no-store", "--fail-on-uncovered")[0] == 1


def doc_packages(image: str) -> list[str]:
    from hullguard.catalog import catalog_image

    return [p.name for p in catalog_image(image).packages]


def test_secdb_branch_covers_only_its_release(alpine_archives: dict[str, Path],
                                              secdb_310_db: Path) -> None:
    old = f"docker-archive:{alpine_archives['3.10.3']}"
    new = f"docker-archive:{alpine_archives['3.20.3']}"
    code, out, err = _scan(old, "--db", str(secdb_310_db), "--no-store", "-f", "json",
                           "--fail-on-uncovered")
    assert code == 0, err
    [entry] = json.loads(out)["coverage"]
    assert (entry["source"], entry["covered"]) == ("alpine 3.10", True)
    assert entry["feed"] and entry["last_updated"] and "NOT checked" not in err
    code, out, err = _scan(new, "--db", str(secdb_310_db), "--no-store", "-f", "json",
                           "--fail-on-uncovered")
    assert code == 1
    assert json.loads(out)["coverage"][0]["covered"] is False and "alpine 3.20" in err


def truncated_apk_image(tmp_path: Path) -> Path:
    """Alpine 3.10 with a second layer whose apk database is cut off mid-record (as a broken
    or hostile build leaves it): the catalog skips that record and must say so."""
    import tarfile

    from hullguard.images.builder import (
        FileSpec,
        ImageSpec,
        LayerSpec,
        rootfs_layer,
        write_docker_archive,
    )
    from tests.support.env import corpus_path

    tarball = corpus_path("images", "alpine", "alpine-minirootfs-3.10.3-x86_64.tar.gz")
    with tarfile.open(tarball) as archive:
        member = archive.extractfile("./lib/apk/db/installed")
        assert member is not None
        text = member.read().decode()
    cut = text.index("\nP:", len(text) // 2) + 1  # keep "P:name", lose "V:" and the rest
    broken = text[:text.index("\n", cut) + 1]
    layer = LayerSpec((FileSpec("lib/apk/db/installed", broken.encode()),), created_by="RUN x")
    spec = ImageSpec([rootfs_layer(tarball), layer], config={"Cmd": ["/bin/sh"]})
    return write_docker_archive(tmp_path / "truncated.tar", spec, "truncated:1")


def test_skipped_content_is_reported_not_clean(secdb_310_db: Path, tmp_path: Path) -> None:
    image = f"docker-archive:{truncated_apk_image(tmp_path)}"
    code, out, err = _scan(image, "--db", str(secdb_310_db), "--no-store", "-f", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["coverage"][0]["covered"] is True
    assert len(doc["skipped"]) == 1 and "has no P:/V:" in doc["skipped"][0]
    code, out, err = _scan(image, "--db", str(secdb_310_db), "--no-store")
    assert "Skipped content: 1" in out
    assert _scan(image, "--db", str(secdb_310_db), "--no-store", "--fail-on-uncovered")[0] == 1
