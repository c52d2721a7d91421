"""Paths an image writes, so a read-only root filesystem gets an emptyDir there (or the
container fails on its first write): the ``Volumes`` of the image config, as respond recorded
them in the incident's SBOM (``hullguard:image:volume``), and the ``VOLUME``s of its
Dockerfile when that is in the inventory. Both are attacker-controlled: only plain absolute
paths are used, at most :data:`MAX_PATHS` per container, and what is dropped is said."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from hullguard.contain.incident import IncidentFolder, sbom_path
from hullguard.contain.manifests import KubeWorkload
from hullguard.errors import HullguardError, InputError
from hullguard.inventory.kubernetes import containers
from hullguard.model.inventory import Inventory

MAX_PATHS = 32  # real images declare a handful; more is a hostile or broken config
# What a mountPath may be here: it ends up in YAML, shell scripts and Markdown.
_PATH_RE = re.compile(r"/[A-Za-z0-9._@+/-]{1,1023}")


@dataclass
class ImageWrites:
    """Per container: the paths to mount emptyDirs at, where each came from, and warnings."""

    paths: dict[str, dict[str, str]] = field(default_factory=dict)  # container -> path -> why
    warnings: list[str] = field(default_factory=list)

    def add(self, container: str, words: Iterable[str], source: str) -> None:
        kept, dropped = clean_paths(words)
        found = self.paths.setdefault(container, {})
        for path in kept:
            if len(found) >= MAX_PATHS:
                self.warnings.append(f"container {container}: more than {MAX_PATHS} writable "
                                     f"paths ({source}); the rest got no emptyDir")
                break
            found.setdefault(path, source)
        if dropped:
            self.warnings.append(f"container {container}: {source} declares paths that are "
                                 f"not plain absolute paths, no emptyDir for them: "
                                 f"{', '.join(repr(d[:80]) for d in dropped[:5])}")


def clean_paths(words: Iterable[str]) -> tuple[list[str], list[str]]:
    """(plain absolute paths normalized, everything else). ``/`` itself and ``..`` are out."""
    kept: list[str] = []
    dropped: list[str] = []
    for word in words:
        path = posixpath.normpath(word) if word.startswith("/") else word
        ok = _PATH_RE.fullmatch(path) and ".." not in word.split("/") and path != "/"
        (kept if ok else dropped).append(path if ok else word)
    return list(dict.fromkeys(kept)), dropped


def check_writable(paths: Iterable[str], where: str) -> tuple[str, ...]:
    """User-given writable paths (``--writable``): the same rule, but an error."""
    kept, dropped = clean_paths(paths)
    if dropped:
        raise InputError(f"{dropped[0]!r} is not a plain absolute path", where=where,
                         hint="e.g. --writable /var/cache/nginx")
    return tuple(kept)


def declared_volumes(dockerfile: Path) -> list[str]:
    """VOLUME words of the shipped stages (cleaned by the caller)."""
    from hullguard.inventory.dockerfile import parse_dockerfile
    from hullguard.inventory.yamlsafe import read_text
    from hullguard.lint.dockerfile import shipped_stages

    doc = parse_dockerfile(read_text(dockerfile), str(dockerfile))
    words: list[str] = []
    for stage in shipped_stages(doc):
        for instr in (i for i in stage.instructions if i.keyword == "VOLUME"):
            words += instr.arguments if instr.json_form else instr.value.split()
    return words


def config_volumes(incident: IncidentFolder | None, name: str) -> tuple[list[str], str]:
    """(the image config's Volumes, the SBOM they were read from) for image ``name``."""
    if incident is None:
        return [], ""
    image = next((i for i in incident.images if i.get("name") == name), {})
    path = sbom_path(incident, image.get("sbom"))
    if path is None or not path.is_file():
        return [], ""
    stat = path.stat()
    return list(_sbom_volumes(str(path), stat.st_mtime_ns, stat.st_size)), \
        f"{path.parent.name}/{path.name}"


@lru_cache(maxsize=32)
def _sbom_volumes(path: str, mtime_ns: int, size: int) -> tuple[str, ...]:
    """Read once per SBOM file version: every container of every workload running the image
    asks (the file's time and size are part of the key)."""
    from hullguard.sbom.readers.cyclonedx import read_cyclonedx
    from hullguard.sbom.readers.load import load_json_object

    del mtime_ns, size  # cache key only
    return read_cyclonedx(load_json_object(Path(path), 64 << 20), path).image.config.volumes


def image_writes(workload: KubeWorkload, inventory: Inventory,
                 incident: IncidentFolder | None = None) -> ImageWrites:
    """The writable paths of each container's image (config Volumes, Dockerfile VOLUMEs)."""
    found = ImageWrites()
    for container in containers(workload.spec):
        if isinstance(container.image, str) and container.role != "ephemeral":
            _add_image(found, container.name, container.image, inventory, incident)
    return found


def service_writes(key: str, inventory: Inventory,
                   incident: IncidentFolder | None = None) -> ImageWrites:
    """The same for a compose service (``key`` ns/compose-service/name), keyed by ``key``."""
    found = ImageWrites()
    for image in inventory.images:
        if any(o.location.workload_key == key for o in image.occurrences):
            _add_image(found, key, image.ref.key, inventory, incident)
    return found


def _add_image(found: ImageWrites, container: str, image: str, inventory: Inventory,
               incident: IncidentFolder | None) -> None:
    from hullguard.images.reference import parse_reference
    from hullguard.remediate.run import find_dockerfile

    try:
        name = str(parse_reference(image))
        volumes, sbom = config_volumes(incident, name)
        dockerfile, _ = find_dockerfile(name, inventory)
        words = declared_volumes(Path(dockerfile)) if dockerfile else []
    except HullguardError as error:  # an unreadable SBOM or Dockerfile: said, not fatal
        found.warnings.append(f"container {container}: its image's writable paths are "
                              f"unknown ({error.message}); only --writable paths get an "
                              "emptyDir")
        return
    found.add(container, volumes, f"Volumes in the image config ({sbom})")
    found.add(container, words, f"VOLUME in {dockerfile}")
