"""Secrets at rest everywhere hullguard writes an SBOM: ``sbom -o`` in every format, ``scan
--store``, ``scan-fleet --store`` (and ``respond``: tests/respond/test_redaction.py). The image
plants an AWS key pair, a GitHub token and a database password in its Env, its history and
its Cmd; not one byte written (output files, the SQLite store, its -wal, the fleet state)
holds any of them, while the Env names stay. One redacted form everywhere
(:func:`hullguard.model.secret.redacted_form`), the secret scanner's findings included."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hullguard.secrets import scan_image
from hullguard.secrets.redact import Redactor, redact_secret
from hullguard.vuln.dbwrite import ImportInput, import_inputs
from tests.respond.test_redaction import (
    DB_PASSWORD,
    GITHUB,
    KEY_ID,
    PLANTED,
    REF,
    SECRET_KEY,
    _leaky_image,
)


def _hullguard(*args: str) -> subprocess.CompletedProcess[str]:
    run = subprocess.run([sys.executable, "-m", "hullguard", *args], capture_output=True,
                         text=True, timeout=300, check=False)
    for secret in PLANTED:
        assert secret not in run.stdout and secret not in run.stderr, args
    return run


def _empty_db(tmp_path: Path) -> Path:
    (tmp_path / "no-advisories").mkdir()
    db = tmp_path / "empty-advisories.sqlite"
    import_inputs(db, [ImportInput(tmp_path / "no-advisories", name="none")])
    return db


def test_sbom_scan_and_scan_fleet_write_no_planted_secret(tmp_path: Path) -> None:
    archive = _leaky_image(tmp_path / "leaky.tar")
    image, db = f"docker-archive:{archive}", _empty_db(tmp_path)
    written = tmp_path / "written"
    written.mkdir()
    store = f"sqlite:///{written / 'store.sqlite'}"
    for fmt in ("json", "cyclonedx-json", "spdx-json"):
        run = _hullguard("sbom", image, "-f", fmt, "-o", str(written / f"sbom.{fmt}"), "-q")
        assert run.returncode == 0, run.stderr
    run = _hullguard("scan", image, "--store", store, "--db", str(db), "-f", "cyclonedx-json",
                     "-o", str(written / "scan.cdx.json"), "-q")
    assert run.returncode == 0, run.stderr
    listing = tmp_path / "images.txt"
    listing.write_text(REF + "\n")
    run = _hullguard("scan-fleet", str(listing), "--offline", "--quiet", "--image",
                     f"{REF}={image}", "--store", store, "--state", str(written / "fleet"),
                     "--db", str(db), "-f", "json")
    assert run.returncode == 0, run.stderr
    files = [p for p in written.rglob("*") if p.is_file()]
    assert written / "store.sqlite" in files and len(files) >= 5, files
    for path in files:
        data = path.read_bytes()
        for secret in PLANTED:
            assert secret.encode() not in data, f"{secret[:4]}... in clear in {path}"
    env = json.loads((written / "sbom.json").read_text())["image"]["config"]["env"]
    assert "PATH=/usr/bin" in env  # harmless values and every name stay
    assert f"AWS_ACCESS_KEY_ID={redact_secret(KEY_ID)}" in env
    assert f"GITHUB_TOKEN={redact_secret(GITHUB)}" in env


def test_redaction_is_idempotent() -> None:
    """An SBOM read back (store, ``sbom:`` file, journal) passes through unchanged: a redacted
    form is never redacted again."""
    redactor = Redactor({GITHUB, SECRET_KEY})
    command = (f"ENV AWS_SECRET_ACCESS_KEY={SECRET_KEY} DB_PASSWORD={DB_PASSWORD} "
               f"&& deploy --token {GITHUB}")
    once = redactor.text(command)
    assert redact_secret(SECRET_KEY) in once and redact_secret(GITHUB) in once
    assert f"DB_PASSWORD={redact_secret(DB_PASSWORD)}" in once
    assert Redactor({GITHUB, SECRET_KEY}).text(once) == once
    item = redactor.env(f"DB_PASSWORD={DB_PASSWORD}")
    assert Redactor(()).env(item) == item
    assert Redactor(()).label(("token", redact_secret(GITHUB))) == ("token",
                                                                   redact_secret(GITHUB))


def test_secret_findings_use_the_one_redacted_form(tmp_path: Path) -> None:
    """Layer commands in the secret report show the same form as the findings themselves."""
    report = scan_image(f"docker-archive:{_leaky_image(tmp_path / 'leaky.tar')}")
    by_rule = {f.rule_id: f for f in report.findings}
    secret_key = by_rule["aws-secret-access-key"]
    history = [loc for loc in secret_key.locations if loc.created_by.startswith("ENV ")]
    assert history, secret_key.locations
    assert secret_key.redacted in history[0].created_by
    assert SECRET_KEY not in history[0].created_by and "***REDACTED***" not in \
        history[0].created_by
    assert report.image is not None
    commands = " ".join(layer.created_by for layer in report.image.layers)
    assert secret_key.redacted in commands and by_rule["github-personal-token"].redacted in \
        commands
    assert GITHUB not in commands
