"""Secrets in a real multi-layer image (docker-archive built by hullguard.images.builder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hullguard.images import open_image
from hullguard.model.secret import FileState, SecretFinding, SecretReport
from hullguard.secrets import scan_image
from tests.secrets.corpus import DECOYS, PLANTED, write_planted


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> SecretReport:
    path = write_planted(tmp_path_factory.mktemp("planted"))
    with open_image(f"docker-archive:{path}") as source:
        return scan_image(source)


def _by_rule(report: SecretReport, rule_id: str) -> SecretFinding:
    found = [f for f in report.findings if f.rule_id == rule_id]
    assert len(found) == 1, (rule_id, [f.rule_id for f in report.findings])
    return found[0]


@pytest.mark.parametrize("planted", PLANTED, ids=lambda p: p.rule_id)
def test_every_planted_secret_is_found(report: SecretReport, planted: object) -> None:
    finding = _by_rule(report, planted.rule_id)  # type: ignore[attr-defined]
    paths = [loc.path for loc in finding.locations]
    assert any(p.startswith(planted.path) for p in paths), paths  # type: ignore[attr-defined]


def test_no_decoy_fires(report: SecretReport) -> None:
    hits = [loc.path for f in report.findings for loc in f.locations if loc.path in DECOYS]
    assert hits == []
    assert report.suppressed >= 1  # the AWS documentation key
    assert report.binaries_skipped >= 1  # the ELF decoy


def test_deleted_and_overwritten_files_are_reported_with_their_layer(
        report: SecretReport) -> None:
    key = _by_rule(report, "private-key-rsa").locations[0]
    assert (key.path, key.state, key.layer_index) == ("/tmp/deploy/id_rsa", FileState.DELETED, 1)
    assert key.layer_diff_id.startswith("sha256:") and key.created_by == "COPY . /app"
    slack = _by_rule(report, "slack-token").locations[0]
    assert (slack.state, slack.line) == (FileState.OVERWRITTEN, 2)
    base = _by_rule(report, "github-personal-token").locations[0]
    assert (base.state, base.layer_index) == (FileState.PRESENT, 0)


def test_config_and_nested_archives(report: SecretReport) -> None:
    env = _by_rule(report, "openai-api-key").locations[0]
    assert env.path.startswith("config:Env") and env.state is FileState.CONFIG
    history = _by_rule(report, "npm-token").locations[0]
    assert history.path.startswith("config:history") and history.layer_index == 2
    stripe = _by_rule(report, "stripe-secret-key").locations[0]
    assert stripe.path == "/app/lib/app.war!/WEB-INF/lib/inner.jar!/application.properties"
    assert stripe.line == 1
    assert _by_rule(report, "gitlab-pat").locations[0].path.endswith("deploy.log.gz!/deploy.log")


@pytest.mark.parametrize("fmt", ["table", "json", "sarif"])
def test_secret_never_in_output(report: SecretReport, fmt: str) -> None:
    from hullguard.secrets.report import render

    text = render(report, fmt) + repr(report)
    for planted in PLANTED:
        assert planted.value not in text
        assert planted.value[4:24] not in text


def test_dedup_across_layers(tmp_path: Path) -> None:
    """The same secret in two layers and the config is one finding listing three places."""
    from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec, write_docker_archive
    from tests.secrets.corpus import GITHUB

    data = f"token={GITHUB}\n".encode()
    spec = ImageSpec([LayerSpec((FileSpec("a/one", data),), created_by="COPY one"),
                      LayerSpec((FileSpec("a/two", data), FileSpec("a/.wh.one")),
                                created_by="COPY two")],
                     config={"Env": [f"GH={GITHUB}"]})
    with open_image(f"docker-archive:{write_docker_archive(tmp_path / 'd.tar', spec)}") as source:
        report = scan_image(source)
    assert len(report.findings) == 1
    places = {(loc.path, loc.state) for loc in report.findings[0].locations}
    assert places == {("/a/one", FileState.DELETED), ("/a/two", FileState.PRESENT),
                      ("config:Env[0]", FileState.CONFIG)}


def test_opaque_directory_and_replaced_parent(tmp_path: Path) -> None:
    from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec, write_oci_layout
    from hullguard.secrets import scan_target
    from tests.secrets.corpus import GITHUB, STRIPE

    spec = ImageSpec([
        LayerSpec((FileSpec("etc/app/a.env", f"X={GITHUB}\n".encode()),
                   FileSpec("srv/data/b.env", f"Y={STRIPE}\n".encode()))),
        LayerSpec((FileSpec("etc/app/.wh..wh..opq"), FileSpec("srv", b"now a file"))),
    ])
    report = scan_target(str(write_oci_layout(tmp_path / "layout", spec)))
    states = {loc.path: loc.state for f in report.findings for loc in f.locations}
    assert states == {"/etc/app/a.env": FileState.DELETED, "/srv/data/b.env": FileState.DELETED}
    assert report.target.startswith("oci:") or "layout" in report.target


def test_states_follow_the_squashed_tree(tmp_path: Path) -> None:
    """A file that a later layer's child entry turns into a directory is overwritten; a file
    written through a symlinked parent and whited out at its real path is deleted; a file
    deleted and then written again is overwritten (the image shows the later copy)."""
    from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec, write_docker_archive
    from tests.secrets.corpus import GITHUB, SLACK, STRIPE

    spec = ImageSpec([
        LayerSpec((FileSpec("cfg", f"X={GITHUB}\n".encode()),
                   FileSpec("real", kind="dir"), FileSpec("link", kind="symlink",
                                                          linkname="real"),
                   FileSpec("again.env", f"Z={SLACK}\n".encode()))),
        LayerSpec((FileSpec("cfg/inner", b"now a directory"),
                   FileSpec("link/s.env", f"Y={STRIPE}\n".encode()),
                   FileSpec(".wh.again.env"))),
        LayerSpec((FileSpec("real/.wh.s.env"), FileSpec("again.env", b"clean\n"))),
    ])
    with open_image(f"docker-archive:{write_docker_archive(tmp_path / 'd.tar', spec)}") as src:
        report = scan_image(src)
    states = {loc.path: loc.state for f in report.findings for loc in f.locations}
    assert states == {"/cfg": FileState.OVERWRITTEN, "/link/s.env": FileState.DELETED,
                      "/again.env": FileState.OVERWRITTEN}
