"""The planted secrets corpus: a multi-layer image with secrets in a base layer, a deleted file,
an overwritten file, ENV, history (ARG), a nested jar and a gzip member, plus decoys that
must not fire. Shared by the image tests, the trivy comparison and bench/secrets_bench.py.

Every planted value is a real-looking fake: random characters of its format from a fixed
seed, with a valid checksum where the format has one (GitHub and npm tokens), because the
scanner suppresses stand-ins (repeated or sequential characters, EXAMPLE, bad checksums).
They avoid the word "example" because trivy drops any match containing it (its built-in
"examples" allow rule), which would make the comparison meaningless.
"""

from __future__ import annotations

import binascii
import gzip
import random
import string
from dataclasses import dataclass
from pathlib import Path

from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec, write_docker_archive
from tests.support.archives import zip_bytes

ALNUM = "FAKE0123456789fake"


def fill(n: int, pattern: str = ALNUM) -> str:
    return (pattern * (n // len(pattern) + 1))[:n]


BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_RANDOM = random.Random(20261203)  # fixed: the corpus is the same in every run


def rand(n: int, alphabet: str = BASE62, rng: random.Random = _RANDOM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def checksummed(prefix: str, rng: random.Random = _RANDOM) -> str:
    """A token in GitHub's 2021 format (also npm's): prefix, 30 random base62 characters and
    the CRC32 of those 30, base62-encoded to 6 characters. Written here independently of
    hullguard's own check so that the two can disagree."""
    body = rand(30, rng=rng)
    value, digits = binascii.crc32(body.encode()), ""
    while value:
        value, digit = divmod(value, 62)
        digits = BASE62[digit] + digits
    return prefix + body + digits.rjust(6, "0")


GITHUB = checksummed("ghp_")
AWS_ID = "AKIA" + rand(16, string.ascii_uppercase + "234567")
AWS_SECRET = "FAKEr8Kq2xW5nZ7pL3vT9bY4cD6fH1jM0sQ2uAbC"
SLACK = f"xoxb-{rand(12, string.digits)}-{rand(13, string.digits)}-{rand(24)}"
STRIPE = "sk_live_" + rand(24)
OPENAI = "sk-proj-" + rand(40) + "T3BlbkFJ" + rand(40)
NPM = checksummed("npm_")
GITLAB = "glpat-" + rand(20)
HUGGINGFACE = "hf_" + rand(34, string.ascii_letters)
PEM = ("-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join([fill(64, "FAKEr8Kq2xW5nZ7pL3v+/")] * 4)
       + "\n-----END RSA PRIVATE KEY-----\n")


@dataclass(frozen=True)
class Planted:
    """One secret the scanners should find: where and which kind (our rule id)."""

    rule_id: str
    value: str
    path: str  # file path, or "config:..." for config fields
    line: int = 1  # in the file (archive members: in the member)
    marker: str = ""  # for config fields: the variable name that carries it


PLANTED = (
    Planted("github-personal-token", GITHUB, "/etc/app/base.env"),  # base layer
    Planted("aws-access-key-id", AWS_ID, "/root/.aws/credentials", 2),
    Planted("aws-secret-access-key", AWS_SECRET, "/root/.aws/credentials", 3),
    Planted("private-key-rsa", PEM, "/tmp/deploy/id_rsa", 2),  # deleted by a later layer
    Planted("slack-token", SLACK, "/app/config/settings.yaml", 2),  # overwritten later
    Planted("stripe-secret-key", STRIPE, "/app/lib/app.war"),  # war -> jar -> properties
    Planted("gitlab-pat", GITLAB, "/app/logs/deploy.log.gz"),  # gzip member
    Planted("openai-api-key", OPENAI, "config:Env", 1, "OPENAI_API_KEY"),  # ENV
    Planted("npm-token", NPM, "config:history", 1, "NPM_TOKEN"),  # ARG leak in created_by
    Planted("huggingface-token", HUGGINGFACE, "/opt/model/.cache/token"),
)

DECOYS = {
    "/usr/share/doc/app/INSTALL.txt":
        b"Set the database password, e.g. password=changeme, then restart.\n"
        b"Example: postgres://user:password@localhost/db\n",
    "/app/docs/aws.md": b"Use `aws configure` with AKIAIOSFODNN7EXAMPLE and "
                        b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY from the AWS docs.\n",
    "/app/.env.example": b"GITHUB_TOKEN=${GITHUB_TOKEN}\nNPM_TOKEN=<your-token>\n"
                         b"SLACK_TOKEN=xoxb-your-token-here\n",
    "/app/ids.txt": b"request 4f1c2a9e-8b3d-4c6e-9a7f-0d1e2f3a4b5c done\n"
                    b"request 7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928 done\n",
    "/app/checksums.txt": b"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  a\n"
                          b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  b\n",
    "/app/package-lock.json":
        b'{"packages": {"node_modules/lodash": {"version": "4.17.21", "resolved": '
        b'"https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz", "integrity": '
        b'"sha512-v2kDEe57lecTulaDIuNTPy3Ry4gLGJ6Z1O3vE1krgXZNrsQ+LFTGHVxVjcXPs17LhbZVGedAJv8XZ1tvj5FvSg=="}}}\n',
    "/app/yarn.lock": b'lodash@^4.17.21:\n  resolved "https://registry.yarnpkg.com/lodash/-/'
                      b'lodash-4.17.21.tgz#679591c564c3bffaae8454cf0b3df370c3d6911c"\n',
    "/app/bin/tool": b"\x7fELF\x02\x01\x01" + b"\x00" * 32 + GITHUB.replace("E", "F").encode(),
}


def _war() -> bytes:
    inner = zip_bytes({"application.properties": f"stripe.api.key={STRIPE}\nserver.port=8080\n"
                  .encode(), "com/example/App.class": b"\xca\xfe\xba\xbe\x00\x00"})
    return zip_bytes({"WEB-INF/lib/inner.jar": inner, "index.html": b"<html></html>"})


def planted_spec() -> ImageSpec:
    base = LayerSpec((FileSpec("etc/app/base.env", f"GITHUB_TOKEN={GITHUB}\n".encode()),),
                     created_by="ADD base.tar / # base image")
    app = LayerSpec((
        FileSpec("root/.aws/credentials", f"[default]\naws_access_key_id = {AWS_ID}\n"
                 f"aws_secret_access_key = {AWS_SECRET}\n".encode()),
        FileSpec("tmp/deploy/id_rsa", PEM.encode(), mode=0o600),
        FileSpec("app/config/settings.yaml", f"slack:\n  token: {SLACK}\n".encode()),
        FileSpec("opt/model/.cache/token", HUGGINGFACE.encode() + b"\n"),
        *(FileSpec(path.lstrip("/"), data) for path, data in DECOYS.items()),
    ), created_by="COPY . /app")
    cleanup = LayerSpec((
        FileSpec("tmp/deploy/.wh.id_rsa", b""),
        FileSpec("app/config/settings.yaml", b"slack:\n  token: ${SLACK_TOKEN}\n"),
        FileSpec("app/lib/app.war", _war()),
        FileSpec("app/logs/deploy.log.gz", gzip.compress(
            f"2024-01-01 cloning with token {GITLAB}\n".encode(), mtime=0)),
    ), created_by=f"|1 NPM_TOKEN={NPM} /bin/sh -c rm /tmp/deploy/id_rsa && npm ci")
    config = {"Env": ["PATH=/usr/bin", f"OPENAI_API_KEY={OPENAI}"], "User": "app",
              "Labels": {"org.opencontainers.image.source": "https://example.com/app"}}
    return ImageSpec([base, app, cleanup], config=config)


def write_planted(out: Path) -> Path:
    return write_docker_archive(out / "planted.tar", planted_spec(), "planted:latest")
