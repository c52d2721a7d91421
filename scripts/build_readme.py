#!/usr/bin/env python3
"""Assemble README.md from docs/*.md (the sources): the intro first, then each area in the
order of the playbook, with headings demoted one level. tests/test_readme.py checks that
README.md is current and mentions every command and flag. Run after editing docs/."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORDER = ("00-intro", "respond", "contain", "remediate", "forensics", "inventory", "graph", "sbom",
         "images", "registry", "catalog", "vulndb", "scan", "matching", "secrets", "lint", "trust",
         "gate", "mirror", "pin", "posture", "serve", "dashboard", "monitor", "workers", "deploy", "bench",
         "development")
FOOTER = "\n<!-- Generated from docs/*.md by scripts/build_readme.py: edit those, not this. -->\n"


def demote(text: str) -> str:
    """One more '#' on every heading outside fenced code blocks."""
    out, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("#"):
            line = "#" + line
        out.append(line)
    return "\n".join(out).strip() + "\n"


def build() -> str:
    docs = {path.stem: path.read_text() for path in (ROOT / "docs").glob("*.md")}
    missing = sorted(set(docs) - set(ORDER))
    if missing:
        raise SystemExit(f"docs not placed in ORDER: {missing}")
    parts = [docs["00-intro"].strip() + "\n"]
    parts += [demote(docs[name]) for name in ORDER[1:] if name in docs]
    return "\n".join(parts) + FOOTER


if __name__ == "__main__":
    text = build()
    if "--check" in sys.argv:
        sys.exit(0 if (ROOT / "README.md").read_text() == text else 1)
    (ROOT / "README.md").write_text(text)
