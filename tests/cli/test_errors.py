"""The top-level error contract, as the real script: a mistake is one line naming the path and
exit 2 with nothing written; a bug is one line with a --debug hint and exit 3; --debug shows
the traceback; a missing command module is an error, not a silently absent command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hullguard.cli import main as cli_main

UNWRITABLE = "/proc/hullguard-no-such-dir"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hullguard", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd)


def one_error_line(result: subprocess.CompletedProcess[str], path: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and path in errors[0], result.stderr


@pytest.mark.parametrize("args", [
    ("respond", "--demo", "--quiet", "--out", f"{UNWRITABLE}/incident"),
    ("scan-fleet", "{tmp}", "--offline", "--no-store", "--state", f"{UNWRITABLE}/state"),
    ("inventory", "{tmp}", "-o", f"{UNWRITABLE}/inventory.json"),
    ("inventory", "{tmp}", "--store", f"{UNWRITABLE}/store.sqlite"),
    ("sbom", "{tmp}", "-o", f"{UNWRITABLE}/sbom.json"),
    ("graph", "lineage", "alpine", "--store", f"{UNWRITABLE}/store.sqlite"),
])
def test_unwritable_outputs_are_one_error_and_exit_2(tmp_path: Path, args: tuple[str, ...]
                                                      ) -> None:
    (tmp_path / "Dockerfile").write_text("FROM alpine:3.18\n")
    result = run(*(a.replace("{tmp}", str(tmp_path)) for a in args))
    one_error_line(result, UNWRITABLE)


def test_respond_out_that_is_a_file(tmp_path: Path) -> None:
    out = tmp_path / "incident"
    out.write_text("mine\n")
    one_error_line(run("respond", "--demo", "--quiet", "--out", str(out)), str(out))
    assert out.read_text() == "mine\n"


def test_scan_store_directory_fails_instead_of_warning(tmp_path: Path) -> None:
    """It used to warn "scan not recorded" and exit 0: the store the user named is unusable."""
    (tmp_path / "Dockerfile").write_text("FROM alpine:3.18\n")
    store = tmp_path / "store-dir"
    store.mkdir()
    result = run("scan", str(tmp_path), "--store", str(store), "--db", str(tmp_path / "no.db"))
    one_error_line(result, str(store))
    assert "is a directory" in result.stderr


def test_output_under_a_file_is_checked_before_any_work(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run("respond", "--demo", "--quiet", "--out", str(blocker / "incident"))
    one_error_line(result, str(blocker))
    assert blocker.read_text() == ""


def test_a_bug_is_one_line_with_a_debug_hint_and_exit_3(tmp_path: Path) -> None:
    """A Dockerfile directory that cannot be listed is not a bug; an exception planted in a
    command is: sitecustomize makes ``inventory`` raise ZeroDivisionError."""
    (tmp_path / "sitecustomize.py").write_text(
        "import hullguard.inventory.collect as c\n"
        "def boom(*a, **k):\n    raise ZeroDivisionError('planted')\n"
        "c.collect = boom\n")
    (tmp_path / "Dockerfile").write_text("FROM alpine:3.18\n")
    env_path = f"{tmp_path}:{Path(cli_main.__file__).parents[2]}"
    plain = subprocess.run([sys.executable, "-m", "hullguard", "inventory", str(tmp_path)],
                           capture_output=True, text=True, timeout=120,
                           env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"})
    assert plain.returncode == 3, plain.stderr
    assert plain.stderr.count("\n") == 1 and "Traceback" not in plain.stderr
    assert "ZeroDivisionError: planted" in plain.stderr and "--debug" in plain.stderr
    debug = subprocess.run([sys.executable, "-m", "hullguard", "--debug", "inventory",
                            str(tmp_path)], capture_output=True, text=True, timeout=120,
                           env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"})
    assert debug.returncode == 3 and "Traceback" in debug.stderr
    assert "raise ZeroDivisionError('planted')" in debug.stderr


def test_a_missing_command_module_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ("hullguard.cli.no_such_cmd",))
    with pytest.raises(ImportError, match="no_such_cmd is missing"):
        cli_main._register_all()
