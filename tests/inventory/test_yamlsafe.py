"""The shared bounded YAML loader: safe_load semantics plus the bounds PyYAML lacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from hullguard.errors import InputError, LimitExceeded
from hullguard.inventory.yamlsafe import Limits, line_of, load_file, loads_all, loads_json


def billion_laughs(levels: int = 9) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        name, prev = chr(ord("a") + i), chr(ord("a") + i - 1)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_documents_and_lines() -> None:
    text = "kind: A\nspec:\n  image: x\n---\n\n---\nkind: B\n"
    result = loads_all(text, "f.yaml")
    assert [d["kind"] for d in result.documents] == ["A", "B"]  # the empty document is dropped
    assert line_of(result.documents[0]["spec"], "image") == 3
    assert line_of(result.documents[1]) == 7


def test_alias_bomb_is_refused_before_expansion() -> None:
    with pytest.raises(LimitExceeded, match="alias bomb") as info:
        loads_all(billion_laughs(), "bomb.yaml")
    assert info.value.where.startswith("bomb.yaml:")


def test_small_aliases_still_work() -> None:
    result = loads_all("base: &b {image: nginx}\nother: *b\nmerged:\n  <<: *b\n  x: 1\n", "f")
    doc = result.documents[0]
    assert doc["other"] == {"image": "nginx"}
    assert doc["merged"] == {"image": "nginx", "x": 1}


def test_thousand_level_nesting_is_a_clear_error() -> None:
    for text in ("[" * 1000 + "]" * 1000, "".join(f"{' ' * i}k{i}:\n" for i in range(1000))):
        with pytest.raises(LimitExceeded, match="nesting deeper"):
            loads_all(text, "deep.yaml")


def test_deep_nesting_through_aliases() -> None:
    lines = ["a0: &a0 [x]"] + [f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, 200)]
    with pytest.raises(LimitExceeded, match="through aliases"):
        loads_all("\n".join(lines) + "\n", "chain.yaml")


def test_python_object_tags_are_refused() -> None:
    for text in ("x: !!python/object/apply:os.system ['id']\n",
                 "x: !!python/name:os.system\n", "!!python/object:__main__.X {a: 1}\n"):
        with pytest.raises(InputError, match="unsafe YAML tag"):
            loads_all(text, "evil.yaml")


def test_recursive_alias_is_refused() -> None:
    with pytest.raises(InputError, match="recursive alias"):
        loads_all("a: &a [1, *a]\n", "loop.yaml")


def test_duplicate_keys_warn_and_last_wins() -> None:
    result = loads_all("image: a\nname: n\nimage: b\n", "dup.yaml")
    assert result.documents[0]["image"] == "b"
    assert result.warnings and result.warnings[0][0] == 3
    assert "duplicate key 'image'" in result.warnings[0][1]


def test_malformed_yaml_names_the_line() -> None:
    with pytest.raises(InputError) as info:
        loads_all("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml")
    assert info.value.where.startswith("bad.yaml:")
    assert "malformed YAML" in info.value.message


def test_unknown_application_tags_are_plain_data() -> None:
    result = loads_all("a: !Ref Bucket\nb: !reset []\n", "cfn.yaml")
    assert result.documents[0] == {"a": "Bucket", "b": []}
    assert len(result.warnings) == 1  # !reset is a compose tag: no warning


def test_size_cap(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * 2000 + "\n")
    with pytest.raises(LimitExceeded, match="over the 1000 limit"):
        load_file(big, Limits(max_bytes=1000))


def test_json_depth_and_errors() -> None:
    with pytest.raises(LimitExceeded):
        loads_json("[" * 5000 + "]" * 5000, "deep.json")
    with pytest.raises(InputError, match="malformed JSON"):
        loads_json('{"a": }', "bad.json")
    assert loads_json('{"items": [1]}', "ok.json") == {"items": [1]}
