"""Authentication against real docker-registry setups: htpasswd + TLS, and bearer tokens."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

import pytest

from hullguard.errors import AuthError, HullguardError, RegistryError
from hullguard.images.api import SourceOptions
from hullguard.images.reference import parse_reference
from hullguard.images.registry import Credentials, RegistryClient, open_registry_image, push_layout
from tests.images.registry.conftest import Layouts
from tests.support.registry import RegistryServer, skopeo_push


def creds(server: RegistryServer, password: str = "") -> Credentials:
    return Credentials(server.username, password or server.password, origin="test")


def test_tls_basic_auth_push_and_pull(tls_registry: RegistryServer, layouts: Layouts) -> None:
    ca = str(tls_registry.ca_file)
    with RegistryClient(tls_registry.host, credentials=creds(tls_registry), ca_file=ca) as client:
        digest = push_layout(client, layouts.single, "basic/single", "v1")
        assert client.list_tags("basic/single") == ["v1"]
        assert client._base_url().startswith("https://")
    options = SourceOptions(username=tls_registry.username, password=tls_registry.password)
    reference = parse_reference(tls_registry.ref("basic/single", "v1"))
    with open_registry_image(reference, options, ca_file=ca) as source:
        assert source.info.digest == digest
        assert sum(1 for _ in source.walk_layer(source.info.layers[0])) >= 3


def test_tls_registry_via_skopeo_and_config_file(tls_registry: RegistryServer, layouts: Layouts,
                                                 tmp_path: Path) -> None:
    """skopeo pushes with --dest-creds; we pull with credentials from a Docker config."""
    skopeo_push(layouts.multi, "v1", tls_registry, "basic/multi")
    auth = base64.b64encode(f"{tls_registry.username}:{tls_registry.password}".encode())
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {f"https://{tls_registry.host}":
                                            {"auth": auth.decode()}}}))
    reference = parse_reference(tls_registry.ref("basic/multi", "v1"))
    with open_registry_image(reference, SourceOptions(docker_config=str(config)),
                             ca_file=str(tls_registry.ca_file)) as source:
        assert source.info.platform is not None
        assert source.info.platform.architecture == "amd64"


def test_tls_wrong_password_is_clear_and_redacted(tls_registry: RegistryServer,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "WrongPassw0rd-do-not-print"
    options = SourceOptions(username=tls_registry.username, password=wrong)
    reference = parse_reference(tls_registry.ref("basic/single", "v1"))
    with pytest.raises(AuthError) as caught:
        open_registry_image(reference, options, ca_file=str(tls_registry.ca_file))
    text = f"{caught.value}\n{caught.value!r}\n{caught.value.hint}\n{caplog.text}"
    assert "access denied" in text
    assert wrong not in text
    assert base64.b64encode(f"{tls_registry.username}:{wrong}".encode()).decode() not in text


def test_tls_anonymous_gets_login_hint(tls_registry: RegistryServer, tmp_path: Path) -> None:
    reference = parse_reference(tls_registry.ref("basic/single", "v1"))
    options = SourceOptions(docker_config=str(tmp_path / "none.json"))
    with pytest.raises(AuthError) as caught:
        open_registry_image(reference, options, ca_file=str(tls_registry.ca_file))
    assert "requires authentication" in caught.value.message
    assert "docker login" in caught.value.hint


def test_untrusted_certificate_falls_back_nowhere(tls_registry: RegistryServer,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Self-signed cert without the CA: a TLS error, never a silent downgrade to http."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("HULLGUARD_CA_FILE", raising=False)
    with RegistryClient(tls_registry.host, credentials=creds(tls_registry)) as client, \
            pytest.raises(RegistryError) as caught:
        client.list_tags("basic/single")
    assert "CERTIFICATE_VERIFY_FAILED" in caught.value.message or "certificate" in str(
        caught.value).lower()
    assert tls_registry.password not in str(caught.value)


def test_insecure_skips_verification(tls_registry: RegistryServer, layouts: Layouts) -> None:
    with RegistryClient(tls_registry.host, credentials=creds(tls_registry),
                        insecure=True) as client:
        push_layout(client, layouts.single, "basic/insecure", "v1")
        assert client.list_tags("basic/insecure") == ["v1"]


def test_token_auth_push_pull_and_cache(token_registry: RegistryServer,
                                        layouts: Layouts) -> None:
    assert token_registry.token_server is not None
    with RegistryClient(token_registry.host, credentials=creds(token_registry)) as client:
        digest = push_layout(client, layouts.multi, "tok/multi", "v1")
        pushes = client.auth.token_requests
        assert 1 <= pushes <= 3  # one token per scope, reused for every blob
        client.list_tags("tok/multi")
        client.list_tags("tok/multi")
        assert client.auth.token_requests == pushes + 1  # the pull scope, fetched once
    sent = [headers.get("Authorization", "") for _, headers in
            token_registry.token_server.requests]
    assert all(value.startswith("Basic ") for value in sent)
    options = SourceOptions(username=token_registry.username, password=token_registry.password)
    reference = parse_reference(token_registry.ref("tok/multi", "v1"))
    with open_registry_image(reference, options) as source:
        assert source.info.digest is not None and source.info.digest != digest
        assert len(list(source.walk_layer(source.info.layers[1]))) == 1


def test_token_auth_skopeo_push(token_registry: RegistryServer, layouts: Layouts) -> None:
    skopeo_push(layouts.single, "v1", token_registry, "tok/skopeo")
    with RegistryClient(token_registry.host, credentials=creds(token_registry)) as client:
        assert client.list_tags("tok/skopeo") == ["v1"]


def test_token_auth_bad_password(token_registry: RegistryServer) -> None:
    bad = "not-the-Password-42"
    with RegistryClient(token_registry.host, credentials=creds(token_registry, bad)) as client, \
            pytest.raises(AuthError) as caught:
        client.list_tags("tok/multi")
    assert "access denied" in caught.value.message and bad not in str(caught.value)


def test_token_auth_anonymous(token_registry: RegistryServer, tmp_path: Path) -> None:
    reference = parse_reference(token_registry.ref("tok/multi", "v1"))
    options = SourceOptions(docker_config=str(tmp_path / "absent.json"))
    with pytest.raises(HullguardError) as caught:
        open_registry_image(reference, options)
    assert isinstance(caught.value, AuthError)
    assert "docker login" in caught.value.hint
