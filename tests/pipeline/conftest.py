"""The demo fleet's real images and advisory database, built once for the pipeline tests."""

from __future__ import annotations

import pytest

from hullguard.demo import Demo, prepare_demo
from hullguard.model.inventory import Origin
from hullguard.pipeline.jobs import ImageJob, JobOptions


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return prepare_demo(tmp_path_factory.mktemp("pipeline-demo"))


def demo_jobs(demo: Demo, **options: object) -> list[ImageJob]:
    shared = JobOptions(str(demo.db_path), **options)  # type: ignore[arg-type]
    return [ImageJob(name, source, Origin.INTERNAL, options=shared)
            for name, source in sorted(demo.image_sources.items())]
