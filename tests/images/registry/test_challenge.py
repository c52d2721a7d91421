"""WWW-Authenticate parsing: quoted commas, several challenges, case, escapes, garbage."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hullguard.errors import AuthError
from hullguard.images.registry.challenge import parse_challenges


def test_docker_hub_style_bearer() -> None:
    header = ('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
              'scope="repository:library/alpine:pull,push"')
    [challenge] = parse_challenges([header])
    assert challenge.scheme == "bearer"
    assert challenge.realm == "https://auth.docker.io/token"
    assert challenge.params["service"] == "registry.docker.io"
    assert challenge.params["scope"] == "repository:library/alpine:pull,push"


def test_several_challenges_case_and_spaces() -> None:
    header = 'Basic realm="Registry Realm" , BEARER Realm = "https://a/t", Service=svc'
    basic, bearer = parse_challenges([header])
    assert (basic.scheme, basic.realm) == ("basic", "Registry Realm")
    assert (bearer.scheme, bearer.realm, bearer.params["service"]) == ("bearer", "https://a/t",
                                                                       "svc")


def test_several_headers_and_escapes() -> None:
    found = parse_challenges(['Basic realm="a \\"quoted\\" realm"', "Bearer realm=tok"])
    assert [c.realm for c in found] == ['a "quoted" realm', "tok"]


def test_token68_and_bare_scheme() -> None:
    found = parse_challenges(["Negotiate abc123==, Basic"])
    assert [c.scheme for c in found] == ["negotiate", "basic"]


@pytest.mark.parametrize("header", ['Bearer realm="unterminated', 'Bearer realm="x" "junk"',
                                    '"quoted-scheme"', "Bearer realm=@@@"])
def test_malformed(header: str) -> None:
    with pytest.raises(AuthError, match="malformed WWW-Authenticate"):
        parse_challenges([header], where="reg")


def test_oversized_header() -> None:
    with pytest.raises(AuthError, match="too long"):
        parse_challenges(["Bearer realm=" + "a" * 20000])


@given(st.text(max_size=200))
def test_any_text_parses_or_raises_auth_error(text: str) -> None:
    """Hostile headers: one AuthError or well-formed challenges, never another exception."""
    try:
        found = parse_challenges([text])
    except AuthError as error:
        assert "WWW-Authenticate" in error.message
        return
    assert all(c.scheme and c.scheme == c.scheme.lower() for c in found)
