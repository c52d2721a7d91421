"""The small pure parts of mirror: the 429 wait, upload ranges, --chunk-size, platform
selection keeping the source's index entries as written."""

from __future__ import annotations

import email.utils
import json
import time

import httpx
import pytest

from hullguard.cli.mirror_cmd import parse_size
from hullguard.errors import InputError
from hullguard.harden.mirror.plan import new_index, read_document, selected_entries
from hullguard.harden.mirror.upload import _range_end
from hullguard.images.manifest import digest_of
from hullguard.images.registry.client import rate_limit_wait
from hullguard.model import Platform


@pytest.mark.parametrize(("headers", "wait"), [
    ({"Retry-After": "120"}, 120.0),
    ({"RateLimit-Limit": "100;w=21600", "RateLimit-Remaining": "0;w=21600"}, 21600.0),
    ({"RateLimit-Remaining": "7;w=21600"}, 0.0),  # not exhausted: no wait known
    ({}, 0.0)])
def test_rate_limit_wait(headers: dict[str, str], wait: float) -> None:
    assert rate_limit_wait(httpx.Response(429, headers=headers)) == wait


def test_rate_limit_wait_from_an_http_date() -> None:
    when = email.utils.formatdate(time.time() + 600, usegmt=True)
    assert 590 < rate_limit_wait(httpx.Response(429, headers={"Retry-After": when})) <= 600


def test_upload_range() -> None:
    assert _range_end("0-1048575") == 1048575
    assert _range_end("bytes=0-9") == 9
    assert _range_end("") == -1
    with pytest.raises(ValueError):
        _range_end("5-9")  # a session does not start in the middle


def test_chunk_size() -> None:
    assert parse_size("64M") == 64 << 20
    assert parse_size("512KiB") == 512 << 10
    assert parse_size("1g") == 1 << 30
    for bad in ("1K", "lots", "-5M", ""):
        with pytest.raises(InputError):
            parse_size(bad)


def test_platform_selection_keeps_entries_as_written() -> None:
    entries = [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": "sha256:" + c * 64, "size": 10 + i,
                "platform": {"architecture": arch, "os": "linux"}, "annotations": {"x": "y"}}
               for i, (c, arch) in enumerate((("a", "amd64"), ("b", "arm64")))]
    entries.append({"mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": "sha256:" + "c" * 64, "size": 5,
                    "platform": {"architecture": "unknown", "os": "unknown"},
                    "annotations": {"vnd.docker.reference.digest": "sha256:" + "b" * 64,
                                    "vnd.docker.reference.type": "attestation-manifest"}})
    data = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                       "manifests": entries, "annotations": {"keep": "me"}}).encode()
    index = read_document(data, digest_of(data), "", "test", "image")
    kept = selected_entries(index, (Platform.parse("linux/arm64"),), "test")
    assert kept == [entries[1], entries[2]]  # the image and its attestation, unchanged
    rebuilt = json.loads(new_index(index, kept))
    assert rebuilt["annotations"] == {"keep": "me"} and rebuilt["manifests"] == kept
    with pytest.raises(InputError, match="available: linux/amd64"):
        selected_entries(index, (Platform.parse("linux/s390x"),), "test")
