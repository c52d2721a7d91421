"""The executor seam: the same jobs give the same results in this process and in a local
process pool; a worker process opens the advisory DB and the store once, not per image."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from hullguard.demo import Demo
from hullguard.pipeline import worker
from hullguard.pipeline.executors import InProcessExecutor, LocalPoolExecutor
from hullguard.pipeline.fleet import scan_fleet
from hullguard.pipeline.jobs import ImageJob, ImageOutcome
from hullguard.respond.journal import Journal
from tests.pipeline.conftest import demo_jobs

OPENS: list[str] = []  # what this process opened (inherited by forked pool workers)


def _count_opens(monkeypatch: pytest.MonkeyPatch) -> None:
    from hullguard.store import base
    from hullguard.vuln.db import VulnDB

    real_open, real_engine = VulnDB.open.__func__, base.make_engine  # type: ignore[attr-defined]
    monkeypatch.setattr(VulnDB, "open", classmethod(
        lambda cls, path=None: OPENS.append("db") or real_open(cls, path)))
    monkeypatch.setattr(base, "make_engine", lambda *a, **k: OPENS.append("store")
                        or real_engine(*a, **k))
    worker.close_worker_context()  # nothing left open by an earlier test
    OPENS.clear()


def counting_runner(job: ImageJob) -> ImageOutcome:
    """A pool runner that reports, per job, which process ran it and what that process has
    opened so far (in the journal key: the outcome's only free-text field)."""
    outcome = worker.run_image_job(job)
    return replace(outcome, journal_key=f"{os.getpid()} {','.join(sorted(OPENS))}")


def _store(tmp_path: Path) -> str:
    from hullguard.store.base import ensure_schema, make_engine

    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    ensure_schema(make_engine(url))
    return url


def test_in_process_and_pool_give_the_same_results(demo: Demo) -> None:
    jobs = demo_jobs(demo)
    here = scan_fleet(jobs, executor=InProcessExecutor())
    pool = scan_fleet(jobs, executor=LocalPoolExecutor(2))
    assert len(here) == len(jobs) >= 4 and all(r.scanned for r in here)
    assert [r.findings for r in here] == [r.findings for r in pool]
    assert here == pool


def test_in_process_opens_the_db_and_store_once(demo: Demo, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    store = _store(tmp_path)
    _count_opens(monkeypatch)
    results = scan_fleet(demo_jobs(demo, store_url=store), executor=InProcessExecutor())
    assert len(results) >= 4 and all(r.findings for r in results if "alpine" not in r.name)
    assert sorted(OPENS) == ["db", "store"]


def test_each_pool_worker_opens_the_db_and_store_once(demo: Demo, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    store = _store(tmp_path)
    _count_opens(monkeypatch)
    jobs = demo_jobs(demo, store_url=store) * 3  # 12 jobs over 2 processes
    seen = [outcome.journal_key for _, outcome in
            LocalPoolExecutor(2, runner=counting_runner).run(jobs)]
    assert len(seen) == len(jobs)
    assert {opened for _, opened in (s.split(" ") for s in seen)} == {"db,store"}
    assert OPENS == []  # the parent opened nothing itself


def test_the_journal_is_written_by_the_parent_and_reused(demo: Demo, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal")
    first = scan_fleet(demo_jobs(demo), journal=journal, executor=LocalPoolExecutor(2))
    assert len(list(journal.root.iterdir())) == len(first)
    again = scan_fleet(demo_jobs(demo), journal=journal, executor=InProcessExecutor())
    assert all(r.reused for r in again)
    assert [r.findings for r in again] == [r.findings for r in first]
