"""The bundled demo fleet for ``hullguard respond --demo``: manifests, a compose file and
Dockerfiles (package data), images built at run time, and a small OSV advisory set."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hullguard.demo.images import ADVISORIES_DIR, FLEET_DIR, build_demo_images


@dataclass(frozen=True)
class Demo:
    paths: tuple[Path, ...]  # inventory inputs
    db_path: Path  # advisory database built from the bundled advisories
    image_sources: dict[str, str]  # reference -> local docker-archive source
    label: str


def prepare_demo(state: Path) -> Demo:
    """Build the demo images and advisory database under ``state`` (idempotent, offline)."""
    from hullguard.vuln.dbwrite import ImportInput, import_inputs

    sources = build_demo_images(state / "images")
    db_path = state / "demo-advisories.sqlite"
    db_path.unlink(missing_ok=True)
    import_inputs(db_path, [ImportInput(ADVISORIES_DIR, name="hullguard-demo-advisories")])
    count = len(list(ADVISORIES_DIR.glob("*.json")))
    return Demo((FLEET_DIR,), db_path, sources,
                f"bundled demo advisories ({count} OSV records)")
