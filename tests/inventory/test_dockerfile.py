"""The Dockerfile parser: stages, ARG substitution, flags, continuations, heredocs, escape."""

from __future__ import annotations

from pathlib import Path

import pytest

from hullguard.inventory.dockerfile import (
    MAX_EXPANSION,
    looks_like_dockerfile,
    parse_dockerfile,
    substitute,
)
from tests.support.limits import run_capped

FIXTURES = Path(__file__).parent / "fixtures" / "dockerfiles"


def test_multi_stage_fixture() -> None:
    parsed = parse_dockerfile((FIXTURES / "Dockerfile").read_text(), "Dockerfile")
    assert [s.name for s in parsed.stages] == ["builder", "minimal", "tested", ""]
    builder, minimal, tested, final = parsed.stages
    assert builder.base == "golang:1.22-alpine"  # global ARG default substituted
    assert builder.platform == "linux/amd64"  # $BUILDPLATFORM, an automatic ARG
    assert minimal.is_scratch and not minimal.is_image
    assert tested.from_stage == "builder" and not tested.is_image
    assert final.base == "gcr.io/distroless/static-debian12:nonroot"
    uses = parsed.image_uses()
    assert [(u.reference, u.via) for u in uses] == [
        ("golang:1.22-alpine", "FROM"),
        ("gcr.io/distroless/static-debian12:nonroot", "FROM"),
        ("docker.io/tonistiigi/xx:1.3.0", "COPY --from"),
    ]
    assert [u.line for u in uses] == [4, 14, 16]


def test_build_args_override_defaults() -> None:
    text = "ARG TAG=3.18\nFROM alpine:${TAG}\n"
    assert parse_dockerfile(text, "D", {"TAG": "3.20"}).stages[0].base == "alpine:3.20"


def test_continuation_comments_and_json_form() -> None:
    text = ("FROM alpine\nRUN apk add \\\n    # a comment inside\n\n    curl\n"
            'CMD ["sh", "-c", "echo hi"]\nENTRYPOINT echo "a b"\n')
    parsed = parse_dockerfile(text, "D")
    run = parsed.instructions[1]
    assert run.keyword == "RUN" and run.line == 2 and run.end_line == 5
    assert run.arguments == ("apk", "add", "curl")
    cmd, entry = parsed.instructions[2], parsed.instructions[3]
    assert cmd.json_form and cmd.arguments == ("sh", "-c", "echo hi")
    assert not entry.json_form and entry.arguments == ("echo", "a b")


def test_escape_directive_and_heredocs() -> None:
    parsed = parse_dockerfile((FIXTURES / "Containerfile.heredoc").read_text(), "C")
    assert parsed.escape == "`"
    assert ("escape", "`") in parsed.directives
    # FROM lines inside heredoc bodies are data, not stages
    assert [s.base for s in parsed.stages] == ["mcr.microsoft.com/windows/nanoserver:ltsc2022",
                                              "ubuntu:22.04"]
    copy = next(i for i in parsed.instructions if i.keyword == "COPY")
    assert copy.heredocs[0].name == "EOF"
    assert copy.heredocs[0].content == "FROM not-an-image:inside-heredoc\n"
    run = [i for i in parsed.instructions if i.keyword == "RUN"][1]
    assert run.heredocs[0].strip_tabs and run.heredocs[0].content == "echo FROM also-not-an-image\n"
    assert parsed.instructions[1].value == "echo hello     world"
    assert parsed.stages[1].line == 11


def test_flags_and_quoted_heredoc() -> None:
    text = ("FROM --platform=linux/arm64 debian:12 AS base\n"
            "COPY --chown=app:app --link --from=base /a /b\n"
            "RUN --mount=type=cache,target=/root/.cache <<'EOF'\necho $HOME\nEOF\n")
    parsed = parse_dockerfile(text, "D")
    assert parsed.stages[0].platform == "linux/arm64"
    copy = parsed.instructions[1]
    assert copy.flag("chown") == "app:app" and copy.flag("link") == ""
    assert copy.flag("from") == "base"
    assert copy.flag("from") == "base"
    run = parsed.instructions[2]
    assert run.flag("mount") == "type=cache,target=/root/.cache"
    assert run.heredocs[0].expand is False and run.end_line == 5
    assert parsed.image_uses()[0].reference == "debian:12"  # COPY --from=base is a stage


def test_undefined_arg_and_unterminated_heredoc_warn() -> None:
    parsed = parse_dockerfile("FROM ${BASE}\nRUN <<EOF\necho never closed\n", "D")
    messages = [m for _, m in parsed.warnings]
    assert any("ARG BASE" in m for m in messages)
    assert any("not terminated" in m for m in messages)
    assert parsed.image_uses() == []


def test_substitute_forms() -> None:
    env: dict[str, str | None] = {"A": "x", "E": ""}
    assert substitute("${A:-d}-${E:-d}-${U:-d}", env) == "x-d-d"
    assert substitute("${E-d}-${U-d}", env) == "-d"
    assert substitute("${A:+alt}-${E:+alt}-${E+alt}", env) == "alt--alt"
    assert substitute("\\$A $A", env) == "$A x"
    missing: list[str] = []
    substitute("$NOPE", env, missing=missing)
    assert missing == ["NOPE"]


def test_content_sniffing() -> None:
    assert looks_like_dockerfile("# syntax=docker/dockerfile:1\nARG X=1\n\nFROM alpine\n")
    assert not looks_like_dockerfile("apiVersion: v1\nkind: Pod\n")
    assert not looks_like_dockerfile("FROM\n")


def test_split_words_agrees_with_shlex_on_random_text() -> None:
    import random
    import shlex

    from hullguard.inventory.dockerfile import split_words

    rnd = random.Random(7)
    checked = 0
    for _ in range(5000):
        text = "".join(rnd.choice("ab '\"\\\t=$") for _ in range(rnd.randint(0, 14)))
        try:
            expected = shlex.split(text)
        except ValueError:  # unterminated quote: shlex gives up, we keep it literally
            continue
        assert split_words(text) == expected, text
        checked += 1
    assert checked > 2000


def test_huge_run_line_is_parsed_in_linear_time() -> None:
    import time

    from hullguard.inventory.dockerfile import parse_dockerfile

    text = "FROM alpine:3.18\nRUN echo " + "x" * 4_000_000 + ' "unterminated\n'
    started = time.process_time()
    parsed = parse_dockerfile(text, "Dockerfile")
    elapsed = time.process_time() - started
    run = next(i for i in parsed.instructions if i.keyword == "RUN")
    assert run.arguments[-1] == '"unterminated'
    assert elapsed < 5, f"4 MB RUN line took {elapsed:.1f} s of CPU"  # shlex: minutes


def _doubling_args(levels: int) -> str:
    lines = ["ARG A0=xy"] + [f"ARG A{i}=$A{i - 1}$A{i - 1}" for i in range(1, levels + 1)]
    return "\n".join([*lines, f"FROM alpine:$A{levels}", f"RUN echo ${{A{levels}}}", ""])


def test_doubling_arg_expansion_is_capped_with_a_warning() -> None:
    """ARG B=$A$A, C=$B$B, ... 40 levels is 2 TB of text; the value past the cap is dropped
    and the line that crossed it is named."""
    parsed = parse_dockerfile(_doubling_args(40))
    too_long = [(line, text) for line, text in parsed.warnings if "expands to over" in text]
    assert too_long and too_long[0][0] == 16  # A15: 2 * 2**15 characters > 64 KiB
    assert all(len(value or "") <= MAX_EXPANSION for _name, value in parsed.global_args)


@pytest.mark.parametrize("command", ["inventory", "lint"])
def test_doubling_arg_expansion_within_a_memory_cap(tmp_path: Path, command: str) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(_doubling_args(40))
    result = run_capped(command, str(dockerfile))
    assert "MemoryError" not in result.stderr and "Traceback" not in result.stderr
    assert result.returncode in (0, 1), result.stderr[-2000:]  # lint: findings are exit 1
    assert "ARG A15 expands to over 65536 characters" in result.stderr
