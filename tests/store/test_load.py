"""The store under load, as it fails in the field: a fleet pulled from a real registry on
127.0.0.1 and scanned by ``respond`` with many workers into one store while other processes
keep every core busy, and two ``respond`` runs on one store at the same time (SQLite and the
real PostgreSQL). Every image must be scanned, or not scanned for a reason about the image,
never about the store; and everything scanned must be in the store.

The numbers (images, workers, not scanned, seconds) are printed: ``pytest -s`` shows them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec, rootfs_layer
from tests.support.env import corpus_path
from tests.support.registry import RegistryServer

FLEET_SIZE = 16
WORKERS = 8
BUSY_LIMIT_S = 300  # a busy-loop child ends by itself even if the test is killed
RUN_TIMEOUT_S = 240


@dataclass(frozen=True)
class Fleet:
    references: list[str]

    def list_file(self, folder: Path, count: int) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "images.txt"
        path.write_text("\n".join(self.references[:count]) + "\n")
        return path


@pytest.fixture(scope="module")
def fleet(registry_server: RegistryServer, tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    """FLEET_SIZE images on the real Alpine 3.18 base (a real apk database to catalog), each
    with its own app layer, pushed to the registry with our client."""
    from hullguard.images.builder import write_oci_layout
    from hullguard.images.registry import RegistryClient, push_layout

    root = tmp_path_factory.mktemp("load-fleet")
    base = rootfs_layer(corpus_path("images", "alpine", "alpine-minirootfs-3.18.9-x86_64.tar.gz"))
    references = []
    with RegistryClient(registry_server.host) as client:
        for index in range(FLEET_SIZE):
            app = LayerSpec((FileSpec("app/main.py", f"print({index})\n".encode()),),
                            created_by=f"COPY main.py /app/ # {index}")
            layout = write_oci_layout(root / f"app{index}", ImageSpec([base, app]), tag="v1")
            push_layout(client, layout, f"load/app{index:02d}", "v1")
            references.append(registry_server.ref(f"load/app{index:02d}", "v1"))
    return Fleet(references)


@contextmanager
def busy_cores() -> Iterator[list[subprocess.Popen[bytes]]]:
    """One busy-loop process per core (bounded in time), killed when the block ends."""
    loop = (f"import time\nend = time.monotonic() + {BUSY_LIMIT_S}\n"
            "while time.monotonic() < end: pass")
    children = [subprocess.Popen([sys.executable, "-c", loop])
                for _ in range(os.cpu_count() or 2)]
    try:
        yield children
    finally:
        for child in children:
            child.kill()
            child.wait()


def _respond(images: Path, out: Path, store: str, workers: int, home: Path
             ) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HULLGUARD_")}
    env["XDG_DATA_HOME"] = str(home)  # no advisory database: the store is what is tested
    return subprocess.Popen([sys.executable, "-m", "hullguard", "respond", str(images),
                             "--out", str(out), "--store", store, "--workers", str(workers),
                             "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def _results(run: subprocess.Popen[str], out: Path) -> list[dict[str, object]]:
    _, stderr = run.communicate(timeout=RUN_TIMEOUT_S)
    assert run.returncode == 0, stderr[-3000:]
    assert "Traceback" not in stderr
    images: list[dict[str, object]] = json.loads((out / "findings.json").read_text())["images"]
    return images


def _not_scanned(images: list[dict[str, object]]) -> list[str]:
    return [f"{i['name']}: {i['error']}" for i in images if not i["scanned"]]


def _stored(store: str) -> tuple[int, set[str]]:
    """(scans, image references) in the store."""
    from hullguard.store import open_store
    from hullguard.store.models import ImageRecord, ScanRecord

    with open_store(store, create=False) as factory, factory() as session:
        scans = session.scalar(select(func.count()).select_from(ScanRecord)) or 0
        return scans, set(session.scalars(select(ImageRecord.reference)))


@pytest.mark.slow
def test_fleet_with_many_workers_on_busy_cores(fleet: Fleet, tmp_path: Path) -> None:
    """Was: "not scanned: store error: database is locked" / "table images already exists"
    (every worker created the schema of a fresh store while looking for a stored SBOM)."""
    store = f"sqlite:///{tmp_path / 'store.sqlite'}"
    images = fleet.list_file(tmp_path, FLEET_SIZE)
    with busy_cores() as busy:
        started = time.monotonic()
        results = _results(_respond(images, tmp_path / "out", store, WORKERS, tmp_path),
                           tmp_path / "out")
        elapsed = time.monotonic() - started
        assert all(child.poll() is None for child in busy), "the cores stayed busy"
    failed = _not_scanned(results)
    print(f"\nload: {len(results)} images, {WORKERS} workers, {len(busy)} busy cores, "
          f"{len(failed)} not scanned, {elapsed:.1f} s")
    assert len(results) == FLEET_SIZE
    assert failed == []  # every failure would be about the store: the images are good
    scans, stored = _stored(store)
    assert scans == FLEET_SIZE and stored == set(fleet.references)


@pytest.mark.slow
def test_two_respond_runs_on_one_store_at_once(fleet: Fleet, tmp_path: Path,
                                               fresh_store: str) -> None:
    """Was (PostgreSQL): one run failed on a duplicate key after scanning everything."""
    count = 6
    images = fleet.list_file(tmp_path, count)
    started = time.monotonic()
    runs = [(_respond(images, tmp_path / f"out{i}", fresh_store, 2, tmp_path), tmp_path / f"out{i}")
            for i in range(2)]
    results = [_results(run, out) for run, out in runs]
    elapsed = time.monotonic() - started
    failed = [line for images_ in results for line in _not_scanned(images_)]
    print(f"\ntwo runs: 2 x {count} images, 2 workers each, {len(failed)} not scanned, "
          f"{elapsed:.1f} s")
    assert failed == []
    scans, stored = _stored(fresh_store)
    assert scans == 2 * count  # both runs recorded, nothing lost or doubled
    assert stored == set(fleet.references[:count])
