"""``db update`` against a local HTTP server serving corpus files: conditional requests (304),
resumed downloads (Range/If-Range), published checksums, failures that keep old data."""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from hullguard.vuln.config import Feed, load_config
from hullguard.vuln.db import VulnDB
from hullguard.vuln.update import cache_dir, update_feeds
from tests.support.env import corpus_path
from tests.vuln.feeds import osv_record


@dataclass
class Served:
    """What the server serves, and what it saw."""

    files: dict[str, bytes] = field(default_factory=dict)
    cut_after: dict[str, int] = field(default_factory=dict)  # path -> bytes before a drop
    requests: list[tuple[str, dict[str, str], int]] = field(default_factory=list)


def _etag(data: bytes) -> str:
    return '"' + hashlib.sha256(data).hexdigest()[:16] + '"'


class _Handler(BaseHTTPRequestHandler):
    served: Served
    last_modified = formatdate(1_700_000_000, usegmt=True)

    def log_message(self, *_args: object) -> None:
        pass

    def do_GET(self) -> None:
        data = self.served.files.get(self.path)
        status = self._respond(data)
        self.served.requests.append((self.path, dict(self.headers), status))

    def _respond(self, data: bytes | None) -> int:
        if data is None:
            self.send_error(404)
            return 404
        if self.headers.get("If-None-Match") == _etag(data):
            self.send_response(304)
            self.end_headers()
            return 304
        start = self._range_start(data)
        body = data[start:]
        self.send_response(206 if start else 200)
        self.send_header("ETag", _etag(data))
        self.send_header("Last-Modified", self.last_modified)
        self.send_header("Content-Length", str(len(body)))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        cut = self.served.cut_after.pop(self.path, None)
        self.wfile.write(body if cut is None else body[:cut])
        if cut is not None:
            self.wfile.flush()
            self.connection.shutdown(2)  # drop the connection mid-body
        return 206 if start else 200

    def _range_start(self, data: bytes) -> int:
        wanted = self.headers.get("Range", "")
        if not wanted.startswith("bytes=") or self.headers.get("If-Range") != _etag(data):
            return 0
        return int(wanted.removeprefix("bytes=").rstrip("-"))


@pytest.fixture
def server() -> Iterator[tuple[str, Served]]:
    served = Served()
    handler = type("Handler", (_Handler,), {"served": served})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", served
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_update_304_and_resume(server: tuple[str, Served], tmp_path: Path) -> None:
    base, served = server
    served.files["/PyPI/all.zip"] = corpus_path("advisories", "osv-PyPI-all.zip").read_bytes()
    served.files["/v3.10/main.json"] = corpus_path(
        "advisories", "alpine-secdb", "v3.10", "main.json").read_bytes()
    feeds = [Feed("osv-PyPI", f"{base}/PyPI/all.zip"),
             Feed("alpine-v3.10-main", f"{base}/v3.10/main.json")]
    db_path = tmp_path / "db.sqlite"

    # First run: the zip download is cut off half-way; the secdb feed still gets imported.
    served.cut_after["/PyPI/all.zip"] = 1_000_000
    first = update_feeds(db_path, feeds)
    assert [name for name, _ in first.failures] == ["osv-PyPI"]
    assert [r.name for r in first.reports] == ["alpine-v3.10-main"]
    assert (cache_dir(db_path) / "osv-PyPI.part").stat().st_size == 1_000_000

    # Second run: resumes the zip with Range/If-Range; the secdb feed answers 304.
    second = update_feeds(db_path, feeds)
    assert second.failures == []
    zip_requests = [r for r in served.requests if r[0] == "/PyPI/all.zip"]
    assert zip_requests[-1][1]["Range"] == "bytes=1000000-" and zip_requests[-1][2] == 206
    assert dict(second.notes)["alpine-v3.10-main"].endswith("(HTTP 304)")
    with VulnDB.open(db_path) as db:
        source = db.source("osv-PyPI")
        assert source is not None and source.records == 2661
        assert source.sha256 == hashlib.sha256(served.files["/PyPI/all.zip"]).hexdigest()
        assert source.etag == _etag(served.files["/PyPI/all.zip"])
        secdb = db.source("alpine-v3.10-main")
        assert secdb is not None and secdb.checked_at >= secdb.imported_at

    # Third run: everything is current.
    third = update_feeds(db_path, feeds)
    assert all(note.endswith("(HTTP 304)") for _, note in third.notes)
    assert third.failures == [] and third.reports == []


def test_changed_file_during_resume_restarts(server: tuple[str, Served], tmp_path: Path) -> None:
    base, served = server
    served.files["/all.json"] = json.dumps([osv_record(f"A-{i}", "a") for i in range(200)]
                                           ).encode()
    served.cut_after["/all.json"] = 500
    feed = Feed("osv-test", f"{base}/all.json")
    update_feeds(tmp_path / "db.sqlite", [feed])
    served.files["/all.json"] = json.dumps([osv_record("B-1", "b")]).encode()  # new version
    result = update_feeds(tmp_path / "db.sqlite", [feed])
    assert result.failures == [] and served.requests[-1][2] == 200  # If-Range did not match
    with VulnDB.open(tmp_path / "db.sqlite") as db:
        assert [a.id for a in db.advisories_for("PyPI", "b")] == ["B-1"]


def test_published_checksum_is_verified(server: tuple[str, Served], tmp_path: Path) -> None:
    base, served = server
    nvd = json.dumps({"format": "NVD_CVE", "vulnerabilities": []}).encode()
    served.files["/nvd.json.gz"] = gzip.compress(nvd)
    served.files["/nvd.meta"] = f"size:{len(nvd)}\nsha256:{'0' * 64}\n".encode()
    feed = Feed("nvd-test", f"{base}/nvd.json.gz", f"{base}/nvd.meta")
    result = update_feeds(tmp_path / "db.sqlite", [feed])
    assert "sha256 mismatch" in result.failures[0][1]
    assert not (tmp_path / "db.sqlite").exists()
    # NVD publishes the digest of the uncompressed JSON: that is accepted.
    served.files["/nvd.meta"] = f"sha256:{hashlib.sha256(nvd).hexdigest().upper()}\n".encode()
    assert update_feeds(tmp_path / "db.sqlite", [feed]).failures == []


def test_http_errors_keep_previous_data(server: tuple[str, Served], tmp_path: Path) -> None:
    base, served = server
    served.files["/a.json"] = json.dumps(osv_record("A-1", "a")).encode()
    feed = Feed("osv-a", f"{base}/a.json")
    update_feeds(tmp_path / "db.sqlite", [feed])
    del served.files["/a.json"]
    result = update_feeds(tmp_path / "db.sqlite", [feed])
    assert "HTTP 404" in result.failures[0][1]
    with VulnDB.open(tmp_path / "db.sqlite") as db:
        assert [a.id for a in db.advisories_for("PyPI", "a")] == ["A-1"]


def test_config_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[vulndb]\nmax_age_days = 3\nenabled = ["osv-PyPI", "kev"]\n'
                      '[vulndb.urls]\n"osv-PyPI" = "https://mirror.example/PyPI/all.zip"\n'
                      '"kev" = "https://mirror.example/kev.json"\n')
    monkeypatch.setenv("HULLGUARD_FEED_KEV_URL", "https://env.example/kev.json")
    settings = load_config(config, ["extra=https://flag.example/x.json"])
    assert settings.max_age_days == 3
    urls = {f.name: f.url for f in settings.select([])}
    assert urls == {"osv-PyPI": "https://mirror.example/PyPI/all.zip",
                    "kev": "https://env.example/kev.json"}
    assert settings.feed("extra").url == "https://flag.example/x.json"
    assert settings.feed("osv-Go").url.endswith("/Go/all.zip")
