"""IoC matches joined to the timeline: which images, which workloads (the incident folder's
findings.json), first seen (the earliest ingested event naming the image's digest, or the
earliest log record the indicator matched); shown in table, JSON and SARIF."""

from __future__ import annotations

import json
from pathlib import Path

from hullguard.forensics import render
from hullguard.forensics.ingest import IngestSpec, ingest
from hullguard.forensics.ioc import Indicators, IocReport, ioc_scan
from tests.forensics.samples import j, registry_line
from tests.forensics.test_ioc import images, indicators  # noqa: F401 (module fixtures)


def _case(tmp_path: Path, digest: str, findings: bytes | None) -> Path:
    case = tmp_path / "incident"
    case.mkdir(parents=True)
    if findings is not None:
        (case / "findings.json").write_bytes(findings)
    log = tmp_path / "registry.log"
    uri = f"/v2/team/bad/manifests/{digest}"
    log.write_bytes(
        j(registry_line(**{"http.request.uri": uri, "time": "2026-03-02T11:00:00Z"})) +
        j(registry_line(**{"http.request.uri": uri, "time": "2026-03-02T09:30:00Z",
                           "http.request.id": "first"})) +
        j(registry_line(**{"http.request.uri": "/v2/x/manifests/v1",
                           "http.request.useragent": "pool.evil.example-agent",
                           "time": "2026-03-02T12:00:00Z"})))
    ingest(case, [IngestSpec.parse(f"distribution-log:{log}")])
    return case


def _digest(targets: tuple[str, str], found: Indicators) -> str:
    return ioc_scan([targets[0]], found).digests[targets[0]]


def _findings(digest: str) -> bytes:
    return json.dumps({"images": [
        {"name": "registry.example/team/bad:1", "digest": digest,
         "workloads": ["prod/Deployment/api", "prod/CronJob/report"]},
        {"name": "registry.example/team/decoy:1", "digest": "sha256:" + "0" * 64,
         "workloads": ["prod/Deployment/web"]}]}).encode()


def test_hits_name_images_workloads_and_first_seen(
        tmp_path: Path, images: tuple[str, str], indicators: Indicators) -> None:  # noqa: F811
    digest = _digest(images, indicators)
    case = _case(tmp_path, digest, _findings(digest))
    report = ioc_scan(images, indicators, case=case)
    by = {hit.indicator.partition(":")[0]: hit for hit in report.indicators}
    dropper = by["sha256"]
    assert dropper.images == [images[0]] and dropper.digests == [digest]
    assert dropper.workloads == ["prod/Deployment/api", "prod/CronJob/report"]
    assert dropper.first_seen is not None and dropper.first_seen.isoformat().startswith(
        "2026-03-02T09:30:00")
    assert "pull" in dropper.first_seen_by and ":2)" in dropper.first_seen_by
    string = by["string"]  # in the image (its config) and in the third log line
    assert string.log_records == 1 and string.workloads == dropper.workloads
    assert string.first_seen is not None and string.first_seen.hour == 9  # the image's pull
    assert not any(h.images == [images[1]] for h in report.indicators)  # the decoy: nothing
    _check_outputs(report)


def _check_outputs(report: IocReport) -> None:
    text = render.ioc(report, "table")
    assert "prod/Deployment/api" in text and "2026-03-02T09:30:00Z" in text
    doc = json.loads(render.ioc(report, "json"))
    first = {i["indicator"].partition(":")[0]: i["first_seen"] for i in doc["indicators"]}
    assert first["sha256"] == "2026-03-02T09:30:00Z"
    sarif = json.loads(render.ioc(report, "sarif"))
    props = [r["properties"] for r in sarif["runs"][0]["results"]]
    assert any(p.get("workloads") == ["prod/Deployment/api", "prod/CronJob/report"] and
               p.get("firstSeen") == "2026-03-02T09:30:00Z" for p in props)


def test_no_or_hostile_findings_json_joins_no_workload(
        tmp_path: Path, images: tuple[str, str], indicators: Indicators) -> None:  # noqa: F811
    digest = _digest(images, indicators)
    for number, findings in enumerate((None, b"{not json", b'{"images": [{"name": 5}]}',
                                       b'{"images": {}}', b"[]",
                                       b'{"images": [{"name": "a", "workloads": "prod"}]}')):
        case = _case(tmp_path / str(number), digest, findings)
        report = ioc_scan([images[0]], indicators, case=case)
        assert report.indicators and all(not h.workloads for h in report.indicators)
        assert all(h.first_seen is not None for h in report.indicators if h.digests)
        assert (findings is None) == (not any("findings.json" in w for w in report.warnings))
