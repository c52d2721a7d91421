"""Image references from Kubernetes (manifests, kubectl dumps, a live cluster), compose files,
Dockerfiles and image lists: :func:`hullguard.inventory.collect.collect` builds the fleet
:class:`Inventory`.

Nothing is imported here: lint, secrets and the store use the light submodules (``dockerfile``,
``yamlsafe``, ``references``) without loading the whole collector.
"""
