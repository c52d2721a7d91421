"""Dockerfile checks on real Dockerfile text (parsed by hullguard.inventory.dockerfile)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hullguard.errors import InputError, LimitExceeded
from hullguard.lint import lint_path
from hullguard.model.lint import LintReport

RISKY = """\
# syntax=docker/dockerfile:1
FROM golang:1.22 AS build
RUN go build -o /app .
FROM debian:latest
ARG GITHUB_TOKEN=ghp_EXAMPLE0123456789example0123456789EX
ENV DB_PASSWORD=supersecret99 API_URL=https://api.example.com
ENV NPM_TOKEN=${NPM_TOKEN}
ENV ADMIN_PASSWORD changeme
ADD https://example.com/tool.tar.gz /opt/
RUN curl -fsSL https://example.com/install.sh | bash
RUN apt-get update && \\
    apt-get install -y sudo openssh-server curl && chmod 777 /srv
RUN pip install flask
COPY --from=build /app /app
EXPOSE 22 8080
"""

HARDENED = """\
FROM golang:1.22@sha256:{d} AS build
RUN apt-get update && apt-get install -y sudo && go build -o /app .
FROM gcr.io/distroless/static-debian12:nonroot@sha256:{d}
ARG VERSION=1.2.3
ENV NPM_TOKEN=${{NPM_TOKEN}} PASSWORD_FILE=/run/secrets/db
ADD --checksum=sha256:{d} https://example.com/tool.tar.gz /opt/
COPY --from=build /app /app
USER 10001:10001
HEALTHCHECK CMD ["/app", "health"]
""".format(d="a" * 64)


def _lint(tmp_path: Path, text: str, level: str = "L3", name: str = "Dockerfile") -> LintReport:
    path = tmp_path / name
    path.write_text(text)
    return lint_path(path, level=level)


def _hits(report: LintReport) -> set[tuple[str, int]]:
    return {(f.check.id, f.line) for f in report.findings}


def test_risky_dockerfile(tmp_path: Path) -> None:
    report = _lint(tmp_path, RISKY)
    assert _hits(report) >= {
        ("HG-D001", 4), ("HG-D002", 4), ("HG-D003", 2), ("HG-D003", 4), ("HG-D004", 9),
        ("HG-D005", 10), ("HG-D006", 5), ("HG-D006", 6), ("HG-D006", 8), ("HG-D007", 11),
        ("HG-D007", 13), ("HG-D008", 4), ("HG-D009", 11), ("HG-D010", 11), ("HG-D010", 15),
        ("HG-D011", 11)}
    secret_lines = [f.line for f in report.findings if f.check.id == "HG-D006"]
    assert 7 not in secret_lines  # ${NPM_TOKEN} is a reference, not a secret
    text = " ".join(f.message for f in report.findings)
    assert "supersecret99" not in text and "ghp_EXAMPLE" not in text


def test_hardened_dockerfile_is_clean(tmp_path: Path) -> None:
    """The build stage's sudo does not ship; everything else is pinned and non-root."""
    assert _lint(tmp_path, HARDENED).findings == ()


def test_level_selects_checks(tmp_path: Path) -> None:
    l1 = {f.check.id for f in _lint(tmp_path, RISKY, "L1").findings}
    l2 = {f.check.id for f in _lint(tmp_path, RISKY, "L2").findings}
    assert "HG-D003" not in l1 and "HG-D003" in l2 and l1 < l2
    assert all(f.check.level == "L1" for f in _lint(tmp_path, RISKY, "L1").findings)


@pytest.mark.parametrize("user, root", [("root", True), ("0:0", True), ("app", False),
                                        ("1000", False)])
def test_user(tmp_path: Path, user: str, root: bool) -> None:
    report = _lint(tmp_path, f"FROM alpine:3.20\nUSER {user}\n", "L1")
    assert ("HG-D001" in {f.check.id for f in report.findings}) is root


def test_user_inherited_from_earlier_stage(tmp_path: Path) -> None:
    text = "FROM alpine:3.20 AS base\nUSER 1000\nFROM base\nRUN true\n"
    assert "HG-D001" not in {f.check.id for f in _lint(tmp_path, text, "L1").findings}


def test_hostile_dockerfiles(tmp_path: Path) -> None:
    # (100 KB: hullguard.inventory's parser splits words with shlex, quadratic in length)
    junk = (b"\xff\xfe\x00FROM \x1b[31malpine\n" + b"RUN " + b"a" * 100_000 + b"\n"
            + b"ENV K=" + b"v" * 100_000 + b"\n")
    path = tmp_path / "Dockerfile"
    path.write_bytes(junk)
    report = lint_path(path, level="L3")  # no crash; escape-laden names stay data
    from hullguard.lint.report import render

    assert "\x1b" not in render(report, "table")
    (tmp_path / "big.Dockerfile").write_bytes(b"FROM a\n" + b"#" * (9 << 20))
    with pytest.raises(LimitExceeded, match="over the 8388608 limit"):
        lint_path(tmp_path / "big.Dockerfile")


def test_unrecognized_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    with pytest.raises(InputError):
        lint_path(path)
