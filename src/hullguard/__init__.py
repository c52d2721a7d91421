"""hullguard: container supply-chain security and breach response."""

__version__ = "0.1.0"
