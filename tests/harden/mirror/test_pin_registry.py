"""``hullguard pin --mirror``: digests resolved at a real docker-registry on 127.0.0.1 that the
test pushed an image to; what the mirror lacks is listed, not guessed."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hullguard.cli.main import app
from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec, write_oci_layout
from hullguard.images.registry import RegistryClient, push_layout
from hullguard.inventory.collect import collect
from tests.support import registry as support
from tests.support.registry import RegistryServer

registry_server = support.registry_server  # the shared session fixture

MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
        - name: web
          image: alpine:3.19  # the base
        - name: sidecar
          image: ghcr.io/acme/sidecar:1.0
"""
DOCKERFILE = "ARG BASE=alpine:3.19\nFROM ${BASE}\nRUN true\n"


@pytest.fixture(scope="module")
def pushed(registry_server: RegistryServer,
           tmp_path_factory: pytest.TempPathFactory) -> tuple[RegistryServer, str]:
    """alpine:3.19 at the mirror under the prefix ``hub`` (the naming rule's place for it)."""
    layer = LayerSpec((FileSpec("etc/os-release", b"ID=alpine\nVERSION_ID=3.19.1\n"),))
    layout = write_oci_layout(tmp_path_factory.mktemp("layout") / "alpine",
                              ImageSpec([layer]), tag="3.19")
    with RegistryClient(registry_server.host) as client:
        digest = push_layout(client, layout, "hub/library/alpine", "3.19")
        push_layout(client, layout, "custom/alpine", "3.19")  # where a name map points
    return registry_server, str(digest)


def test_mirror_resolves_digests_at_the_registry(pushed: tuple[RegistryServer, str],
                                                 tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    server, digest = pushed
    monkeypatch.chdir(tmp_path)
    Path("web.yaml").write_text(MANIFEST)
    Path("Dockerfile").write_text(DOCKERFILE)
    runner = CliRunner()
    result = runner.invoke(app, ["pin", ".", "--mirror", f"{server.host}/hub", "--write"])
    assert result.exit_code == 0, result.stderr
    pinned = f"{server.host}/hub/library/alpine@{digest}"
    assert f"image: {pinned}  # the base  # was: alpine:3.19\n" in Path("web.yaml").read_text()
    assert Path("Dockerfile").read_text() == f"# was: alpine:3.19\nARG BASE={pinned}\n" \
                                             "FROM ${BASE}\nRUN true\n"
    assert f"web.yaml:11: not pinned: ghcr.io/acme/sidecar:1.0: {server.host}/hub/ghcr.io/" \
           "acme/sidecar:1.0 is not at the mirror" in result.stderr
    refs = {o.ref.key for i in collect(["."], environ={}).images for o in i.occurrences}
    assert refs == {pinned, "ghcr.io/acme/sidecar:1.0"}

    again = runner.invoke(app, ["pin", ".", "--mirror", f"{server.host}/hub", "--write",
                                "--fail-on-unpinned"])
    assert again.exit_code == 1  # the sidecar is still missing at the mirror
    assert "0 reference(s) pinned in 0 file(s), 2 already pinned, 1 not pinned" in again.stderr


def test_mirror_by_digest_must_exist_there(pushed: tuple[RegistryServer, str], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A source already pinned by digest is looked up by that digest at the mirror."""
    server, digest = pushed
    monkeypatch.chdir(tmp_path)
    other = "sha256:" + "0" * 64
    Path("pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        f"  - {{name: a, image: 'alpine@{digest}'}}\n  - {{name: b, image: 'alpine@{other}'}}\n")
    result = CliRunner().invoke(app, ["pin", "pod.yaml", "--mirror", f"{server.host}/hub"])
    assert result.exit_code == 0, result.stderr
    assert f"+  - {{name: a, image: '{server.host}/hub/library/alpine@{digest}'}}  # was: " \
           f"alpine@{digest}\n" in result.stdout
    assert f"pod.yaml:7: not pinned: alpine@{other}: " in result.stderr


def test_name_map_overrides_the_naming_rule(pushed: tuple[RegistryServer, str], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    server, digest = pushed
    monkeypatch.chdir(tmp_path)
    Path("names.json").write_text(f'{{"docker.io/library/alpine": "{server.host}/custom/alpine"}}')
    Path("Dockerfile").write_text("FROM alpine:3.19\n")
    result = CliRunner().invoke(app, ["pin", "Dockerfile", "--mirror", f"{server.host}/hub",
                                      "--name-map", "names.json", "--write"])
    assert result.exit_code == 0, result.stderr
    assert Path("Dockerfile").read_text() == \
        f"# was: alpine:3.19\nFROM {server.host}/custom/alpine@{digest}\n"
