"""Jobs and outcomes cross a process or a queue as JSON: the round trip is exact, and a
document of the wrong shape is one clear error, never a half-built value."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from hullguard.demo import Demo
from hullguard.errors import InputError, RegistryError
from hullguard.images.api import SourceOptions
from hullguard.model import Platform
from hullguard.model.inventory import Origin
from hullguard.pipeline.jobs import ImageJob, ImageOutcome, JobOptions, problem_of
from hullguard.pipeline.worker import run_image_job, run_image_job_json
from hullguard.respond.model import ImageResult
from tests.pipeline.conftest import demo_jobs

WEB = "registry.shop.internal/shop/web:1.4.2"


def test_an_image_job_round_trips_through_json() -> None:
    job = ImageJob("ghcr.io/acme/app:1", "docker-archive:/x/app.tar", Origin.PUBLIC,
                   "sha256:" + "ab" * 32,
                   JobOptions("/db.sqlite", False, "sqlite:////s.sqlite", "/journal",
                              SourceOptions(Platform("linux", "arm64", "v8"), insecure=True,
                                            timeout=5.0, max_ratio=10)))
    text = job.to_json()
    assert json.loads(text)["schema"] == "hullguard-image-job/1"
    assert ImageJob.from_json(text) == job


def test_a_scanned_result_round_trips_through_json(demo: Demo) -> None:
    """A real scan of the demo web image: SBOM, findings (CVSS, explanations), secrets
    (redacted), coverage, warnings."""
    job = next(j for j in demo_jobs(demo) if j.reference == WEB)
    outcome = run_image_job(job)
    result = outcome.result
    assert result.scanned and result.findings and result.secrets
    from hullguard.respond.coverage import attach_coverage

    result = attach_coverage([replace(result, warnings=("w",), base="b")], str(demo.db_path))[0]
    assert result.coverage
    outcome = replace(outcome, result=result)
    back = ImageOutcome.from_json(outcome.to_json())
    assert back == outcome
    assert back.to_json() == outcome.to_json()


def test_a_failure_is_a_structured_problem_with_the_old_text() -> None:
    error = RegistryError("registry unreachable", where="ghcr.io", hint="check the network")
    problem = problem_of(error)
    assert (problem.kind, problem.where, problem.hint) == ("RegistryError", "ghcr.io",
                                                          "check the network")
    assert problem.text == error.diagnostics()  # findings.json's "error" string is unchanged
    result = ImageResult("ghcr.io/a:1", "ghcr.io/a:1", problem=problem)
    assert not result.scanned and result.error == error.diagnostics()
    assert ImageOutcome.from_json(ImageOutcome(result).to_json()).result == result
    bug = problem_of(KeyError("x"))
    assert bug.kind == "internal" and bug.text == "internal error: KeyError: 'x'"


def test_a_queue_task_runs_a_job_document(demo: Demo, tmp_path: object) -> None:
    """What a Celery task does: a job document in, an outcome document out; a broken image
    comes back as a problem, not an exception."""
    job = ImageJob("bad:1", "docker-archive:/nonexistent/bad.tar")
    outcome = ImageOutcome.from_json(run_image_job_json(job.to_json()))
    assert outcome.result.problem is not None and not outcome.result.scanned
    assert outcome.result.problem.kind != "internal"
    assert "bad.tar" in outcome.result.error


@pytest.mark.parametrize("text", [
    "not json", "[]", '{"schema": "other"}', '{"schema": "hullguard-image-job/1"}',
    '{"schema": "hullguard-image-job/1", "reference": 1, "source": "x"}',
    '{"schema": "hullguard-image-job/1", "reference": "a", "source": "x", "origin": "mars"}',
    '{"schema": "hullguard-image-job/1", "reference": "a", "source": "x", "evil": 1}',
    '{"schema": "hullguard-image-job/1", "reference": "a", "source": "x", '
    '"options": {"secrets": "yes"}}',
])
def test_a_malformed_job_is_one_clear_error(text: str) -> None:
    with pytest.raises(InputError):
        ImageJob.from_json(text)


def test_a_malformed_outcome_is_one_clear_error() -> None:
    good = json.loads(ImageOutcome(ImageResult("a", "b")).to_json())
    for broken in ({**good, "result": []},
                   {**good, "result": {**good["result"], "sbom": "x"}},
                   {**good, "result": {**good["result"], "findings": [{"id": 1}]}},
                   {**good, "result": {**good["result"], "problem": {"kind": 3}}}):
        with pytest.raises(InputError):
            ImageOutcome.from_json(json.dumps(broken))


def test_a_job_for_one_digest_never_scans_another_image(demo: Demo, tmp_path: Path) -> None:
    """A retried job whose tag now names another image reports that, instead of the other
    image's findings under the job's digest."""
    from hullguard.demo.images import demo_images
    from hullguard.images.builder import write_oci_layout

    layout = write_oci_layout(tmp_path / "web", demo_images()[WEB], tag="1.4.2")
    digest = json.loads((layout / "index.json").read_text())["manifests"][0]["digest"]
    job = ImageJob(WEB, f"oci:{layout}:1.4.2", digest=digest,
                   options=JobOptions(str(demo.db_path)))
    assert run_image_job(job).result.scanned
    moved = run_image_job(replace(job, digest="sha256:" + "0" * 64)).result
    assert not moved.scanned and moved.problem is not None
    assert moved.problem.kind == "IntegrityError" and digest in moved.problem.message
