"""``posture registry --config``: real distribution config files, and Debian's real
docker-registry started with an insecure and a hardened config (both judged, both served)."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from hullguard.errors import InputError
from hullguard.harden.posture import assess_registry_config
from hullguard.model.lint import LintReport
from tests.support.registry import (
    PASSWORD,
    USERNAME,
    FakeRegistry,
    RegistryServer,
    start_registry,
)


def status(report: LintReport) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for finding in report.findings:
        found.setdefault(finding.check.id, set()).add(finding.status)
    return found


def get(server: RegistryServer, auth: bool) -> int:
    request = urllib.request.Request(f"{server.url}/v2/")
    if auth:
        import base64

        token = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    context = ssl.create_default_context(cafile=str(server.ca_file)) if server.ca_file else None
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


HARDENED: dict[str, Any] = {
    "log": {"accesslog": {"disabled": False}},
    "storage": {"delete": {"enabled": False}, "redirect": {"disable": True}},
    "notifications": {"endpoints": [{"name": "siem", "url": "https://127.0.0.1:9/events",
                                     "timeout": "1s", "threshold": 5, "backoff": "10s"}]},
}


def test_insecure_registry_runs_and_fails(tmp_path: Path) -> None:
    upstream = FakeRegistry()  # the pull-through upstream, contacted at start-up
    # merged over tests/support/registry.py's base config (anonymous, delete on, no logs)
    insecure = {"proxy": {"remoteurl": upstream.url, "username": "mirror",
                          "password": "upstream-pass"}}
    with start_registry(tmp_path, config=insecure) as server:
        assert get(server, auth=False) == 200  # anonymous access really works
        report = assess_registry_config(server.root / "config.yml", level="L3")
    found = status(report)
    assert found["HG-PR001"] == {"fail"}  # no auth
    assert found["HG-PR004"] == {"fail"}  # delete enabled
    assert found["HG-PR005"] == {"fail"}  # no notifications
    assert found["HG-PR006"] == {"fail"}  # access log off
    assert found["HG-PR007"] == {"fail"}  # http upstream, password in the file
    upstream.close()
    messages = " ".join(f.message for f in report.findings)
    assert "upstream-pass" not in messages


def test_hardened_registry_runs_and_passes(tmp_path: Path) -> None:
    with start_registry(tmp_path, tls=True, htpasswd=True, config=HARDENED) as server:
        assert get(server, auth=False) == 401  # the hardened one really requires auth
        assert get(server, auth=True) == 200  # ... and serves over TLS
        report = assess_registry_config(server.root / "config.yml", level="L3")
    assert {f.status for f in report.findings} == {"pass"}, [
        (f.check.id, f.message) for f in report.findings if f.status != "pass"]
    assert len({f.check.id for f in report.findings}) == 9


def write(tmp_path: Path, doc: dict[str, Any]) -> Path:
    path = tmp_path / "config.yml"
    path.write_text(json.dumps({"version": 0.1, **doc}))
    return path


@pytest.mark.parametrize(("doc", "check_id", "expected"), [
    ({"storage": {"filesystem": {}}, "http": {"addr": ":5000"}}, "HG-PR003", "fail"),
    ({"storage": {"filesystem": {}}, "http": {"addr": "0.0.0.0:5000"}}, "HG-PR003", "fail"),
    ({"storage": {"filesystem": {}}, "http": {"addr": "[::]:5000"}}, "HG-PR003", "fail"),
    ({"storage": {"filesystem": {}}, "http": {"addr": "10.0.0.5:5000"}}, "HG-PR003", "pass"),
    ({"storage": {"filesystem": {}}, "http": {"addr": "10.0.0.5:5000"}}, "HG-PR002", "fail"),
    ({"storage": {"filesystem": {}}, "auth": {"silly": {"realm": "x"}}}, "HG-PR001", "fail"),
    ({"storage": {"s3": {"bucket": "b"}}}, "HG-PR008", "fail"),
    ({"storage": {"s3": {"bucket": "b"}, "redirect": {"disable": True}}}, "HG-PR008", "pass"),
    ({"storage": {"filesystem": {}}, "http": {"debug": {"addr": ":5001"}}}, "HG-PR009",
     "fail"),
    ({"storage": {"filesystem": {}}, "http": {"debug": {"addr": "localhost:5001"}}},
     "HG-PR009", "pass"),
    ({"storage": {"filesystem": {}}, "notifications": {"endpoints": [
        {"name": "x", "url": "http://collector/"}]}}, "HG-PR005", "fail"),
])
def test_config_cases(tmp_path: Path, doc: dict[str, Any], check_id: str,
                      expected: str) -> None:
    report = assess_registry_config(write(tmp_path, doc), level="L3")
    assert status(report)[check_id] == {expected}


def test_not_a_registry_config(tmp_path: Path) -> None:
    path = tmp_path / "x.yml"
    path.write_text("apiVersion: v1\nkind: Pod\n")
    with pytest.raises(InputError, match="not a distribution registry config"):
        assess_registry_config(path)
    with pytest.raises(InputError, match="no such file"):
        assess_registry_config(tmp_path / "absent.yml")
