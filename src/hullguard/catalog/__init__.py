"""hullguard.catalog: what is inside an image, as an :class:`~hullguard.model.Sbom`.

``catalog_source`` catalogs an opened :class:`~hullguard.images.api.ImageSource`;
``catalog_image`` opens a reference first (``sbom:`` references are read, not cataloged).
"""

from __future__ import annotations

from hullguard.catalog.engine import Progress, catalog_source
from hullguard.images.api import SourceOptions
from hullguard.model import Sbom

__all__ = ["Progress", "catalog_image", "catalog_source"]


def catalog_image(ref: str, options: SourceOptions | None = None, *,
                  on_progress: Progress | None = None) -> Sbom:
    """Open ``ref`` (any reference of the source grammar) and catalog it."""
    if ref.startswith("sbom:"):
        from hullguard.sbom import read_sbom

        return read_sbom(ref.removeprefix("sbom:"))
    from hullguard.images import open_image

    with open_image(ref, options or SourceOptions()) as source:
        return catalog_source(source, on_progress=on_progress)
