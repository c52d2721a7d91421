"""Shared helpers of the accuracy tests: corpus records as an in-memory lookup, images."""

from __future__ import annotations

import json
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hullguard.model import Advisory, Sbom
from tests.support.env import missing


def index(advisories: Iterable[Advisory]) -> dict[tuple[str, str], list[Advisory]]:
    """``(ecosystem, name) -> records``: the same contract as VulnDB.advisories_for."""
    out: dict[tuple[str, str], list[Advisory]] = defaultdict(list)
    for advisory in advisories:
        for key in {(a.ecosystem, a.name) for a in advisory.affected}:
            out[key].append(advisory)
    return out


def load(paths: Iterable[Path]) -> list[Advisory]:
    try:
        from hullguard.vuln.importers import load_path
    except ImportError:  # pragma: no cover - the importers are H6's; always present in CI
        missing("hullguard.vuln.importers not available")
    return [a for path in paths for a in load_path(path)]


def catalog(archive: Path) -> Sbom:
    try:
        from hullguard.catalog import catalog_image
    except ImportError:  # pragma: no cover
        missing("hullguard.catalog not available")
    return catalog_image(f"docker-archive:{archive}")


def osv_records(zip_path: Path) -> list[dict[str, Any]]:
    """Raw OSV JSON records of an all.zip, parsed here without our importers."""
    with zipfile.ZipFile(zip_path) as archive:
        return [json.loads(archive.read(name)) for name in archive.namelist()
                if name.endswith(".json")]


def pep503(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
