"""The one YAML loader for attacker-controlled files (manifests, compose files, configs).

``yaml.safe_load`` semantics (no ``!!python/*`` objects) plus the bounds PyYAML lacks:

* alias bombs ("billion laughs"): each node's size *as if aliases were expanded* is tracked while
  composing, and a document beyond ``max_nodes`` is refused before anything walks it;
* nesting depth (also through chains of aliases) beyond ``max_depth`` is a clear error instead of
  a RecursionError (or a C stack overflow);
* recursive aliases (``&a [*a]``) are refused: consumers may walk the data;
* duplicate mapping keys are warnings (the last value wins, as in PyYAML and kubectl);
* files larger than ``max_bytes`` are refused without being parsed.

Mappings come back as :class:`LineDict` (a dict) that remembers the 1-based line of each key,
so callers can say "file:line". Scanning and parsing run in libyaml when available; only the
composer (where the bounds live) is Python.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from hullguard import jsonsafe
from hullguard.errors import InputError, LimitExceeded

MAX_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 128
MAX_NODES = 2_000_000
_SILENT_TAGS = ("!reset", "!override")  # compose spec merge tags: the value is still meaningful

try:  # libyaml's scanner/parser is ~10x faster; the pure-Python one is the fallback
    from yaml._yaml import CParser as _Parser

    _C_PARSER = True
except ImportError:  # pragma: no cover - libyaml is in the Debian/PyPI wheels we use
    from yaml.parser import Parser as _Parser  # type: ignore[assignment]

    _C_PARSER = False


class LineDict(dict[Any, Any]):
    """A mapping that remembers where it and each of its keys started (1-based lines)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        lines: dict[str, int] = getattr(self, "key_lines", {})
        return lines.get(key, self.line)


def dict_at(data: Any, key: str) -> dict[Any, Any]:
    """``data[key]`` when ``data`` is a mapping and the value is one too, else ``{}``: parsed
    YAML or JSON has whatever shape its author chose (``rules: true``)."""
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def list_at(data: Any, key: str) -> list[Any]:
    """``data[key]`` when ``data`` is a mapping and the value is a list, else ``[]``."""
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, list) else []


def line_of(value: Any, key: str = "") -> int:
    """The line of ``value[key]`` (or of ``value``) when it came from YAML, else 0."""
    if isinstance(value, LineDict):
        return value.line_of(key) if key else value.line
    return 0


@dataclass
class YamlResult:
    documents: list[Any]
    warnings: list[tuple[int, str]] = field(default_factory=list)  # (line, message)


@dataclass(frozen=True)
class Limits:
    max_bytes: int = MAX_BYTES
    max_depth: int = MAX_DEPTH
    max_nodes: int = MAX_NODES


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1 if node.start_mark else 0


DEFAULT_LIMITS = Limits()


class _BoundedLoader(Composer, _Parser, SafeConstructor, Resolver):
    """libyaml parser + Python composer with bounds + safe constructor with line numbers."""

    def __init__(self, text: str, where: str, limits: Limits) -> None:
        _Parser.__init__(self, text)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self.where, self.limits = where, limits
        self.warnings: list[tuple[int, str]] = []
        self._depth = 0
        self._measure: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded size, depth)

    def compose_document(self) -> Node | None:
        self._measure = {}
        return Composer.compose_document(self)

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(AliasEvent):
            self._check_alias(self.peek_event())
        self._depth += 1
        try:
            if self._depth > self.limits.max_depth:
                event = self.peek_event()
                raise self._limit(f"nesting deeper than {self.limits.max_depth} levels",
                                  event.start_mark if event else None)
            node = Composer.compose_node(self, parent, index)
        finally:
            self._depth -= 1
        if node is not None:
            self._record(node)
        return node

    def _check_alias(self, event: Any) -> None:
        target = self.anchors.get(event.anchor)
        if target is not None and id(target) not in self._measure:
            raise InputError(f"recursive alias *{event.anchor} refers to its own ancestor",
                             where=f"{self.where}:{event.start_mark.line + 1}")

    def _record(self, node: Node) -> None:
        """Expanded size and depth of a finished node (aliases count in full every time)."""
        if id(node) in self._measure:
            return  # an alias: already measured where its anchor was defined
        children: list[Node] = []
        if isinstance(node, SequenceNode):
            children = list(node.value)
        elif isinstance(node, MappingNode):
            children = [n for pair in node.value for n in pair]
        size, depth = 1, 1
        for child in children:
            child_size, child_depth = self._measure.get(id(child), (1, 1))
            size, depth = size + child_size, max(depth, child_depth + 1)
        if size > self.limits.max_nodes:
            raise self._limit(f"expands to more than {self.limits.max_nodes} nodes "
                              "(an alias bomb?)", node.start_mark)
        if depth > self.limits.max_depth:
            raise self._limit(f"nests deeper than {self.limits.max_depth} levels through "
                              "aliases", node.start_mark)
        self._measure[id(node)] = (size, depth)

    def _limit(self, message: str, mark: Any) -> LimitExceeded:
        line = mark.line + 1 if mark else 0
        return LimitExceeded(message, where=f"{self.where}:{line}" if line else self.where)

    def construct_line_map(self, node: MappingNode) -> Iterator[LineDict]:
        data = LineDict()
        data.line = _line(node)
        yield data
        self._warn_duplicates(node)
        data.update(self.construct_mapping(node))
        data.key_lines = {k.value: _line(k) for k, _ in node.value
                          if isinstance(k, ScalarNode) and isinstance(k.value, str)}

    def _warn_duplicates(self, node: MappingNode) -> None:
        seen: dict[str, int] = {}
        for key, _ in node.value:
            if not isinstance(key, ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
                continue
            if key.value in seen:
                self.warnings.append((_line(key), f"duplicate key {key.value!r} (first on line "
                                      f"{seen[key.value]}); the last value is used"))
            seen.setdefault(key.value, _line(key))

    def construct_bounded_int(self, node: ScalarNode) -> Any:
        """An integer of more than MAX_INT_DIGITS digits is a clear error, not the bare
        ValueError of Python's int limit (here or when an output later prints it)."""
        jsonsafe.check_int_literal(str(node.value).lstrip("+-"), f"{self.where}:{_line(node)}")
        return self.construct_yaml_int(node)

    def construct_unknown(self, node: Node) -> Any:
        """Refuse Python object tags; read other application tags (``!Ref``) as plain data."""
        tag = str(node.tag)
        if tag.startswith("tag:yaml.org,2002:python/") or tag.startswith("!!python"):
            raise InputError(f"unsafe YAML tag {tag!r} refused (only plain data is loaded)",
                             where=f"{self.where}:{_line(node)}")
        if tag not in _SILENT_TAGS:
            self.warnings.append((_line(node), f"unknown YAML tag {tag!r} ignored"))
        if isinstance(node, MappingNode):
            return self.construct_line_map(node)
        if isinstance(node, SequenceNode):
            return self.construct_sequence(node, deep=True)
        return self.construct_scalar(node)  # type: ignore[arg-type]


_BoundedLoader.add_constructor(  # type: ignore[type-var]
    "tag:yaml.org,2002:map", _BoundedLoader.construct_line_map)
_BoundedLoader.add_constructor(  # type: ignore[type-var]
    "tag:yaml.org,2002:int", _BoundedLoader.construct_bounded_int)
_BoundedLoader.add_constructor(None, _BoundedLoader.construct_unknown)  # type: ignore[type-var]


def _deep_collections(value: Any, max_depth: int, where: str) -> None:
    """Iterative depth check for JSON input (json.loads has no depth limit of its own)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            raise LimitExceeded(f"nesting deeper than {max_depth} levels", where=where)
        children = item.values() if isinstance(item, dict) else item
        if isinstance(item, dict | list):
            stack.extend((child, depth + 1) for child in children
                         if isinstance(child, dict | list))


def loads_json(text: str, where: str, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Parse JSON with the same bounds (a kubectl dump is JSON; json is much faster)."""
    try:
        value = jsonsafe.loads(text, where)  # integers bounded; RecursionError as a limit
    except json.JSONDecodeError as error:
        raise InputError(f"malformed JSON: {error.msg}",
                         where=f"{where}:{error.lineno}") from None
    _deep_collections(value, limits.max_depth, where)
    return value


def _require_unicode(text: str, where: str) -> None:
    """A lone surrogate (text decoded with surrogateescape, or built by a caller) is not
    Unicode: the YAML reader would fail on it deep inside with UnicodeEncodeError."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InputError(f"not valid Unicode text (a lone surrogate at character "
                         f"{error.start})", where=where) from None


def loads_all(text: str, where: str, limits: Limits = DEFAULT_LIMITS) -> YamlResult:
    """Every document of a YAML stream; empty documents are dropped.

    Raises :class:`InputError` (malformed, unsafe tag) or :class:`LimitExceeded` (bomb, depth,
    size) for the whole stream, with the line where it went wrong."""
    if len(text) > limits.max_bytes:
        raise LimitExceeded(f"larger than {limits.max_bytes} bytes", where=where)
    _require_unicode(text, where)
    loader = _BoundedLoader(text, where, limits)
    documents: list[Any] = []
    try:
        while loader.check_data():  # type: ignore[no-untyped-call]
            document = loader.get_data()
            if document is not None:
                documents.append(document)
    except yaml.MarkedYAMLError as error:
        raise _malformed(error, where) from None
    except yaml.YAMLError as error:  # reader errors (bad characters) carry no mark
        raise InputError(f"malformed YAML: {error}", where=where) from None
    except RecursionError:
        raise LimitExceeded("YAML nests too deeply", where=where) from None
    finally:
        loader.dispose()
    return YamlResult(documents, loader.warnings)


class _StringsLoader(yaml.BaseLoader):
    """Every scalar stays a string (feed versions such as ``1.10`` must not become floats);
    anchors and aliases are refused outright (billion-laughs documents)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(None, None, "YAML aliases are not accepted",
                                              event.start_mark)
        return super().compose_node(parent, index)


_MAYBE_ALIAS = re.compile(rb"(?:^|[\s\[{,:-])[&*]\S")
_FAST_STRINGS_LOADER: Any = getattr(yaml, "CBaseLoader", _StringsLoader)


def loads_strings(data: bytes, where: str, max_bytes: int) -> Any:
    """An advisory feed's YAML (or an ignore file): all scalars strings, no aliases at all,
    no line numbers; the importers rely on these exact semantics, so it is a mode of its own
    here rather than :func:`loads_all` with other options."""
    if len(data) > max_bytes:
        raise InputError(f"YAML document of {len(data)} bytes exceeds the "
                         f"{max_bytes}-byte limit", where=where)
    # libyaml is ~20x faster but cannot refuse aliases, so it only reads documents in which
    # no anchor or alias token can occur; anything else takes the strict pure-Python loader.
    loader = _StringsLoader if _MAYBE_ALIAS.search(data) else _FAST_STRINGS_LOADER
    try:
        return yaml.load(data, Loader=loader)
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise InputError(f"invalid YAML: {str(error)[:200]}", where=where) from None


def _malformed(error: yaml.MarkedYAMLError, where: str) -> InputError:
    mark = error.problem_mark or error.context_mark
    line = f":{mark.line + 1}" if mark else ""
    if isinstance(error, ConstructorError) and error.problem:
        return InputError(f"YAML: {error.problem}", where=f"{where}{line}")
    problem = error.problem or error.context or "malformed"
    return InputError(f"malformed YAML: {problem}", where=f"{where}{line}")


def read_text(path: Path, limits: Limits = DEFAULT_LIMITS) -> str:
    """A file's text with the size bound checked before reading; undecodable bytes replaced."""
    from hullguard.fsutil import read_bounded

    # devices and FIFOs would never end; directories are no text: read_bounded refuses them
    return read_bounded(path, limits.max_bytes).decode("utf-8", errors="replace")


def load_file(path: Path, limits: Limits = DEFAULT_LIMITS) -> YamlResult:
    """Every document of a YAML (or JSON) file, bounded; see :func:`loads_all`."""
    text = read_text(path, limits)
    if text.lstrip()[:1] in ("{", "["):
        try:
            return YamlResult([loads_json(text, str(path), limits)])
        except InputError:
            pass  # flow-style YAML that is not JSON: let the YAML loader judge it
    return loads_all(text, str(path), limits)
