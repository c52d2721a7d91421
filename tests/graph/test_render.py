"""Output formats: DOT checked by the real Graphviz ``dot``, Mermaid and the tree by
structure, JSON by content. Labels carry attacker-chosen text (image names, file paths)."""

from __future__ import annotations

import json
import re
import subprocess

from hullguard.graph.model import BlastRadius, ImageNode, Lineage, PackageHit, Usage, WhoHas
from hullguard.graph.render import render
from hullguard.model.inventory import (
    Environment,
    Exposure,
    ImageOccurrence,
    SourceKind,
    SourceLocation,
    Workload,
)
from hullguard.model.reference import ImageReference
from tests.support.env import tool

HOSTILE = 'evil"name\\with\nnewline<script>#|`'


def _result() -> BlastRadius:
    base = ImageNode("sha256:" + "1" * 64, ("docker.io/library/alpine:3.18",), (), None, 1)
    child = ImageNode("sha256:" + "2" * 64, (f"registry.example/{HOSTILE}:1",), (), base.id, 2)
    grandchild = ImageNode("sha256:" + "3" * 64, ("registry.example/app:2",), (), child.id, 3)
    workload = Workload("shop", "Deployment", "web", exposure=Exposure(True, ("Ingress shop/web",)),
                        environment=Environment.PRODUCTION)
    location = SourceLocation(SourceKind.KUBERNETES, f"/m/{HOSTILE}.yaml", 9, "shop", "Deployment",
                              "web", "app")
    occurrence = ImageOccurrence(ImageReference("registry.example", "app", "2"),
                                 "registry.example/app:2", location)
    usage = Usage("registry.example/app:2", occurrence, workload, "reference")
    return BlastRadius("alpine:3.18", [base.id], {n.id: n for n in (base, child, grandchild)},
                       {base.id: [child.id], child.id: [grandchild.id]}, [], [usage])


def test_dot_is_valid_graphviz() -> None:
    text = render(_result(), "dot")
    done = subprocess.run([tool("dot"), "-Tsvg"], input=text.encode(), capture_output=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode()
    svg = done.stdout.decode()
    assert svg.count('class="node"') == 4 and svg.count('class="edge"') == 3
    assert "&lt;script&gt;" in svg and "<script>" not in svg


def test_mermaid_labels_are_escaped() -> None:
    text = render(_result(), "mermaid")
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    nodes = [line for line in lines if re.match(r"^  n\d+[\[\(\{]", line)]
    edges = [line for line in lines if "-->" in line]
    assert len(nodes) == 4 and len(edges) == 3
    for line in nodes:
        inner = line.split('"', 1)[1].rsplit('"', 1)[0]
        assert '"' not in inner and "<" not in inner and "\n" not in inner
    defined = {re.match(r"^  (n\d+)", line).group(1) for line in nodes}  # type: ignore[union-attr]
    for line in edges:
        assert set(re.findall(r"\bn\d+\b", line)) <= defined


def test_tree_nests_children_and_usages() -> None:
    text = render(_result(), "tree")
    lines = text.splitlines()
    assert lines[0] == "blast radius of alpine:3.18"
    assert lines[1].startswith("docker.io/library/alpine:3.18")
    assert lines[2].startswith("└── [base of] registry.example/evil")
    assert "internet-facing via Ingress shop/web, production" in text
    assert "with\\nnewline" in text and not any(x.startswith("newline") for x in lines)
    depth = {line.split("[")[1].split("]")[0]: len(line) - len(line.lstrip("│├└─ "))
             for line in lines[2:] if "[" in line}
    assert depth["base of"] < depth["runs"]


def test_json_summary_counts() -> None:
    data = json.loads(render(_result(), "json"))
    assert data["summary"] == {"images": 3, "usages": 1, "workloads": 1, "internet_facing": 1,
                               "production": 1}
    assert data["usages"][0]["exposure"]["via"] == ["Ingress shop/web"]
    assert {i["id"] for i in data["images"]} == set(_result().nodes)


def test_who_has_and_lineage_formats() -> None:
    node = ImageNode("sha256:" + "4" * 64, ("registry.example/x:1",), (), None, 2)
    hit = PackageHit(node.id, "openssl", "3.0.2-0ubuntu1", "deb")
    who = WhoHas("openssl@<3.0.7", {node.id: [hit]}, {node.id: node})
    assert "registry.example/x:1" in render(who, "tree")
    assert json.loads(render(who, "json"))["images"][0]["packages"][0]["version"] == \
        "3.0.2-0ubuntu1"
    parent = ImageNode("sha256:" + "5" * 64, ("docker.io/library/ubuntu:22.04",), (), None, 1)
    line = Lineage("x", node, [parent], [], 0)
    done = subprocess.run([tool("dot"), "-Tsvg"], input=render(line, "dot").encode(),
                          capture_output=True, timeout=60, check=False)
    assert done.returncode == 0
    assert render(line, "tree").splitlines()[1].startswith("docker.io/library/ubuntu:22.04")
