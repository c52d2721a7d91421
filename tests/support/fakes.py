"""Real-looking fake credentials for tests that plant secrets in images: the scanner drops
placeholders and tokens whose checksum is wrong, so a planted token must be well formed."""

from __future__ import annotations

import random

from tests.secrets.corpus import checksummed


def github_token(seed: int, prefix: str = "ghp_") -> str:
    """A GitHub token with a valid CRC32 tail, the same for the same seed."""
    return checksummed(prefix, random.Random(seed))
