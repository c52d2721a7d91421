"""The per-layer record cache: what each layer contributed to a walk, on disk.

A record is keyed by the layer's blob digest, which the walk that made the record verified
while reading, plus the visitors' keys (name and version): never by a claimed digest, so a
docker-archive's diff_ids (claims until the layer is read) are never keys and its layers are
walked every time. A later image whose verified manifest names the same blob digest gets the
record back without the blob being read or downloaded. The record also keeps the layer's
verified diffID: an image whose config claims another diffID for that blob is walked (and
fails its check) as without a cache.

Each record file is ``MAC || payload``: an HMAC-SHA256, under a random per-cache key (a 0600
file), over the record's cache key and payload, so a tampered or swapped record is rejected
(deleted, and the layer walked again). Files are written atomically (temp file, rename) and
the cache is bounded: the least recently used records go once it outgrows ``max_bytes``.
The records hold what the visitors found in the layers (file headers, packages, secret values
the secret scanner needs for redaction): the directory is private (0700).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hullguard.errors import InputError
from hullguard.images.api import FileKind
from hullguard.images.tree import Header
from hullguard.model import Layer

# /2: headers and per-visitor results only (/1 also kept the files the catalogers read); the
# format is part of every record's name and checked on reading, so an older record is never
# found, let alone misread
FORMAT = "hullguard-layer-record/2"
KEY_FILE = "key"
MAX_BYTES = 4 << 30  # the whole cache
MAX_RECORD = 512 << 20  # one record, uncompressed
_MAC = 32
_KINDS = {kind.value: kind for kind in FileKind}


@dataclass
class LayerRecord:
    """One layer's contribution: every entry's header in tar order, each visitor's summary
    (its per-layer results: what the extractors found in each file, the secret matches), and
    the verified diffID."""

    headers: list[Header]
    summaries: list[Any]
    diff_id: str

    def to_bytes(self) -> bytes:
        return json.dumps({"format": FORMAT, "diff_id": self.diff_id, "summaries": self.summaries,
                           "headers": self.headers}, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> LayerRecord:
        head = json.loads(data)
        if head.get("format") != FORMAT:
            raise ValueError("not a layer record")
        kinds = _KINDS  # a dict lookup: FileKind(value) costs ~25 us per entry
        headers: list[Header] = [(p, kinds[k], m, s, ln, u, g, t)
                                 for p, k, m, s, ln, u, g, t in head["headers"]]
        return cls(headers, list(head["summaries"]), str(head["diff_id"]))


class LayerCache:
    """Records on disk under ``root``; ``store_new`` False only reads (a walk that did not
    verify diffIDs must not record them as verified)."""

    def __init__(self, root: Path, *, max_bytes: int = MAX_BYTES, store_new: bool = True) -> None:
        self.root, self.max_bytes, self.store_new = root, max_bytes, store_new
        self.hits = self.misses = self.rejected = 0
        self._secret: bytes | None = None
        self._trimmed = False

    def can_key(self, layer: Layer) -> bool:
        """A layer is cacheable only under a blob digest its walk verifies."""
        return layer.digest is not None

    def load(self, layer: Layer, keys: tuple[str, ...]) -> LayerRecord | None:
        if not self.can_key(layer):
            return None
        name = self._name(layer, keys)
        path = self.root / name[:2] / name
        try:
            raw = path.read_bytes()
        except OSError:
            self.misses += 1
            return None
        record = self._open(name, raw)
        if record is None:
            self.rejected += 1
            with contextlib.suppress(OSError):
                path.unlink()  # tampered or damaged: walk the layer again
            return None
        if record.diff_id != str(layer.diff_id or ""):
            self.misses += 1  # this config claims another diffID: the walk checks it
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used
        self.hits += 1
        return record

    def store(self, layer: Layer, keys: tuple[str, ...], record: LayerRecord) -> None:
        """Record a layer whose walk completed (and so verified its digests); a full disk or
        an unwritable cache costs the reuse, never the walk."""
        if not self.store_new or not self.can_key(layer):
            return
        payload = record.to_bytes()
        if len(payload) > MAX_RECORD:
            return
        name = self._name(layer, keys)
        try:
            body = zlib.compress(payload, 1)
            self._write(self.root / name[:2], name, self._mac(name, body) + body)
            if not self._trimmed:  # one listing of the cache per image (a cache is per job),
                self._trimmed = True  # not per layer: the cap may be passed by one image's
                self._trim()  # records until the next image's first write
        except OSError:
            return

    def _open(self, name: str, raw: bytes) -> LayerRecord | None:
        try:
            mac, body = raw[:_MAC], raw[_MAC:]
            if len(mac) != _MAC or not hmac.compare_digest(mac, self._mac(name, body)):
                return None
            inflater = zlib.decompressobj()
            payload = inflater.decompress(body, MAX_RECORD)
            if inflater.unconsumed_tail:
                return None
            return LayerRecord.from_bytes(payload)
        except (OSError, ValueError, KeyError, TypeError, zlib.error):
            return None

    def _name(self, layer: Layer, keys: tuple[str, ...]) -> str:
        text = "\n".join([FORMAT, str(layer.digest), *keys])
        return hashlib.sha256(text.encode()).hexdigest()

    def _mac(self, name: str, body: bytes) -> bytes:
        return hmac.new(self._key(), name.encode() + b"\0" + body, hashlib.sha256).digest()

    def _key(self) -> bytes:
        if self._secret is None:
            self._secret = _load_key(self.root)
        return self._secret

    def _write(self, directory: Path, name: str, data: bytes) -> None:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=directory, prefix=".tmp-")  # 0600
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temp, directory / name)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise

    def _trim(self) -> None:
        files = [(p.stat(), p) for p in self.root.glob("??/*") if not p.name.startswith(".")]
        total = sum(stat.st_size for stat, _ in files)
        for stat, path in sorted(files, key=lambda item: item[0].st_mtime):
            if total <= self.max_bytes:
                break
            with contextlib.suppress(OSError):
                path.unlink()
                total -= stat.st_size


def _load_key(root: Path) -> bytes:
    """The cache's HMAC key: made once (random, 0600); a key file that is not 32 bytes makes
    a new key (every record made under the old one is then rejected)."""
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = root / KEY_FILE
    with contextlib.suppress(OSError):
        key = path.read_bytes()
        if len(key) == 32:
            return key
    key = secrets.token_bytes(32)
    fd, temp = tempfile.mkstemp(dir=root, prefix=".key-")  # 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(key)
        try:  # link: atomic and never over a key another process made meanwhile
            os.link(temp, path)
        except FileExistsError:
            kept = path.read_bytes()
            if len(kept) == 32:
                return kept
            os.replace(temp, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temp)
    return key


def default_cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_path("hullguard")) / "layers"


def open_layer_cache(setting: str, *, verify_diff_ids: bool = True) -> LayerCache | None:
    """``setting``: "" for the default directory, "off" for none, or a directory."""
    if setting == "off":
        return None
    root = Path(setting).expanduser() if setting else default_cache_dir()
    if root.exists() and not root.is_dir():
        raise InputError(f"layer cache {root} is not a directory", where=str(root),
                            hint="give a directory or --layer-cache off")
    return LayerCache(root, store_new=verify_diff_ids)
