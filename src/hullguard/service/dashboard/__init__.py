"""The dashboard: server-rendered pages over the store (Jinja2, no build step, no external
assets): fleet overview, priority queue, images and an image page, search by package or
vulnerability, and what changed since a point in time.

``data`` reads the store (plain values, no HTML); ``pages`` is the FastAPI router that renders
them. Every number on a page comes from the store; nothing is computed from images."""
