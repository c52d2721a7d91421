"""Hostile input is the normal case: random text through every reader raises nothing but a
HullguardError (or is read)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hullguard.errors import HullguardError
from hullguard.inventory.collect import collect
from hullguard.inventory.compose import interpolate
from hullguard.inventory.dockerfile import parse_dockerfile
from hullguard.inventory.yamlsafe import loads_all


def _tokens(pieces: list[str], max_size: int) -> st.SearchStrategy[str]:
    """Text built from ``pieces``: YAML-ish and Dockerfile-ish tokens make the interesting
    paths (anchors, tags, heredocs, escapes) likely."""
    return st.lists(st.sampled_from(pieces), max_size=max_size).map("".join)


YAMLISH = _tokens([*"ab:- \n[]{}&*!|>'\"#,?%@`\t", "!!python/object ", "<<: ", "---\n",
                   "&x ", "*x", "  "], 120)
DOCKERISH = _tokens([*"ab $\\`{}:-=\n\t\"'#<>[]", "FROM ", "ARG ", "RUN ", "<<EOF", "EOF",
                     "COPY --from=", "# escape=`\n", " AS ", "${A:-", "<<-'E'"], 120)


@settings(max_examples=300, deadline=None)
@given(YAMLISH)
def test_yaml_loader_never_crashes(text: str) -> None:
    with contextlib.suppress(HullguardError):
        loads_all(text, "fuzz.yaml")


@settings(max_examples=300, deadline=None)
@given(DOCKERISH)
def test_dockerfile_parser_never_raises(text: str) -> None:
    parsed = parse_dockerfile(text, "Dockerfile")
    for use in parsed.image_uses():
        assert use.reference


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(list("$ab{}:-?+_1\\")), max_size=60),
       st.dictionaries(st.sampled_from(["a", "b", "A_1"]), st.text("xy$", max_size=3)))
def test_compose_interpolation_only_raises_input_errors(text: str, env: dict[str, str]) -> None:
    with contextlib.suppress(HullguardError):
        interpolate(text, env)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(YAMLISH)
def test_collect_reports_instead_of_raising(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text("apiVersion: v1\nkind: Pod\n" + text)
    inventory = collect([path], environ={})
    assert all(issue.path == str(path) for issue in inventory.issues)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["", "a", "web", "nginx"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["spec", "template", "containers", "image", "name", "selector",
                         "labels", "metadata", "rules", "http", "paths", "backend", "service",
                         "type", "parentRefs", "backendRefs", "ports", "jobTemplate",
                         "status", "containerStatuses", "imageID", "ownerReferences",
                         "kind", "namespace", "initContainers", "app"]), inner, max_size=4),
    max_leaves=20)
KINDS = ["Pod", "Deployment", "CronJob", "Service", "Ingress", "HTTPRoute", "Namespace", "List"]


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(KINDS), JSONISH, JSONISH), min_size=1, max_size=6))
def test_odd_shaped_objects_never_crash(tmp_path: Path,
                                        objects: list[tuple[str, object, object]]) -> None:
    import json

    items = [{"apiVersion": "v1", "kind": kind, "metadata": metadata, "spec": spec,
              "items": spec} for kind, metadata, spec in objects]
    path = tmp_path / "dump.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    inventory = collect([path], environ={})
    assert all(issue.path == str(path) for issue in inventory.issues)


@pytest.mark.parametrize("spec", [
    {"rules": True}, {"rules": [{"http": {"paths": 5}}]}, {"parentRefs": [{}], "rules": 1},
    {"parentRefs": True, "rules": [{"backendRefs": "x"}]}, {"externalIPs": True, "type": 3},
])
@pytest.mark.parametrize("kind", ["Ingress", "HTTPRoute", "Service"])
def test_exposure_fields_of_the_wrong_shape(tmp_path: Path, kind: str,
                                            spec: dict[str, object]) -> None:
    """Found by the fuzz test above: an Ingress with ``rules: true`` raised TypeError."""
    import json

    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": {"a": "b"}},
           "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}}
    doc = {"apiVersion": "v1", "kind": kind, "metadata": {"name": "front"}, "spec": spec}
    path = tmp_path / "dump.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [pod, doc]}))
    inventory = collect([path], environ={})
    assert [w.name for w in inventory.workloads] == ["web"]
    assert not inventory.workloads[0].exposure.internet_facing
