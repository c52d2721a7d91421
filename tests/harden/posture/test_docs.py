"""docs/posture.md's check reference is generated from checks.yaml: it cannot drift."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from hullguard.harden.posture.registry import all_checks, definitions, functions

ROOT = Path(__file__).resolve().parents[3]


def _generator() -> object:
    spec = importlib.util.spec_from_file_location("posture_docs", ROOT / "scripts" /
                                                  "posture_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_match_the_definitions() -> None:
    generator = _generator()
    text = (ROOT / "docs" / "posture.md").read_text()
    assert generator.updated(text, definitions()) == text, (  # type: ignore[attr-defined]
        "docs/posture.md is stale: run python3 scripts/posture_docs.py && "
        "python3 scripts/build_readme.py")


def test_every_check_is_documented_with_level_control_pass_and_fix() -> None:
    text = (ROOT / "docs" / "posture.md").read_text()
    for raw in definitions():
        section = text.split(f"#### {raw['id']}:")[1].split("####")[0]
        assert f"Level **{raw['level']}**" in section and raw["nist"] in section
        assert "Passes when" in section and "Fix (console)" in section
        assert "Fix (API)" in section


def test_every_check_has_a_function_and_back() -> None:
    assert sorted(functions()) == sorted(c.id for c in all_checks())
    assert len({c.id for c in all_checks()}) == len(all_checks())
