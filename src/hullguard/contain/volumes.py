"""Paths an image writes, when its Dockerfile is in the inventory: its ``VOLUME``s (a
read-only root filesystem needs an emptyDir there or the container fails on first write)."""

from __future__ import annotations

from pathlib import Path

from hullguard.contain.manifests import KubeWorkload
from hullguard.errors import HullguardError
from hullguard.inventory.kubernetes import containers
from hullguard.model.inventory import Inventory


def declared_volumes(dockerfile: Path) -> list[str]:
    """VOLUME paths of the shipped stages (absolute paths only; anything else is ignored)."""
    from hullguard.inventory.dockerfile import parse_dockerfile
    from hullguard.inventory.yamlsafe import read_text
    from hullguard.lint.dockerfile import shipped_stages

    doc = parse_dockerfile(read_text(dockerfile), str(dockerfile))
    paths: list[str] = []
    for stage in shipped_stages(doc):
        for instr in (i for i in stage.instructions if i.keyword == "VOLUME"):
            words = instr.arguments if instr.json_form else tuple(instr.value.split())
            paths += [w for w in words if w.startswith("/") and ".." not in w.split("/")]
    return sorted(set(paths))


def image_writes(workload: KubeWorkload, inventory: Inventory) -> dict[str, tuple[list[str], str]]:
    """container name -> (VOLUME paths, the Dockerfile they came from)."""
    from hullguard.images.reference import parse_reference
    from hullguard.remediate.run import find_dockerfile

    found: dict[str, tuple[list[str], str]] = {}
    for container in containers(workload.spec):
        if not isinstance(container.image, str) or container.role == "ephemeral":
            continue
        try:
            name = str(parse_reference(container.image))
            dockerfile, _ = find_dockerfile(name, inventory)
            paths = declared_volumes(Path(dockerfile)) if dockerfile else []
        except HullguardError:  # the inventory already reported an unreadable file
            continue
        if paths:
            found[container.name] = (paths, dockerfile)
    return found
