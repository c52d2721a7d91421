"""respond's forensics step on real sample logs: the demo's generated registry day for its
own images, and the bundled sample day from the forensics docs given with --logs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from hullguard.demo import prepare_demo
from hullguard.demo.registry_logs import write_registry_day
from hullguard.pipeline.respond import RespondOptions, respond

WEB = "registry.shop.internal/shop/web:1.4.2"


def test_demo_logs_give_first_pulls_and_anomalies(tmp_path: Path) -> None:
    demo = prepare_demo(tmp_path / "demo")
    options = RespondOptions([str(p) for p in demo.paths], tmp_path / "out", str(demo.db_path),
                             image_sources=demo.image_sources, offline=True, workers=1,
                             sample_logs=tmp_path / "demo" / "registry.log")
    incident = respond(options)
    found = incident.forensics
    assert found is not None and not found.error, found
    web = next(i for i in incident.images if i.name == WEB)
    pull = next(p for p in found.first_pulls if p.image == WEB)
    assert pull.digest == web.digest and pull.first.startswith("2026-03-02T09:")
    # The log itself says when the web digest was first pulled: check against it.
    pulls = [json.loads(line) for line in (tmp_path / "demo" / "registry.log").open()
             if web.digest in line and '"GET"' in line]
    assert pull.count == len(pulls) and pulls[0]["time"] == pull.first
    assert any(a.kind == "burst" and a.subject == "actor=mallory" for a in found.anomalies)
    out = tmp_path / "out"
    assert (out / "forensics" / "events.duckdb").is_file()
    html = (out / "report.html").read_text()
    assert 'id="forensics"' in html and web.digest in html and "actor=mallory" in html
    declaration = (out / "declaration.md").read_text()
    assert "## Forensics" in declaration and "first pulled " + pull.first in declaration
    assert json.loads((out / "findings.json").read_text())["forensics"]["first_pulls"]


def _respond(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hullguard", "respond", *args],
                          capture_output=True, text=True, timeout=300, check=False)


def test_respond_logs_ingests_the_bundled_sample_day(tmp_path: Path) -> None:
    demo = prepare_demo(tmp_path / "demo")
    log = write_registry_day(tmp_path / "registry.log", 2000)
    images = [arg for ref, source in demo.image_sources.items()
              for arg in ("--image", f"{ref}={source}")]
    out = tmp_path / "out"
    run = _respond(*map(str, demo.paths), *images, "--offline", "--no-store", "--quiet",
                   "--db", str(demo.db_path), "--logs", f"distribution-log:{log}",
                   "--out", str(out))
    assert run.returncode == 0, run.stderr
    doc = json.loads((out / "findings.json").read_text())["forensics"]
    assert doc["events"] > 1000 and doc["files"][0].startswith("distribution-log: registry.log")
    assert {"actor=mallory", "repository=team/api"} <= {a["subject"] for a in doc["anomalies"]}
    # The sample day pulls team/* images, none of the fleet's digests: said, not hidden.
    assert WEB in doc["not_pulled"] and not doc["first_pulls"]
    assert "no pull of its digest in the logs" in (out / "declaration.md").read_text()


def test_respond_refuses_a_bad_logs_spec_before_any_work(tmp_path: Path) -> None:
    log = tmp_path / "registry.log"
    log.write_text("")
    manifest = tmp_path / "pod.yaml"
    manifest.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n"
                        "spec: {containers: [{name: a, image: alpine:3.10}]}\n")
    run = _respond(str(manifest), "--offline", "--no-store", "--logs", f"nginx-log:{log}",
                   "--out", str(tmp_path / "out"))
    assert run.returncode == 2 and "nginx-log" in run.stderr, run.stderr
    assert not (tmp_path / "out").exists()


def test_iocs_are_searched_in_the_images_and_the_logs(tmp_path: Path) -> None:
    from hullguard.forensics.ioc import load_iocs

    iocs = tmp_path / "iocs.txt"
    iocs.write_text("# the attacker's address, and a marker in the base image's busybox\n"
                    "string:203.0.113.66\nstring:demo busybox\nstring:never-present-xyz\n")
    demo = prepare_demo(tmp_path / "demo")
    options = RespondOptions([str(p) for p in demo.paths], tmp_path / "out", str(demo.db_path),
                             image_sources=demo.image_sources, offline=True, workers=1,
                             sample_logs=tmp_path / "demo" / "registry.log",
                             indicators=load_iocs(iocs))
    found = respond(options).forensics
    assert found is not None and not found.error, found
    assert WEB in found.ioc_searched and "logs" in found.ioc_searched
    hits = {(h.target, h.indicator) for h in found.ioc_hits}
    assert (WEB, "string:demo busybox") in hits
    assert ("logs", "string:203.0.113.66") in hits
    assert not any("never-present" in h.indicator for h in found.ioc_hits)
    log_hit = next(h for h in found.ioc_hits if h.target == "logs")
    assert log_hit.path.startswith(str(tmp_path / "demo" / "registry.log"))
    html = (tmp_path / "out" / "report.html").read_text()
    assert 'id="ioc-hits"' in html and "string:demo busybox" in html
    _check_reach(found.ioc_indicators, tmp_path / "out")


def _check_reach(indicators: Any, out: Path) -> None:
    """Each hit joined: the images, their workloads (the inventory), first seen in the logs."""
    busybox = next(i for i in indicators if i.indicator == "string:demo busybox")
    assert WEB in busybox.images and busybox.workloads  # web runs in the demo's manifests
    findings = json.loads((out / "findings.json").read_text())
    web = next(i for i in findings["images"] if i["name"] == WEB)
    assert set(web["workloads"]) <= set(busybox.workloads)
    assert busybox.first_seen.startswith("20") and "of the image" in busybox.first_seen_by
    address = next(i for i in indicators if i.indicator == "string:203.0.113.66")
    assert address.log_records > 0 and address.first_seen
    assert "Where each indicator reaches" in (out / "declaration.md").read_text()
    assert 'id="ioc-reach"' in (out / "report.html").read_text()


def test_respond_refuses_a_bad_iocs_file_before_any_work(tmp_path: Path) -> None:
    iocs = tmp_path / "iocs.txt"
    iocs.write_text("regex:([unclosed\n")
    manifest = tmp_path / "pod.yaml"
    manifest.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n"
                        "spec: {containers: [{name: a, image: alpine:3.10}]}\n")
    run = _respond(str(manifest), "--offline", "--no-store", "--iocs", str(iocs),
                   "--out", str(tmp_path / "out"))
    assert run.returncode == 2 and "iocs.txt" in run.stderr, run.stderr
    assert not (tmp_path / "out").exists()
