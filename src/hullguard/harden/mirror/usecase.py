"""``mirror`` as a use case: inputs (inventory paths or image references) -> the copy engine
-> the report and the mapping file. Returns values; the CLI (and later the service) render
them."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hullguard.errors import InputError
from hullguard.harden.mirror.engine import Mirror, MirrorOptions, Observer
from hullguard.harden.mirror.mapping import MappingEntry, read_mapping, write_mapping
from hullguard.harden.mirror.report import MirrorReport
from hullguard.images.reference import parse_reference


@dataclass(frozen=True)
class Sources:
    references: list[str]  # distinct, in input order
    warnings: list[str]  # inventory issues (a file that could not be read, ...)


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hullguard" / "mirror"


def gather_sources(inputs: Sequence[str]) -> Sources:
    """Each input is a path (Kubernetes, compose, Dockerfiles, image lists: the inventory,
    FROM bases included) or an image reference."""
    references: list[str] = []
    warnings: list[str] = []
    paths = [item for item in inputs if Path(item).exists()]
    if paths:
        from hullguard.inventory.collect import collect

        inventory = collect([Path(p) for p in paths])
        warnings += [str(issue) for issue in inventory.issues]
        references += [image.ref.key for image in inventory.images]
    for item in inputs:
        if item not in paths:
            references.append(_reference(item))
    unique = list(dict.fromkeys(references))
    if not unique:
        raise InputError(f"no image found in {', '.join(inputs)}",
                         hint="give Kubernetes manifests, compose files, Dockerfiles, image "
                              "lists or image references")
    return Sources(unique, warnings)


def _reference(item: str) -> str:
    try:
        return str(parse_reference(item))
    except InputError as error:
        raise InputError(f"neither a file nor an image reference ({error.message})",
                         where=item, hint="give existing paths or references like "
                                          "registry.example.com/team/app:1.2") from None


def run_mirror(references: Sequence[str], options: MirrorOptions, mapping: Path | None = None,
               observer: Observer | None = None) -> MirrorReport:
    """Copy every reference; write the mapping file (when asked) with every reference that is
    at the mirror now, earlier runs' entries for other references kept."""
    engine = Mirror(options, observer)
    try:
        report = engine.run(list(references))
    finally:
        engine.close()
    if mapping is not None:
        write_mapping(mapping, _merged(mapping, report.entries(), str(options.target)),
                      options.target)
    return report


def _merged(path: Path, entries: list[MappingEntry], target: str) -> list[MappingEntry]:
    """An earlier mapping's entries (for the same mirror) for sources this run did not copy
    stay: a run stopped by a rate limit and its rerun together give the whole mapping."""
    earlier = read_mapping(path) if path.is_file() else []
    done = {entry.source for entry in entries}
    host = target.split("/", 1)[0] + "/"
    return [*[e for e in earlier if e.source not in done and e.mirror.startswith(host)],
            *entries]
