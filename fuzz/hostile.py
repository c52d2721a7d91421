"""Hypothesis strategies that turn a realistic seed into structured-but-hostile input.

Three shapes cover every parser: JSON documents (mutated as trees, then serialized by hand so
huge integers, NaN and lone surrogates survive), line-oriented text (package databases,
MANIFEST.MF, Dockerfiles, headers) and binary blobs (tar, rpm headers, BerkeleyDB, zip,
sqlite). Each strategy draws a handful of mutations; Hypothesis shrinks a failure back to the
fewest, smallest of them, which is what lands in ``fuzz/findings/``.
"""

from __future__ import annotations

import copy
import json
import struct
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

HUGE_DIGITS = "9" * 5000  # over CPython's 4300-digit int/str conversion limit
DEEP = 3000  # nesting beyond the default recursion limit of the stdlib json decoder


@dataclass(frozen=True)
class Raw:
    """JSON text inserted verbatim: what ``json.dumps`` refuses to write."""

    text: str


HOSTILE_JSON: tuple[Any, ...] = (
    Raw(HUGE_DIGITS), Raw("-" + HUGE_DIGITS), Raw("1" + "0" * 400 + ".5"), Raw("1e999"),
    Raw("-1e999"), Raw("NaN"), Raw("Infinity"), Raw("-Infinity"), Raw('"\\ud800"'),
    Raw('"a\\udfffb"'), Raw('"\\u0000"'), Raw("[" * DEEP + "]" * DEEP),
    Raw('{"a":' * DEEP + "1" + "}" * DEEP), Raw("1E400"), Raw("-0"),
    "", " ", "x" * 70_000, "\u202e", "../../../etc/passwd", "/", "sha256:", "sha256:zz",
    "%s%n{0}", "\t\n", "a\x00b", 0, -1, 1.5, 2**31, 2**63, 2**64 + 1, -(2**63) - 1,
    True, False, None, [], {}, [None], {"": None},
)
HOSTILE_TEXT: tuple[str, ...] = (
    HUGE_DIGITS, "-" + HUGE_DIGITS, "-1", "0", "", " ", "x" * 100_000, "\ud800", "a\udcffb",
    "\x00", "\ufeff", "\u202e", "../../../etc/passwd", "${" * 50, "'" , '"', "\\", ":", "=",
    "\t", "\r", "\x85", "\u2028", "NaN", "1e999", "%n", "*&a", "!!python/object:os.system",
)
HOSTILE_BYTES: tuple[bytes, ...] = (
    b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xfe\xff", b"\x00", b"\x80" * 8, b"\xef\xbb\xbf",
)
INTERESTING_U32 = (0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000,
                   0xFFFFFFFF, 511, 512, 513)


# ---------------------------------------------------------------------------- JSON trees

MAX_TREE_NODES = 200_000  # a mutated document's values; more makes the harness the hog

def _nodes(tree: Any) -> list[tuple[Any, Any]]:
    """(container, key) for every value below the root, depth first."""
    out: list[tuple[Any, Any]] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) \
            if isinstance(node, list) else ()
        for key, value in items:
            out.append((node, key))
            stack.append(value)
    return out


def _hostile_value(draw: st.DrawFn) -> Any:
    """A fresh copy: the later edits of this document (copy, add) must not grow the shared
    ``[]``/``{}`` in HOSTILE_JSON, which then grew across examples to GBs (php-composer hung)."""
    return copy.deepcopy(draw(st.sampled_from(HOSTILE_JSON)))


def _wrong_type(value: Any) -> Any:
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    if isinstance(value, str):
        return [value]
    return str(value)


@st.composite
def json_trees(draw: st.DrawFn, seeds: list[Any], max_ops: int = 6) -> Any:
    """A seed document with up to ``max_ops`` hostile edits (replace, retype, delete, add)."""
    tree = copy.deepcopy(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, max_ops))):
        nodes = _nodes(tree)
        if not nodes:
            return _hostile_value(draw)
        parent, key = nodes[draw(st.integers(0, len(nodes) - 1))]
        op = draw(st.sampled_from(["hostile", "retype", "delete", "add", "copy"]))
        if op == "hostile":
            parent[key] = _hostile_value(draw)
        elif op == "retype":
            parent[key] = _wrong_type(parent[key])
        elif op == "delete":
            del parent[key]
        elif op == "add" and isinstance(parent, dict):
            name = draw(st.sampled_from([*map(str, parent), "", "x", "\ud800"]))
            parent[name + draw(st.sampled_from(["", "_", "\x00"]))] = _hostile_value(draw)
        elif op == "copy" and isinstance(parent, list):
            # many small items, not many huge ones: the harness must not be the memory hog.
            # Real copies, not one shared object: a copy inside a shared item multiplied the
            # tree (millions of nodes, GBs and minutes in _nodes); the tree stays <= 200k nodes.
            weight = len(_nodes(parent[key])) + 1
            small = len(dump_json(parent[key])) < 1000
            counts = [n for n in (1, 50, 5000)
                      if n == 1 or (small and len(nodes) + n * weight <= MAX_TREE_NODES)]
            item = parent[key]
            parent.extend(copy.deepcopy(item) for _ in range(draw(st.sampled_from(counts))))
    return tree


def dump_json(value: Any) -> str:
    """JSON text of ``value``, with :class:`Raw` pieces written verbatim."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{dump_json(v)}"
                              for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dump_json(v) for v in value) + "]"
    return json.dumps(value)


@st.composite
def json_bytes(draw: st.DrawFn, seeds: list[Any], max_ops: int = 6) -> bytes:
    """Serialized mutated JSON, sometimes with byte-level damage on top (truncation,
    non-UTF-8 bytes, a BOM, UTF-16)."""
    data = dump_json(draw(json_trees(seeds, max_ops))).encode("utf-8", "surrogatepass")
    damage = draw(st.sampled_from(["none", "none", "none", "truncate", "insert", "bom",
                                   "utf16"]))
    if damage == "truncate":
        return data[:draw(st.integers(0, len(data)))]
    if damage == "insert":
        at = draw(st.integers(0, len(data)))
        return data[:at] + draw(st.sampled_from(HOSTILE_BYTES)) + data[at:]
    if damage == "bom":
        return b"\xef\xbb\xbf" + data
    if damage == "utf16":
        return data.decode("utf-8", "surrogateescape").encode("utf-16", "surrogatepass")
    return data


# ---------------------------------------------------------------------------- text

@st.composite
def text_lines(draw: st.DrawFn, seeds: list[str], max_ops: int = 6) -> str:
    """A seed text with line edits: delete, duplicate, hostile value after a separator,
    hostile line, truncation. May hold lone surrogates (a str parser must cope)."""
    lines = draw(st.sampled_from(seeds)).split("\n")
    for _ in range(draw(st.integers(0, max_ops))):
        at = draw(st.integers(0, max(0, len(lines) - 1)))
        op = draw(st.sampled_from(["delete", "dup", "value", "line", "cut", "many", "splice"]))
        hostile = draw(st.sampled_from(HOSTILE_TEXT))
        if op == "delete" and lines:
            del lines[at]
        elif op == "dup" and lines:
            lines.insert(at, lines[at])
        elif op == "value" and lines:
            line = lines[at]
            cut = max((line.find(sep) for sep in (":", "=", "\t", " ")), default=-1)
            lines[at] = line[:cut + 1] + hostile
        elif op == "line":
            lines.insert(at, hostile)
        elif op == "cut" and lines:
            lines[at] = lines[at][:draw(st.integers(0, len(lines[at])))]
        elif op == "splice" and lines:
            cut = draw(st.integers(0, len(lines[at])))
            lines[at] = lines[at][:cut] + hostile + lines[at][cut:]
        elif op == "many" and lines and len(lines[at]) < 1000:
            lines[at:at] = [lines[at]] * draw(st.sampled_from([100, 3000]))
    return "\n".join(lines)


@st.composite
def text_bytes(draw: st.DrawFn, seeds: list[str], max_ops: int = 6) -> bytes:
    """:func:`text_lines` as bytes (lone surrogates become invalid UTF-8), sometimes with
    raw non-UTF-8 bytes inserted or the end cut off."""
    data = draw(text_lines(seeds, max_ops)).encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from(HOSTILE_BYTES)) + data[at:]
    return data


# ---------------------------------------------------------------------------- binary

@st.composite
def blob_mutations(draw: st.DrawFn, seeds: list[bytes], max_ops: int = 8) -> bytes:
    """A seed blob with byte edits: flips, interesting 16/32/64-bit integers in either byte
    order, ASCII octal/decimal numbers, truncation, duplicated and inserted slices."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, max_ops))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["flip", "u32", "u16", "u64", "ascii", "cut", "dup",
                                   "insert"]))
        if op == "flip":
            data[at] ^= draw(st.integers(1, 255))
        elif op in ("u16", "u32", "u64"):
            fmt = {"u16": "H", "u32": "I", "u64": "Q"}[op]
            value = draw(st.sampled_from(INTERESTING_U32)) & ((1 << (8 * struct.calcsize(fmt)))
                                                               - 1)
            packed = struct.pack(draw(st.sampled_from("<>")) + fmt, value)
            data[at:at + len(packed)] = packed
        elif op == "ascii":
            text = draw(st.sampled_from([b"77777777777", b"-1", b"99999999999999999999",
                                         b" ", b"8", b"\x80" + b"\xff" * 11]))
            data[at:at + len(text)] = text
        elif op == "cut":
            del data[at:]
        elif op == "dup":
            end = draw(st.integers(at, min(len(data), at + 4096)))
            data[at:at] = data[at:end] * draw(st.sampled_from([1, 2, 100]))
        else:
            data[at:at] = draw(st.sampled_from(HOSTILE_BYTES))
    return bytes(data)
