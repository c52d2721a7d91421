"""Image and configuration hygiene mapped to hardening levels (L1 baseline, L2 hardened,
L3 maximum) and NIST SP 800-53 controls.

Public surface: :func:`lint_image`, :func:`lint_path`, :func:`lint_target`; they return a
:class:`~hullguard.model.lint.LintReport` and never print.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from hullguard.errors import HullguardError, InputError
from hullguard.images.api import ImageSource, SourceOptions
from hullguard.lint.registry import all_checks, enforced, parse_level, run_checks
from hullguard.model.lint import LintFinding, LintReport

__all__ = ["all_checks", "enforced", "lint_file", "lint_image", "lint_path", "lint_target"]

MAX_FILE = 8 << 20  # bytes per Dockerfile / manifest
MAX_FILES = 100_000  # per directory walk
_DOCKERFILE_NAME = re.compile(
    r"(?i)^(?:docker|container)file(?:\..+)?$|\.(?:docker|container)file$")
_YAML = (".yaml", ".yml", ".json")


def lint_image(source_or_ref: ImageSource | str, options: SourceOptions | None = None, *,
               level: str = "L1") -> LintReport:
    """Check an opened image (or open ``source_or_ref``): config and squashed filesystem."""
    level = parse_level(level)
    if isinstance(source_or_ref, str):
        from hullguard.images import open_image

        with open_image(source_or_ref, options or SourceOptions()) as source:
            return _lint_source(source, level)
    return _lint_source(source_or_ref, level)


def _lint_source(source: ImageSource, level: str) -> LintReport:
    from hullguard.lint.image import ImageContext, squash

    files, warnings = squash(source)
    name = source.info.name
    findings = run_checks("image", ImageContext(source.info, files), name, level)
    return _report(name, level, findings, warnings, "image")


def _report(target: str, level: str, findings: list[LintFinding], warnings: list[str],
            kind: str | None) -> LintReport:
    ordered = sorted(findings, key=lambda f: (-f.check.severity, f.check.id, f.target, f.line))
    return LintReport(target, level, tuple(ordered), enforced(level, kind), tuple(warnings))


def lint_file(path: Path, level: str, explicit: bool = True) -> tuple[list[LintFinding],
                                                                       list[str]]:
    """Findings for one Dockerfile, compose file or Kubernetes manifest. ``explicit``: the
    user named this file, so an unrecognized or unreadable one is an error, not a warning."""
    from hullguard.inventory.dockerfile import looks_like_dockerfile, parse_dockerfile
    from hullguard.inventory.yamlsafe import Limits, read_text

    text = read_text(path, Limits(max_bytes=MAX_FILE))  # FIFOs and devices are refused
    if _DOCKERFILE_NAME.search(path.name) or looks_like_dockerfile(text):
        doc = parse_dockerfile(text, str(path))
        warnings = [f"{path}:{line}: {message}" for line, message in doc.warnings]
        return run_checks("dockerfile", doc, str(path), level), warnings
    if path.suffix.lower() in _YAML or explicit:
        return _lint_yaml(path, text, level, explicit)
    return [], []


def _lint_yaml(path: Path, text: str, level: str,
               explicit: bool) -> tuple[list[LintFinding], list[str]]:
    from hullguard.inventory.compose import looks_like_compose
    from hullguard.inventory.kubernetes import objects_from
    from hullguard.inventory.yamlsafe import loads_all
    from hullguard.lint.compose import services_of
    from hullguard.lint.kubernetes import workloads

    result = loads_all(text, str(path))
    warnings = [f"{path}:{line}: {message}" for line, message in result.warnings]
    objects = objects_from(result, str(path), text).objects
    if objects:
        return run_checks("kubernetes", workloads(objects), str(path), level), warnings
    document = result.documents[0] if len(result.documents) == 1 else None
    if isinstance(document, dict) and looks_like_compose(document, path.name):
        return run_checks("compose", services_of(document), str(path), level), warnings
    if explicit:
        raise InputError("not a Dockerfile, compose file or Kubernetes manifest",
                         where=str(path))
    return [], warnings


def lint_path(path: Path, *, level: str = "L1") -> LintReport:
    """Lint one file, or every Dockerfile / compose file / manifest under a directory."""
    level = parse_level(level)
    if not path.exists():
        raise InputError("no such file or directory", where=str(path))
    if path.is_file():
        findings, warnings = lint_file(path, level)
        return _report(str(path), level, findings, warnings, None)
    findings, warnings = [], []
    for file in _walk(path, warnings):
        try:
            found, notes = lint_file(file, level, explicit=False)
        except HullguardError as error:
            warnings.append(error.diagnostics())
            continue
        findings.extend(found)
        warnings.extend(notes)
    return _report(str(path), level, findings, warnings, None)


def _walk(root: Path, warnings: list[str]) -> list[Path]:
    found: list[Path] = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".git"))
        for name in sorted(files):
            path = Path(folder, name)
            if path.is_symlink():
                continue
            if len(found) >= MAX_FILES:
                warnings.append(f"more than {MAX_FILES} files under {root}: the rest skipped")
                return found
            if _DOCKERFILE_NAME.search(name) or path.suffix.lower() in _YAML:
                found.append(path)
    return found


def lint_target(target: str, options: SourceOptions | None = None, *,
                level: str = "L1") -> LintReport:
    """A local Dockerfile/manifest/directory is linted as files; an image path or any other
    reference is opened as an image."""
    from hullguard.images.sniff import image_reference

    path = Path(target)
    if path.exists():
        reference = image_reference(path)
        if reference is None:
            return lint_path(path, level=level)
        target = reference
    return lint_image(target, options, level=level)
