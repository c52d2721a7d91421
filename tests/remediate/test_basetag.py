"""A newer base tag that scans better: a real docker-registry holding tags of an Alpine 3.10
base built from the corpus minirootfs, the real Alpine secdb v3.10 imported with
``hullguard db import``, and the real scan. The corpus has one 3.10 minirootfs (3.10.3), so
the older and the worse tags are that rootfs plus a layer rewriting its apk database to older
package versions (what an image built before the fixes carried)."""

from __future__ import annotations

import gzip
import io
import json
import re
import subprocess
import sys
import tarfile
import time
from datetime import date
from pathlib import Path

import pytest

from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec, rootfs_layer, write_oci_layout
from hullguard.images.reference import parse_reference
from hullguard.images.registry.client import RegistryClient
from hullguard.remediate import basetag
from hullguard.remediate.basetag import Recommendation, candidate_tags, parse_tag, recommend
from hullguard.remediate.run import RemediateOptions, remediate
from tests.support.env import REPO, corpus_path, tool
from tests.support.registry import FakeRegistry, Handler, RegistryServer, skopeo_push

OLD = {"musl": "1.1.22-r2", "musl-utils": "1.1.22-r2", "busybox": "1.30.1-r1",
       "ssl_client": "1.30.1-r1", "libcrypto1.1": "1.1.1c-r0", "libssl1.1": "1.1.1c-r0"}
OPENSSL_FIXED = {**OLD, "libcrypto1.1": "1.1.1d-r0", "libssl1.1": "1.1.1d-r0"}
WORSE = {**OLD, "libcrypto1.1": "1.1.1-r0", "libssl1.1": "1.1.1-r0"}
REPOSITORY = "library/alpine"
WEB = "registry.shop.internal/shop/web:1.4.2"


def _rootfs(version: str) -> Path:
    return corpus_path("images", "alpine", f"alpine-minirootfs-{version}-x86_64.tar.gz")


def _apk_db(versions: dict[str, str]) -> bytes:
    """The 3.10.3 apk database with these packages at these versions."""
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(_rootfs("3.10.3").read_bytes()))) as tar:
        member = tar.extractfile("./lib/apk/db/installed")
        assert member is not None
        text = member.read().decode()
    blocks = []
    for block in text.split("\n\n"):
        name = re.search(r"^P:(.*)$", block, re.M)
        if name and name.group(1) in versions:
            block = re.sub(r"^V:.*$", f"V:{versions[name.group(1)]}", block, flags=re.M)
        blocks.append(block)
    return "\n\n".join(blocks).encode()


@pytest.fixture(scope="module")
def tagged(registry_server: RegistryServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    """``HOST/library/alpine`` with tags 3.10.1 (old packages), 3.10.2 (openssl fixed),
    3.10.3 (the real rootfs), 3.10.4 (scans worse), 3.10.9-slim (another variant),
    3.12.12 (a release the test database has no data for), latest and edge."""
    root = tmp_path_factory.mktemp("bases")
    base = rootfs_layer(_rootfs("3.10.3"))

    def downgraded(versions: dict[str, str]) -> ImageSpec:
        db = FileSpec("lib/apk/db/installed", _apk_db(versions))
        return ImageSpec([base, LayerSpec((db,), created_by="RUN apk add ...")])

    specs = {"3.10.1": downgraded(OLD), "3.10.2": downgraded(OPENSSL_FIXED),
             "3.10.3": ImageSpec([base]), "3.10.4": downgraded(WORSE),
             "3.10.9-slim": ImageSpec([base]), "3.12.12": ImageSpec([rootfs_layer(
                 _rootfs("3.12.12"))]), "latest": ImageSpec([base]), "edge": ImageSpec([base])}
    for tag, spec in specs.items():
        layout = write_oci_layout(root / tag, spec, tag=tag)
        skopeo_push(layout, tag, registry_server, REPOSITORY)
    return f"{registry_server.host}/{REPOSITORY}"


@pytest.fixture(scope="module")
def secdb(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The real Alpine secdb v3.10 (main and community), imported with `hullguard db import`."""
    path = tmp_path_factory.mktemp("db") / "vuln.sqlite"
    feeds = sorted(str(p) for p in corpus_path("advisories", "alpine-secdb", "v3.10").glob(
        "*.json"))
    subprocess.run([sys.executable, "-m", "hullguard", "db", "import", "--db", str(path),
                    *feeds], env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"},
                   check=True, capture_output=True, timeout=300)
    return str(path)


def _skopeo_digest(reference: str) -> str:
    done = subprocess.run([tool("skopeo"), "inspect", "--tls-verify=false",
                           f"docker://{reference}"], capture_output=True, text=True,
                          timeout=60, check=True)
    return str(json.loads(done.stdout)["Digest"])


EOL_2020 = {"alpine 3.10": False, "alpine 3.12": False}  # as on 2020-06-01


def test_proposes_the_nearest_better_tag_never_a_worse_one(tagged: str, secdb: str) -> None:
    rec = recommend(f"{tagged}:3.10.1", secdb, eol=EOL_2020)
    assert rec.tag == "3.10.3", rec.notes
    assert rec.digest == _skopeo_digest(f"{tagged}:3.10.3")
    assert rec.before is not None and rec.after is not None
    assert rec.before.fixable == rec.before.total > 0 and rec.after.total == 0
    assert {"CVE-2019-14697", "CVE-2019-1547", "CVE-2019-5747"} <= set(rec.fixed_ids)
    # 3.10.4 is newer but scans worse: tried first, refused; then 3.10.3 (3.10.2 and 3.12.12
    # are not reached); the -slim variant, latest and edge are never candidates
    assert rec.notes[0].startswith("8 tags listed, 4 candidates, at most 5 scanned")
    assert rec.notes[1].startswith("3.10.4: ") and rec.notes[1].endswith("not better")
    worse = re.search(r"all (\d+)", rec.notes[1])
    assert worse and int(worse.group(1)) > rec.before.total
    assert len(rec.notes) == 2


def test_candidate_cap_and_no_better_candidate(tagged: str, secdb: str) -> None:
    rec = recommend(f"{tagged}:3.10.1", secdb, limit=1, eol=EOL_2020)
    assert not rec.tag and rec.after is None
    assert rec.notes[0].startswith("8 tags listed, 4 candidates, at most 1 scanned")
    assert rec.notes[-1].startswith("no candidate scans better")
    # from the worst tag, the only candidate is 3.12.12: the database has no 3.12 data, so
    # its empty result is not "better"
    rec = recommend(f"{tagged}:3.10.4", secdb, eol=EOL_2020)
    assert not rec.tag
    assert any(n.startswith("3.12.12: the database cannot check it: alpine 3.12")
               for n in rec.notes)
    rec = recommend(f"{tagged}:3.10.3", secdb, eol=EOL_2020)
    assert not rec.tag and rec.notes == [f"{parse_reference(tagged + ':3.10.3').familiar} has "
                                         "no fixable findings: no newer tag needed"]


def test_remediate_patches_from_line_and_reports_counts(
        tagged: str, secdb: str, demo_repo: tuple[Path, Path], tmp_path: Path) -> None:
    incident, _ = demo_repo
    dockerfile = tmp_path / "web" / "Dockerfile"
    dockerfile.parent.mkdir()
    dockerfile.write_text(f"# the web image\nFROM {tagged}:3.10.1\nCOPY app /app\n")
    subprocess.run([tool("git"), "init", "-q", str(tmp_path)], check=True)
    out = tmp_path / "out"
    remediate([incident], RemediateOptions(out, images=(WEB,), dockerfiles={WEB: str(dockerfile)},
                                           db_path=secdb, today=date(2020, 6, 1)))
    digest = _skopeo_digest(f"{tagged}:3.10.3")
    diff = next((out / "dockerfiles").glob("*.diff"))
    subprocess.run([tool("git"), "-C", str(tmp_path), "apply", str(diff)], check=True)
    lines = dockerfile.read_text().splitlines()
    assert lines[2] == f"FROM {tagged}:3.10.3@{digest}"
    assert lines[1].startswith("# hullguard remediate: base moved to tag 3.10.3 (critical 0, "
                               "high 0, all ") and "CVE-2019-14697" in lines[1]
    report = (out / "REMEDIATION.md").read_text()
    assert f"- newer base tag for `{tagged}:3.10.1`: `{tagged}:3.10.3@{digest}`" in report
    assert re.search(r"  - before: critical 0, high 0, all (\d+) \(\1 fixable\)", report)
    assert "  - after: critical 0, high 0, all 0 (0 fixable)" in report
    assert "3.10.4: critical 0, high 0, all" in report


def test_offline_and_no_database_say_so(demo_repo: tuple[Path, Path], tmp_path: Path) -> None:
    incident, _ = demo_repo
    remediate([incident], RemediateOptions(tmp_path / "a", images=(WEB,), offline=True,
                                           db_path="/nonexistent"))
    assert "- newer base tag: skipped: --offline" in (tmp_path / "a/REMEDIATION.md").read_text()
    remediate([incident], RemediateOptions(tmp_path / "b", images=(WEB,), digests={
        "alpine:3.10": "sha256:" + "ab" * 32}))
    assert "- newer base tag: skipped: no advisory database (--db)" in \
        (tmp_path / "b/REMEDIATION.md").read_text()


def test_tag_list_pagination_on_a_real_registry(tagged: str) -> None:
    reference = parse_reference(f"{tagged}:3.10.1")
    with RegistryClient(reference.registry) as client:
        every = client.list_tags(REPOSITORY)
        paged = client.list_tags(REPOSITORY, page_size=3)
        cut = client.list_tags(REPOSITORY, page_size=3, max_tags=4)
    assert len(every) == 8 and paged == every  # 3 pages joined through the Link headers
    assert cut == every[:4]


def _junk_pages(registry: FakeRegistry, per_page: int) -> None:
    """An endless tag list: every page links to the next, full of tags that are no version."""

    def page(handler: Handler) -> None:
        number = int((re.search(r"page=(\d+)", handler.path) or [0, "0"])[1])
        tags = [f"nightly-{number}-{i}" for i in range(per_page)] + ["3.10.2-rc1", "3.99999"]
        handler.reply(200, json.dumps({"name": "x", "tags": tags}).encode(),
                      "application/json",
                      {"Link": f'</v2/{REPOSITORY}/tags/list?page={number + 1}>; rel="next"'})

    registry.routes[f"/v2/{REPOSITORY}/tags/list"] = page


def test_hostile_tag_list_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = FakeRegistry()
    try:
        _junk_pages(registry, 998)
        monkeypatch.setattr(basetag, "MAX_TAGS", 5000)
        rec = Recommendation("x")
        reference = parse_reference(f"{registry.host}/{REPOSITORY}:3.10.1")
        started = time.monotonic()
        tags, cut = basetag._list_tags(reference, rec)
        assert cut and len(tags) == 5000
        assert len([r for r in registry.requests if "tags/list" in r.path]) == 5
        assert candidate_tags("3.10.1", tags) == []  # no tag there is a version of this line
        assert time.monotonic() - started < 30
        registry.routes[f"/v2/{REPOSITORY}/tags/list"] = lambda h: h.reply(
            200, b'{"tags": "' + b"x" * (17 << 20) + b'"}', "application/json")
        assert basetag._list_tags(reference, rec) == ([], False)
        assert rec.notes[-1].startswith("tag list not read:")
    finally:
        registry.close()


def test_tag_ordering_rule() -> None:
    tags = ["3.18.1", "3.18.10", "3.18.9", "3.19.2", "3.19.10", "3.20.0", "3.18", "4.0.0",
            "3.18.12-slim", "v3.18.11", "latest", "3.18.11a", "03.18.13", "3.17.9",
            "9" * 12 + ".1.1", "3.18.2.1"]
    assert candidate_tags("3.18.2", tags) == ["3.18.10", "3.18.9", "3.19.10",
                                              "3.19.2", "3.20.0"]
    assert candidate_tags("3.18.2-slim", tags) == ["3.18.12-slim"]
    assert candidate_tags("3.18", ["3.19", "3.18.9", "3.20"]) == ["3.19", "3.20"]
    assert candidate_tags("latest", tags) == [] and candidate_tags("12", ["13"]) == []
    assert parse_tag("3.18.9-slim-bookworm") is not None and parse_tag("3.x") is None
    many = [f"3.18.{i}" for i in range(20_000)] + [f"build-{i}" for i in range(20_000)]
    started = time.monotonic()
    assert candidate_tags("3.18.2", many)[0] == "3.18.19999"
    assert time.monotonic() - started < 5


def test_cli_flags(tagged: str, secdb: str, demo_repo: tuple[Path, Path], tmp_path: Path) -> None:
    incident, _ = demo_repo
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(f"FROM {tagged}:3.10.1\n")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "hullguard", "remediate", str(incident), WEB,
                               "--dockerfile", f"{WEB}={dockerfile}", *args],
                              env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin",
                                   "HULLGUARD_DB": str(tmp_path / "none.sqlite")},
                              capture_output=True, text=True, timeout=300, check=False)

    done = run("--db", secdb, "--base-candidates", "1", "--out", str(tmp_path / "a"))
    assert done.returncode == 0, done.stderr
    report = (tmp_path / "a/REMEDIATION.md").read_text()
    assert f"- newer base tag for `{tagged}:3.10.1`: none proposed" in report
    assert "4 candidates, at most 1 scanned" in report
    done = run("--db", str(tmp_path / "missing.sqlite"), "--out", str(tmp_path / "b"))
    assert done.returncode == 2 and done.stderr.count("error:") == 1
    assert "no advisory database here" in done.stderr
    done = run("--base-candidates", "51", "--out", str(tmp_path / "c"))
    assert done.returncode == 2
    done = run("--out", str(tmp_path / "d"))  # $HULLGUARD_DB absent: said, not an error
    assert done.returncode == 0, done.stderr
    assert "skipped: no advisory database" in (tmp_path / "d/REMEDIATION.md").read_text()
    assert not (tmp_path / "b").exists() and not (tmp_path / "c").exists()


def test_retag_through_the_arg_default_keeps_stages() -> None:
    from hullguard.remediate.dockerfile import Retag, patch_dockerfile
    from hullguard.remediate.plan import ImagePlan

    digest = "sha256:" + "ab" * 32
    text = ("ARG BASE=example.org:5000/library/alpine:3.10.1\nFROM ${BASE} AS build\n"
            "RUN make\nFROM ${BASE}\nCOPY --from=build /out /out\n")
    name = "example.org:5000/library/alpine:3.10.1"
    patch = patch_dockerfile(text, "Dockerfile", "Dockerfile", ImagePlan("x"), {name: digest},
                             {name: Retag("3.10.3", "base moved to tag 3.10.3; fixes CVE-1")})
    lines = patch.new_text.splitlines()
    assert lines[:2] == ["# hullguard remediate: base moved to tag 3.10.3; fixes CVE-1; pinned "
                         "by digest, closes lint HG-D003",
                         f"ARG BASE=example.org:5000/library/alpine:3.10.3@{digest}"]
    assert patch.new_text.count("3.10.3@") == 1  # one ARG line serves both stages
    assert any("moved to tag 3.10.3" in c for c in patch.changes)
