"""The README is assembled from docs/ and documents every command and every flag the CLI has
(walked from the real click command tree, so a new flag without docs fails here). README.md is
built from docs/, so the flags are checked in the page that documents their command."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from hullguard.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
DOCS = [path.read_text() for path in sorted((ROOT / "docs").glob("*.md"))]


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


def _mentioned(name: str, text: str) -> bool:
    """``name`` as a whole word: ``hullguard scan`` is not in ``hullguard scan-fleet``."""
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) is not None


def test_every_command_and_flag_is_documented() -> None:
    """Every command is named in a page of docs/, and each of its flags (long or short
    spelling) is in a page that names the command, not merely somewhere in the README."""
    root = typer.main.get_command(app)
    assert len(getattr(root, "commands", {})) >= 10
    missing = []
    for path, command in _commands(root):
        pages = [text for text in DOCS if _mentioned(path, text)]
        if not pages:
            missing.append(path)
        for param in command.params:
            names = [*param.opts, *param.secondary_opts]
            if param.param_type_name != "option" or "--help" in names:
                continue
            if not any(_mentioned(name, page) for name in names for page in pages):
                missing.append(f"{path} {names[0]}")
    assert not missing, f"undocumented in docs/: {missing}"


def test_every_command_help_renders() -> None:
    """Help texts are rich markup: a stray "[/x]" made `scan --help` crash."""
    from typer.testing import CliRunner

    runner = CliRunner()
    broken = []
    for path, _command in _commands(typer.main.get_command(app)):
        result = runner.invoke(app, [*path.split()[1:], "--help"])
        if result.exit_code != 0:
            broken.append(f"{path}: {result.exception!r}")
    assert not broken, broken


def test_no_help_text_is_eaten_as_markup() -> None:
    """Rich reads "[...]" in help texts as markup: "[@RANGE]" vanished from `graph who-has
    --help` without any error. Every command and parameter help must render as written."""
    from rich.errors import MarkupError
    from rich.markup import render

    changed = []
    for path, command in _commands(typer.main.get_command(app)):
        texts = [command.help or "", *(getattr(p, "help", None) or "" for p in command.params)]
        for text in texts:
            try:
                shown = render(text).plain
            except MarkupError as error:
                shown = f"<{error}>"
            if shown != text:
                changed.append(f"{path}: {text[:50]!r} shows as {shown[:50]!r}")
    assert not changed, changed


def test_fresh_machine_commands_install_into_a_venv() -> None:
    """PEP 668: Debian's and Ubuntu's python3 refuse ``pip install`` outside a venv
    ("externally-managed-environment"), so the first command and scripts/test install into
    .venv (never --break-system-packages, which would write over apt's Python packages)."""
    first = README.split("```")[1].splitlines()[1]  # after the "sh" of the fence
    steps = first.split(" && ")
    assert steps[0] == "python3 -m venv .venv"
    assert all("pip install" not in s or s.startswith(".venv/bin/pip ") for s in steps)
    assert steps[-1].startswith(".venv/bin/hullguard respond --demo")
    script = (ROOT / "scripts" / "test").read_text()
    code = [line for line in script.splitlines() if not line.lstrip().startswith("#")]
    assert not any("python3 -m pip" in line or "break-system-packages" in line
                   for line in code)
    assert "use_venv\ninstall_python" in script and '"$PY" -m pip install' in script
