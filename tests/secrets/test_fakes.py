"""Stand-ins are suppressed, real-looking fakes are found: placeholders, checksums, provider
labels, newer token formats, escaped private keys and documentation paths."""

from __future__ import annotations

import base64
import json
import random
import string

import pytest

from hullguard.secrets import scan_bytes
from hullguard.secrets.report import to_sarif
from hullguard.secrets.rules import RULES_VERSION, valid_checksum
from tests.secrets.corpus import BASE62, checksummed, rand

RNG = random.Random(424242)
HEX = "0123456789abcdef"
BASE32 = string.ascii_uppercase + "234567"


def _b64url(n: int) -> str:
    return base64.urlsafe_b64encode(RNG.randbytes(n)).decode().rstrip("=")


def _jwt_ghs() -> str:
    header = base64.urlsafe_b64encode(b'{"alg":"RS256","typ":"JWT"}').decode().rstrip("=")
    return f"ghs_{header}.{_b64url(300)}.{_b64url(256)}"


# (rule id, text holding the secret): every one generated here, random with a fixed seed
REAL_LOOKING = [
    ("github-personal-token", f"GITHUB_TOKEN={checksummed('ghp_', RNG)}"),
    ("github-oauth-token", f"token: {checksummed('gho_', RNG)}"),
    ("github-user-token", f"token: {checksummed('ghu_', RNG)}"),
    ("github-server-token", f"token: {checksummed('ghs_', RNG)}"),
    ("github-server-token", f"GH_TOKEN={_jwt_ghs()}"),
    ("github-refresh-token", f"refresh: {checksummed('ghr_', RNG)}"),
    ("npm-token", f"//registry.npmjs.org/:_authToken={checksummed('npm_', RNG)}"),
    ("aws-access-key-id", f"AWS_ACCESS_KEY_ID=AKIA{rand(16, BASE32, RNG)}"),
    ("aws-access-key-id", f"aws_access_key_id = ASIA{rand(16, BASE32, RNG)}"),
    ("aws-access-key-id", f"key: ABIA{rand(16, BASE32, RNG)}"),
    ("aws-access-key-id", f"key: ACCA{rand(16, BASE32, RNG)}"),
    ("gitlab-pat", f"GITLAB_TOKEN=glpat-{rand(20, BASE62 + '_-', RNG)}"),
    ("slack-token", f"SLACK={'xoxb'}-{rand(12, string.digits, RNG)}-"
                    f"{rand(13, string.digits, RNG)}-{rand(24, BASE62, RNG)}"),
    ("slack-webhook", f"url: https://hooks.slack.com/services/T{rand(10, BASE32, RNG)}/"
                      f"B{rand(10, BASE32, RNG)}/{rand(24, BASE62, RNG)}"),
    ("slack-webhook", f"url: http://hooks.slack.com/services/T{rand(8, BASE32, RNG)}/"
                      f"B{rand(10, BASE32, RNG)}/{rand(24, BASE62, RNG)}"),
    ("slack-webhook", f"hook=https://hooks.slack.com/workflows/T{rand(10, BASE32, RNG)}/"
                      f"A{rand(10, BASE32, RNG)}/{rand(18, string.digits, RNG)}/"
                      f"{rand(24, BASE62, RNG)}"),
    ("slack-webhook", f"hook=https://hooks.slack.com/triggers/T{rand(10, BASE32, RNG)}/"
                      f"{rand(13, string.digits, RNG)}/{rand(32, HEX, RNG)}"),
    ("openai-api-key", f"OPENAI_API_KEY=sk-proj-{rand(74, BASE62 + '_-', RNG)}"
                           f"T3BlbkFJ{rand(74, BASE62 + '_-', RNG)}"),
    ("anthropic-api-key", f"ANTHROPIC_API_KEY=sk-ant-api03-{rand(40, BASE62, RNG)}T3BlbkFJ"
                          f"{rand(45, BASE62 + '_-', RNG)}AA"),
    ("anthropic-api-key", f"CLAUDE_CODE_OAUTH_TOKEN=sk-ant-oat01-{rand(95, BASE62, RNG)}AA"),
    ("openrouter-api-key", f"OPENROUTER_API_KEY=sk-or-v1-{rand(64, HEX, RNG)}"),
    ("hashicorp-vault-token", f"VAULT_TOKEN=hvs.{rand(24, BASE62, RNG)}"),
    ("hashicorp-vault-token", f"VAULT_TOKEN=hvs.CAESI{rand(86, BASE62 + '_-', RNG)}"),
    ("hashicorp-vault-legacy-token", f"export VAULT_TOKEN=s.{rand(24, BASE62, RNG)}"),
    ("hashicorp-vault-legacy-token", f'{{"auth": {{"client_token": "s.{rand(24, BASE62, RNG)}"'),
    ("hashicorp-vault-legacy-token", f"X-Vault-Token: b.AAAAAQ{rand(120, BASE62, RNG)}"),
    ("stripe-secret-key", f"STRIPE_KEY=sk_live_{rand(24, BASE62, RNG)}"),
]


@pytest.mark.parametrize(("rule_id", "text"), REAL_LOOKING, ids=[r for r, _ in REAL_LOOKING])
def test_real_looking_fakes_are_found_with_their_provider(rule_id: str, text: str) -> None:
    report = scan_bytes(text.encode() + b"\n", "/srv/app/.env")
    assert [f.rule_id for f in report.findings] == [rule_id], text
    assert report.suppressed == 0


STAND_INS = [
    "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "AWS_ACCESS_KEY_ID=AKIAXXXXXXXXXXXXXXXX",
    "GITLAB_TOKEN=glpat-XXXXXXXXXXXXXXXXXXXX",
    "AWS_ACCESS_KEY_ID=AKIA234567ABCDEFGHIJ",  # sequential
    "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",  # AWS's documentation key
    "ANTHROPIC_API_KEY=sk-ant-api03-" + "x" * 95,
    "GITHUB_TOKEN=ghp_EXAMPLE0123456789example0123456789EX",
    "GITHUB_TOKEN=ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    "STRIPE_KEY=sk_live_abababababababababababab",  # two characters: no entropy
    "OPENROUTER_API_KEY=sk-or-v1-" + "0123456789abcdef" * 4,
]


@pytest.mark.parametrize("text", STAND_INS)
def test_placeholders_are_suppressed_not_reported(text: str) -> None:
    report = scan_bytes(text.encode() + b"\n", "/srv/app/.env")
    assert report.findings == () and report.suppressed == 1, text


def test_stateless_ghs_token_is_taken_whole() -> None:
    # its JWT header alone is 36 base62 characters: the old pattern took just that, so every
    # such token got the same fingerprint and all but one were merged away
    tokens = [_jwt_ghs() for _ in range(2)]
    report = scan_bytes("".join(f"GH_TOKEN={t}\n" for t in tokens).encode(), "/srv/.env")
    assert sorted(f.length for f in report.findings) == sorted(len(t) for t in tokens)


def test_weak_real_passwords_are_not_stand_ins() -> None:
    # sequences in a password make it weak, not fake: only token formats are judged
    text = b"DATABASE_URL=postgres://app:MyApp123456@db.internal:5432/app\n"
    assert [f.rule_id for f in scan_bytes(text, "/srv/app/.env").findings] == ["url-password"]
    report = scan_bytes(b"DB_PASSWORD=Winter123456!\n", "/srv/app/.env", config=True)
    assert [f.rule_id for f in report.findings] == ["generic-secret-assignment"]


def test_github_checksum_must_hold() -> None:
    good = checksummed("ghp_", RNG)
    assert valid_checksum(good.encode())
    broken = good[:-1] + ("A" if good[-1] != "A" else "B")
    assert not valid_checksum(broken.encode())
    assert scan_bytes(f"t={broken}\n".encode()).findings == ()
    assert [f.rule_id for f in scan_bytes(f"t={good}\n".encode()).findings] == [
        "github-personal-token"]


def _pem(kind: str = "PRIVATE KEY") -> tuple[str, str]:
    body = base64.b64encode(b"\x30\x82\x04\xbd" + RNG.randbytes(1200)).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {kind}-----", "\n".join(lines) + f"\n-----END {kind}-----\n"


def test_escaped_private_keys_in_json_and_env() -> None:
    head, rest = _pem()
    escaped = json.dumps(head + "\n" + rest)  # a JSON string: newlines as \n
    doc = f'{{\n  "name": "deploy",\n  "tls": {{\n    "key": {escaped},\n  "port": 443\n}}\n'
    report = scan_bytes(doc.encode(), "/srv/app/secrets.json")
    assert [(f.rule_id, f.locations[0].line) for f in report.findings] == [
        ("private-key-pkcs8", 4)]
    rsa_head, rsa_rest = _pem("RSA PRIVATE KEY")
    value = (rsa_head + "\n" + rsa_rest).replace("\n", "\\n")
    env = f'APP_ENV=prod\nJWT_SIGNING_KEY="{value}"\nPORT=8080\n'
    report = scan_bytes(env.encode(), "/srv/app/.env")
    assert [(f.rule_id, f.locations[0].line) for f in report.findings] == [
        ("private-key-rsa", 2)]
    double = json.dumps({"config": json.dumps({"key": head + "\n" + rest})})  # \\n
    assert [f.rule_id for f in scan_bytes(double.encode(), "/x.json").findings] == [
        "private-key-pkcs8"]


MAN_PAGE = (b'.TH APT_AUTH.CONF 5\n.SH EXAMPLE\nmachine example.org login debian '
            b'password debian\n.PP\nhttps://user:s3cr3t-Pass@example.org/debian\n')


def test_documentation_is_not_a_leak() -> None:
    for path in ("/usr/share/man/man5/apt_auth.conf.5.gz!/apt_auth.conf.5",
                 "/usr/share/doc/app/README", "/usr/local/share/man/man1/x.1",
                 "/usr/share/info/app.info", "rootfs/usr/share/man/man8/pam_pwhistory.8"):
        report = scan_bytes(MAN_PAGE, path)
        assert report.findings == (), path
    found = scan_bytes(MAN_PAGE, "/etc/apt/auth.conf.d/mirror.conf").findings
    assert {f.rule_id for f in found} == {"netrc-password", "url-password"}
    token = checksummed("ghp_", RNG)  # a high-confidence format is reported even in docs
    report = scan_bytes(f"export GITHUB_TOKEN={token}\n".encode(), "/usr/share/doc/x/notes")
    assert [f.rule_id for f in report.findings] == ["github-personal-token"]


def test_rules_version_in_sarif() -> None:
    token = checksummed("ghp_", RNG)
    sarif = json.loads(to_sarif(scan_bytes(f"t={token}\n".encode())))
    assert sarif["runs"][0]["properties"]["rulesVersion"] == RULES_VERSION
