from __future__ import annotations

import pytest

from hullguard.errors import InputError
from hullguard.model import Digest, Platform


def test_digest_round_trip() -> None:
    text = "sha256:" + "a" * 64
    assert str(Digest.parse(text)) == text
    assert Digest.parse(text).short == "sha256:aaaaaaaaaaaa"


@pytest.mark.parametrize("bad", ["sha256:abc", "md5:" + "a" * 32, "sha256:" + "A" * 64,
                                 "sha256:" + "a" * 64 + "\n", "", "sha256:../../etc"])
def test_malformed_digests_are_input_errors(bad: str) -> None:
    with pytest.raises(InputError, match="malformed digest"):
        Digest.parse(bad)


def test_platform_parse() -> None:
    assert str(Platform.parse("linux/arm64/v8")) == "linux/arm64/v8"
    assert Platform.parse("linux/amd64") == Platform()
    with pytest.raises(InputError):
        Platform.parse("linux")
