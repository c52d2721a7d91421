"""Hostile and limiting source registries (a scriptable server on 127.0.0.1 serving a real image
built here, with one thing wrong), mirrored to a real docker-registry: nothing is pushed for
the image, the report says why; credentials never leave their host; a rate limit stops the run
with the time to retry instead of failing half-way."""

from __future__ import annotations

import base64
import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hullguard.harden.mirror.mapping import read_mapping
from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec, write_oci_layout
from hullguard.model import Digest
from tests.harden.mirror.conftest import Pushed, crane_digest, mirror, report_of
from tests.support.registry import FakeRegistry, Handler, RegistryServer

pytestmark = pytest.mark.slow
USER, SECRET = "mirror-user", "s3cret-source-password"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"


class Source:
    """A one-image registry (``evil/app:v1``) behind Basic auth, served from an OCI layout;
    tests replace single routes to make it lie."""

    def __init__(self, root: Path) -> None:
        layout = write_oci_layout(root / "layout", ImageSpec(
            [LayerSpec((FileSpec("etc/hostile", b"payload " * 300),))]), "v1")
        self.blobs = {f"sha256:{p.name}": p.read_bytes()
                      for p in (layout / "blobs" / "sha256").iterdir()}
        top = json.loads((layout / "index.json").read_text())["manifests"][0]
        self.digest = Digest.parse(top["digest"])
        self.manifest = self.blobs[str(self.digest)]
        self.doc = json.loads(self.manifest)
        self.server = FakeRegistry()
        self.routes: dict[str, Callable[[Handler], None]] = {}
        self.server.routes = _AllPaths(self._route)  # type: ignore[assignment]

    @property
    def reference(self) -> str:
        return f"{self.server.host}/evil/app:v1"

    def _route(self, handler: Handler) -> None:
        path = handler.path.split("?")[0]
        expected = "Basic " + base64.b64encode(f"{USER}:{SECRET}".encode()).decode()
        if handler.headers.get("Authorization") != expected:
            handler.reply(401, b"{}", "application/json",
                          {"WWW-Authenticate": 'Basic realm="evil"'})
            return
        for prefix, route in self.routes.items():
            if path.startswith(prefix):
                route(handler)
                return
        if path == "/v2/":
            handler.reply(200, b"{}", "application/json")
        elif path in ("/v2/evil/app/manifests/v1", f"/v2/evil/app/manifests/{self.digest}"):
            handler.reply(200, self.manifest, MANIFEST,
                          {"Docker-Content-Digest": str(self.digest)})
        elif path.startswith("/v2/evil/app/blobs/") and path.rsplit("/", 1)[1] in self.blobs:
            handler.reply(200, self.blobs[path.rsplit("/", 1)[1]], "application/octet-stream")
        else:
            handler.reply(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"no"}]}',
                          "application/json")

    def layer(self) -> tuple[str, bytes]:
        digest = self.doc["layers"][0]["digest"]
        return digest, self.blobs[digest]


class _AllPaths(dict[object, Callable[[Handler], None]]):
    """FakeRegistry routes that send every request to one function."""

    def __init__(self, route: Callable[[Handler], None]) -> None:
        super().__init__()
        self.route = route

    def get(self, key: object, default: object = None) -> Callable[[Handler], None]:
        return self.route


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Source]:
    found = Source(tmp_path)
    yield found
    found.server.close()


@pytest.fixture
def docker_config(tmp_path: Path, source: Source) -> Path:
    """Credentials for the hostile source's host only (the mirror is anonymous)."""
    path = tmp_path / "docker" / "config.json"
    path.parent.mkdir()
    auth = base64.b64encode(f"{USER}:{SECRET}".encode()).decode()
    path.write_text(json.dumps({"auths": {source.server.host: {"auth": auth}}}))
    return path


def catalog(server: RegistryServer) -> list[str]:
    with urllib.request.urlopen(f"{server.url}/v2/_catalog", timeout=10) as answer:
        found: list[str] = json.loads(answer.read())["repositories"]
    return found


def run(source: Source, target: RegistryServer, config: Path, tmp_path: Path,
        *extra: str) -> dict[str, object]:
    done = mirror(source.reference, *extra, "--to", target.host, "--docker-config",
                  str(config), "--jobs", "1", cache=tmp_path / "cache")
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stderr
    return report_of(done)


def only_image(report: dict[str, object]) -> dict[str, object]:
    images = report["images"]
    assert isinstance(images, list) and len(images) == 1
    image: dict[str, object] = images[0]
    return image


def test_the_copy_works_with_credentials_for_its_host(
        source: Source, target_registry: RegistryServer, docker_config: Path,
        tmp_path: Path) -> None:
    """The baseline the hostile cases change one thing of."""
    image = only_image(run(source, target_registry, docker_config, tmp_path))
    assert image["status"] == "copied", image
    assert crane_digest(str(image["mirror"])) == str(source.digest)


def test_manifest_bytes_that_do_not_match_the_digest(
        source: Source, target_registry: RegistryServer, docker_config: Path,
        tmp_path: Path) -> None:
    forged = source.manifest.replace(b'"schemaVersion":2', b'"schemaVersion": 2')
    source.routes["/v2/evil/app/manifests/"] = lambda h: h.reply(
        200, forged, MANIFEST, {"Docker-Content-Digest": str(source.digest)})
    image = only_image(run(source, target_registry, docker_config, tmp_path))
    assert image["status"] == "failed"
    assert "does not match" in str(image["reason"])
    assert catalog(target_registry) == []


def test_a_blob_larger_than_its_descriptor(
        source: Source, target_registry: RegistryServer, docker_config: Path,
        tmp_path: Path) -> None:
    digest, data = source.layer()
    source.routes[f"/v2/evil/app/blobs/{digest}"] = lambda h: h.reply(
        200, data + b"\0" * 4096, "application/octet-stream")
    image = only_image(run(source, target_registry, docker_config, tmp_path))
    assert image["status"] == "failed"
    assert "larger than its descriptor" in str(image["reason"])
    assert catalog(target_registry) == []
    assert not list((tmp_path / "cache").rglob("*.part"))


def test_a_redirect_to_another_host_never_carries_the_credentials(
        source: Source, target_registry: RegistryServer, docker_config: Path,
        tmp_path: Path) -> None:
    """A blob redirected to another origin (as to a CDN): fetched without the Authorization
    header; when that host serves other bytes, nothing is pushed and the report says why."""
    digest, data = source.layer()
    other = FakeRegistry()
    try:
        other.routes["/cdn/blob"] = lambda h: h.reply(200, b"not the layer" + data[13:])
        source.routes[f"/v2/evil/app/blobs/{digest}"] = lambda h: h.reply(
            307, headers={"Location": f"{other.url}/cdn/blob"})
        image = only_image(run(source, target_registry, docker_config, tmp_path))
        assert image["status"] == "failed"
        assert "digest" in str(image["reason"])
        assert catalog(target_registry) == []
        other.routes["/cdn/blob"] = lambda h: h.reply(200, data)
        image = only_image(run(source, target_registry, docker_config, tmp_path))
        assert image["status"] == "copied", image
        assert other.requests and all("authorization" not in r.headers
                                      for r in other.requests)
    finally:
        other.close()


def test_a_redirect_to_a_metadata_address_is_refused(
        source: Source, target_registry: RegistryServer, docker_config: Path,
        tmp_path: Path) -> None:
    digest, _ = source.layer()
    source.routes[f"/v2/evil/app/blobs/{digest}"] = lambda h: h.reply(
        307, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    image = only_image(run(source, target_registry, docker_config, tmp_path))
    assert image["status"] == "failed"
    assert "169.254.169.254" in str(image["reason"])
    assert catalog(target_registry) == []


@pytest.mark.parametrize(("headers", "wait"), [
    ({"Retry-After": "3600"}, 3600),
    # Docker Hub: no Retry-After, the window of the exhausted pull limit
    ({"RateLimit-Limit": "100;w=21600", "RateLimit-Remaining": "0;w=21600"}, 21600)])
def test_a_rate_limit_stops_the_run_with_the_time_to_retry(
        source: Source, multiarch: Pushed, target_registry: RegistryServer,
        docker_config: Path, tmp_path: Path, headers: dict[str, str], wait: int) -> None:
    source.routes["/v2/evil/app/manifests/"] = lambda h: h.reply(
        429, b'{"errors":[{"code":"TOOMANYREQUESTS","message":"pull limit"}]}',
        "application/json", headers)
    mapping = tmp_path / "mapping.json"
    started = time.time()
    done = mirror(multiarch.by_tag, source.reference, f"{source.server.host}/evil/other:v2",
                  "--to", target_registry.host, "--docker-config", str(docker_config),
                  "--jobs", "1", "--mapping", str(mapping), cache=tmp_path / "cache")
    assert done.returncode == 1, done.stderr
    report = report_of(done)
    statuses = [(i["status"], i["source"]) for i in report["images"]]  # type: ignore[attr-defined]
    assert statuses == [("copied", multiarch.by_tag), ("rate-limited", source.reference),
                        ("not-started", f"{source.server.host}/evil/other:v2")]
    assert report["stopped_by_rate_limit"] == source.server.host
    retry_at = str(report["retry_at"])
    from datetime import datetime

    delay = datetime.fromisoformat(retry_at).timestamp() - started
    assert wait - 5 < delay < wait + 60
    assert [e.source for e in read_mapping(mapping)] == [multiarch.by_tag]
    assert time.time() - started < 60  # it stopped, it did not sleep through the limit
