"""Shared test helpers: corpus access, required tools, image building shortcuts."""
