"""Secrets at rest: an image leaking an AWS key pair and a GitHub token in its ENV, its history
and a layer file; after ``respond --store`` not one byte hullguard wrote (incident folder,
journal, SQLite store and its -wal) holds any of them."""

from __future__ import annotations

import json
import random
import string
import subprocess
import sys
from pathlib import Path

from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec, write_docker_archive
from tests.support.fakes import github_token

REF = "registry.shop.internal/shop/leaky:1.0"


def _token(alphabet: str, length: int, seed: int) -> str:
    rng = random.Random(seed)  # random-looking, so no rule treats it as a documentation example
    return "".join(rng.choice(alphabet) for _ in range(length))


KEY_ID = "AKIA" + _token(string.ascii_uppercase + "234567", 16, 1)
SECRET_KEY = _token(string.ascii_letters + string.digits + "/+", 40, 2)
GITHUB = github_token(3)
DB_PASSWORD = "Tr0ub4dor-" + _token(string.ascii_lowercase, 8, 4)
PLANTED = (KEY_ID, SECRET_KEY, GITHUB, DB_PASSWORD)


def _leaky_image(path: Path) -> Path:
    env_file = (f"AWS_ACCESS_KEY_ID={KEY_ID}\nAWS_SECRET_ACCESS_KEY={SECRET_KEY}\n"
                f"GITHUB_TOKEN={GITHUB}\n").encode()
    spec = ImageSpec([
        LayerSpec((FileSpec("etc/os-release", b"ID=alpine\nVERSION_ID=3.18.0\n"),),
                  created_by="ADD rootfs /"),
        LayerSpec((FileSpec("app/.env", env_file),), created_by="COPY .env /app/.env"),
        LayerSpec((FileSpec("root/.git-credentials", b"x"),),
                  created_by=f"RUN echo https://x:{GITHUB}@github.com > /root/.git-credentials"),
        LayerSpec((), created_by=f"ENV AWS_SECRET_ACCESS_KEY={SECRET_KEY} "
                                 f"DB_PASSWORD={DB_PASSWORD}"),
    ], config={"Env": ["PATH=/usr/bin", f"AWS_ACCESS_KEY_ID={KEY_ID}",
                       f"AWS_SECRET_ACCESS_KEY={SECRET_KEY}", f"GITHUB_TOKEN={GITHUB}",
                       f"DB_PASSWORD={DB_PASSWORD}"],
               "Cmd": ["sh", "-c", f"deploy --token {GITHUB}"]})
    return write_docker_archive(path, spec, "shop/leaky:1.0")


def test_no_byte_written_holds_a_planted_secret(tmp_path: Path, empty_db: Path) -> None:
    archive = _leaky_image(tmp_path / "leaky.tar")
    listing = tmp_path / "images.txt"
    listing.write_text(REF + "\n")
    written = tmp_path / "written"
    store = written / "store.sqlite"
    out = written / "incident"
    run = subprocess.run(
        [sys.executable, "-m", "hullguard", "respond", str(listing), "--offline", "--quiet",
         "--image", f"{REF}=docker-archive:{archive}", "--store", f"sqlite:///{store}",
         "--out", str(out), "--db", str(empty_db)],
        capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    files = [p for p in written.rglob("*") if p.is_file()]
    assert store in files and (out / "findings.json") in files
    assert any(p.parent.name == "scans" for p in files), "the journal was written"
    for path in files:
        data = path.read_bytes()
        for secret in PLANTED:
            assert secret.encode() not in data, f"{secret[:4]}... in clear in {path}"
    for secret in PLANTED:
        assert secret not in run.stdout and secret not in run.stderr
    # What was found is still reported (redacted), and the env names are kept.
    doc = json.loads((out / "findings.json").read_text())
    rules = {s["rule_id"] for image in doc["images"] for s in image["secrets"]}
    assert {"aws-access-key-id", "aws-secret-access-key", "github-personal-token"} <= rules
    assert (out / doc["images"][0]["sbom"]).is_file()
    from hullguard.secrets.redact import redact_secret

    entry = json.loads(next((out / ".hullguard-state" / "scans").glob("*.json")).read_text())
    env = entry["sbom"]["image"]["config"]["env"]
    assert "PATH=/usr/bin" in env
    assert f"AWS_ACCESS_KEY_ID={redact_secret(KEY_ID)}" in env
    assert f"DB_PASSWORD={redact_secret(DB_PASSWORD)}" in env


def test_env_values_of_sensitive_names_and_flagged_secrets_are_redacted() -> None:
    from hullguard.secrets.redact import Redactor, redact_secret

    redactor = Redactor({GITHUB})
    assert redactor.env(f"DB_PASSWORD={DB_PASSWORD}") == f"DB_PASSWORD={redact_secret(DB_PASSWORD)}"
    assert redactor.env(f"DEPLOY_URL=https://x:{GITHUB}@h") == \
        f"DEPLOY_URL={redact_secret(f'https://x:{GITHUB}@h')}"
    assert redactor.env("PATH=/usr/bin") == "PATH=/usr/bin"
    assert redactor.env("GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D").startswith("GPG_KEY=A0")
    command = redactor.text(f"RUN curl -H 'x' --token {GITHUB} && export API_KEY=abc123")
    assert GITHUB not in command and "abc123" not in command and "API_KEY=" in command
    assert redact_secret(GITHUB).startswith("ghp_****") and f"len {len(GITHUB)}" in \
        redact_secret(GITHUB)
