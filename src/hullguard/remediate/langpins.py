"""Language dependency pins in the build context: ``requirements*.txt`` and ``package.json``
beside the Dockerfile get the fixed version of each vulnerable PyPI / npm package, edited in
place (comments, order and formatting kept), as a unified diff ``git apply`` accepts.

Only what can be changed without guessing is changed: a requirement pinned with ``==`` (or
bounded below with ``>=``) and a package.json version that is exact or ``^``/``~`` prefixed.
A hashed requirement (``--hash``: the hashes would no longer match), a range, a URL or a git
dependency is left as written, with a note saying what to do. The files are attacker-
controllable (a cloned repository): read bounded, names matched exactly, nothing executed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hullguard.errors import HullguardError
from hullguard.model.package import LANGUAGE_ECOSYSTEMS, PackageType, pep503_name

ECOSYSTEMS = {str(kind): LANGUAGE_ECOSYSTEMS[kind]  # package type -> version ordering
              for kind in (PackageType.PYTHON, PackageType.NPM)}
MAX_FILES = 16
MAX_BYTES = 4 << 20
_SAFE_VERSION = re.compile(r"[0-9][A-Za-z0-9.+_-]{0,63}")
_REQ_LINE = re.compile(r"^(?P<lead>\s*)(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?P<extras>\[[^\]]*\])?"
                       r"(?P<sp1>\s*)(?P<op>==|>=)(?P<sp2>\s*)(?P<version>[^\s;#,\\]+)"
                       r"(?P<rest>.*)$")


@dataclass(frozen=True)
class LangFix:
    kind: str  # pypi | npm
    name: str
    installed: str
    fixed: str  # the lowest fixed version above the installed one
    ids: tuple[str, ...]


@dataclass
class Pins:
    """Per build-context file: the new text, what changed (with finding ids), and notes."""

    files: dict[str, tuple[str, str]] = field(default_factory=dict)  # path -> (old, new)
    changes: list[str] = field(default_factory=list)
    fixed_ids: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)


def lang_fixes(findings: list[Any], safe_id: re.Pattern[str]) -> list[LangFix]:
    """The PyPI/npm findings of one image that have a fix, merged per package."""
    from hullguard.vuln.versions import compare

    merged: dict[tuple[str, str], LangFix] = {}
    for finding in findings:
        package = finding.get("package") if isinstance(finding, dict) else None
        if not isinstance(package, dict) or package.get("type") not in ECOSYSTEMS:
            continue
        kind, name = str(package["type"]), str(package.get("name", ""))
        installed, fid = str(package.get("version", "")), str(finding.get("id", ""))
        fixed = [str(v) for v in finding.get("fixed_versions") or [] if isinstance(v, str)]
        if not safe_id.fullmatch(fid) or not fixed or not name:
            continue
        try:
            above = sorted((v for v in fixed if _SAFE_VERSION.fullmatch(v)
                            and compare(ECOSYSTEMS[kind], v, installed) > 0),
                           key=lambda v: _key(kind, v))
        except HullguardError:  # a version the ordering cannot read: not guessed
            continue
        if not above:
            continue
        key = (kind, pep503_name(name) if kind == "pypi" else name)
        old = merged.get(key)
        best = max(above[0], old.fixed, key=lambda v: _key(kind, v)) if old else above[0]
        merged[key] = LangFix(kind, name, installed, best,
                              tuple(sorted({fid, *(old.ids if old else ())})))
    return [merged[k] for k in sorted(merged)]


def _key(kind: str, version: str) -> Any:
    from hullguard.vuln.versions import parse_version

    return parse_version(ECOSYSTEMS[kind], version)


def context_files(dockerfile: Path) -> list[Path]:
    """requirements*.txt and package.json directly in the Dockerfile's folder (its usual
    build context), regular files only, at most MAX_FILES."""
    folder = dockerfile.parent
    found = sorted(p for p in folder.glob("requirements*.txt") if p.is_file()
                   and not p.is_symlink())
    if (folder / "package.json").is_file() and not (folder / "package.json").is_symlink():
        found.append(folder / "package.json")
    return found[:MAX_FILES]


def pin_context(dockerfile: Path, fixes: list[LangFix]) -> Pins:
    """Edit the build context's dependency files for ``fixes``."""
    from hullguard.inventory.yamlsafe import Limits, read_text

    pins = Pins()
    if not fixes:
        return pins
    for path in context_files(dockerfile):
        text = read_text(path, Limits(max_bytes=MAX_BYTES))
        kind = "npm" if path.name == "package.json" else "pypi"
        wanted = [f for f in fixes if f.kind == kind]
        new = _pin_package_json(text, wanted, path, pins) if kind == "npm" else \
            _pin_requirements(text, wanted, path, pins)
        if new != text:
            pins.files[str(path)] = (text, new)
    return pins


def _pin_requirements(text: str, fixes: list[LangFix], path: Path, pins: Pins) -> str:
    by_name = {pep503_name(f.name): f for f in fixes}
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        match = _REQ_LINE.match(line.rstrip("\r\n"))
        fix = by_name.get(pep503_name(match["name"])) if match else None
        if match is None or fix is None:
            continue
        if "--hash" in line or line.rstrip().endswith("\\"):
            pins.notes.append(f"{path.name}:{index + 1}: {fix.name} is hashed: not edited "
                              f"(regenerate the hashes for {fix.name}=={fix.fixed}, e.g. "
                              "pip-compile --generate-hashes)")
            continue
        ids = ", ".join(fix.ids)
        end = line[len(line.rstrip("\r\n")):]
        lines[index] = (f"{match['lead']}{match['name']}{match['extras'] or ''}{match['sp1']}"
                        f"{match['op']}{match['sp2']}{fix.fixed}{match['rest']}"
                        f"  # hullguard: fixes {ids}{end}")
        pins.changes.append(f"{path.name}: {fix.name} {match['op']}{match['version']} -> "
                            f"{match['op']}{fix.fixed} (fixes {ids})")
        pins.fixed_ids.update(fix.ids)
    return "".join(lines)


def _pin_package_json(text: str, fixes: list[LangFix], path: Path, pins: Pins) -> str:
    """Only entries of dependencies/devDependencies/optionalDependencies, found by parsing,
    edited by position in the text (JSON has no comments: the ids go in REMEDIATION.md)."""
    from hullguard.inventory.yamlsafe import loads_json

    doc = loads_json(text, str(path))  # bounded; malformed JSON is an InputError
    if not isinstance(doc, dict):
        return text
    for fix in fixes:
        for section in ("dependencies", "devDependencies", "optionalDependencies"):
            deps = doc.get(section)
            spec = deps.get(fix.name) if isinstance(deps, dict) else None
            if isinstance(spec, str):
                text = _edit_npm(text, section, fix, spec, path, pins)
    return text


def _edit_npm(text: str, section: str, fix: LangFix, spec: str, path: Path,
              pins: Pins) -> str:
    match = re.fullmatch(r"([\^~]?)(\d[A-Za-z0-9.+-]*)", spec)
    if match is None:
        pins.notes.append(f"{path.name}: {fix.name} is {spec!r} in {section} (a range, URL "
                          f"or tag): not edited; require {fix.fixed} or later")
        return text
    start = text.find(f'"{section}"')
    entry = re.compile(r'("' + re.escape(fix.name) + r'"\s*:\s*")' + re.escape(spec) + '"')
    found = entry.search(text, start) if start >= 0 else None
    if found is None:
        pins.notes.append(f"{path.name}: {fix.name} not found as written in {section}")
        return text
    new_spec = f"{match[1]}{fix.fixed}"
    pins.changes.append(f"{path.name}: {section} {fix.name} {spec} -> {new_spec} "
                        f"(fixes {', '.join(fix.ids)})")
    pins.fixed_ids.update(fix.ids)
    return f"{text[:found.start()]}{found[1]}{new_spec}\"{text[found.end():]}"
