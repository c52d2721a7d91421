"""The OpenAPI description, tested with schemathesis against the app: generated requests
(an admin token, the webhook routes without a secret) never cause a server error, and every
answer has a documented status, content type and shape. The scans submitted on the way run
through a stand-in runner that returns at once: this test is about the HTTP contract, and
generated references must not make the test contact registries on the network."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from hullguard.pipeline.jobs import ImageJob, ImageOutcome
from hullguard.respond.model import ImageResult
from hullguard.service.app import create_app
from hullguard.service.settings import Settings
from hullguard.service.submitter import InProcessSubmitter
from hullguard.store.base import ensure_schema, make_engine
from tests.service.serving import token

GRAMMARS = {"/api/v1/scans", "/api/v1/who-has/package"}


def _no_scan(job: ImageJob) -> ImageOutcome:
    return ImageOutcome(ImageResult(job.reference, job.source))


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'store.sqlite'}"
    engine = make_engine(url)
    ensure_schema(engine)
    submitter = InProcessSubmitter(engine, workers=1, queue_size=100_000, runner=_no_scan)
    app = create_app(Settings(url, webhook_secret="openapi-secret-0123456789",
                              webhook_burst=100_000), submitter)
    yield app, token(app, "admin")
    submitter.close()
    engine.dispose()


def _not_expressible(case: Any) -> list[Any]:
    """Grammars JSON Schema does not express (image references and inventory formats of a
    submission, the package query of who-has): a schema-valid value may still be refused
    (422, documented); every other check still applies to these routes."""
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    return [positive_data_acceptance] if case.path in GRAMMARS else []


def test_the_api_keeps_its_openapi_contract(service: tuple[Any, str]) -> None:
    """Every operation, with generated requests (schemathesis' pytest plugin does not run on
    this pytest: the operations are driven with hypothesis here)."""
    app, admin = service
    # DELETE /tokens/{id} would revoke the test's own token on the way
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).exclude(method="DELETE")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        def call(case: Any) -> None:
            case.call_and_validate(headers={"Authorization": f"Bearer {admin}"},
                                   excluded_checks=_not_expressible(case))

        call()


def test_the_description_lists_every_route(service: tuple[Any, str], tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    with TestClient(service[0]) as client:
        paths = set(client.get("/openapi.json").json()["paths"])
    assert {"/api/v1/scans", "/api/v1/images/{digest}", "/api/v1/findings",
            "/api/v1/who-has/package", "/api/v1/who-has/vuln",
            "/api/v1/blast-radius", "/api/v1/lineage", "/api/v1/queue", "/api/v1/coverage",
            "/api/v1/history", "/webhooks/distribution", "/webhooks/harbor",
            "/webhooks/dockerhub/{secret}", "/metrics", "/healthz"} <= paths
    assert not any(p.startswith("/ui") for p in paths)  # pages are not part of the API
