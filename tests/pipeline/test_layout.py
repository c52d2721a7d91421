"""The pipeline's place in the tree: faces call it, no stage imports it, it never imports the
CLI; and there is one blast radius (graph's), not a second copy in respond."""

from __future__ import annotations

import ast
from pathlib import Path

import hullguard

SRC = Path(hullguard.__file__).parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    return found | {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}


def test_only_faces_import_the_pipeline_and_it_never_imports_a_face() -> None:
    for path in SRC.rglob("*.py"):
        package = path.relative_to(SRC).parts[0]
        modules = _imports(path)
        if package == "pipeline":
            assert not {m for m in modules if m.startswith("hullguard.cli")}, path
        elif package not in ("cli", "service", "workers"):  # the faces
            assert not {m for m in modules if m.startswith("hullguard.pipeline")}, path


def test_one_blast_radius_type() -> None:
    defined = [path for path in SRC.rglob("*.py")
               if any(isinstance(node, ast.ClassDef) and node.name == "BlastRadius"
                      for node in ast.walk(ast.parse(path.read_text())))]
    assert [p.relative_to(SRC).as_posix() for p in defined] == ["graph/model.py"]
