"""Image references from Kubernetes (manifests, kubectl dumps, a live cluster), compose files,
Dockerfiles and image lists: :func:`collect` builds the fleet :class:`Inventory`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hullguard.model.inventory import Inventory


def collect(paths: Any, **options: Any) -> Inventory:
    """See :func:`hullguard.inventory.collect.collect` (imported lazily: keeps imports light)."""
    from hullguard.inventory.collect import collect as _collect

    return _collect(paths, **options)


__all__ = ["collect"]
