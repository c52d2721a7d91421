"""One home for each shared fact and writer: SARIF envelopes are built only in
``hullguard/sarif.py``; YAML is parsed only by the bounded loader or in the few places listed
below (with the reason); SQL is written only in the store's repository modules, so the
duplicates folded in issue 12 cannot come back."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "hullguard"

SARIF_HOME = "sarif.py"
_SARIF_ENVELOPE = re.compile(r"sarif-2\.1\.0\.json|[\"']version[\"']\s*:\s*[\"']2\.1\.0[\"']")

# file -> why it may parse YAML itself
YAML_HOMES = {
    "inventory/yamlsafe.py": "the one bounded loader for attacker-controlled YAML",
    "harden/mirror/pin_yaml.py": "ruamel node positions to rewrite references in place; it "
                                 "only composes text that already passed yamlsafe's bounds",
    "lint/registry.py": "trusted package data (lint/checks.yaml shipped in the wheel)",
    "remediate/plan.py": "trusted package data (remediate/eol.yaml shipped in the wheel)",
    "harden/posture/registry.py": "trusted package data (posture/checks.yaml), libyaml for "
                                  "start-up speed",
}
# a load/compose call, ruamel's YAML(), or a loader of one's own built from PyYAML's parts
_YAML_PARSE = re.compile(r"\byaml\.(?:safe_load|load|load_all|safe_load_all|full_load|"
                         r"unsafe_load|compose|compose_all)\(|\bYAML\(|"
                         r"\bimport Composer\b|\byaml\.\w*Loader\)")


STORE_HOME = "store/"
# building a query: the store's repository functions are the only place for it
_SQL_BUILDING = re.compile(r"from sqlalchemy(?:\.[\w.]+)? import (?:\([^)]*|[^\n]*)"
                           r"\b(?:select|text|func|insert|update|delete|and_|or_)\b|"
                           r"\bsqlalchemy\.(?:select|text|insert)\(")


def _sources() -> list[tuple[str, str]]:
    return [(path.relative_to(SRC).as_posix(), path.read_text("utf-8"))
            for path in sorted(SRC.rglob("*.py"))]


def test_sarif_envelopes_are_built_only_in_the_sarif_module() -> None:
    offenders = [name for name, text in _sources()
                 if name != SARIF_HOME and _SARIF_ENVELOPE.search(text)]
    assert offenders == [], f"build SARIF logs with hullguard.sarif, not in {offenders}"


def test_yaml_is_parsed_only_in_its_homes() -> None:
    offenders = [name for name, text in _sources()
                 if name not in YAML_HOMES and _YAML_PARSE.search(text)]
    assert offenders == [], f"parse YAML with hullguard.inventory.yamlsafe, not in {offenders}"


def test_every_listed_home_still_parses_yaml() -> None:
    """A home that no longer parses YAML leaves the list, so the list stays the truth."""
    sources = dict(_sources())
    stale = [name for name in YAML_HOMES if not _YAML_PARSE.search(sources.get(name, ""))]
    assert stale == []


def test_the_sarif_module_builds_the_envelope() -> None:
    assert _SARIF_ENVELOPE.search((SRC / SARIF_HOME).read_text("utf-8"))


def test_pep503_normalization_lives_only_in_the_model() -> None:
    offenders = [name for name, text in _sources()
                 if name != "model/package.py" and "[-_.]+" in text]
    assert offenders == [], f"use hullguard.model.package.pep503_name, not a copy in {offenders}"


def test_sql_is_written_only_in_the_store() -> None:
    offenders = [name for name, text in _sources()
                 if not name.startswith(STORE_HOME) and _SQL_BUILDING.search(text)]
    assert offenders == [], f"query through hullguard.store's functions, not in {offenders}"


def test_the_store_does_write_sql() -> None:
    """The check above can fail: the store's own modules match it."""
    assert any(_SQL_BUILDING.search(text) for name, text in _sources()
               if name.startswith(STORE_HOME))
