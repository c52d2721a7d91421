"""The README is assembled from docs/ and documents every command and every flag the CLI has
(walked from the real click command tree, so a new flag without docs fails here)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from hullguard.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _commands(group: Any, prefix: str = "hullguard") -> Iterator[tuple[str, Any]]:
    # Typer may vendor its own click classes, so groups are recognized by their commands.
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        yield path, command
        if hasattr(command, "commands"):
            yield from _commands(command, path)


def test_readme_is_assembled_from_docs() -> None:
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_readme.py"), "--check"],
                         check=False)
    assert run.returncode == 0, "README.md is stale: run python3 scripts/build_readme.py"


def test_readme_opens_with_the_demo_and_the_test_command() -> None:
    head = README.split("```")[1]
    assert "hullguard respond --demo" in head and "scripts/test" in head
    assert "scripts/test" in (ROOT / ".ci" / "run").read_text()


def test_every_command_and_flag_is_documented() -> None:
    root = typer.main.get_command(app)
    assert len(getattr(root, "commands", {})) >= 10
    missing = []
    for path, command in _commands(root):
        if path not in README:
            missing.append(path)
        for param in command.params:
            for option in param.opts if param.param_type_name == "option" else ():
                if option.startswith("--") and option not in README and option != "--help":
                    missing.append(f"{path} {option}")
    assert not missing, f"undocumented in README: {missing}"
