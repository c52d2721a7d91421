"""SBOM formats (writers) and readers.

``render(sbom, fmt)`` writes one of :data:`FORMATS`; each format is one module exposing
``render(sbom) -> str``, imported only when used (cyclonedx-python-lib and spdx-tools are slow
to import). ``read_sbom(path)`` reads CycloneDX / SPDX JSON (syft, trivy, ours) and our native
JSON back into the model.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from hullguard.errors import InputError
from hullguard.model import Sbom

# format name -> module with render(sbom) -> str. One line per format.
FORMATS: dict[str, str] = {
    "table": "hullguard.sbom.table",
    "json": "hullguard.sbom.native",
    "cyclonedx-json": "hullguard.sbom.cyclonedx",
    "spdx-json": "hullguard.sbom.spdx",
}


def render(sbom: Sbom, fmt: str) -> str:
    """The SBOM in format ``fmt`` (a key of :data:`FORMATS`), deterministic for equal input."""
    module_name = FORMATS.get(fmt)
    if module_name is None:
        raise InputError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}",
                         where="--format")
    render_format = importlib.import_module(module_name).render
    text: str = render_format(sbom)
    return text


def read_sbom(path: str | Path) -> Sbom:
    """Read a CycloneDX (1.4-1.7) or SPDX (2.2/2.3) JSON document, or our native JSON."""
    from hullguard.sbom.readers import read_sbom as read

    return read(path)


__all__ = ["FORMATS", "read_sbom", "render"]
