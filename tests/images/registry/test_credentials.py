"""Credentials from options, Docker config files and real credential-helper programs (small
scripts put on PATH by the tests, speaking the docker-credential-helpers protocol)."""

from __future__ import annotations

import base64
import json
import os
import sys
from pathlib import Path

import pytest

from hullguard.errors import AuthError, InputError
from hullguard.images.api import SourceOptions
from hullguard.images.reference import parse_reference
from hullguard.images.registry import Credentials, RegistryClient, open_registry_image
from hullguard.images.registry import credentials as credmod
from hullguard.images.registry.credentials import find_credentials
from tests.images.registry.conftest import Layouts
from tests.support.registry import FakeRegistry, Handler, RegistryServer


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def write_config(tmp_path: Path, doc: dict[str, object]) -> str:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(doc))
    return str(path)


HELPER = """#!{python}
import json, sys, time
server = sys.stdin.read().strip()
with open({log!r}, "a") as log:
    log.write(server + "\\n")
{body}
"""


def install_helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str,
                   body: str) -> Path:
    """Put ``docker-credential-NAME`` on PATH; returns the file logging what it was asked."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp_path / f"{name}.log"
    script = bin_dir / f"docker-credential-{name}"
    script.write_text(HELPER.format(python=sys.executable, log=str(log), body=body))
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def answer(username: str, secret: str) -> str:
    doc = {"ServerURL": "x", "Username": username, "Secret": secret}
    return f"print(json.dumps({doc!r}))"


NOT_FOUND = 'print("credentials not found in native keychain"); sys.exit(1)'


def test_auths_forms(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"auths": {
        "https://index.docker.io/v1/": {"auth": b64("hub:hubpw")},
        "https://reg.example.com:5000/v2/": {"username": "u", "password": "p"},
        "tok.example.com": {"identitytoken": "refresh-abc"},
        "empty.example.com": {}}})
    hub = find_credentials("docker.io", docker_config=config)
    assert hub and (hub.username, hub.password) == ("hub", "hubpw")
    reg = find_credentials("reg.example.com:5000", docker_config=config)
    assert reg and (reg.username, reg.password) == ("u", "p")
    tok = find_credentials("tok.example.com", docker_config=config)
    assert tok and tok.identity_token == "refresh-abc"
    assert find_credentials("empty.example.com", docker_config=config) is None
    assert find_credentials("other.example.com", docker_config=config) is None


def test_explicit_options_win(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"auths": {"r.io": {"auth": b64("file:filepw")}}})
    found = find_credentials("r.io", username="cli", password="clipw", docker_config=config)
    assert found and (found.username, found.password) == ("cli", "clipw")


def test_docker_config_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(tmp_path, {"auths": {"r.io": {"auth": b64("env:envpw")}}})
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    found = find_credentials("r.io")
    assert found and found.password == "envpw"


def test_missing_config_is_anonymous(tmp_path: Path) -> None:
    assert find_credentials("r.io", docker_config=str(tmp_path / "nope.json")) is None


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not valid JSON"), ("[1, 2]", "not a JSON object"),
    ('{"auths": {"r.io": {"auth": "%%%"}}}', "not base64"),
    ('{"auths": {"r.io": {"auth": "' + b64("nocolon") + '"}}}', "user:password"),
    ('{"credHelpers": {"r.io": "../../bin/sh"}}', "not valid"),
])
def test_malformed_config(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        find_credentials("r.io", docker_config=str(path))


def test_cred_helper_for_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = install_helper(tmp_path, monkeypatch, "hgtest", answer("helper-user", "helper-pw"))
    config = write_config(tmp_path, {"credHelpers": {"r.io:5000": "hgtest"},
                                     "auths": {"r.io:5000": {"auth": b64("file:filepw")}}})
    found = find_credentials("r.io:5000", docker_config=config)
    assert found and (found.username, found.password) == ("helper-user", "helper-pw")
    assert log.read_text() == "r.io:5000\n"


def test_cred_helper_for_docker_hub_gets_legacy_url(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    log = install_helper(tmp_path, monkeypatch, "hghub", answer("<token>", "identity-xyz"))
    config = write_config(tmp_path, {"credsStore": "hghub"})
    found = find_credentials("docker.io", docker_config=config)
    assert found and found.identity_token == "identity-xyz" and not found.password
    assert log.read_text() == "https://index.docker.io/v1/\n"


def test_creds_store_not_found_falls_back_to_auths(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    install_helper(tmp_path, monkeypatch, "hgnone", NOT_FOUND)
    config = write_config(tmp_path, {"credsStore": "hgnone",
                                     "auths": {"r.io": {"auth": b64("file:filepw")}}})
    found = find_credentials("r.io", docker_config=config)
    assert found and found.password == "filepw"


def test_creds_store_missing_program_falls_back(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"credsStore": "hullguard-no-such-helper",
                                     "auths": {"r.io": {"auth": b64("file:filepw")}}})
    found = find_credentials("r.io", docker_config=config)
    assert found and found.password == "filepw"


def test_cred_helper_missing_program_is_an_error(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"credHelpers": {"r.io": "hullguard-no-such-helper"}})
    with pytest.raises(AuthError, match="not on PATH"):
        find_credentials("r.io", docker_config=config)


def test_cred_helper_failure_does_not_echo_its_output(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    install_helper(tmp_path, monkeypatch, "hgfail",
                   'print("leaked-secret-in-stderr", file=sys.stderr); sys.exit(3)')
    config = write_config(tmp_path, {"credHelpers": {"r.io": "hgfail"}})
    with pytest.raises(AuthError) as caught:
        find_credentials("r.io", docker_config=config)
    assert "exit 3" in caught.value.message and "leaked" not in str(caught.value)


def test_cred_helper_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_helper(tmp_path, monkeypatch, "hgslow", "time.sleep(30)")
    monkeypatch.setattr(credmod, "HELPER_TIMEOUT", 0.5)
    config = write_config(tmp_path, {"credHelpers": {"r.io": "hgslow"}})
    with pytest.raises(AuthError, match="did not answer"):
        find_credentials("r.io", docker_config=config)


def test_cred_helper_garbage_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_helper(tmp_path, monkeypatch, "hgjunk", 'print("<html>")')
    config = write_config(tmp_path, {"credHelpers": {"r.io": "hgjunk"}})
    with pytest.raises(AuthError, match="not its JSON"):
        find_credentials("r.io", docker_config=config)


def test_repr_hides_secrets() -> None:
    creds = Credentials("bob", "pw-Visible?", "idtok-Visible?")
    assert "pw-Visible?" not in repr(creds) and "idtok-Visible?" not in repr(creds)


def test_pull_with_cred_helper_from_real_registry(tls_registry: RegistryServer, layouts: Layouts,
                                                  tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    with RegistryClient(tls_registry.host, ca_file=str(tls_registry.ca_file),
                        credentials=Credentials(tls_registry.username,
                                                tls_registry.password)) as client:
        from hullguard.images.registry import push_layout

        digest = push_layout(client, layouts.single, "helper/single", "v1")
    log = install_helper(tmp_path, monkeypatch, "hgreal",
                         answer(tls_registry.username, tls_registry.password))
    config = write_config(tmp_path, {"credHelpers": {tls_registry.host: "hgreal"}})
    reference = parse_reference(tls_registry.ref("helper/single", "v1"))
    with open_registry_image(reference, SourceOptions(docker_config=config),
                             ca_file=str(tls_registry.ca_file)) as source:
        assert source.info.digest == digest
    assert log.read_text() == f"{tls_registry.host}\n"


def test_identity_token_is_exchanged_as_refresh_token(tmp_path: Path) -> None:
    """An ``identitytoken`` goes to the realm as an OAuth2 refresh-token POST, not Basic."""
    fake = FakeRegistry()
    try:
        forms: list[str] = []

        def token(handler: Handler) -> None:
            forms.append(handler.read_body().decode())
            handler.reply(200, b'{"access_token": "acc-998877"}')
        fake.routes[("POST", "/token")] = token
        fake.routes["/v2/"] = lambda h: h.reply(401, headers={
            "WWW-Authenticate": f'Bearer realm="http://{fake.host}/token",service="s"'})
        fake.routes["/v2/r/tags/list"] = lambda h: h.reply(
            200 if h.headers.get("Authorization") == "Bearer acc-998877" else 401,
            b'{"tags": ["ok"]}')
        creds = Credentials("", "", "refresh-Secret-1", origin="test")
        with RegistryClient(fake.host, credentials=creds) as client:
            assert client.list_tags("r") == ["ok"]
        assert "grant_type=refresh_token" in forms[0]
        assert "refresh_token=refresh-Secret-1" in forms[0] and "service=s" in forms[0]
        assert all("authorization" not in r.headers for r in fake.requests if r.path == "/token")
    finally:
        fake.close()


FLOOD_THEN_HANG = """
chunk = b"x" * (1 << 20)
for _ in range(64):  # 64 MiB, then hang: the old reader kept all of it until its timeout
    sys.{stream}.buffer.write(chunk)
sys.{stream}.flush()
time.sleep(60)
"""


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_cred_helper_output_is_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      stream: str) -> None:
    import time
    import tracemalloc

    install_helper(tmp_path, monkeypatch, "hgflood", FLOOD_THEN_HANG.format(stream=stream))
    monkeypatch.setattr(credmod, "HELPER_TIMEOUT", 8.0)
    config = write_config(tmp_path, {"credHelpers": {"r.io": "hgflood"}})
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(AuthError) as caught:
            find_credentials("r.io", docker_config=config)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "wrote more than" in caught.value.message
    assert time.monotonic() - started < 4
    assert peak < 8 << 20, f"peak {peak} bytes while reading the helper"


ENDLESS = """
import os
os.execvp("cat", ["cat", "/dev/zero"])  # endless stdout, as fast as the pipe takes it
"""

RUN_UNDER_RLIMIT = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))  # 1 GiB of address space
from hullguard.errors import AuthError
from hullguard.images.registry.credentials import find_credentials
try:
    find_credentials("r.io", docker_config=sys.argv[1])
except AuthError as error:
    print("refused:", error.message)
"""


def test_endless_cred_helper_under_a_memory_limit(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A helper writing forever, read by a process limited to 1 GiB: one clear error, no
    MemoryError (the old reader kept everything for HELPER_TIMEOUT, 20 s: gigabytes)."""
    import subprocess

    install_helper(tmp_path, monkeypatch, "hgendless", ENDLESS)
    config = write_config(tmp_path, {"credHelpers": {"r.io": "hgendless"}})
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", RUN_UNDER_RLIMIT, config], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "refused: credential helper docker-credential-hgendless wrote more than" in \
        done.stdout
