"""Dockerfile checks (HG-D*), on the parse from hullguard.inventory.dockerfile."""

from __future__ import annotations

import re
from collections.abc import Iterator

from hullguard.inventory.dockerfile import Dockerfile, Instruction, Stage, parse_arg, split_words
from hullguard.lint.common import describe, is_root, pin_state, secret_reason
from hullguard.lint.registry import CheckFunction, Hit

PIPE_TO_SHELL = re.compile(
    r"\b(?:curl|wget)\b[^|;&\n]*\|\s*(?:sudo\s+)?(?:env\s+)?(?:/\S*/)?"
    r"(?:ba|z|da|k)?sh\b|\b(?:ba)?sh\s+-c\s+[\"']?\$\((?:curl|wget)\b|"
    r"\b(?:curl|wget)\b[^|;&\n]*\|\s*(?:sudo\s+)?(?:python3?|perl|ruby|node)\b")
_INSTALL = r"\b(?:apt-get|apt|apk|yum|dnf|microdnf|zypper)\b[^;&|\n]*\b(?:install|add)\b[^;&|\n]*"
_SUDO = re.compile(_INSTALL + r"\bsudo\b|(?:^|[;&|]\s*)sudo\s")
_SSHD = re.compile(_INSTALL + r"\b(?:openssh-server|openssh|dropbear|ssh-server)\b")
_WORLD_WRITABLE = re.compile(
    r"\bchmod\s+(?:-\w+\s+)*(?:[0-7]?[0-7]{2}[2367]|[ugoa]*[oa][ugoa]*\+\w*w)")


def shipped_stages(doc: Dockerfile) -> list[Stage]:
    """The final stage and the stages it builds on (FROM <stage>): what ends up in the image."""
    stages: list[Stage] = []
    stage = doc.final_stage
    while stage is not None and stage not in stages:
        stages.append(stage)
        stage = doc.stage(stage.from_stage) if stage.from_stage else None
    return stages


def _shipped(doc: Dockerfile, keyword: str) -> Iterator[Instruction]:
    for stage in reversed(shipped_stages(doc)):
        yield from (i for i in stage.instructions if i.keyword == keyword)


def _run_text(instr: Instruction) -> str:
    return " ".join([instr.value, *(h.content for h in instr.heredocs)])


def runs_as_root(doc: Dockerfile) -> Iterator[Hit]:
    final = doc.final_stage
    if final is None:
        return
    users = list(_shipped(doc, "USER"))
    if not users:
        yield Hit("no USER instruction: the container runs as root",
                  f"stage {final.name or final.index}", final.line)
    elif is_root(users[-1].value.split()[0] if users[-1].value.split() else ""):
        yield Hit(f"USER {users[-1].value} is root", "", users[-1].line)


def _bases(doc: Dockerfile) -> Iterator[Stage]:
    return (s for s in doc.stages if s.is_image)


def mutable_base(doc: Dockerfile) -> Iterator[Hit]:
    for stage in _bases(doc):
        if pin_state(stage.base) == "mutable":
            yield Hit(f"FROM {stage.base} uses a mutable tag", f"stage {stage.index}", stage.line)


def base_without_digest(doc: Dockerfile) -> Iterator[Hit]:
    for stage in _bases(doc):
        if pin_state(stage.base) in ("tag", "mutable"):
            yield Hit(f"FROM {stage.base} is not pinned by digest", f"stage {stage.index}",
                      stage.line)


def add_from_url(doc: Dockerfile) -> Iterator[Hit]:
    for instr in doc.instructions:
        if instr.keyword != "ADD" or instr.flag("checksum"):
            continue
        sources = instr.arguments[:-1] if len(instr.arguments) > 1 else instr.arguments
        for source in sources:
            if re.match(r"(?i)(?:https?|ftp)://|git@", source):
                yield Hit(f"ADD {source} downloads without a checksum", "", instr.line)


def pipe_to_shell(doc: Dockerfile) -> Iterator[Hit]:
    for instr in doc.instructions:
        if instr.keyword == "RUN" and PIPE_TO_SHELL.search(_run_text(instr)):
            yield Hit("RUN pipes a downloaded script into an interpreter", "", instr.line)


def _pairs(instr: Instruction) -> list[tuple[str, str]]:
    """(name, value) of ENV, ARG and LABEL instructions (both ENV forms)."""
    if instr.keyword == "ARG":
        return [(n, v) for n, v in parse_arg(instr.value) if v]
    words = split_words(instr.value)
    if words and "=" not in words[0]:  # legacy ``ENV NAME value with spaces``
        return [(words[0], " ".join(words[1:]))]
    return [tuple(w.split("=", 1)) for w in words if "=" in w]  # type: ignore[misc]


def secret_in_config(doc: Dockerfile) -> Iterator[Hit]:
    for instr in doc.instructions:
        if instr.keyword not in ("ENV", "ARG", "LABEL"):
            continue
        for name, value in _pairs(instr):
            reason = secret_reason(name, value)
            if reason:
                yield Hit(f"{instr.keyword} {name}: {reason} ({describe(value)})", "", instr.line)


def package_cache_left(doc: Dockerfile) -> Iterator[Hit]:
    for instr in _shipped(doc, "RUN"):
        text = _run_text(instr)
        if "type=cache" in (instr.flag("mount") or ""):
            continue
        if re.search(r"\bapt-get\b[^;&|]*\binstall\b", text) and "/var/lib/apt/lists" not in text:
            yield Hit("apt-get install without removing /var/lib/apt/lists", "", instr.line)
        if re.search(r"\bapk\b[^;&|]*\badd\b", text) and "--no-cache" not in text \
                and "/var/cache/apk" not in text:
            yield Hit("apk add without --no-cache", "", instr.line)
        if re.search(r"\bpip3?\b[^;&|]*\binstall\b", text) and "--no-cache-dir" not in text:
            yield Hit("pip install without --no-cache-dir", "", instr.line)


def no_healthcheck(doc: Dockerfile) -> Iterator[Hit]:
    final = doc.final_stage
    checks = list(_shipped(doc, "HEALTHCHECK"))
    if final is not None and (not checks or checks[-1].value.strip().upper() == "NONE"):
        yield Hit("no HEALTHCHECK in the final stage", f"stage {final.name or final.index}",
                  final.line)


def _shipped_runs(doc: Dockerfile, pattern: re.Pattern[str], message: str) -> Iterator[Hit]:
    for instr in _shipped(doc, "RUN"):
        if pattern.search(_run_text(instr)):
            yield Hit(message, "", instr.line)


def sudo(doc: Dockerfile) -> Iterator[Hit]:
    yield from _shipped_runs(doc, _SUDO, "sudo is installed or used")


def ssh_server(doc: Dockerfile) -> Iterator[Hit]:
    yield from _shipped_runs(doc, _SSHD, "an SSH server is installed")
    for instr in _shipped(doc, "EXPOSE"):
        if any(port.split("/")[0] == "22" for port in instr.value.split()):
            yield Hit("EXPOSE 22 (SSH)", "", instr.line)


def world_writable(doc: Dockerfile) -> Iterator[Hit]:
    yield from _shipped_runs(doc, _WORLD_WRITABLE, "chmod makes files world-writable")


# The checks this module implements, one line each (the registry merges the tables:
# an explicit list, nothing registers itself on import).
CHECKS: dict[str, CheckFunction] = {
    "HG-D001": runs_as_root,
    "HG-D002": mutable_base,
    "HG-D003": base_without_digest,
    "HG-D004": add_from_url,
    "HG-D005": pipe_to_shell,
    "HG-D006": secret_in_config,
    "HG-D007": package_cache_left,
    "HG-D008": no_healthcheck,
    "HG-D009": sudo,
    "HG-D010": ssh_server,
    "HG-D011": world_writable,
}
