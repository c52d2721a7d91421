"""Where registry credentials come from, in order:

1. ``--username`` / ``--password`` (``SourceOptions``): explicit always wins;
2. ``credHelpers[host]`` of the Docker config: ``docker-credential-NAME get``;
3. ``credsStore`` of the Docker config (the default helper for every host);
4. ``auths[host]`` of the Docker config: base64 ``auth``, ``username``/``password``, or
   ``identitytoken`` (an OAuth2 refresh token);
5. anonymous.

The config is ``options.docker_config``, else ``$DOCKER_CONFIG/config.json``, else
``~/.docker/config.json``. A missing config is normal; a malformed one is an InputError.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import selectors
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hullguard.errors import AuthError, InputError

DOCKER_HUB_KEY = "https://index.docker.io/v1/"
DOCKER_HUB_HOSTS = ("docker.io", "index.docker.io", "registry-1.docker.io", "registry.docker.io")
HELPER_TIMEOUT = 20.0
MAX_HELPER_OUTPUT = 1 << 20  # a helper's JSON answer is a few hundred bytes
MAX_HELPER_STDERR = 64 << 10
MAX_CONFIG_BYTES = 4 << 20
_HELPER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Credentials:
    """A username and a secret; ``repr`` never shows the secret."""

    username: str = ""
    password: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)
    origin: str = ""  # where they came from, for messages: "--username", "credHelpers[x]"

    @property
    def secrets(self) -> tuple[str, ...]:
        basic = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return tuple(s for s in (self.password, self.identity_token, basic) if s)


def config_path(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get("DOCKER_CONFIG"):
        return Path(os.environ["DOCKER_CONFIG"]).expanduser() / "config.json"
    return Path.home() / ".docker" / "config.json"


def normalize_key(key: str) -> str:
    """``https://host:5000/v2/`` -> ``host:5000``; Docker Hub aliases -> ``docker.io``."""
    text = key.strip()
    host = urlsplit(text).netloc if "://" in text else text.split("/")[0]
    host = host.lower()
    return "docker.io" if host in DOCKER_HUB_HOSTS else host


def helper_server_url(registry: str) -> str:
    """What credential helpers are asked for: Docker Hub's legacy URL, else the host."""
    return DOCKER_HUB_KEY if normalize_key(registry) == "docker.io" else registry


def load_docker_config(path: Path) -> dict[str, Any]:
    """The parsed config, ``{}`` when absent."""
    try:
        raw = path.read_bytes()[:MAX_CONFIG_BYTES + 1]
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise InputError(f"cannot read Docker config: {error.strerror}", where=str(path)) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise InputError("Docker config is larger than 4 MiB", where=str(path))
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise InputError(f"Docker config is not valid JSON ({error})", where=str(path)) from None
    if not isinstance(doc, dict):
        raise InputError("Docker config is not a JSON object", where=str(path))
    return doc


def find_credentials(registry: str, *, username: str | None = None,
                     password: str | None = None,
                     docker_config: str | None = None) -> Credentials | None:
    """Credentials for ``registry`` (a host[:port]) by the documented order, or None."""
    if username or password:
        return Credentials(username or "", password or "", origin="--username/--password")
    path = config_path(docker_config)
    doc = load_docker_config(path)
    key = normalize_key(registry)
    helpers = doc.get("credHelpers")
    if isinstance(helpers, dict):
        helper = next((v for k, v in helpers.items() if normalize_key(str(k)) == key), None)
        if isinstance(helper, str) and helper:
            return run_helper(helper, registry, where=f"{path}: credHelpers")
    store = doc.get("credsStore")
    if isinstance(store, str) and store:
        found = run_helper(store, registry, where=f"{path}: credsStore", required=False)
        if found:
            return found
    return _from_auths(doc.get("auths"), key, where=str(path))


def _from_auths(auths: object, key: str, where: str) -> Credentials | None:
    if not isinstance(auths, dict):
        return None
    for name, entry in auths.items():
        if normalize_key(str(name)) == key and isinstance(entry, dict):
            return _entry_credentials(entry, f"{where}: auths[{name}]")
    return None


def _entry_credentials(entry: dict[str, Any], where: str) -> Credentials | None:
    username, password = str(entry.get("username") or ""), str(entry.get("password") or "")
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        username, password = _decode_auth(encoded, where)
    token = entry.get("identitytoken")
    identity = token if isinstance(token, str) else ""
    if not (password or identity):
        return None
    return Credentials(username, password, identity, origin=where)


def _decode_auth(encoded: str, where: str) -> tuple[str, str]:
    try:
        text = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InputError("the 'auth' value is not base64 of user:password", where=where) from None
    username, sep, password = text.partition(":")
    if not sep:
        raise InputError("the 'auth' value does not contain user:password", where=where)
    return username, password


def run_helper(name: str, registry: str, *, where: str,
               required: bool = True) -> Credentials | None:
    """Ask ``docker-credential-NAME get``; None when it knows no credentials for the host.

    ``required`` False (a credsStore) turns a missing or failing helper into None, as the
    Docker CLI falls back to the config file then.
    """
    if not _HELPER_NAME.match(name):
        raise InputError(f"credential helper name {name!r} is not valid", where=where)
    try:
        done = _run_bounded([f"docker-credential-{name}", "get"],
                            helper_server_url(registry).encode(), where)
    except FileNotFoundError:
        if not required:
            return None
        raise AuthError(f"credential helper docker-credential-{name} is not on PATH",
                        where=where) from None
    return _helper_answer(name, done, where, required)


def _run_bounded(argv: list[str], data: bytes,
                 where: str) -> subprocess.CompletedProcess[bytes]:
    """Run a helper with ``data`` on stdin; its output is read up to MAX_HELPER_OUTPUT
    (stdout) and MAX_HELPER_STDERR (stderr) within HELPER_TIMEOUT, else it is killed and
    AuthError raised. (``subprocess.run(capture_output=True)`` keeps everything a helper
    writes: one writing endlessly took the process to gigabytes.)"""
    process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    try:
        assert process.stdin is not None
        try:
            process.stdin.write(data)
            process.stdin.close()
        except BrokenPipeError:
            pass  # it does not read its input; its answer will say so
        ends = time.monotonic() + HELPER_TIMEOUT
        out, err = _drain(process, ends, argv[0], where)
        code = process.wait(timeout=max(ends - time.monotonic(), 0.01))
    except subprocess.TimeoutExpired:
        raise _helper_timeout(argv[0], where) from None
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    return subprocess.CompletedProcess(argv, code, out, err)


def _drain(process: subprocess.Popen[bytes], ends: float, helper: str,
           where: str) -> tuple[bytes, bytes]:
    """Both output pipes until they close, each bounded, before ``ends``."""
    limits = {process.stdout: MAX_HELPER_OUTPUT, process.stderr: MAX_HELPER_STDERR}
    buffers: dict[object, bytearray] = {stream: bytearray() for stream in limits}
    with selectors.DefaultSelector() as selector:
        for stream in limits:
            selector.register(stream, selectors.EVENT_READ)  # type: ignore[arg-type]
        while selector.get_map():
            left = ends - time.monotonic()
            if left <= 0:
                raise _helper_timeout(helper, where)
            for key, _ in selector.select(left):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                    continue
                buffers[key.fileobj].extend(chunk)
                if len(buffers[key.fileobj]) > limits[key.fileobj]:  # type: ignore[index]
                    raise AuthError(f"credential helper {helper} wrote more than "
                                    f"{limits[key.fileobj]} bytes", where=where)  # type: ignore[index]
    return bytes(buffers[process.stdout]), bytes(buffers[process.stderr])


def _helper_timeout(helper: str, where: str) -> AuthError:
    return AuthError(f"credential helper {helper} did not answer within "
                     f"{HELPER_TIMEOUT:.0f} s", where=where)


def _helper_answer(name: str, done: subprocess.CompletedProcess[bytes], where: str,
                   required: bool) -> Credentials | None:
    if done.returncode != 0:
        # The helper's own stdout/stderr could echo a secret: report only the exit code,
        # and treat its documented "not found" as no credentials.
        if b"credentials not found" in done.stdout + done.stderr or not required:
            return None
        raise AuthError(f"credential helper docker-credential-{name} failed "
                        f"(exit {done.returncode})", where=where)
    try:
        doc = json.loads(done.stdout)
        username, secret = str(doc.get("Username", "")), str(doc.get("Secret", ""))
    except (ValueError, AttributeError):
        raise AuthError(f"credential helper docker-credential-{name} answered something "
                        "that is not its JSON", where=where) from None
    if not secret:
        return None
    origin = f"docker-credential-{name}"
    if username == "<token>":  # the helper protocol's marker for an identity token
        return Credentials("", "", secret, origin=origin)
    return Credentials(username, secret, origin=origin)
