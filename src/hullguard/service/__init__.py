"""The service face: ``hullguard serve`` (API, dashboard, webhooks, metrics) over the store.

Only :mod:`hullguard.cli` prints; the service renders pages and JSON from the store."""
