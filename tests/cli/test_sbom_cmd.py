"""``hullguard sbom``: formats, -o, exit codes and errors, in-process and as the real script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hullguard.cli.main import app
from hullguard.model import Sbom
from hullguard.sbom import ids, read_sbom, render
from tests.sbom.samples import sample_sbom
from tests.support import registry as registry_support
from tests.support.env import missing

# Real docker-registry servers (one per xdist worker), shared with the registry tests.
registry_server = registry_support.registry_server
token_registry = registry_support.token_registry


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def native_file(tmp_path: Path) -> Path:
    """An SBOM on disk: ``sbom:FILE`` goes through the same command path as an image."""
    path = tmp_path / "in.json"
    path.write_text(render(sample_sbom(), "json"))
    return path


def names(sbom: Sbom) -> list[str]:
    return sorted(p.name for p in ids.unique_packages(sbom))


def test_default_is_the_table(runner: CliRunner, native_file: Path) -> None:
    result = runner.invoke(app, ["sbom", f"sbom:{native_file}"])
    assert result.exit_code == 0, result.output
    # No spinner when stderr is not a terminal: only the sample's one warning.
    assert result.stderr == "warning: /srv/broken.dist-info/METADATA: not UTF-8\n"
    lines = result.stdout.splitlines()
    assert lines[2].split() == ["NAME", "VERSION", "TYPE", "LAYER"]
    assert len(lines) == 3 + len(ids.unique_packages(sample_sbom()))


@pytest.mark.parametrize("fmt", ["json", "cyclonedx-json", "spdx-json"])
def test_each_format_to_a_file(runner: CliRunner, native_file: Path, tmp_path: Path,
                               fmt: str) -> None:
    out = tmp_path / "sub" / f"out.{fmt}"
    result = runner.invoke(app, ["sbom", f"sbom:{native_file}", "-f", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert names(read_sbom(out)) == names(sample_sbom())
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]


def test_unwritable_output_exits_2(runner: CliRunner, native_file: Path,
                                   tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = runner.invoke(app, ["sbom", f"sbom:{native_file}", "-o", str(blocker / "out.json")])
    assert result.exit_code == 2
    assert f"error: --output {blocker / 'out.json'}: cannot write" in result.stderr
    assert blocker.read_text() == "x"


def test_json_to_stdout_is_parseable(runner: CliRunner, native_file: Path) -> None:
    result = runner.invoke(app, ["sbom", f"sbom:{native_file}", "--format", "json", "-q"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["schema_version"] == 1


def test_unknown_format_exits_2_and_writes_nothing(runner: CliRunner, native_file: Path,
                                                   tmp_path: Path) -> None:
    out = tmp_path / "out.xml"
    result = runner.invoke(app, ["sbom", f"sbom:{native_file}", "-f", "xml", "-o", str(out)])
    assert result.exit_code == 2
    assert "unknown format 'xml'" in result.stderr
    assert not out.exists()


def test_missing_sbom_file_exits_2_with_where(runner: CliRunner, tmp_path: Path) -> None:
    missing = tmp_path / "absent.json"
    result = runner.invoke(app, ["sbom", f"sbom:{missing}"])
    assert result.exit_code == 2
    assert f"error: {missing}: file not found" in result.stderr
    assert "Traceback" not in result.output


def test_not_an_sbom_exits_2_with_hint(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("[]")
    result = runner.invoke(app, ["sbom", f"sbom:{path}"])
    assert result.exit_code == 2 and "expected a JSON object" in result.stderr


def test_bad_platform_exits_2(runner: CliRunner, native_file: Path) -> None:
    result = runner.invoke(app, ["sbom", f"sbom:{native_file}", "--platform", "amd64"])
    assert result.exit_code == 2 and "--platform" in result.stderr


def test_password_stdin_needs_a_username(runner: CliRunner, native_file: Path) -> None:
    result = runner.invoke(app, ["sbom", f"sbom:{native_file}", "--password-stdin"],
                           input="s3cret\n")
    assert result.exit_code == 2
    assert "--password-stdin needs --username" in result.stderr
    assert "s3cret" not in result.output


def test_warnings_go_to_stderr_not_into_the_sbom(runner: CliRunner, tmp_path: Path) -> None:
    noisy = sample_sbom()
    many = tuple(f"problem {i}" for i in range(25))
    path = tmp_path / "in.json"
    from dataclasses import replace

    path.write_text(render(replace(noisy, warnings=many), "json"))
    result = runner.invoke(app, ["sbom", f"sbom:{path}", "-f", "cyclonedx-json"])
    assert result.exit_code == 0
    assert "warning: problem 0" in result.stderr and "and 5 more" in result.stderr
    assert "problem" not in result.stdout
    json.loads(result.stdout)


def test_format_names_in_the_help_are_the_writers() -> None:
    from hullguard.cli.sbom_cmd import FORMAT_NAMES
    from hullguard.sbom import FORMATS

    assert tuple(FORMATS) == FORMAT_NAMES  # a copy only so `--help` need not import the model


def test_help_lists_every_flag(runner: CliRunner) -> None:
    result = runner.invoke(app, ["sbom", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for flag in ("--format", "--output", "--platform", "--insecure", "--username",
                 "--password-stdin", "--quiet"):
        assert flag in result.stdout


def console_script() -> list[str]:
    found = shutil.which("hullguard")
    return [found] if found else [sys.executable, "-m", "hullguard"]


def test_the_installed_console_script(native_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.cdx.json"
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    args = [*console_script(), "sbom", f"sbom:{native_file}", "-f", "cyclonedx-json"]
    first = subprocess.run([*args, "-o", str(out)], capture_output=True, text=True, env=env,
                           timeout=120, check=False)
    assert first.returncode == 0, first.stderr
    assert first.stdout == ""
    second = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120,
                            check=False)
    assert second.stdout == out.read_text()  # byte-identical across runs
    assert json.loads(out.read_text())["metadata"]["timestamp"].startswith("2023-11-14")


def test_the_console_script_exit_code_on_error(tmp_path: Path) -> None:
    result = subprocess.run([*console_script(), "sbom", f"sbom:{tmp_path / 'none.json'}"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2
    assert "file not found" in result.stderr and "Traceback" not in result.stderr


# --- end to end on a real image: the catalog engine, our writers and both peers -------------

ALPINE = "3.18.9"


@pytest.fixture(scope="module")
def alpine(alpine_archives: dict[str, Path]) -> Path:
    if ALPINE not in alpine_archives:
        missing(f"corpus has no alpine {ALPINE} minirootfs")
    return alpine_archives[ALPINE]


@pytest.fixture(scope="module")
def trivy_own_listing(alpine: Path, tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """name@version of every package trivy finds in the image itself."""
    from tests.sbom import peers
    from tests.support.env import TRIVY_OFFLINE, trivy

    workdir = tmp_path_factory.mktemp("trivy-own")
    result = peers.run([trivy(), "image", "--input", str(alpine), *TRIVY_OFFLINE, "--format",
                        "json", "--list-all-pkgs", "--scanners", ""], workdir)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    return {f"{p['Name']}@{p['Version']}" for r in report["Results"] for p in r["Packages"]}


@pytest.mark.parametrize("fmt", ["cyclonedx-json", "spdx-json"])
def test_real_image_sbom_is_read_by_trivy_like_its_own_scan(
        runner: CliRunner, alpine: Path, tmp_path: Path, fmt: str,
        trivy_own_listing: set[str]) -> None:
    from tests.sbom import peers

    out = tmp_path / f"alpine.{fmt}.json"
    result = runner.invoke(app, ["sbom", f"docker-archive:{alpine}", "-f", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.output
    listed = peers.trivy_list(out)
    assert listed.returncode == 0 and peers.complaints(listed.stderr) == []
    report = json.loads(listed.stdout)
    assert {f"{p['Name']}@{p['Version']}" for r in report["Results"]
            for p in r["Packages"]} == trivy_own_listing
    assert report["Metadata"]["OS"] == {"Family": "alpine", "Name": ALPINE}


@pytest.mark.parametrize("fmt", ["cyclonedx-json", "spdx-json"])
def test_real_image_sbom_converts_with_syft(runner: CliRunner, alpine: Path, tmp_path: Path,
                                            fmt: str) -> None:
    from tests.sbom import peers

    out = tmp_path / f"alpine.{fmt}.json"
    assert runner.invoke(app, ["sbom", f"docker-archive:{alpine}", "-f", fmt, "-o",
                               str(out)]).exit_code == 0
    converted = peers.syft_convert(out)
    assert converted.returncode == 0 and peers.complaints(converted.stderr) == []
    ours = read_sbom(out)
    artifacts = json.loads(converted.stdout)["artifacts"]
    assert sorted((a["name"], a["version"]) for a in artifacts if a["type"]) == sorted(
        (p.name, p.version) for p in ours.packages)


def test_real_image_formats_are_valid_and_deterministic(alpine: Path, tmp_path: Path) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    texts = {}
    for fmt in ("cyclonedx-json", "spdx-json", "json", "table"):
        runs = [subprocess.run([*console_script(), "sbom", f"docker-archive:{alpine}", "-f", fmt],
                               capture_output=True, text=True, env=env, timeout=120,
                               check=False) for _ in range(2)]
        assert [r.returncode for r in runs] == [0, 0], runs[0].stderr
        assert runs[0].stdout == runs[1].stdout, f"{fmt} differs between runs"
        texts[fmt] = runs[0].stdout
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(texts["cyclonedx-json"]) is None
    (tmp_path / "a.spdx.json").write_text(texts["spdx-json"])
    assert validate_full_spdx_document(parse_file(str(tmp_path / "a.spdx.json"))) == []


def test_missing_image_file_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["sbom", f"docker-archive:{tmp_path / 'none.tar'}"])
    assert result.exit_code == 2
    assert str(tmp_path / "none.tar") in result.stderr and "Traceback" not in result.output


def test_bad_reference_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(app, ["sbom", "UPPER/Case"])
    assert result.exit_code == 2 and "lowercase" in result.stderr


# --- from a real registry (docker-registry on 127.0.0.1, tests/support/registry.py) ---------


def alpine_layout(tarball_root: Path, out: Path, platforms: list[tuple[str, str]]) -> Path:
    from hullguard.images.builder import ImageSpec, rootfs_layer, write_oci_layout
    from tests.support.env import alpine_tarballs

    tarball = next(t for t in alpine_tarballs() if f"-{ALPINE}-" in t.name)
    specs = [ImageSpec([rootfs_layer(tarball)], config={"Cmd": ["/bin/sh"]}, architecture=arch,
                       variant=variant) for arch, variant in platforms]
    return write_oci_layout(out, specs if len(specs) > 1 else specs[0], tag=ALPINE)


def test_registry_with_token_auth_and_password_stdin(
        runner: CliRunner, token_registry: registry_support.RegistryServer, tmp_path: Path,
        alpine: Path) -> None:
    from hullguard.images.registry import Credentials, RegistryClient, push_layout

    layout = alpine_layout(tmp_path, tmp_path / "layout", [("amd64", "")])
    creds = Credentials(token_registry.username, token_registry.password, origin="test")
    with RegistryClient(token_registry.host, credentials=creds) as client:
        pushed = push_layout(client, layout, "cli/alpine", ALPINE)
    ref = token_registry.ref("cli/alpine", ALPINE)
    result = runner.invoke(app, ["sbom", ref, "-f", "json", "-u", token_registry.username,
                                 "--password-stdin"], input=token_registry.password + "\n")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["image"]["digest"] == str(pushed) and doc["image"]["source_kind"] == "registry"
    from_archive = runner.invoke(app, ["sbom", f"docker-archive:{alpine}", "-f", "json"])
    assert [p["purl"] for p in doc["packages"]] == [
        p["purl"] for p in json.loads(from_archive.stdout)["packages"]]
    assert token_registry.password not in result.output


def test_registry_wrong_password_exits_2_without_echoing_it(
        runner: CliRunner, token_registry: registry_support.RegistryServer) -> None:
    wrong = "Wrong-Password-777"
    result = runner.invoke(app, ["sbom", token_registry.ref("cli/alpine", ALPINE), "-u",
                                 token_registry.username, "--password-stdin"],
                           input=wrong + "\n")
    assert result.exit_code == 2
    assert wrong not in result.output and "Traceback" not in result.output


def test_registry_platform_selection(runner: CliRunner, tmp_path: Path, alpine: Path,
                                     registry_server: registry_support.RegistryServer) -> None:
    from hullguard.images.registry import RegistryClient, push_layout

    layout = alpine_layout(tmp_path, tmp_path / "multi",
                           [("amd64", ""), ("arm64", "v8")])
    with RegistryClient(registry_server.host) as client:
        push_layout(client, layout, "cli/multi", ALPINE)
    ref = registry_server.ref("cli/multi", ALPINE)
    arm = runner.invoke(app, ["sbom", ref, "-f", "json", "--platform", "linux/arm64/v8"])
    assert arm.exit_code == 0, arm.output
    assert json.loads(arm.stdout)["image"]["platform"]["architecture"] == "arm64"
    absent = runner.invoke(app, ["sbom", ref, "--platform", "linux/s390x"])
    assert absent.exit_code == 2 and "s390x" in absent.stderr


def stderr_on_a_terminal(args: list[str]) -> tuple[int, bytes, str]:
    """Run the real script with stderr on a pseudo-terminal (stdout piped)."""
    import pty

    controller, terminal = pty.openpty()
    try:
        done = subprocess.run([*console_script(), *args], stdout=subprocess.PIPE,
                              stderr=terminal, timeout=120, check=False,
                              env={**os.environ, "TERM": "xterm", "COLUMNS": "100"})
    finally:
        os.close(terminal)
    chunks = []
    try:
        while chunk := _read_or_eof(controller):
            chunks.append(chunk)
    finally:
        os.close(controller)
    return done.returncode, b"".join(chunks), done.stdout.decode()


def _read_or_eof(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the terminal side is closed and drained
        return b""


def test_progress_on_a_terminal_and_quiet_turns_it_off(alpine: Path) -> None:
    code, shown, stdout = stderr_on_a_terminal(["sbom", f"docker-archive:{alpine}"])
    # The spinner starts with "cataloging IMAGE" and the engine updates it per layer.
    assert code == 0 and (b"cataloging" in shown or b"layer 1/1" in shown), shown
    assert "cataloging" not in stdout and "layer 1/1" not in stdout and "musl" in stdout
    code, shown, _ = stderr_on_a_terminal(["sbom", f"docker-archive:{alpine}", "--quiet"])
    assert code == 0 and shown == b""
