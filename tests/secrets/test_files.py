"""Directory scans: text files, Dockerfile ENV/ARG/LABEL, compose environment, Kubernetes env
values and Secret objects (base64 data and stringData), allowlist, symlinks, sizes."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from hullguard.errors import InputError
from hullguard.model.secret import SecretReport
from hullguard.secrets import Allowlist, Limits, load_allowlist, scan_path, scan_target
from tests.secrets.corpus import GITHUB, NPM, STRIPE

DB_PASSWORD = "Zq8w-db-p4ss-9Kq2zX7"


def _rules_at(report: SecretReport) -> set[tuple[str, str, int]]:
    return {(f.rule_id, loc.path, loc.line) for f in report.findings for loc in f.locations}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(
        "FROM alpine:3.20\nARG NPM_TOKEN\n"
        f"ENV DB_PASSWORD={DB_PASSWORD} \\\n    MODE=prod\n"
        "ENV PLAIN_PASSWORD changeme\nRUN echo hi\n")
    (tmp_path / "compose.yaml").write_text(
        "services:\n  web:\n    image: web\n    environment:\n"
        f"      API_TOKEN: {NPM}\n      DEBUG: 'false'\n")
    secret_value = base64.b64encode(DB_PASSWORD.encode()).decode()
    (tmp_path / "k8s.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n"
        f"  password: {secret_value}\nstringData:\n  stripe: {STRIPE}\n---\n"
        "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n"
        "      containers:\n      - name: app\n        env:\n        - name: ADMIN_PASSWORD\n"
        f"          value: {DB_PASSWORD}x\n        - name: FROM_SECRET\n"
        "          valueFrom: {secretKeyRef: {name: db, key: password}}\n")
    (tmp_path / ".npmrc").write_text("//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n")
    sub = tmp_path / "src"
    sub.mkdir()
    (sub / "settings.py").write_text(f"GITHUB = '{GITHUB}'\n")
    (sub / "link").symlink_to("/etc/passwd")
    return tmp_path


def test_directory_scan(tree: Path) -> None:
    found = _rules_at(scan_path(tree))
    assert ("github-personal-token", "src/settings.py", 1) in found
    assert ("generic-secret-assignment", "Dockerfile", 3) in found
    assert ("npm-token", "compose.yaml", 5) in found
    assert ("generic-secret-assignment", "k8s.yaml", 6) in found  # base64-decoded data
    assert ("stripe-secret-key", "k8s.yaml", 8) in found
    assert ("generic-secret-assignment", "k8s.yaml", 19) in found  # env value
    assert not any(path == ".npmrc" for _, path, _ in found)  # ${NPM_TOKEN} reference
    assert not any("link" in path for _, path, _ in found)
    assert len([r for r in found if r[1] == "Dockerfile"]) == 1  # changeme is a placeholder


def test_allowlist(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    full = scan_path(tree)
    stripe = next(f for f in full.findings if f.rule_id == "stripe-secret-key")
    config = tmp_path_factory.mktemp("allow") / "allow.yaml"
    config.write_text(f"paths: ['src/**']\nfingerprints: ['sha256:{stripe.fingerprint}']\n"
                      "rules: [npm-token]\n")
    allowed = {f.rule_id for f in scan_path(tree, allowlist=load_allowlist(config)).findings}
    assert "github-personal-token" not in allowed
    assert "stripe-secret-key" not in allowed and "npm-token" not in allowed
    assert "generic-secret-assignment" in allowed
    assert Allowlist(paths=("/etc/*",)).allows("x", "ab", "/etc/app.war!/a.txt")


@pytest.mark.parametrize("text", ["[1, 2]", "paths: 3\n", "other: []\n", "a: [\n", "&a [*a]"])
def test_bad_allowlists(tmp_path: Path, text: str) -> None:
    path = tmp_path / "allow.yaml"
    path.write_text(text)
    with pytest.raises(InputError):
        load_allowlist(path)


def test_large_file_skipped_and_reported(tmp_path: Path) -> None:
    (tmp_path / "big.log").write_bytes(b"x" * 5000 + GITHUB.encode())
    report = scan_path(tmp_path, limits=Limits(max_file_size=1000))
    assert not report.findings
    assert [(s.path, s.size) for s in report.skipped] == [("big.log", 5000 + len(GITHUB))]
    assert "larger than 1000" in report.skipped[0].reason


def test_missing_path_and_single_file(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        scan_path(tmp_path / "nope")
    single = tmp_path / "one.env"
    single.write_text(f"X={GITHUB}\n")
    assert scan_target(str(single)).findings[0].locations[0].path == str(single)


def test_hostile_yaml_does_not_crash(tmp_path: Path) -> None:
    (tmp_path / "bomb.yaml").write_text(
        "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c]\n"
        "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n")
    (tmp_path / "deep.yaml").write_text("[" * 5000 + "]" * 5000)
    (tmp_path / "bad.json").write_bytes(b"\xff\xfe{\x00")
    report = scan_path(tmp_path)
    assert report.findings == ()


def test_dockerfile_values_in_linear_time() -> None:
    """Many continuations and ENV lines (hostile input up to --max-file-size): the values are
    found with their lines, and in bounded time (a per-match rescan of every continuation
    before it took 8 s for these 160 KB)."""
    import time

    from hullguard.secrets.files import dockerfile_assignments

    data = ("FROM a\n" + "RUN x \\\n  y\nENV A=b\n" * 8000 +
            "# a comment\nENV \\\n  # dropped inside a continuation, as BuildKit does\n"
            f"  TOKEN {GITHUB}\n").encode()
    started = time.perf_counter()
    found = list(dockerfile_assignments(data))
    assert time.perf_counter() - started < 4
    assert len(found) == 8001
    assert found[-1] == (24003, f"TOKEN={GITHUB}".encode())
