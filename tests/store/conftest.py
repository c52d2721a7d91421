"""Fixtures of the store tests: a fresh store on SQLite and on the real PostgreSQL at
127.0.0.1, and the real registry on 127.0.0.1 (tests/support/registry.py) for load tests."""

from __future__ import annotations

from tests.support import postgres
from tests.support import registry as support

registry_server = support.registry_server
fresh_store = postgres.fresh_store
