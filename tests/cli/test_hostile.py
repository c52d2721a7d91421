"""Hostile inputs built the way an attacker would, through the real commands: no traceback on
any of them. PAX times of inf/nan, a manifest.json nested 100,000 deep, integers longer than
Python's 4,300-digit limit in YAML/JSON/SBOM input, lone surrogates in SBOMs and non-UTF-8 file
names inside layers (written losslessly: JSON escapes that read back to the same string)."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hullguard.cli.main import app
from hullguard.errors import HullguardError
from hullguard.images import open_image
from hullguard.images.builder import ImageSpec, LayerSpec, write_docker_archive
from hullguard.sbom import render
from tests.support.fakes import github_token
from tests.vuln.feeds import make_sbom, scan_db, scan_packages

BIG = "7" * 5000
TOKEN = github_token(24)


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert "Traceback" not in result.stderr
    return result.exit_code, result.stdout, result.stderr


def _layer(members: list[tuple[str, bytes, dict[str, str]]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT,
                      encoding="utf-8", errors="surrogateescape") as tar:
        for name, data, pax in members:
            info = tarfile.TarInfo(name)
            info.size, info.pax_headers = len(data), pax
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.parametrize("mtime", ["inf", "nan", "-inf", "1e400"])
def test_pax_mtime_that_is_not_a_time(tmp_path: Path, mtime: str) -> None:
    raw = _layer([("etc/motd", b"hi", {"mtime": mtime})])
    archive = write_docker_archive(tmp_path / "img.tar", ImageSpec([LayerSpec(tar=raw)]))
    with open_image(f"docker-archive:{archive}") as source, \
            pytest.raises(HullguardError, match="not a finite time"):
        list(source.walk_layer(source.info.layers[0]))
    code, _, err = invoke("sbom", str(archive))
    assert code == 2 and "invalid PAX mtime" in err


def test_deeply_nested_manifest_json(tmp_path: Path) -> None:
    path = tmp_path / "deep.tar"
    data = b"[" * 100_000 + b"]" * 100_000
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    code, _, err = invoke("sbom", f"docker-archive:{path}")
    assert code == 2 and "nested too deeply" in err


def _hostile_yaml(tmp_path: Path) -> dict[str, Path]:
    files = {
        "yaml": f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\n"
                f"spec:\n  replicas: {BIG}\n  template:\n    spec:\n      containers:\n"
                f"      - {{name: web, image: 'nginx:1.25'}}\n",
        "json": json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                            "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}}
                           ).replace('"p"}', f'"p", "n": {BIG}}}'),
    }
    paths = {}
    for kind, text in files.items():
        paths[kind] = tmp_path / kind / f"pod.{kind}"
        paths[kind].parent.mkdir()
        paths[kind].write_text(text)
    return paths


@pytest.mark.parametrize("kind", ["yaml", "json"])
def test_integers_beyond_the_int_limit_in_manifests(tmp_path: Path, kind: str) -> None:
    path = _hostile_yaml(tmp_path)[kind]
    code, _, err = invoke("inventory", str(path))
    assert code == 2 and "integer of 5000 characters" in err
    code, _, err = invoke("lint", str(path))
    assert code == 2 and "integer of 5000 characters" in err
    assert invoke("secrets", str(path))[0] == 0  # scanned as text: nothing to parse
    code, _, err = invoke("respond", str(path), "--offline", "--no-store", "--quiet",
                          "--out", str(tmp_path / "incident"))
    assert code == 2 and "integer of 5000 characters" in err


@pytest.fixture
def scan_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HULLGUARD_DB", str(scan_db(tmp_path)))
    monkeypatch.setenv("HULLGUARD_CONFIG", str(tmp_path / "none.toml"))
    return tmp_path


def test_integers_beyond_the_int_limit_in_sboms(scan_env: Path) -> None:
    doc = json.loads(render(make_sbom(scan_packages()), "json"))
    text = json.dumps(doc).replace('"packages": [', f'"x": {BIG}, "packages": [', 1)
    path = scan_env / "big.json"
    path.write_text(text)
    for args in (("sbom", f"sbom:{path}"), ("scan", f"sbom:{path}", "--no-store")):
        code, _, err = invoke(*args)
        assert code == 2 and "integer of 5000 characters" in err


SBOM_FORMATS = ["table", "json", "cyclonedx-json", "spdx-json"]
SCAN_FORMATS = ["table", "json", "sarif", "cyclonedx-json"]


def _surrogate_sbom(directory: Path) -> Path:
    doc = json.loads(render(make_sbom(scan_packages()), "json"))
    doc["image"]["reference"] = "evil\udc80image"
    doc["packages"][0]["name"] = doc["packages"][0]["name"] + "\ud800"
    path = directory / "surrogates.json"
    path.write_text(json.dumps(doc))  # ensure_ascii: "\udc80" escapes, as an attacker writes
    return path


@pytest.mark.parametrize("fmt", SBOM_FORMATS)
def test_lone_surrogates_in_an_sbom_are_written_losslessly(scan_env: Path, fmt: str) -> None:
    path = _surrogate_sbom(scan_env)
    out = scan_env / f"out.{fmt}"
    code, _, err = invoke("sbom", f"sbom:{path}", "-f", fmt, "-o", str(out))
    assert code == 0, err
    text = out.read_text(encoding="utf-8")  # valid UTF-8
    assert "evil\\udc80image" in text
    if fmt != "table":
        assert "evil\udc80image" in json.dumps(json.loads(text), ensure_ascii=False)


@pytest.mark.parametrize("fmt", SCAN_FORMATS)
def test_lone_surrogates_through_scan(scan_env: Path, fmt: str) -> None:
    path = _surrogate_sbom(scan_env)
    code, out, err = invoke("scan", f"sbom:{path}", "--no-store", "-f", fmt)
    assert code == 0, err
    out.encode("utf-8")
    if fmt in ("json", "sarif", "cyclonedx-json"):
        json.loads(out)


def test_non_utf8_file_names_inside_layers(tmp_path: Path) -> None:
    raw = _layer([("app/\udcff\udcfe-token.env", f"GITHUB_TOKEN={TOKEN}\n".encode(), {}),
                  ("etc/os-release", b"ID=alpine\nVERSION_ID=3.18.4\n", {})])
    archive = write_docker_archive(tmp_path / "img.tar", ImageSpec([LayerSpec(tar=raw)]))
    for fmt in ("table", "json", "sarif"):
        code, out, err = invoke("secrets", f"docker-archive:{archive}", "-f", fmt)
        assert code == 0, err
        assert "\\udcff\\udcfe-token.env" in out, out
        if fmt != "table":
            found = json.dumps(json.loads(out), ensure_ascii=False)
            assert "app/\udcff\udcfe-token.env" in found  # the name read back, losslessly
    for fmt in SBOM_FORMATS:
        code, out, err = invoke("sbom", f"docker-archive:{archive}", "-f", fmt)
        assert code == 0, err


def test_lone_surrogates_are_stored_escaped(scan_env: Path) -> None:
    """SQLite (and PostgreSQL) take only UTF-8: the store keeps the escaped name."""
    import sqlite3

    store = scan_env / "store.sqlite"
    code, _, err = invoke("scan", f"sbom:{_surrogate_sbom(scan_env)}", "--store", str(store),
                          "-f", "json")
    assert code == 0 and "not recorded" not in err, err
    with sqlite3.connect(store) as connection:
        references = [row[0] for row in connection.execute("SELECT reference FROM images")]
    assert references == ["evil\\udc80image"]
