"""The store's schema history (Alembic): ``env.py`` and one revision per schema change in
``versions/``. Run by ``hullguard store migrate`` and at the creation of a new store, through
:mod:`hullguard.store.schema`; see that module for the rules."""
