"""Every command and subcommand, driven through the mistakes users make: a missing input, a
directory where a file belongs and a file where a directory belongs, an output that cannot be
written, a garbage image file, a wrong flag. Each must end in one clear error and exit code 2,
never a traceback (or exit code 3, the "bug" code).

The commands are enumerated from the typer app, so a new command is covered without editing
this file; its parameters are classified by name (ROLES below): a new parameter name that is
not classified fails ``test_every_parameter_is_classified`` until it is added here.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from hullguard.cli.main import app
from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec, write_docker_archive

UNWRITABLE = "/proc/hullguard-no-such-dir/out"  # /proc: not even root can create files there
MISSING = "/nonexistent-hullguard/input"

# What each parameter (by its Python name) is, for building the mistakes.
ROLES: dict[str, str] = {
    # positional inputs
    "image": "image", "images": "image", "target": "image", "paths": "path",
    "vuln_id": "text", "package": "text",
    # input files (must exist and be files)
    "vex": "in-file", "ignore_file": "in-file", "allowlist": "in-file",
    "criticality_config": "in-file", "criticality": "in-file", "config": "in-file",
    "kubeconfig": "in-file",
    # outputs
    "output": "out-file", "out": "out-dir", "state": "out-dir", "store": "out-file",
    # --db: read by most commands, written by db import / update
    "db": "db",
    # flags and values that cannot name a path
    "fmt": "other", "severity": "other", "ignore_unfixed": "other", "fail_on": "other",
    "platform": "other", "insecure": "other", "no_store": "other", "max_age_days": "other",
    "quiet": "other", "username": "other", "password_stdin": "other", "level": "other",
    "max_file_size": "other", "demo": "other", "image_map": "other", "offline": "other",
    "cluster": "other", "context": "other", "workers": "other", "no_secrets": "other",
    "sla": "other", "no_packages": "other", "source": "other", "url": "other",
    # parameters other branches add (classified ahead of the merge)
    "env_file": "in-file", "env": "other", "wait": "other", "deadline": "other",
    "allow_private_registries": "other", "registry_deadline": "other",
    "fail_on_uncovered": "other",
    # respond --posture (the targets are checked before any work)
    "posture": "other", "posture_level": "other", "posture_api_url": "other",
    "posture_ca_file": "in-file",
    # trust: keys, predicates, signature placement
    "key": "in-file", "predicate": "in-file", "predicate_name": "other", "layout": "other",
    "signature_repo": "other", "annotation": "other", "out_prefix": "out-prefix",
    "force": "other",
    # verify keyless: a trusted root file and the signer's identity
    "trusted_root": "in-file", "certificate_identity": "other",
    "certificate_identity_regexp": "other", "certificate_oidc_issuer": "other",
    # contain / remediate
    "inputs": "path", "workload": "other", "metrics_port": "other", "logging_port": "other",
    "writable": "other", "priority": "other", "base": "other", "monitoring_namespace": "other",
    "logging_namespace": "other", "dns_namespace": "other", "cluster_dns_ip": "other",
    "run_as_user": "other", "dockerfile": "other", "digest": "other", "patched": "other",
    "base_candidates": "other",
    # forensics
    "specs": "text", "case": "in-dir", "iocs": "in-file", "yara_rules": "in-path",
    "query": "text", "threshold": "other", "window": "other", "usual_hours": "other",
    "limit": "other", "since": "other", "until": "other",
    # respond's follow-up steps
    "contain": "other", "remediate": "other", "logs": "other", "yara": "in-path",
    # mirror
    "to": "other", "all_platforms": "other", "tags": "other", "no_signatures": "other",
    "jobs": "other", "chunk_size": "other", "output_format": "other", "name_map": "in-file",
    "mapping": "out-file", "cache_dir": "out-dir", "docker_config": "in-file",
    # the per-layer record cache (--layer-cache DIR|off)
    "layer_cache": "out-dir",
    # posture
    "org": "other", "api_url": "other", "ca_file": "in-file",
    # gate
    "targets": "image", "policy_file": "in-file", "json_file": "out-file",
    "sarif_file": "out-file", "stage": "other", "signature_format": "other", "name": "other",
    "plan_file": "out-file",
    # pin
    "map_file": "in-file", "mirror": "other", "write": "other",
    "diff": "other", "kustomize": "out-file", "fail_on_unpinned": "other",
    # serve, token
    "host": "other", "port": "other", "webhook_secret": "other", "registry": "other",
    "queue_size": "other", "scope": "other", "expires_days": "other", "token_id": "text",
    # monitor
    "interval": "other", "full_every": "other", "watch_dir": "in-dir", "watch_repo": "other",
    "alert": "other", "digest_mode": "other", "dashboard_url": "other", "once": "other",
    # worker, --executor celery
    "broker": "other", "queues": "other", "concurrency": "other", "executor": "other",
}
WRITING_DB = {("db", "import"), ("db", "update")}


@dataclass(frozen=True)
class Case:
    command: tuple[str, ...]
    mistake: str
    args: tuple[str, ...]

    def __str__(self) -> str:
        return f"{' '.join(self.command)}: {self.mistake}"


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for name, command in sorted(group.commands.items()):
        if hasattr(command, "commands"):  # a group (click may be vendored inside typer)
            yield from _commands(command, (*prefix, name))
        else:
            yield (*prefix, name), command


@functools.cache
def all_commands() -> tuple[tuple[tuple[str, ...], Any], ...]:
    return tuple(_commands(typer.main.get_command(app)))


def _role(path: tuple[str, ...], param: Any) -> str:
    role = ROLES.get(str(param.name), "unclassified")
    if role == "db":
        return "out-file" if path in WRITING_DB else "in-file"
    if param.name == "image" and path[0] == "graph":
        return "text"  # graph blast-radius/lineage look a name up in the store
    if param.name == "target" and path == ("secrets",):
        return "path"  # any file is something to scan for secrets, garbage included
    if param.name == "image" and path == ("respond",):
        return "other"  # --image REF=SOURCE pairs
    if param.name == "case" and path == ("forensics", "ingest"):
        return "out-dir"  # ingest creates the case's database
    if param.name == "image" and path[:2] == ("forensics", "query"):
        return "text"  # a name or digest looked up in the case's events
    return role


def _flag(param: Any) -> str:
    return str(max(param.opts, key=len))


def _is_argument(param: Any) -> bool:
    return param.param_type_name == "argument"  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Fixtures:
    image: Path
    dockerfile: Path
    directory: Path
    garbage: Path
    file: Path
    private_key: Path
    public_key: Path
    registry_config: Path
    iocs: Path


PASSWORD = "mistakes-password"  # the throwaway test key's password


def _required_option(path: tuple[str, ...], param: Any, fx: Fixtures) -> str:
    """A valid value for a required option, so its absence is not the error under test."""
    values = {"key": str(fx.public_key if path[0].startswith("verify") else fx.private_key),
              "org": "example", "url": "https://127.0.0.1:9",
              "config": str(fx.registry_config), "to": "127.0.0.1:9/mirror"}
    return values[str(param.name)]


def _arguments(path: tuple[str, ...], command: Any, fx: Fixtures) -> list[str]:
    """Valid values for the positional arguments, in order."""
    args: list[str] = []
    for param in (p for p in command.params if _is_argument(p)):
        role = _role(path, param)
        if role == "image":
            args.append(str(fx.image))
        elif role == "path":
            args.append(str(fx.dockerfile))
        else:
            args.append("CVE-2000-0001" if param.name == "vuln_id" else "openssl")
    return args


def _options(path: tuple[str, ...], command: Any, fx: Fixtures) -> list[str]:
    """Valid values for the required options, and --offline where there is one."""
    args: list[str] = []
    for param in (p for p in command.params if not _is_argument(p)):
        if param.required:
            args += [_flag(param), _required_option(path, param, fx)]
        elif _flag(param) == "--offline":
            args.append("--offline")
    if path == ("forensics", "ioc"):  # needs some indicators before it looks at anything else
        args += ["--iocs", str(fx.iocs)]
    return args


def _baseline(path: tuple[str, ...], command: Any, fx: Fixtures) -> list[str]:
    return _arguments(path, command, fx) + _options(path, command, fx)


def _with_option(base: list[str], flag: str, value: str) -> tuple[str, ...]:
    return (*base, flag, value)


def _replace_arguments(path: tuple[str, ...], command: Any, fx: Fixtures,
                       role: str, value: str) -> tuple[str, ...] | None:
    values = _arguments(path, command, fx)
    arguments = [p for p in command.params if _is_argument(p)]
    positions = [i for i, p in enumerate(arguments) if _role(path, p) == role]
    if not positions:
        return None
    for index in positions:
        values[index] = value
    return (*values, *_options(path, command, fx))


def cases(fx: Fixtures) -> list[Case]:
    found: list[Case] = []
    for path, command in all_commands():
        base = _baseline(path, command, fx)
        found.append(Case(path, "wrong flag", (*base, "--no-such-flag")))
        for role, mistake, value in (("image", "missing image", MISSING),
                                     ("path", "missing input", MISSING),
                                     ("image", "garbage image file", str(fx.garbage))):
            args = _replace_arguments(path, command, fx, role, value)
            if args is not None:
                found.append(Case(path, mistake, args))
        for param in command.params:
            if _is_argument(param):
                continue
            role, flag = _role(path, param), _flag(param)
            if role == "in-file":
                found.append(Case(path, f"{flag} missing", _with_option(base, flag, MISSING)))
                found.append(Case(path, f"{flag} directory for a file",
                                  _with_option(base, flag, str(fx.directory))))
            elif role == "out-file":
                found.append(Case(path, f"{flag} unwritable",
                                  _with_option(base, flag, UNWRITABLE)))
                found.append(Case(path, f"{flag} directory for a file",
                                  _with_option(base, flag, str(fx.directory))))
                found.append(Case(path, f"{flag} under a file",
                                  _with_option(base, flag, str(fx.file / "x"))))
            elif role == "in-dir":
                found.append(Case(path, f"{flag} missing", _with_option(base, flag, MISSING)))
                found.append(Case(path, f"{flag} file for a directory",
                                  _with_option(base, flag, str(fx.file))))
            elif role == "in-path":
                found.append(Case(path, f"{flag} missing", _with_option(base, flag, MISSING)))
            elif role == "out-prefix":
                found.append(Case(path, f"{flag} unwritable",
                                  _with_option(base, flag, UNWRITABLE)))
                found.append(Case(path, f"{flag} under a file",
                                  _with_option(base, flag, str(fx.file / "x"))))
            elif role == "out-dir":
                found.append(Case(path, f"{flag} unwritable",
                                  _with_option(base, flag, UNWRITABLE)))
                found.append(Case(path, f"{flag} file for a directory",
                                  _with_option(base, flag, str(fx.file))))
    return found


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> Fixtures:
    root = tmp_path_factory.mktemp("mistakes")
    image = write_docker_archive(root / "img.tar", ImageSpec([LayerSpec((FileSpec(
        "etc/os-release", b"ID=alpine\nVERSION_ID=3.18.4\n"),))]))
    dockerfile = root / "Dockerfile"
    dockerfile.write_text("FROM alpine:3.18\nUSER 10001\n")
    directory = root / "a-directory"
    directory.mkdir()
    garbage = root / "garbage.img"
    garbage.write_bytes(bytes(range(256)) * 64)
    file = root / "a-file"
    file.write_text("not a directory\n")
    keys = root / "keys"
    keys.mkdir()
    made = CliRunner(env={"COSIGN_PASSWORD": PASSWORD}).invoke(
        app, ["keygen", "--out-prefix", str(keys / "cosign")])
    assert made.exit_code == 0, made.stderr
    registry_config = root / "config.yml"
    registry_config.write_text("version: 0.1\nhttp:\n  addr: 127.0.0.1:5000\n")
    iocs = root / "iocs.txt"
    iocs.write_text("string:planted-indicator\n")
    return Fixtures(image, dockerfile, directory, garbage, file, keys / "cosign.key",
                    keys / "cosign.pub", registry_config, iocs)


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> CliRunner:
    home = tmp_path_factory.mktemp("home")  # default db/store/config land here, not in ~
    return CliRunner(env={"HOME": str(home), "XDG_DATA_HOME": str(home / "data"),
                          "XDG_CONFIG_HOME": str(home / "config"), "HULLGUARD_DB": None,
                          "HULLGUARD_STORE": None, "HULLGUARD_CONFIG": None,
                          "KUBECONFIG": str(home / "no-kubeconfig"),
                          "COSIGN_PASSWORD": PASSWORD})


def _usage_error(stderr: str) -> bool:
    """typer's own refusal (exit 2 with a usage box), e.g. a directory for dir_okay=False."""
    return stderr.startswith("Usage: ") and "Invalid value" in stderr


def test_every_parameter_is_classified() -> None:
    unclassified = {f"{' '.join(path)} {param.name}" for path, command in all_commands()
                    for param in command.params if _role(path, param) == "unclassified"}
    assert not unclassified, f"add these parameters to ROLES: {sorted(unclassified)}"


def test_every_command_turns_every_mistake_into_one_error(
        runner: CliRunner, fixtures: Fixtures, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # default outputs (respond's ./incident) land here, if at all
    every = cases(fixtures)
    assert len({c.command for c in every}) == len(all_commands()) >= 15
    failures = []
    for case in every:
        result = runner.invoke(app, [*case.command, *case.args])
        output = result.stdout + result.stderr
        if result.exit_code != 2 or "Traceback" in output or (result.exception and not \
                isinstance(result.exception, SystemExit)):
            failures.append(f"{case} -> exit {result.exit_code}: "
                            f"{(result.stderr or repr(result.exception))[-300:]!r}")
        elif case.mistake != "wrong flag" and not _usage_error(result.stderr):
            lines = [line for line in result.stderr.splitlines() if "error:" in line]
            if len(lines) != 1:
                failures.append(f"{case}: expected one 'error:' line, got {result.stderr!r}")
    assert not failures, f"{len(failures)} of {len(every)} cases:\n" + "\n".join(failures)
    assert not Path(UNWRITABLE).parent.exists()
    assert not list(tmp_path.iterdir()), "a mistake wrote output"
    print(f"{len(every)} mistake cases over {len(all_commands())} commands")
