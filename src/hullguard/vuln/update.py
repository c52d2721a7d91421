"""``db update``: fetch feeds over HTTP(S), conditionally and resumably, then import them.

Per feed: a conditional GET (``If-None-Match`` / ``If-Modified-Since`` from the last import;
304 means the data is current), or, when an earlier download was cut off, a ``Range`` request
continuing the ``.part`` file (``If-Range`` makes the server send the whole file instead when it
changed meanwhile). The download's sha256 is recorded and checked against the upstream's
published one where there is one (NVD ``.meta``). All fetched feeds are then imported in one
atomic step; a failed feed is reported and leaves its previous data in place.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from hullguard import __version__
from hullguard.errors import HullguardError, IntegrityError, LimitExceeded
from hullguard.vuln.config import Feed
from hullguard.vuln.dbwrite import ImportInput, SourceReport, import_inputs

if TYPE_CHECKING:
    import httpx

MAX_DOWNLOAD_BYTES = 4 << 30
TIMEOUT = 60.0


class FeedError(HullguardError):
    """A feed could not be fetched (HTTP status, network, interrupted download)."""


@dataclass(frozen=True)
class Download:
    path: Path | None  # None: not modified upstream
    etag: str = ""
    last_modified: str = ""
    sha256: str = ""
    resumed_from: int = 0


@dataclass
class UpdateResult:
    reports: list[SourceReport] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)


def cache_dir(db_path: Path) -> Path:
    """Downloads live beside the database (``<db>.feeds/``), so resumes survive restarts."""
    return db_path.with_name(db_path.name + ".feeds")


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:100]


def _previous(db_path: Path) -> dict[str, tuple[str, str]]:
    """feed name -> (etag, last-modified) of its last import."""
    if not db_path.is_file():
        return {}
    from hullguard.vuln.db import VulnDB

    try:
        with VulnDB.open(db_path) as db:
            return {s.name: (s.etag, s.last_modified) for s in db.sources()}
    except HullguardError:
        return {}  # unreadable or old schema: fetch everything unconditionally


def update_feeds(db_path: Path, feeds: list[Feed], quiet: bool = True,
                 client: httpx.Client | None = None) -> UpdateResult:
    import httpx

    result = UpdateResult()
    inputs: list[ImportInput] = []
    unchanged: list[str] = []
    previous = _previous(db_path)
    own = client or httpx.Client(timeout=TIMEOUT, follow_redirects=True,
                                 headers={"User-Agent": f"hullguard/{__version__}"})
    try:
        for feed in feeds:
            try:
                download = fetch(own, feed, cache_dir(db_path), previous.get(feed.name))
            except HullguardError as error:
                result.failures.append((feed.name, error.diagnostics()))
                continue
            _note(result, feed, download, inputs, unchanged)
    finally:
        if client is None:
            own.close()
    if inputs or unchanged:
        result.reports = import_inputs(db_path, inputs, checked=unchanged)
    return result


def _note(result: UpdateResult, feed: Feed, download: Download, inputs: list[ImportInput],
          unchanged: list[str]) -> None:
    if download.path is None:
        unchanged.append(feed.name)
        result.notes.append((feed.name, "not modified upstream (HTTP 304)"))
        return
    resumed = f", resumed at byte {download.resumed_from}" if download.resumed_from else ""
    result.notes.append((feed.name, f"downloaded sha256:{download.sha256[:16]}...{resumed}"))
    inputs.append(ImportInput(download.path, feed.name, feed.url, download.etag,
                              download.last_modified, download.sha256))


def fetch(client: httpx.Client, feed: Feed, cache: Path,
          previous: tuple[str, str] | None) -> Download:
    """Download ``feed`` into ``cache`` (or learn it is unchanged)."""
    cache.mkdir(parents=True, exist_ok=True)
    part = cache / f"{_safe(feed.name)}.part"
    meta = cache / f"{_safe(feed.name)}.part.json"
    headers, offset = _request_headers(feed, part, meta, previous)
    download = _stream(client, feed, part, meta, headers, offset)
    if download.path is None:
        return download
    sha256 = _sha256(part)
    if feed.checksum_url:
        _verify(client, feed, part, sha256)
    final = cache / f"{_safe(feed.name)}.data"
    part.replace(final)
    meta.unlink(missing_ok=True)
    return Download(final, download.etag, download.last_modified, sha256, offset)


def _request_headers(feed: Feed, part: Path, meta: Path, previous: tuple[str, str] | None
                     ) -> tuple[dict[str, str], int]:
    validator = _partial_validator(feed, part, meta)
    if validator:
        return {"Range": f"bytes={part.stat().st_size}-", "If-Range": validator}, \
            part.stat().st_size
    part.unlink(missing_ok=True)
    headers = {}
    if previous and previous[0]:
        headers["If-None-Match"] = previous[0]
    if previous and previous[1]:
        headers["If-Modified-Since"] = previous[1]
    return headers, 0


def _partial_validator(feed: Feed, part: Path, meta: Path) -> str:
    """The strong validator of an interrupted download of the same URL, or ""."""
    if not part.is_file() or part.stat().st_size == 0 or not meta.is_file():
        return ""
    try:
        info = json.loads(meta.read_text())
    except (ValueError, OSError):
        return ""
    if not isinstance(info, dict) or info.get("url") != feed.url:
        return ""
    etag = str(info.get("etag", ""))
    return etag if etag and not etag.startswith("W/") else str(info.get("last_modified", ""))


def _stream(client: httpx.Client, feed: Feed, part: Path, meta: Path,
            headers: dict[str, str], offset: int) -> Download:
    import httpx

    try:
        with client.stream("GET", feed.url,
                           headers={**headers, "Accept-Encoding": "identity"}) as response:
            if response.status_code == 304:
                return Download(None)
            append = _check_status(response, feed, offset)
            etag = response.headers.get("etag", "")
            modified = response.headers.get("last-modified", "")
            meta.write_text(json.dumps({"url": feed.url, "etag": etag,
                                        "last_modified": modified}))
            _write_body(response, part, append, feed)
            return Download(part, etag, modified)
    except httpx.HTTPError as error:
        raise FeedError(f"download failed: {error}", where=feed.url,
                        hint="run `hullguard db update` again; it resumes where it stopped"
                        ) from None


def _check_status(response: httpx.Response, feed: Feed, offset: int) -> bool:
    """True to append to the partial file (206 continuing at ``offset``)."""
    if response.status_code == 206 and offset:
        start = re.match(r"bytes (\d+)-", response.headers.get("content-range", ""))
        if start and int(start.group(1)) == offset:
            return True
        raise FeedError("server resumed at the wrong offset", where=feed.url)
    if response.status_code == 200:
        return False
    raise FeedError(f"HTTP {response.status_code}", where=feed.url)


def _write_body(response: httpx.Response, part: Path, append: bool, feed: Feed) -> None:
    size = part.stat().st_size if append else 0
    with part.open("ab" if append else "wb") as handle:
        # Raw bytes as they arrive (with identity encoding requested): a cut connection leaves
        # exactly what was received in the .part file, ready for a Range request.
        for chunk in response.iter_raw():
            size += len(chunk)
            if size > MAX_DOWNLOAD_BYTES:
                raise LimitExceeded(f"download exceeds {MAX_DOWNLOAD_BYTES} bytes",
                                    where=feed.url)
            handle.write(chunk)


def _sha256(path: Path, gunzip: bool = False) -> str:
    digest = hashlib.sha256()
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if gunzip else None
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(inflater.decompress(chunk) if inflater else chunk)
    return digest.hexdigest()


def _published_sha256(client: httpx.Client, feed: Feed) -> str:
    import httpx

    try:
        response = client.get(feed.checksum_url)
    except httpx.HTTPError as error:
        raise FeedError(f"checksum file unavailable: {error}", where=feed.checksum_url) from None
    found = re.search(r"(?i)\b(?:sha256:)?([0-9a-f]{64})\b", response.text[:4096])
    if response.status_code != 200 or not found:
        raise FeedError("no sha256 in the checksum file", where=feed.checksum_url)
    return found.group(1).lower()


def _verify(client: httpx.Client, feed: Feed, part: Path, sha256: str) -> None:
    """Compare with the published sha256 (NVD's is of the uncompressed JSON)."""
    published = _published_sha256(client, feed)
    candidates = {sha256}
    with part.open("rb") as handle:
        gzipped = handle.read(2) == b"\x1f\x8b"
    if gzipped:
        with contextlib.suppress(zlib.error):
            candidates.add(_sha256(part, gunzip=True))
    if published not in candidates:
        part.unlink(missing_ok=True)
        raise IntegrityError(f"sha256 mismatch: published {published[:16]}..., "
                             f"downloaded {sha256[:16]}...", where=feed.url)
