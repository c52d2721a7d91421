"""An image in a registry as an :class:`~hullguard.images.api.ImageSource`.

Opening resolves the tag once (the manifest digest is what every later step names), selects
the platform from an index, fetches and verifies the config, and builds the ImageInfo. Layers
are downloaded on first walk into ``options.cache_dir`` (or a temp dir removed on close),
verified by size and digest while streaming, then walked by :func:`walk_blob`.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hullguard.errors import InputError
from hullguard.images.api import SourceOptions
from hullguard.images.layers import LayerWalker, walk_blob
from hullguard.images.manifest import (
    INDEX_TYPES,
    MANIFEST_TYPES,
    MAX_MANIFEST_BYTES,
    Descriptor,
    Manifest,
    follow_indexes,
    image_info_from,
    parse_document,
    verify_blob,
)
from hullguard.images.registry.client import RegistryClient
from hullguard.images.registry.credentials import find_credentials
from hullguard.model import Digest, ImageInfo, Layer
from hullguard.model.reference import ImageReference


def client_for(reference: ImageReference, options: SourceOptions,
               ca_file: str | None = None) -> RegistryClient:
    """A client for the reference's registry with credentials found by the documented order."""
    credentials = find_credentials(reference.registry, username=options.username,
                                   password=options.password,
                                   docker_config=options.docker_config)
    return RegistryClient(reference.api_registry, credentials=credentials,
                          insecure=options.insecure, timeout=options.timeout, ca_file=ca_file,
                          min_rate=options.min_rate)


def open_registry_image(reference: ImageReference, options: SourceOptions, *,
                        ca_file: str | None = None,
                        client: RegistryClient | None = None) -> RegistrySource:
    """Resolve ``reference`` in its registry; the result is an open ImageSource."""
    own_client = client is None
    client = client or client_for(reference, options, ca_file)
    try:
        return RegistrySource(reference, options, client, own_client)
    except BaseException:
        if own_client:
            client.close()
        raise


class RegistrySource:
    """An opened registry image (see the module docstring)."""

    def __init__(self, reference: ImageReference, options: SourceOptions,
                 client: RegistryClient, own_client: bool = True) -> None:
        self.reference, self.options, self.client = reference, options, client
        self._own_client = own_client
        self._tmp: Path | None = None
        self.manifest: Manifest
        self._info = self._resolve()

    @property
    def info(self) -> ImageInfo:
        return self._info

    def _resolve(self) -> ImageInfo:
        data, media_type, digest = self.client.get_manifest(self.reference)
        name = self.reference.name

        def place(digest: Digest) -> str:
            return f"{name}@{digest}"

        document = parse_document(data, place(digest), served_as=_known(media_type))
        self.manifest, digest = follow_indexes(document, digest, self.options.platform,
                                               self._fetch_entry, place)
        config = self.client.fetch_blob_bytes(self.reference.repository,
                                              self.manifest.config, MAX_MANIFEST_BYTES)
        resolved = self.reference.with_digest(digest)
        return image_info_from(
            str(self.reference), "registry", digest, self.manifest, config,
            tags=(self.reference.tag,) if self.reference.tag else (),
            repo_digests=(resolved.pinned,), where=f"{name}@{digest} config")

    def _fetch_entry(self, chosen: Descriptor) -> tuple[bytes, str | None]:
        pinned = self.reference.with_digest(chosen.digest)
        data, media_type, _ = self.client.get_manifest(pinned)
        verify_blob(data, chosen, str(pinned))  # the digest matched; the size must too
        return data, _known(media_type)

    def walk_layer(self, layer: Layer) -> LayerWalker:
        """Entries of ``layer``; the blob is fetched (verified) on first use."""
        descriptor = self._descriptor(layer)
        path = self._blob(descriptor)
        return walk_blob(path, media_type=descriptor.media_type, digest=descriptor.digest,
                         size=descriptor.size, diff_id=layer.diff_id, options=self.options,
                         where=f"{self.reference.name}@{descriptor.digest.short}")

    def _descriptor(self, layer: Layer) -> Descriptor:
        layers = self.manifest.layers
        if not 0 <= layer.index < len(layers) or layers[layer.index].digest != layer.digest:
            raise InputError(f"layer {layer.index} is not a layer of this image",
                             where=str(self.reference))
        return layers[layer.index]

    def _blob(self, descriptor: Descriptor) -> Path:
        directory = self._blob_dir() / descriptor.digest.algorithm
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / descriptor.digest.hex
        # A cached file was renamed into place only after verification; walk_blob verifies
        # the digest again while reading, so a later local corruption is still caught.
        if path.is_file() and path.stat().st_size == descriptor.size:
            return path
        return self.client.fetch_blob(self.reference.repository, descriptor, path)

    def _blob_dir(self) -> Path:
        if self.options.cache_dir:
            return Path(self.options.cache_dir) / "blobs"
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="hullguard-blobs-"))
        return self._tmp

    def close(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        if self._own_client:
            self.client.close()

    def __enter__(self) -> RegistrySource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _known(media_type: str) -> str | None:
    """A Content-Type worth trusting for parsing; generic ones fall back to the document."""
    return media_type if media_type in INDEX_TYPES | MANIFEST_TYPES else None
