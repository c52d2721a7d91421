"""The two referrers layouts, each on a real registry: go-containerregistry's registry with the
OCI 1.1 referrers API (tests/support/oci_registry.py, where hullguard must not write the
referrers tag schema index) and Debian's docker-registry without it (where the index tag is
hullguard's to keep). On both, hullguard signs and attests; hullguard, the real cosign
(``--new-bundle-format``), crane and regctl read what was written."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hullguard.harden.trust import formats
from hullguard.images.registry import RegistryClient
from hullguard.images.registry.referrers import get_referrers
from tests.harden.trust.conftest import hullguard, push_image
from tests.harden.trust.test_cosign_interop import OFFLINE_SIGN, bundle_flags, cosign
from tests.support import oci_registry
from tests.support.env import go_tool
from tests.support.registry import Pushed, RegistryServer

pytestmark = pytest.mark.slow
referrers_registry = oci_registry.referrers_registry
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
EMPTY_MEDIA = "application/vnd.oci.empty.v1+json"
EMPTY_DIGEST = "sha256:" + hashlib.sha256(b"{}").hexdigest()
LAYOUTS = ["referrers-api", "tag-schema"]


@pytest.fixture(params=LAYOUTS)
def layout(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
def server(layout: str, request: pytest.FixtureRequest) -> RegistryServer:
    """referrers-api: go-containerregistry's registry; tag-schema: Debian's docker-registry."""
    name = "referrers_registry" if layout == "referrers-api" else "registry_server"
    found: RegistryServer = request.getfixturevalue(name)
    return found


@pytest.fixture
def pushed(server: RegistryServer, tmp_path: Path, request: pytest.FixtureRequest) -> Pushed:
    marker = "".join(c if c.isalnum() else "-" for c in request.node.name.lower())[:60]
    return push_image(server, tmp_path, f"referrers/{marker.strip('-')}", "v1", marker)


@pytest.fixture
def regctl_home(server: RegistryServer, tmp_path: Path) -> Iterator[Path]:
    """A HOME whose regctl config talks plain HTTP to the test registry."""
    home = tmp_path / "regctl-home"
    home.mkdir()
    regctl("registry", "set", "--tls", "disabled", server.host, home=home)
    yield home


def regctl(*args: str, home: Path) -> str:
    done = subprocess.run([go_tool("regctl"), *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "HOME": str(home)}, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def crane(*args: str) -> str:
    done = subprocess.run([go_tool("crane"), *args, "--insecure"], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def tags_of(image: Pushed) -> set[str]:
    with RegistryClient(image.host) as client:
        return set(client.list_tags(image.repository))


def api_index(image: Pushed) -> dict[str, object] | None:
    with RegistryClient(image.host) as client:
        body = get_referrers(client, image.repository, image.digest)
    return None if body is None else dict(json.loads(body))


def test_the_referrers_api_registry_as_documented(referrers_registry: RegistryServer,
                                                  tmp_path: Path) -> None:
    """What tests/support/oci_registry.py says of go-containerregistry's registry: it lists
    subjects' referrers, ignores the artifactType filter and sends no OCI-Subject."""
    image = push_image(referrers_registry, tmp_path, "probe/app", "v1", "probe")
    url = f"{referrers_registry.url}/v2/probe/app"
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "artifactType": "application/x.hullguard.probe",
                "config": {"mediaType": EMPTY_MEDIA, "size": 2, "digest": EMPTY_DIGEST},
                "layers": [], "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                          "digest": str(image.digest), "size": 1}}
    body = json.dumps(manifest).encode()
    with httpx.Client() as http:
        http.post(f"{url}/blobs/uploads/?digest={EMPTY_DIGEST}",
                  content=b"{}").raise_for_status()
        put = http.put(f"{url}/manifests/probe", content=body,
                       headers={"Content-Type": str(manifest["mediaType"])})
        assert put.status_code == 201 and "oci-subject" not in put.headers
        listed = http.get(f"{url}/referrers/{image.digest}",
                          params={"artifactType": "application/x.other"})
        empty = http.get(f"{url}/referrers/sha256:{'0' * 64}")
    assert listed.status_code == 200 and listed.headers["content-type"] == OCI_INDEX
    assert "oci-filters-applied" not in listed.headers
    (entry,) = listed.json()["manifests"]  # the filter was not applied
    assert entry["artifactType"] == EMPTY_MEDIA  # the config's media type, not artifactType
    assert empty.status_code == 200 and empty.json()["manifests"] == []


def test_sign_bundle_writes_the_layout_the_registry_needs(
        layout: str, pushed: Pushed, hg_keys: tuple[Path, Path],
        regctl_home: Path, tmp_path: Path) -> None:
    private, public = hg_keys
    done = hullguard("sign", pushed.by_digest, "--key", str(private), "--format", "bundle")
    assert done.returncode == 0, done.stderr
    index_tag = f"sha256-{pushed.digest.hex}"
    assert (api_index(pushed) is not None) == (layout == "referrers-api")
    if layout == "referrers-api":  # the registry indexes the subject: no tag to keep
        assert tags_of(pushed) == {"v1"}
        (entry,) = api_index(pushed)["manifests"]  # type: ignore[index]
    else:  # docker-registry: hullguard keeps the referrers tag schema index
        assert tags_of(pushed) == {"v1", index_tag}
        index = json.loads(crane("manifest", f"{pushed.host}/{pushed.repository}:{index_tag}"))
        (entry,) = index["manifests"]
        assert entry["artifactType"] == formats.BUNDLE_MEDIA
    referrer = f"{pushed.host}/{pushed.repository}@{entry['digest']}"
    manifest = json.loads(crane("manifest", referrer))
    assert manifest["subject"]["digest"] == str(pushed.digest)
    assert manifest["artifactType"] == formats.BUNDLE_MEDIA
    assert crane("digest", referrer).strip() == entry["digest"]
    assert crane("digest", pushed.by_tag).strip() == str(pushed.digest)
    listed = json.loads(regctl("artifact", "list", pushed.by_digest, "--format",
                               "{{jsonPretty .Manifest}}", home=regctl_home))
    assert [m["digest"] for m in listed["manifests"]] == [entry["digest"]]
    verified = hullguard("verify", pushed.by_digest, "--key", str(public))
    assert verified.returncode == 0 and "1 of 1 signature(s) verified" in verified.stdout
    cosigned = cosign("verify", "--key", str(public), *bundle_flags(tmp_path),
                      pushed.by_digest, home=tmp_path)
    assert cosigned.returncode == 0, cosigned.stderr


def test_sign_both_and_attest_read_by_every_verifier(
        layout: str, pushed: Pushed, hg_keys: tuple[Path, Path],
        other_keys: tuple[Path, Path], regctl_home: Path, tmp_path: Path) -> None:
    private, public = hg_keys
    predicate = tmp_path / "bom.json"
    predicate.write_text('{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1}')
    assert hullguard("sign", pushed.by_digest, "--key", str(private)).returncode == 0
    attested = hullguard("attest", pushed.by_digest, "--key", str(private), "--type",
                         "cyclonedx", "--predicate", str(predicate))
    assert attested.returncode == 0, attested.stderr
    tags = {"v1", f"sha256-{pushed.digest.hex}.sig", f"sha256-{pushed.digest.hex}.att"}
    fallback = {f"sha256-{pushed.digest.hex}"} if layout == "tag-schema" else set()
    assert tags_of(pushed) == tags | fallback
    tree = regctl("artifact", "tree", pushed.by_digest, "--format", "{{jsonPretty .}}",
                  home=regctl_home)
    children = json.loads(tree)["referrer"]
    assert len(children) == 2
    assert {c["manifest"]["artifactType"] for c in children} == {formats.BUNDLE_MEDIA}
    verified = hullguard("verify", pushed.by_digest, "--key", str(public))
    assert verified.returncode == 0 and "2 of 2 signature(s) verified" in verified.stdout
    assert verified.stdout.count("OK   bundle") == 1
    att = hullguard("verify-attestation", pushed.by_digest, "--key", str(public), "--type",
                    "cyclonedx")
    assert att.returncode == 0 and att.stdout.count("OK   bundle") == 1, att.stdout
    assert hullguard("verify", pushed.by_digest, "--key", str(other_keys[1])).returncode == 1
    for command in (["verify"], ["verify-attestation", "--type", "cyclonedx"]):
        done = cosign(*command, "--key", str(public), *bundle_flags(tmp_path),
                      pushed.by_digest, home=tmp_path)
        assert done.returncode == 0, (command, done.stderr)
        assert cosign(*command, "--key", str(other_keys[1]), *bundle_flags(tmp_path),
                      pushed.by_digest, home=tmp_path).returncode != 0


def test_cosign_bundle_attestation_read_by_hullguard(
        layout: str, pushed: Pushed, hg_keys: tuple[Path, Path], regctl_home: Path,
        tmp_path: Path) -> None:
    """cosign attests in the new bundle format (its own referrer writer: go-containerregistry's
    remote package); hullguard finds and verifies it in either layout."""
    private, public = hg_keys
    predicate = tmp_path / "bom.json"
    predicate.write_text('{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1}')
    done = cosign("attest", "--key", str(private), "--type", "cyclonedx", "--predicate",
                  str(predicate), "--new-bundle-format", *OFFLINE_SIGN, pushed.by_digest,
                  home=tmp_path)
    assert done.returncode == 0, done.stderr
    fallback = {f"sha256-{pushed.digest.hex}"} if layout == "tag-schema" else set()
    assert tags_of(pushed) == {"v1"} | fallback
    listed = json.loads(regctl("artifact", "list", pushed.by_digest, "--format",
                               "{{jsonPretty .Manifest}}", home=regctl_home))
    assert len(listed["manifests"]) == 1
    verified = hullguard("verify-attestation", pushed.by_digest, "--key", str(public),
                         "--type", "cyclonedx")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.count("OK   bundle") == 1, verified.stdout


def test_a_referrer_manifest_is_fetched_once_per_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    """Verification reads a referrer's manifest to sniff its type and again to check it (and
    the gate once per key): the attachments ask the registry once per digest."""
    from hullguard.harden.trust import attach
    from hullguard.model import Digest

    fetched: list[Digest] = []

    def fetch(client: object, target: object, digest: Digest) -> dict[str, object]:
        fetched.append(digest)
        return {"schemaVersion": 2, "for": str(digest)}

    monkeypatch.setattr(attach, "fetch_manifest", fetch)
    one, two = (Digest.parse(f"sha256:{n:064x}") for n in (1, 2))
    store = attach.RegistryAttachments(object(), object())  # type: ignore[arg-type]
    assert store.manifest(one) == store.manifest(one) == {"schemaVersion": 2, "for": str(one)}
    assert store.manifest(two)["for"] == str(two)
    assert fetched == [one, two]
