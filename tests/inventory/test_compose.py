"""Compose interpolation (compose-spec syntax), .env files and service extraction."""

from __future__ import annotations

from pathlib import Path

import pytest

from hullguard.errors import InputError
from hullguard.inventory.compose import (
    interpolate,
    looks_like_compose,
    read_dotenv,
    services,
)
from hullguard.inventory.yamlsafe import load_file

FIXTURES = Path(__file__).parent / "fixtures" / "compose"
ENV = {"SET": "v", "EMPTY": ""}


@pytest.mark.parametrize(("text", "expected"), [
    ("$SET/${SET}", "v/v"),
    ("${UNSET:-d} ${EMPTY:-d} ${SET:-d}", "d d v"),
    ("${UNSET-d} ${EMPTY-d}", "d "),
    ("${SET:+alt} ${EMPTY:+alt} ${EMPTY+alt} ${UNSET+alt}", "alt  alt "),
    ("$$SET $${SET}", "$SET ${SET}"),
    ("${UNSET:-${SET}-x}", "v-x"),  # nested default
    ("price: 5$", "price: 5$"),
    ("${SET:?must}", "v"),
])
def test_interpolation(text: str, expected: str) -> None:
    assert interpolate(text, ENV) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("${UNSET:?please set it}", "required variable UNSET is missing a value: please set it"),
    ("${EMPTY:?}", "required variable EMPTY"),
    ("${UNSET?x}", "required variable UNSET"),
    ("${SET", "unclosed"),
    ("${}", "invalid interpolation format"),
    ("${1abc}", "invalid interpolation format"),
    ("${SET!x}", "invalid interpolation format"),
])
def test_broken_interpolation(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("?", r"\?")):
        interpolate(text, ENV, "compose.yml:3")


def test_dotenv(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("# comment\nA=1\nexport B='two words'\nC=\"q\\\"x\"\nD=3 # trailing\n"
                        "not a line\n")
    values, warnings = read_dotenv(env_file)
    assert values == {"A": "1", "B": "two words", "C": 'q"x', "D": "3"}
    assert warnings == [(6, "not KEY=VALUE: 'not a line'")]


def test_services_from_fixture() -> None:
    path = FIXTURES / "docker-compose.yml"
    document = load_file(path).documents[0]
    assert looks_like_compose(document, path.name)
    env = {"WEB_TAG": "2.4.1", "NGINX_TAG": "1.25.3"}
    found = {s.name: s for s in services(document, path, env)}
    web = found["web"]
    assert web.image == "registry.corp.example:5000/storefront/web:2.4.1"
    assert web.image_line == 5
    assert web.build is not None and web.build.dockerfile.endswith("compose/app/Dockerfile")
    assert dict(web.build.args) == {"PYTHON_VERSION": "3.12"}
    assert web.published == ["0.0.0.0:8080->80"]
    assert found["worker"].published == []  # bound to 127.0.0.1 only
    assert found["worker"].build is not None
    assert found["cache"].image == "redis:7.2"
    assert found["proxy"].image == "nginx:1.25.3"


def test_required_variable_missing_is_a_service_error() -> None:
    path = FIXTURES / "docker-compose.yml"
    document = load_file(path).documents[0]
    proxy = next(s for s in services(document, path, {}) if s.name == "proxy")
    assert proxy.image == ""
    assert proxy.errors == [(22, "service proxy: image: required variable NGINX_TAG is "
                                 "missing a value: set NGINX_TAG")]


def test_v1_and_non_compose_documents() -> None:
    assert looks_like_compose({"web": {"image": "nginx"}}, "docker-compose.yml")
    assert not looks_like_compose({"web": {"image": "nginx"}}, "values.yaml")
    assert not looks_like_compose({"apiVersion": "v1", "kind": "Pod", "services": {}}, "x.yml")
