"""Image references from Kubernetes (manifests, kubectl dumps, a live cluster), compose files,
Dockerfiles and image lists: :func:`collect` builds the fleet :class:`Inventory`.

The submodule ``hullguard.inventory.collect`` is imported here on purpose: importing it later
would make the package attribute ``collect`` the module instead of the function.
"""

from __future__ import annotations

from hullguard.inventory.collect import collect

__all__ = ["collect"]
