"""A patched Dockerfile, edited line by line so comments and formatting stay as they were:
base images pinned by digest (through an ARG default for ``FROM ${ARG}``), OS package
upgrades at the top of the final stage, package managers and download tools removed at its
end, and a non-root USER. Every inserted line is preceded by a comment naming what it fixes."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from hullguard.errors import InputError
from hullguard.images.reference import parse_reference
from hullguard.inventory.dockerfile import Dockerfile, Stage, parse_dockerfile
from hullguard.lint.common import is_root
from hullguard.lint.dockerfile import shipped_stages
from hullguard.remediate.plan import ImagePlan, upgrade_command

MARK = "# hullguard remediate:"
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
NON_ROOT = "65532:65532"
_ARG_ONLY = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")
REMOVABLE = {"apk": ("curl", "wget", "apk-tools"), "deb": ("curl", "wget")}
NOT_REMOVABLE = {"apk": "busybox's wget and nc are applets (symlinks to /bin/busybox): "
                        "removing the busybox package breaks the shell",
                 "deb": "apt and dpkg are Priority: required and cannot be removed"}


@dataclass
class Patch:
    path: str
    new_text: str = ""
    diff: str = ""
    changes: list[str] = field(default_factory=list)  # what each edit does, with finding ids
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Edits:
    lines: list[str]
    after: dict[int, list[str]] = field(default_factory=dict)  # 1-based line -> new lines

    def insert_after(self, line: int, *new: str) -> None:
        self.after.setdefault(line, []).extend(new)

    def text(self) -> str:
        out = []
        for number, line in enumerate(self.lines, 1):
            if number == 1 and 0 in self.after:
                out.extend(self.after[0])
            out.append(line)
            out.extend(self.after.get(number, []))
        return "\n".join(out)


@dataclass(frozen=True)
class Retag:
    """Move a base to another tag of the same repository (a better-scanning one)."""

    tag: str
    comment: str  # what it changes and fixes (one line, safe ids only)


def patch_dockerfile(text: str, path: str, diff_name: str, plan: ImagePlan,
                     digests: dict[str, str], retags: dict[str, Retag] | None = None) -> Patch:
    """Patch ``text``; ``digests`` maps normalized base references to manifest digests (for a
    retagged base: the digest of the new tag); ``retags`` maps them to a newer tag."""
    doc = parse_dockerfile(text, path)
    final = doc.final_stage
    if final is None:
        raise InputError("no FROM instruction: nothing to patch", where=path)
    patch = Patch(path, warnings=[f"{path}:{line}: {msg}" for line, msg in doc.warnings])
    _warn_syntax(doc, patch)
    edits = _Edits(text.split("\n"))
    _pin_bases(doc, edits, digests, patch, retags or {})
    user = _effective_user(doc)
    _upgrade(final, edits, plan, _inherited_user(doc), patch)
    _harden_end(doc, final, edits, plan, user, patch)
    patch.new_text = edits.text()
    _check_reparse(doc, patch, retags or {})
    patch.diff = unified_diff(text, patch.new_text, diff_name) if patch.changes else ""
    return patch


def _warn_syntax(doc: Dockerfile, patch: Patch) -> None:
    if any(i.heredocs for i in doc.instructions):
        patch.warnings.append(f"{doc.path}: uses heredocs: their bodies are left as written; "
                              "lines are inserted only between instructions")
    if doc.escape != "\\":
        patch.warnings.append(f"{doc.path}: escape directive {doc.escape!r}: inserted "
                              "instructions are single lines, so it does not matter to them")


def _pin_bases(doc: Dockerfile, edits: _Edits, digests: dict[str, str], patch: Patch,
               retags: dict[str, Retag]) -> None:
    done: set[str] = set()
    for stage in (s for s in doc.stages if s.is_image and "@" not in s.base):
        try:
            name = str(parse_reference(stage.base))
        except InputError:
            patch.warnings.append(f"{doc.path}:{stage.line}: base {stage.base!r} not parsed")
            continue
        digest = digests.get(name)
        if not digest:
            patch.warnings.append(f"{doc.path}:{stage.line}: base {name} not pinned: its digest "
                                  "is not known (give --digest REF=sha256:... or allow the "
                                  "registry lookup)")
        else:  # FROM ${BASE} in several stages: one ARG line to pin; plain FROMs each
            key = stage.base_raw if _ARG_ONLY.fullmatch(stage.base_raw) else str(stage.line)
            if key not in done:
                done.add(key)
                _pin(doc, stage, digest, edits, patch, retags.get(name))


def with_tag(reference: str, tag: str) -> str:
    """``alpine:3.10.1`` with ``tag`` in place of its tag (the name as written stays)."""
    repository, _, last = reference.rpartition("/")
    name = last.split(":")[0]
    return f"{repository}/{name}:{tag}" if repository else f"{name}:{tag}"


def _pin(doc: Dockerfile, stage: Stage, digest: str, edits: _Edits, patch: Patch,
         retag: Retag | None) -> None:
    if not DIGEST.fullmatch(digest):  # it goes into the FROM line: nothing but a digest
        patch.warnings.append(f"{doc.path}:{stage.line}: {digest[:80]!r} is not a sha256 "
                              "digest: not pinned")
        return
    comment = f"{MARK} base pinned by digest ({stage.base}), closes lint HG-D003"
    if retag is not None:
        comment = f"{MARK} {retag.comment}; pinned by digest, closes lint HG-D003"
    variable = _ARG_ONLY.fullmatch(stage.base_raw)
    if variable:  # FROM ${BASE}: pin through the ARG's default
        arg = next((i for i in doc.instructions if i.keyword == "ARG" and i.stage == -1
                    and re.match(rf"{variable.group(1)}=", i.value)), None)
        if arg is None or arg.line != arg.end_line:
            patch.warnings.append(f"{doc.path}:{stage.line}: FROM {stage.base_raw}: no one-line "
                                  f"global ARG {variable.group(1)}=... to pin")
            return
        line, old = arg.line, f"{variable.group(1)}={stage.base}"
    elif "$" in stage.base_raw:
        patch.warnings.append(f"{doc.path}:{stage.line}: FROM {stage.base_raw} mixes text and "
                              "ARGs: not pinned (pin it by hand)")
        return
    else:
        line, old = stage.line, stage.base_raw
    current = edits.lines[line - 1]
    if old not in current:
        patch.warnings.append(f"{doc.path}:{line}: {old} not found on the line: not pinned")
        return
    new = with_tag(old, retag.tag) if retag else old
    edits.lines[line - 1] = current.replace(old, f"{new}@{digest}", 1)
    edits.insert_after(line - 1, comment)
    patch.changes.append(f"line {line}: {stage.base} moved to tag {retag.tag}, pinned to "
                         f"{digest}" if retag else f"line {line}: {stage.base} pinned to {digest}")


def _effective_user(doc: Dockerfile) -> str:
    """The USER in effect at the end of the shipped stages ("" = root by default)."""
    return _last_user(shipped_stages(doc))


def _inherited_user(doc: Dockerfile) -> str:
    """The USER in effect at the final stage's FROM (set by a stage it builds on)."""
    return _last_user(shipped_stages(doc)[1:])


def _last_user(stages: list[Stage]) -> str:
    """The USER in effect after ``stages`` (listed top first, as shipped_stages lists them,
    so they run in reverse), "" when none sets one."""
    user = ""
    for stage in reversed(stages):
        for instr in stage.instructions:
            if instr.keyword == "USER" and instr.value.split():
                user = _first_word(instr.value)
    return user


def _first_word(text: str) -> str:
    return (text.split() or [""])[0]


def _as_root(lines: list[str], user: str) -> list[str]:
    return ["USER root", *lines, f"USER {user}"] if user and not is_root(user) else lines


def _upgrade(final: Stage, edits: _Edits, plan: ImagePlan, inherited: str,
             patch: Patch) -> None:
    new: list[str] = []
    for kind, packages in sorted(plan.upgrades.items()):
        ids = sorted({i for found in packages.values() for i in found})
        new += [f"{MARK} upgrade {', '.join(sorted(packages))}; fixes {', '.join(ids)}",
                f"RUN {upgrade_command(kind, list(packages))}"]
        patch.changes.append(f"final stage: {kind} upgrade of {', '.join(sorted(packages))} "
                             f"fixes {', '.join(ids)}")
    if new:
        edits.insert_after(final.instructions[0].end_line, *_as_root(new, inherited))


def _harden_end(doc: Dockerfile, final: Stage, edits: _Edits, plan: ImagePlan, user: str,
                patch: Patch) -> None:
    users = [i for i in final.instructions if i.keyword == "USER"]
    anchor = users[-1].line - 1 if users else final.instructions[-1].end_line
    kind = next(iter(sorted(plan.upgrades)), _manager(plan.packages))
    removable = [p for p in REMOVABLE.get(kind, ()) if p in plan.packages]
    lines: list[str] = []
    if removable:
        lines += [f"{MARK} no package manager or download tool in the final image",
                  f"RUN {_remove_command(kind, removable)}"]
        patch.changes.append(f"final stage: removes {', '.join(removable)}")
    if kind in NOT_REMOVABLE:
        patch.warnings.append(f"{doc.path}: not removable: {NOT_REMOVABLE[kind]}")
    before_user = _first_word(users[-2].value) if len(users) > 1 else _inherited_user(doc)
    if lines:
        edits.insert_after(anchor, *_as_root(lines, before_user))
    if not user or is_root(user):
        edits.insert_after(final.instructions[-1].end_line,
                           f"{MARK} run as a non-root user, closes lint HG-D001",
                           f"USER {NON_ROOT}")
        patch.changes.append(f"final stage: USER {NON_ROOT} (it ran as root)")


def _manager(packages: set[str]) -> str:
    return "apk" if "apk-tools" in packages else "deb" if "dpkg" in packages else ""


def _remove_command(kind: str, packages: list[str]) -> str:
    names = " ".join(packages)
    if kind == "apk":  # apk-tools last: apk removes itself in the same transaction
        return f"apk del --no-cache {names}"
    return f"apt-get purge -y --auto-remove {names}"


def _check_reparse(doc: Dockerfile, patch: Patch, retags: dict[str, Retag]) -> None:
    """The patched text must parse into the same stages with the same bases (pins and new
    tags aside): an insertion that merged into a continuation would show up here."""
    again = parse_dockerfile(patch.new_text, doc.path)
    before = [(s.name, _retagged(s.base, retags).split("@")[0]) for s in doc.stages]
    after = [(s.name, s.base.split("@")[0]) for s in again.stages]
    if before != after:
        raise InputError("the patched Dockerfile no longer parses into the same stages",
                         where=doc.path, hint="patch this Dockerfile by hand")


def _retagged(base: str, retags: dict[str, Retag]) -> str:
    if not retags or "@" in base:
        return base
    try:
        retag = retags.get(str(parse_reference(base)))
    except InputError:
        return base
    return with_tag(base, retag.tag) if retag else base


def unified_diff(old: str, new: str, name: str) -> str:
    """A diff ``git apply`` accepts, including files without a final newline."""
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 f"a/{name}", f"b/{name}")
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)
