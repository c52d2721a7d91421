"""The OCI Distribution API client: pull (as an ImageSource) and push.

``open_registry_image(reference, options)`` is what ``open_image`` calls for registry
references; :class:`RegistryClient` is the lower-level client later stages (mirroring, fleet
scans) use directly. See docs/registry.md for auth sources, flags and the security rules.
"""

from hullguard.images.registry.client import RegistryClient
from hullguard.images.registry.credentials import Credentials, find_credentials
from hullguard.images.registry.push import push_layout
from hullguard.images.registry.source import RegistrySource, client_for, open_registry_image

__all__ = [
    "Credentials",
    "RegistryClient",
    "RegistrySource",
    "client_for",
    "find_credentials",
    "open_registry_image",
    "push_layout",
]
