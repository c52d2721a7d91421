"""``hullguard pin`` on hostile input: one clear error (exit 2), and no file written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hullguard.cli.main import app
from hullguard.harden.mirror.pin import MAX_PIN_BYTES
from tests.harden.mirror.test_pin import mapping_file

GOOD = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n" \
       "  - {name: a, image: alpine:3.19}\n"
BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(8)) + \
    "apiVersion: v1\nkind: Pod\nspec: {containers: [{name: a, image: alpine:3.19}]}\n"


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tree with one good manifest (which must stay untouched) and a mapping."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "a-good.yaml").write_text(GOOD)
    mapping_file(tmp_path / "m.json", ["alpine:3.19"])
    return tmp_path / "k8s"


def pin_write(*paths: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["pin", *paths, "--map", "m.json", "--write"])
    return result.exit_code, result.stderr


def one_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if not line.startswith("  hint:")]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0]


def test_alias_bomb(tree: Path) -> None:
    (tree / "b-bomb.yaml").write_text(BOMB)
    code, err = pin_write("k8s")
    assert code == 2 and "an alias bomb" in one_error(err) and "b-bomb.yaml" in err
    assert (tree / "a-good.yaml").read_text() == GOOD


def test_huge_file(tree: Path) -> None:
    with open(tree / "b-huge.yaml", "wb") as handle:
        handle.truncate(MAX_PIN_BYTES + 1)  # sparse: refused by its size before any read
    code, err = pin_write("k8s")
    assert code == 2 and "b-huge.yaml" in one_error(err) and "limit" in err
    assert (tree / "a-good.yaml").read_text() == GOOD


def test_binary_file(tree: Path) -> None:
    (tree / "b-binary.yaml").write_bytes(b"apiVersion: v1\n\x00\x01\x02" * 100)
    code, err = pin_write("k8s")
    assert code == 2 and "a binary file" in one_error(err) and "b-binary.yaml" in err
    assert (tree / "a-good.yaml").read_text() == GOOD


def test_not_utf8(tree: Path) -> None:
    (tree / "b-latin1.yaml").write_bytes(GOOD.encode() + b"# caf\xe9\n")
    code, err = pin_write("k8s")
    assert code == 2 and "not UTF-8 text" in one_error(err)
    assert (tree / "a-good.yaml").read_text() == GOOD


def test_symlink_out_of_the_tree(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("outside") / "victim.yaml"
    outside.write_text(GOOD)
    os.symlink(outside, tree / "b-link.yaml")
    code, err = pin_write("k8s")
    assert code == 2 and "outside k8s" in one_error(err) and "b-link.yaml" in err
    assert outside.read_text() == GOOD and (tree / "a-good.yaml").read_text() == GOOD
    assert (tree / "b-link.yaml").is_symlink()


def test_symlink_inside_the_tree_writes_the_target(tree: Path) -> None:
    os.symlink("a-good.yaml", tree / "b-link.yaml")
    code, err = pin_write("k8s")
    assert code == 0, err
    assert (tree / "b-link.yaml").is_symlink() and "# was: alpine:3.19" in \
        (tree / "a-good.yaml").read_text()
    assert err.count("wrote ") == 1  # the file once, not once per name


def test_malformed_named_file(tree: Path) -> None:
    (tree / "bad.yaml").write_text("apiVersion: v1\nkind: [unclosed\n")
    code, err = pin_write("k8s/bad.yaml", "k8s/a-good.yaml")
    assert code == 2 and "malformed YAML" in one_error(err)
    assert (tree / "a-good.yaml").read_text() == GOOD


def test_malformed_file_found_while_walking_is_listed(tree: Path) -> None:
    (tree / "b-chart.yaml").write_text("image: {{ .Values.image }}\n")  # a Helm template
    code, err = pin_write("k8s")
    assert code == 0, err
    assert "warning: k8s/b-chart.yaml: not read: " in err  # listed, not skipped silently
    assert "# was: alpine:3.19" in (tree / "a-good.yaml").read_text()
