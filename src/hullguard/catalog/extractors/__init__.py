"""One module per package format; each exposes one :class:`~hullguard.catalog.api.Extractor`."""
