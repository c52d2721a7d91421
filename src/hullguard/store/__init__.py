"""hullguard.store: SQLAlchemy store of images, SBOMs and scan history (SQLite or PostgreSQL).

See :mod:`hullguard.store.base` for how another stage adds its own tables.
"""

from hullguard.store.base import Base, default_store_url, make_engine, open_store

__all__ = ["Base", "default_store_url", "make_engine", "open_store"]
