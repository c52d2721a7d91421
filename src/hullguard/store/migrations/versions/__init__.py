"""Revisions of the store schema, oldest first (the file name starts with the revision)."""
