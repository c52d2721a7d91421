"""End to end: ``hullguard respond --demo`` through the real console script, the incident
folder it writes, resumption, and a fleet with a broken image."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from hullguard.demo import prepare_demo
from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec, write_docker_archive
from hullguard.pipeline.respond import RespondOptions, respond
from tests.support.browser import Browser


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("incident")
    run = subprocess.run(["hullguard", "respond", "--demo", "--out", str(out)],
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    return out, run.stdout


def test_demo_writes_the_incident_folder(demo_out: tuple[Path, str]) -> None:
    out, stdout = demo_out
    for name in ("declaration.md", "report.html", "findings.json", "findings.sarif"):
        assert (out / name).stat().st_size > 0
        assert (out / name).stat().st_mode & 0o044, "output must be readable as usual"
    assert f"report: {out / 'report.html'}" in stdout
    sboms = sorted(p.name for p in (out / "sboms").iterdir())
    assert len(sboms) == 4  # four demo images are built; redis:7.2 is not available offline


def test_demo_findings_follow_the_bundled_advisories(demo_out: tuple[Path, str]) -> None:
    doc = json.loads((demo_out[0] / "findings.json").read_text())
    images = {i["name"]: i for i in doc["images"]}
    worker = images["registry.shop.internal/shop/worker:2.0.1"]
    ids = {f["id"] for f in worker["findings"]}
    # PyYAML 5.3: CVE-2020-1747 (5.1 <= v < 5.3.1) and CVE-2020-14343 (< 5.4).
    assert {"CVE-2020-1747", "CVE-2020-14343"} <= ids
    # The base layer's musl 1.1.22-r2 is before Alpine's fix 1.1.22-r3.
    assert "CVE-2019-14697" in ids
    # Findings use the `scan -f json` schema, with the layer that brought the package in.
    pyyaml = next(f for f in worker["findings"] if f["id"] == "CVE-2020-1747")
    assert pyyaml["package"]["purl"].startswith("pkg:pypi/pyyaml@5.3")
    assert pyyaml["layer"]["created_by"] == "RUN pip3 install PyYAML==5.3"
    assert pyyaml["fixed_versions"] == ["5.3.1"]
    redis = images["docker.io/library/redis:7.2"]
    assert not redis["scanned"] and "offline" in redis["error"]
    web = images["registry.shop.internal/shop/web:1.4.2"]
    assert {s["rule_id"] for s in web["secrets"]} >= {"aws-access-key-id"}
    assert all(loc["state"] == "deleted" for s in web["secrets"] for loc in s["locations"])
    assert "AKIAQ4DEMOKEY7EXAMPL" not in (demo_out[0] / "findings.json").read_text()


def test_demo_priority_queue_and_lineage(demo_out: tuple[Path, str]) -> None:
    doc = json.loads((demo_out[0] / "findings.json").read_text())
    queue = doc["priority_queue"]
    assert queue[0]["priority"] == "P0"
    assert queue[0]["workload"] == "shop-prod/Deployment/web"
    assert doc["blast_radius"]["root"] == "docker.io/library/alpine:3.10"
    children = {child for _, child in doc["blast_radius"]["edges"]}
    assert children == {"registry.shop.internal/shop/web:1.4.2",
                        "registry.shop.internal/shop/worker:2.0.1",
                        "registry.shop.internal/shop/frontend:3.2.0"}
    declaration = (demo_out[0] / "declaration.md").read_text()
    assert "- **Severity:** SEV-1" in declaration
    assert "| from Docker Hub | 2 |" in declaration


def test_demo_sarif_has_one_run_per_scanned_image(demo_out: tuple[Path, str]) -> None:
    sarif = json.loads((demo_out[0] / "findings.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    assert len(sarif["runs"]) == 4
    assert sum(len(run["results"]) for run in sarif["runs"]) > 20


def test_demo_report_in_headless_chromium(demo_out: tuple[Path, str], tmp_path: Path) -> None:
    browser = Browser()
    try:
        browser.load((demo_out[0] / "report.html").as_uri())
        assert browser.evaluate("document.querySelectorAll('#queue tbody tr').length") >= 6
        assert browser.evaluate("document.querySelectorAll('#blast svg g').length") >= 4
        assert browser.screenshot(tmp_path / "demo.png").stat().st_size > 20_000
        assert browser.errors() == []
    finally:
        browser.close()


def test_a_broken_image_is_not_scanned_and_the_rest_continue(tmp_path: Path) -> None:
    demo = prepare_demo(tmp_path / "demo")
    broken = tmp_path / "broken.tar"
    broken.write_bytes(b"this is not a tar archive")
    sources = dict(demo.image_sources)
    sources["registry.shop.internal/shop/worker:2.0.1"] = f"docker-archive:{broken}"
    options = RespondOptions([str(p) for p in demo.paths], tmp_path / "out", str(demo.db_path),
                             image_sources=sources, offline=True, workers=2)
    incident = respond(options)
    status = {i.name: i for i in incident.images}
    assert not status["registry.shop.internal/shop/worker:2.0.1"].scanned
    assert "broken.tar" in status["registry.shop.internal/shop/worker:2.0.1"].error
    assert status["registry.shop.internal/shop/web:1.4.2"].scanned
    assert "not scanned" in (tmp_path / "out" / "declaration.md").read_text()


def test_cli_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    run = subprocess.run(["hullguard", "respond", "--out", str(tmp_path)], capture_output=True,
                         text=True, timeout=60, check=False)
    assert run.returncode == 2
    assert run.stderr.startswith("error: give manifests")
    run = subprocess.run(["hullguard", "respond", str(tmp_path), "--db",
                          str(tmp_path / "none.sqlite")], capture_output=True, text=True,
                         timeout=60, check=False)
    assert run.returncode == 2 and "no advisory database" in run.stderr


def test_scan_fleet_lists_not_scanned_images(tmp_path: Path) -> None:
    spec = ImageSpec([LayerSpec((FileSpec("etc/os-release", b"ID=alpine\nVERSION_ID=3.18.0\n"),))])
    archive = write_docker_archive(tmp_path / "a.tar", spec)
    listing = tmp_path / "images.txt"
    listing.write_text("example.internal/app:1\nexample.internal/missing:2\n")
    run = subprocess.run(["hullguard", "scan-fleet", str(listing), "--offline", "--image",
                          f"example.internal/app:1=docker-archive:{archive}", "-f", "json",
                          "--state", str(tmp_path / "state")],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    rows = {r["image"]: r for r in json.loads(run.stdout)["images"]}
    assert rows["example.internal/app:1"]["scanned"]
    assert not rows["example.internal/missing:2"]["scanned"]


def test_declaration_lists_each_patch_once_per_image(demo_out: tuple[Path, str]) -> None:
    out, _ = demo_out
    patches = [line for line in (out / "declaration.md").read_text().splitlines()
               if line.startswith("- [ ] Patch")]
    targets = [line.split(" by ")[0] for line in patches]
    assert len(targets) == len(set(targets)) > 0
    web = next(line for line in patches if "shop/web:1.4.2" in line)
    assert "shop-prod/Deployment/web" in web and "compose/compose-service/web" in web


def test_demo_summary_names_images_and_lists_every_priority(demo_out: tuple[Path, str]
                                                            ) -> None:
    _, stdout = demo_out
    queue = [line.strip() for line in stdout.splitlines() if line.startswith("  P")]
    assert {line.split()[0] for line in queue} == {"P0", "P1", "P2", "P3"}
    assert "P3 dev/Pod/debug (docker.io/library/alpine:3.10):" in stdout
    assert "P0 shop-prod/Deployment/web (registry.shop.internal/shop/web:1.4.2):" in stdout
    assert "0 not fully checked" in stdout


def _local_links(out: Path) -> list[str]:
    html = (out / "report.html").read_text()
    markdown = (out / "declaration.md").read_text()
    targets = re.findall(r'href="([^"]*)"', html) + re.findall(r"\]\(([^)]*)\)", markdown)
    return [t for t in targets if not re.match(r"#|data:|https://", t)]


def test_demo_writes_containment_and_remediation_and_links_them(
        demo_out: tuple[Path, str]) -> None:
    out = demo_out[0]
    assert (out / "containment" / "CONTAINMENT.md").is_file()
    assert (out / "containment" / "kustomize" / "overlay").is_dir()
    assert (out / "remediation" / "REMEDIATION.md").is_file()
    links = _local_links(out)
    assert {"containment/CONTAINMENT.md", "remediation/REMEDIATION.md",
            "forensics/events.duckdb"} <= set(links)
    for link in links:  # every relative link resolves to a file inside the folder
        target = (out / link).resolve()
        assert target.is_file() and target.is_relative_to(out.resolve()), link
    assert not list(out.parent.glob(f".{out.name}.incident-*"))  # no staging left behind
