"""Where an image job's time goes: every outcome carries its registry/walk/match/write
seconds, non-negative, never more than the job's wall time, and exactly the same after the
JSON round trip a queue gives it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from hullguard.demo import Demo
from hullguard.errors import InputError
from hullguard.images.builder import ImageSpec, rootfs_layer, write_oci_layout
from hullguard.images.registry import RegistryClient, push_layout
from hullguard.pipeline.fleet import scan_fleet
from hullguard.pipeline.jobs import ImageJob, ImageOutcome, JobOptions
from hullguard.pipeline.timing import PhaseClock, Timings
from hullguard.pipeline.worker import run_image_job
from hullguard.respond.journal import Journal
from tests.pipeline.conftest import demo_jobs
from tests.support import registry as support
from tests.support.env import alpine_tarballs
from tests.support.registry import RegistryServer

registry_server = support.registry_server
WEB = "registry.shop.internal/shop/web:1.4.2"


def seconds(timings: Timings) -> list[float]:
    return [getattr(timings, f.name) for f in fields(timings)]


def timed(job: ImageJob) -> tuple[ImageOutcome, float]:
    started = time.perf_counter()
    outcome = run_image_job(job)
    return outcome, time.perf_counter() - started


def test_nested_phases_pause_the_enclosing_one() -> None:
    clock = PhaseClock()
    started = time.perf_counter()
    with clock.phase("walk"):
        time.sleep(0.02)
        with clock.phase("registry"):
            time.sleep(0.05)
        time.sleep(0.02)
    wall = time.perf_counter() - started
    timings = clock.timings()
    assert timings.registry_s >= 0.05 and 0.04 <= timings.walk_s < 0.05 + 0.04
    assert timings.match_s == timings.write_s == 0.0
    assert timings.total_s <= wall


def test_a_scan_says_where_its_time_went_and_the_json_keeps_it(demo: Demo) -> None:
    job = next(j for j in demo_jobs(demo) if j.reference == WEB)
    outcome, wall = timed(job)
    timings = outcome.timings
    assert outcome.result.scanned and outcome.result.findings
    assert all(value >= 0 for value in seconds(timings))
    assert timings.registry_s > 0 and timings.walk_s > 0 and timings.match_s > 0
    assert timings.write_s == 0.0  # the worker writes nothing: the fleet's writer does
    assert timings.total_s <= wall
    document = json.loads(outcome.to_json())
    assert set(document["timings"]) == {"registry_s", "walk_s", "match_s", "write_s"}
    assert ImageOutcome.from_json(outcome.to_json()).timings == timings  # bit for bit


def test_timings_do_not_make_two_runs_differ(demo: Demo) -> None:
    """Celery vs in-process comparisons compare results: a measurement is not one."""
    job = next(j for j in demo_jobs(demo) if j.reference == WEB)
    first, second = run_image_job(job), run_image_job(job)
    assert first.timings != second.timings
    assert first == second


def test_the_fleet_adds_its_journal_write_and_a_reused_image_skips_the_walk(
        demo: Demo, tmp_path: Path) -> None:
    jobs = demo_jobs(demo)
    journal = Journal(tmp_path / "journal")
    heard: dict[str, Timings] = {}
    started = time.perf_counter()
    scan_fleet(jobs, journal=journal, executor=None, workers=1,
               on_outcome=lambda job, outcome: heard.__setitem__(job.reference, outcome.timings))
    wall = time.perf_counter() - started
    assert set(heard) == {job.reference for job in jobs}
    assert all(t.write_s > 0 and t.walk_s > 0 for t in heard.values())
    assert sum(t.total_s for t in heard.values()) <= wall  # one at a time: no overlap
    again: dict[str, Timings] = {}
    scan_fleet(jobs, journal=journal, workers=1,
               on_outcome=lambda job, outcome: again.__setitem__(job.reference, outcome.timings))
    assert set(again) == set(heard)  # every job reported again: the check below is not empty
    assert all(t.walk_s == 0 and t.write_s == 0 and t.registry_s > 0 for t in again.values())


def test_a_failed_job_still_reports_its_time() -> None:
    outcome, wall = timed(ImageJob("bad:1", "docker-archive:/nonexistent/bad.tar"))
    assert outcome.result.problem is not None
    assert outcome.timings.walk_s == 0 and 0 <= outcome.timings.total_s <= wall
    assert ImageOutcome.from_json(outcome.to_json()).timings == outcome.timings


@pytest.fixture
def pushed(registry_server: RegistryServer, tmp_path: Path) -> Iterator[str]:
    layout = write_oci_layout(tmp_path / "layout", ImageSpec([rootfs_layer(
        alpine_tarballs()[-1])]), tag="v1")
    with RegistryClient(registry_server.host) as client:
        push_layout(client, layout, "timing/alpine", "v1")
    yield registry_server.ref("timing/alpine", "v1")


def test_a_registry_image_counts_its_downloads_as_registry_time(
        pushed: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The layer blob is fetched (and verified) by ``walk_layer`` before its entries are
    read: that is registry time; walking the downloaded blob is walk time. The real download
    is slowed by a known delay, which must land in registry time, not in the walk."""
    real = RegistryClient.fetch_blob
    delay = 2.0  # far above an Alpine walk's 0.1-0.2 s, even on a loaded machine

    def slow(self: RegistryClient, repository: str, descriptor: Any, path: Path) -> Path:
        time.sleep(delay)
        return real(self, repository, descriptor, path)

    monkeypatch.setattr(RegistryClient, "fetch_blob", slow)
    outcome, wall = timed(ImageJob(pushed, pushed, options=JobOptions(layer_cache="off")))
    timings = outcome.timings
    assert outcome.result.scanned, outcome.result.error
    assert timings.registry_s >= delay
    assert 0 < timings.walk_s < delay
    assert timings.total_s <= wall


def test_an_outcome_from_an_earlier_worker_has_zero_timings(demo: Demo) -> None:
    outcome = run_image_job(demo_jobs(demo)[0])
    document = json.loads(outcome.to_json())
    del document["timings"]
    assert ImageOutcome.from_json(json.dumps(document)).timings == Timings()
    document["timings"] = {"registry_s": "fast"}
    with pytest.raises(InputError, match="timings"):
        ImageOutcome.from_json(json.dumps(document))
