"""The real registry on 127.0.0.1 for the store's load tests (tests/support/registry.py)."""

from __future__ import annotations

from tests.support import registry as support

registry_server = support.registry_server
