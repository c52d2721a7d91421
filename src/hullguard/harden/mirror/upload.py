"""Writing to the mirror: blob uploads (mount, monolithic, chunked and resumable) and manifest
PUTs with exact bytes.

The registry client's transport is reused (auth per host, redirects that never carry the
Authorization header to another origin, deadlines); this module adds the upload protocol of
the OCI distribution spec that :meth:`RegistryClient.push_blob` does not cover:

* ``POST ?mount=DIGEST&from=REPO``: a blob already in another repository of the mirror is
  linked, not sent (201); a registry that cannot mount answers 202 with an upload session,
  which we then use.
* Monolithic (``POST`` then ``PUT ?digest=``) for blobs up to ``monolithic_limit``.
* Chunked (``PATCH`` with ``Content-Range`` per chunk, then ``PUT ?digest=``) above it. The
  session's URL is saved after every chunk in the state directory, so a run that was killed
  asks the registry how far it got (``GET`` on the session: ``Range: 0-N``) and goes on from
  there instead of sending the blob again.

Every upload ends with the registry checking the digest (the ``?digest=`` of the final PUT)
and a ``HEAD`` that must report the blob's size.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urljoin

from hullguard.errors import HullguardError, IntegrityError, NotFoundError, RegistryError
from hullguard.fsutil import write_text_atomic
from hullguard.images.manifest import Descriptor
from hullguard.images.registry.client import RegistryClient, _pull, _push
from hullguard.images.registry.netpolicy import same_origin
from hullguard.model import Digest

MONOLITHIC_LIMIT = 64 << 20
CHUNK_SIZE = 64 << 20  # fewer PATCHes: distribution takes ~2x longer for 16 MiB chunks

Sent = Callable[[int], None]  # bytes of blob content sent (progress, counters)


@dataclass(frozen=True)
class UploadSettings:
    monolithic_limit: int = MONOLITHIC_LIMIT
    chunk_size: int = CHUNK_SIZE
    state_dir: Path | None = None  # where chunked sessions are remembered (resume)


def blob_size_at(client: RegistryClient, repository: str, digest: Digest) -> int | None:
    """The blob's size at the registry (HEAD), or None when it is not there."""
    where = f"{client.host}/{repository}@{digest}"
    with client._request("HEAD", f"/v2/{repository}/blobs/{digest}", _push(repository), where,
                         allow=(404,)) as response:
        if response.status_code == 404:
            return None
        length = response.headers.get("content-length", "")
        return int(length) if length.isdigit() else -1


def manifest_digest_at(client: RegistryClient, repository: str, reference: str) -> Digest | None:
    """The digest the registry reports for a manifest tag or digest (HEAD), or None."""
    from hullguard.images.registry.client import ALL_MANIFEST_TYPES

    where = f"{client.host}/{repository}:{reference}"
    with client._request("HEAD", f"/v2/{repository}/manifests/{reference}", _pull(repository),
                         where, headers={"Accept": ", ".join(ALL_MANIFEST_TYPES)},
                         allow=(404,)) as response:
        if response.status_code == 404:
            return None
        header = response.headers.get("docker-content-digest", "").strip()
    if not header:  # a registry that does not say: the digest we PUT is the name we asked
        return Digest.parse(reference, where) if ":" in reference else None
    try:
        return Digest.parse(header, where)
    except HullguardError:
        raise RegistryError("the registry answered an invalid Docker-Content-Digest",
                            where=where) from None


def put_manifest(client: RegistryClient, repository: str, reference: str, data: bytes,
                 media_type: str, digest: Digest) -> None:
    """PUT the exact bytes; the registry must answer with the same digest."""
    where = f"{client.host}/{repository}:{reference}"
    with client._request("PUT", f"/v2/{repository}/manifests/{reference}", _push(repository),
                         where, headers={"Content-Type": media_type}, content=data) as response:
        header = response.headers.get("docker-content-digest", "").strip()
    if header and header != str(digest):
        raise IntegrityError(f"the mirror stored the manifest as {header}, not {digest}",
                             where=where, hint="the registry rewrote the manifest")


def try_mount(client: RegistryClient, repository: str, digest: Digest, source_repo: str) -> bool:
    """Link a blob from another repository of the same registry; False when not mounted."""
    where = f"{client.host}/{repository}@{digest} mount from {source_repo}"
    query = f"?mount={quote(str(digest))}&from={quote(source_repo, safe='/')}"
    scope = f"{_push(repository)} repository:{source_repo}:pull"
    with client._request("POST", f"/v2/{repository}/blobs/uploads/{query}", scope, where,
                         headers={"Content-Length": "0"}) as response:
        return response.status_code == 201  # 202: no mount; the session is simply left


class Uploader:
    """Uploads blobs from verified local files to one repository of the mirror."""

    def __init__(self, client: RegistryClient, settings: UploadSettings) -> None:
        self.client, self.settings = client, settings

    def upload(self, repository: str, descriptor: Descriptor, path: Path, sent: Sent) -> None:
        if descriptor.size <= self.settings.monolithic_limit:
            self._monolithic(repository, descriptor, path, sent)
        else:
            self._chunked(repository, descriptor, path, sent)
        self._check_stored(repository, descriptor)

    def _check_stored(self, repository: str, descriptor: Descriptor) -> None:
        size = blob_size_at(self.client, repository, descriptor.digest)
        if size is None or size not in (-1, descriptor.size):
            raise IntegrityError(f"after the upload the mirror reports {size} bytes, the "
                                 f"descriptor says {descriptor.size}",
                                 where=f"{self.client.host}/{repository}@{descriptor.digest}")

    def _start(self, repository: str, where: str) -> str:
        with self.client._request("POST", f"/v2/{repository}/blobs/uploads/", _push(repository),
                                  where, headers={"Content-Length": "0"}) as response:
            return self._location(response.headers.get("location", ""), where)

    def _location(self, location: str, where: str) -> str:
        if not location:
            raise RegistryError("upload answered without a Location", where=where)
        base = self.client._base_url()
        url = urljoin(base + "/", location)
        if not same_origin(url, base):
            self.client.policy.check_url(url, "upload location", where)
        return url

    def _monolithic(self, repository: str, descriptor: Descriptor, path: Path,
                    sent: Sent) -> None:
        where = f"{self.client.host}/{repository}@{descriptor.digest}"
        url = self._start(repository, where)
        headers = {"Content-Type": "application/octet-stream",
                   "Content-Length": str(descriptor.size)}
        with self.client._request("PUT", _with_digest(url, descriptor.digest),
                                  _push(repository), where, headers=headers, content=path):
            pass
        sent(descriptor.size)

    def _chunked(self, repository: str, descriptor: Descriptor, path: Path, sent: Sent) -> None:
        where = f"{self.client.host}/{repository}@{descriptor.digest}"
        state = self._state_file(repository, descriptor.digest)
        url, offset = self._resume(repository, state, where)
        if url is None:
            url, offset = self._start(repository, where), 0
        try:
            with path.open("rb") as handle:
                handle.seek(offset)
                while offset < descriptor.size:
                    chunk = handle.read(self.settings.chunk_size)
                    url = self._patch(repository, url, chunk, offset, where)
                    offset += len(chunk)
                    sent(len(chunk))
                    self._remember(state, url)
        except HullguardError:
            # a refused or broken chunk may have reached the registry in part: the saved
            # offset is no longer sure, so the next run starts a new session (a killed run
            # never gets here and resumes)
            if state is not None:
                state.unlink(missing_ok=True)
            raise
        with self.client._request("PUT", _with_digest(url, descriptor.digest),
                                  _push(repository), where, headers={"Content-Length": "0"}):
            pass
        if state is not None:
            state.unlink(missing_ok=True)

    def _patch(self, repository: str, url: str, chunk: bytes, offset: int, where: str) -> str:
        headers = {"Content-Type": "application/octet-stream",
                   "Content-Range": f"{offset}-{offset + len(chunk) - 1}",
                   "Content-Length": str(len(chunk))}
        with self.client._request("PATCH", url, _push(repository), where, headers=headers,
                                  content=chunk) as response:
            return self._location(response.headers.get("location", "") or url, where)

    def _resume(self, repository: str, state: Path | None,
                where: str) -> tuple[str | None, int]:
        """The saved session and the offset the registry has, or (None, 0) to start over."""
        if state is None or not state.is_file():
            return None, 0
        try:
            url = str(json.loads(state.read_text())["location"])
            with self.client._request("GET", self._location(url, where), _push(repository),
                                      where) as response:
                received = _range_end(response.headers.get("range", "")) + 1
                return self._location(response.headers.get("location", "") or url,
                                      where), received
        except (NotFoundError, RegistryError, OSError, ValueError, KeyError, TypeError):
            state.unlink(missing_ok=True)  # expired or foreign: start a new session
            return None, 0

    def _state_file(self, repository: str, digest: Digest) -> Path | None:
        if self.settings.state_dir is None:
            return None
        key = hashlib.sha256(f"{self.client.host}/{repository}@{digest}".encode()).hexdigest()
        return self.settings.state_dir / "uploads" / f"{key}.json"

    def _remember(self, state: Path | None, url: str) -> None:
        if state is None:
            return
        state.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(state, json.dumps({"location": url}))
        os.chmod(state, 0o600)  # an upload URL can carry a session secret


def _with_digest(url: str, digest: Digest) -> str:
    return url + ("&" if "?" in url else "?") + f"digest={quote(str(digest))}"


def _range_end(header: str) -> int:
    """``0-1048575`` (or ``bytes=0-...``) -> 1048575; no range yet -> -1."""
    text = header.strip().removeprefix("bytes=")
    if not text:
        return -1
    start, _, end = text.partition("-")
    if start.strip() != "0" or not end.strip().isdigit():
        raise ValueError(f"unexpected upload Range {header!r}")
    return int(end)
