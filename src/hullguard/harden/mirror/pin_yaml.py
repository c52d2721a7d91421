"""Where the image references are in a YAML file, located by ruamel.yaml's node positions.

The file is first loaded by :mod:`hullguard.inventory.yamlsafe` (size, alias-bomb, depth and
unsafe-tag checks), so ruamel only ever sees text that passed those bounds. ruamel's composer
then gives every scalar its exact character span (``start_mark.index`` .. ``end_mark.index``);
an edit replaces that span and appends a ``# was:`` comment at the end of its line. Nothing is
re-serialized, so comments, key order, quoting, anchors, flow style, line endings and the other
documents of the file stay byte for byte as they were.

Which scalars are images is decided by the inventory's own readers: the documents are rebuilt
as dicts (:class:`_Map` remembers each key's value node) and handed to
:func:`hullguard.inventory.kubernetes.flatten` / :func:`~hullguard.inventory.kubernetes.pod_spec`
/ :func:`~hullguard.inventory.kubernetes.containers` and to
:func:`hullguard.inventory.compose.looks_like_compose`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import Node, ScalarNode, SequenceNode

from hullguard.errors import InputError
from hullguard.harden.mirror.pin_model import Found, Site
from hullguard.inventory import compose as compose_mod
from hullguard.inventory.kubernetes import containers, flatten, pod_spec
from hullguard.inventory.yamlsafe import DEFAULT_LIMITS, Limits, loads_all, loads_json
from hullguard.model.inventory import SourceKind

_PREFIX_RE = re.compile(r"(?:[&!][^\s]*\s+)*")  # an anchor and/or tag before the scalar
_MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"
# ${VAR:-default} / ${VAR-default} (envsubst, compose) and ${VAR:=default} (Flux)
_K8S_DEFAULT_RE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?[-=]([^${}]*)\}")


class _Map(dict[Any, Any]):
    """A mapping rebuilt from a node: ``value_nodes[key]`` is the node of ``self[key]``."""

    value_nodes: dict[str, Node]


class _Builder:
    """Plain data from composed nodes; aliases give the same object, merges are applied."""

    def __init__(self) -> None:
        self.memo: dict[int, Any] = {}
        self.uses: Counter[int] = Counter()  # how often each scalar node appears in the tree

    def build(self, node: Node) -> Any:
        self.uses[id(node)] += 1
        if id(node) in self.memo:
            return self.memo[id(node)]
        if isinstance(node, ScalarNode):
            value: Any = node.value if str(node.tag) == _STR else _NotText(node.value)
            self.memo[id(node)] = value
            return value
        if isinstance(node, SequenceNode):
            items: list[Any] = []
            self.memo[id(node)] = items
            items.extend(self.build(child) for child in node.value)
            return items
        return self._mapping(node)

    def _mapping(self, node: Node) -> _Map:
        data = _Map()
        data.value_nodes = {}
        self.memo[id(node)] = data
        merged: list[_Map] = []
        for key, value in node.value:
            if str(key.tag) == _MERGE:
                sources = value.value if isinstance(value, SequenceNode) else [value]
                merged += [m for m in (self.build(s) for s in sources) if isinstance(m, _Map)]
                continue
            name = key.value if isinstance(key, ScalarNode) else repr(key)
            data[name] = self.build(value)
            data.value_nodes[name] = value
        for source in merged:  # explicit keys win over merged ones, the first merge wins
            for name, value in source.items():
                if name not in data:
                    data[name] = value
                    data.value_nodes[name] = source.value_nodes[name]
        return data


class _NotText(str):
    """A scalar that YAML reads as something other than a string (a number, null, ...)."""


def find_sites(text: str, path: Path, env: Mapping[str, str],
               limits: Limits = DEFAULT_LIMITS) -> list[Site]:
    """Every image reference in a YAML file (Kubernetes objects and compose services)."""
    where = str(path)
    loaded = loads_all(text, where, limits)  # the bounds apply before ruamel reads anything
    if not any(_has_images(document, path.name.lower()) for document in loaded.documents):
        return []  # ruamel's pure-Python composer is the slow part: only where it matters
    try:
        # the safe composer: the same node positions as round-trip, without gathering the
        # comments this module never reads (a third faster)
        nodes = [n for n in YAML(typ="safe", pure=True).compose_all(text) if n is not None]
    except (YAMLError, RecursionError) as error:
        raise InputError(f"malformed YAML: {str(error).splitlines()[0]}", where=where) from None
    builder = _Builder()
    documents = [builder.build(node) for node in nodes]
    json_text = _is_json(text, where, limits)
    sites: list[Site] = []
    for document in documents:
        if compose_mod.looks_like_compose(document, path.name.lower()):
            sites += _compose_sites(document, text, where, env, json_text)
        else:
            sites += _kube_sites(document, text, where, json_text)
    image_uses = Counter(id(site.node) for site in sites)
    return [_check_shared(site, builder.uses, image_uses) for site in sites]


def _is_json(text: str, where: str, limits: Limits) -> bool:
    """JSON has no comments: such a file gets its values replaced and nothing else (a YAML
    file in flow style that is not JSON still gets them)."""
    if text.lstrip("\ufeff").lstrip()[:1] not in ("{", "["):
        return False
    try:
        loads_json(text.lstrip("\ufeff"), where, limits)
    except InputError:
        return False
    return True


def _has_images(document: Any, filename: str) -> bool:
    """Whether a document (as yamlsafe loaded it) has any image field pin would look at."""
    if compose_mod.looks_like_compose(document, filename):
        table = document.get("services") if "services" in document else document
        return any(isinstance(body, dict) and "image" in body
                   for body in (table or {}).values())
    return any("image" in container.data
               for obj in flatten(document, "", 0, "", SourceKind.KUBERNETES)
               for container in containers(pod_spec(obj.data) or {}))


def _check_shared(site: Site, uses: Counter[int], image_uses: Counter[int]) -> Site:
    """An anchored value that is also used outside an image field cannot be rewritten: the
    edit would change the other use too."""
    if uses[id(site.node)] > image_uses[id(site.node)] and not site.found.reason:
        return site.unpinnable("the value is an anchor also used outside image fields")
    return site


def _kube_sites(document: Any, text: str, where: str, json_text: bool) -> list[Site]:
    sites = []
    for obj in flatten(document, where, 0, "", SourceKind.KUBERNETES):
        spec = pod_spec(obj.data)
        for container in containers(spec) if spec is not None else []:
            node = container.data.value_nodes.get("image") \
                if isinstance(container.data, _Map) else None
            if node is not None:
                sites.append(_site(node, text, where, "kubernetes", json_text,
                                   _kube_reference(container.image)))
    return sites


def _kube_reference(value: Any) -> tuple[str, str]:
    """(reference, reason it cannot be pinned) of a manifest's image value."""
    if not isinstance(value, str) or isinstance(value, _NotText):
        return "", "the image is not a string"
    if "{{" in value:
        return "", "a template expression"
    expanded = _K8S_DEFAULT_RE.sub(lambda m: m.group(1), value)
    if "$" in expanded:
        return "", "a template variable with no default"
    return expanded, ""


def _compose_sites(document: Any, text: str, where: str, env: Mapping[str, str],
                   json_text: bool) -> list[Site]:
    table = document.get("services") if "services" in document else document
    sites = []
    for body in (table or {}).values():
        node = body.value_nodes.get("image") if isinstance(body, _Map) else None
        if node is not None and body.get("image") is not None:
            reference = _compose_reference(body["image"], env, where, node)
            sites.append(_site(node, text, where, "compose", json_text, reference))
    return sites


def _compose_reference(value: Any, env: Mapping[str, str], where: str,
                       node: Node) -> tuple[str, str]:
    if not isinstance(value, str) or isinstance(value, _NotText):
        return "", "the image is not a string"
    unset = [name for name in _bare_variables(value) if name not in env]
    if unset:
        return "", f"${{{unset[0]}}} has no default and no value"
    try:
        return compose_mod.interpolate(value, env, f"{where}:{node.start_mark.line + 1}"), ""
    except InputError as error:
        return "", error.message


_BARE_RE = re.compile(r"(\$+)(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


def _bare_variables(value: str) -> list[str]:
    """Variables used without a default (``$X``, ``${X}``); ``$$X`` is a literal ``$X``."""
    return [m.group(2) or m.group(3) for m in _BARE_RE.finditer(value)
            if len(m.group(1)) % 2 == 1]


def _site(node: Node, text: str, where: str, kind: str, json_text: bool,
          reference: tuple[str, str]) -> Site:
    line = node.start_mark.line + 1
    raw = node.value if isinstance(node, ScalarNode) else ""
    found = Found(where, line, str(raw), reference[0], kind, reference[1])
    if not isinstance(node, ScalarNode):
        return Site(found, node, 0, 0).unpinnable("the image is not a scalar")
    if node.style in ("|", ">"):
        return Site(found, node, 0, 0).unpinnable("a block scalar; edit it by hand")
    start = node.start_mark.index
    start += _PREFIX_RE.match(text, start, node.end_mark.index).end() - start  # type: ignore[union-attr]
    end = node.end_mark.index
    return Site(found, node, start, end, quote=node.style or "",
                comment_at=-1 if json_text else _line_end(text, end))


def _line_end(text: str, index: int) -> int:
    """The index of the line break after ``index`` (before a ``\\r\\n``), or the text end."""
    newline = text.find("\n", index)
    if newline == -1:
        return len(text)
    return newline - 1 if newline > 0 and text[newline - 1] == "\r" else newline
