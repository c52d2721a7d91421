"""hullguard.catalog: what is inside an image, as an :class:`~hullguard.model.Sbom`.

``catalog_source`` catalogs an opened :class:`~hullguard.images.api.ImageSource`;
``catalog_image`` opens a reference first (``sbom:`` references are read, not cataloged).

Both return the SBOM with the image config's secrets redacted
(:func:`hullguard.secrets.redact.redact_sbom`): this is where every SBOM hullguard writes is
produced (``sbom``, ``scan``, ``scan-fleet``, ``respond``, ``graph index``, attestations),
so no output, store or cache downstream ever holds Env values, labels or layer commands in
clear. The walk itself is :func:`hullguard.catalog.engine.catalog_source`.
"""

from __future__ import annotations

from collections.abc import Sequence

from hullguard.catalog.api import Extractor
from hullguard.catalog.engine import Progress
from hullguard.catalog.engine import catalog_source as _walk
from hullguard.images.api import ImageSource, SourceOptions
from hullguard.images.layercache import LayerCache
from hullguard.images.walk import Visitor
from hullguard.model import Sbom

__all__ = ["Progress", "catalog_image", "catalog_source"]


def catalog_source(source: ImageSource, *, extractors: Sequence[Extractor] | None = None,
                   on_progress: Progress | None = None, visitors: Sequence[Visitor] = (),
                   cache: LayerCache | None = None) -> Sbom:
    """Catalog an opened image; the SBOM comes back redacted (see the module doc)."""
    from hullguard.secrets.redact import redact_sbom

    return redact_sbom(_walk(source, extractors=extractors, on_progress=on_progress,
                             visitors=visitors, cache=cache))


def catalog_image(ref: str, options: SourceOptions | None = None, *,
                  on_progress: Progress | None = None, layer_cache: str = "off") -> Sbom:
    """Open ``ref`` (any reference of the source grammar) and catalog it; ``layer_cache``:
    "" for the default per-layer cache, "off" or a directory (see ``open_layer_cache``)."""
    if ref.startswith("sbom:"):
        from hullguard.sbom import read_sbom
        from hullguard.secrets.redact import redact_sbom

        return redact_sbom(read_sbom(ref.removeprefix("sbom:")))
    from hullguard.images import open_image
    from hullguard.images.layercache import open_layer_cache

    options = options or SourceOptions()
    cache = open_layer_cache(layer_cache, verify_diff_ids=options.verify_diff_ids)
    with open_image(ref, options) as source:
        return catalog_source(source, on_progress=on_progress, cache=cache)
