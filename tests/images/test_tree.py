from __future__ import annotations

import tracemalloc
from pathlib import Path

from hullguard.images.api import FileInfo, FileKind
from hullguard.images.tree import FileTree
from tests.images.craft import member, raw_tar, tree_of


def _file(path: str, size: int = 1) -> FileInfo:
    return FileInfo(path, FileKind.FILE, size=size)


def _link(path: str, target: str) -> FileInfo:
    return FileInfo(path, FileKind.SYMLINK, 0o777, linkname=target)


def _tree(*layers: list[FileInfo]) -> FileTree:
    tree = FileTree()
    for index, infos in enumerate(layers):
        tree.start_layer(index)
        for info in infos:
            tree.apply(info, index)
    return tree


def _paths(tree: FileTree) -> set[str]:
    return {info.path for _, info in tree.iter_visible()}


def test_layers_stack_and_whiteouts_hide_lower_content(tmp_path: Path) -> None:
    base = raw_tar(member("etc/", flag=b"5"), member("etc/passwd", b"root"),
                   member("etc/shadow", b"x"), member("var/cache/apk/a", b"1"),
                   member("var/cache/apk/b", b"2"))
    top = raw_tar(member("etc/.wh.shadow"), member("var/cache/apk/.wh..wh..opq"),
                  member("etc/passwd", b"root2"))
    tree = tree_of(tmp_path, base, top)
    assert _paths(tree) == {"/etc", "/etc/passwd", "/var", "/var/cache", "/var/cache/apk"}
    assert tree.visible("/etc/passwd") == (1, FileInfo("/etc/passwd", FileKind.FILE, size=5,
                                                       mtime=1699818496))
    assert tree.was_deleted("/etc/shadow", 0) and tree.was_deleted("/var/cache/apk/a", 0)
    assert not tree.was_deleted("/etc/passwd", 0)  # replaced, not deleted
    assert not tree.was_deleted("/etc/shadow", 1)  # not deleted after layer 1


def test_opaque_after_siblings_in_the_same_layer_keeps_them(tmp_path: Path) -> None:
    base = raw_tar(member("d/old", b"1"))
    top = raw_tar(member("d/new", b"2"), member("d/.wh..wh..opq"), member("d/newer", b"3"))
    assert _paths(tree_of(tmp_path, base, top)) == {"/d", "/d/new", "/d/newer"}
    # benign twin: marker first, as Docker writes it
    top_first = raw_tar(member("d/.wh..wh..opq"), member("d/new", b"2"))
    assert _paths(tree_of(tmp_path, base, top_first)) == {"/d", "/d/new"}


def test_whiteout_only_hides_lower_layers(tmp_path: Path) -> None:
    layer = raw_tar(member("a", b"1"), member(".wh.a"), member("b", b"2"))
    assert _paths(tree_of(tmp_path, layer)) == {"/a", "/b"}
    tree = tree_of(tmp_path, raw_tar(member("x/y/z", b"1")), raw_tar(member(".wh.x")))
    assert _paths(tree) == set() and tree.was_deleted("/x/y/z", 0)


def test_bare_whiteout_is_skipped_and_the_rest_kept(tmp_path: Path) -> None:
    tree = tree_of(tmp_path, raw_tar(member("d/f", b"1")),
                   raw_tar(member("d/.wh."), member("d/g", b"2")))
    assert _paths(tree) == {"/d", "/d/f", "/d/g"}


def test_path_changing_type_across_layers() -> None:
    tree = _tree([FileInfo("/p", FileKind.DIR), _file("/p/child"), _file("/q"),
                  _link("/r", "p")],
                 [_file("/p"), FileInfo("/q", FileKind.DIR), _file("/q/inside"),
                  FileInfo("/r", FileKind.DIR)])
    assert tree.visible("/p")[1].kind is FileKind.FILE  # type: ignore[index]
    assert tree.visible("/p/child") is None and tree.was_deleted("/p/child", 0)
    assert tree.visible("/q")[1].kind is FileKind.DIR  # type: ignore[index]
    assert tree.visible("/q/inside") is not None
    assert tree.visible("/r")[1].kind is FileKind.DIR  # type: ignore[index]


def test_file_in_the_way_of_a_child_becomes_a_directory() -> None:
    tree = _tree([_file("/a")], [_file("/a/b")])
    assert tree.visible("/a")[1].kind is FileKind.DIR  # type: ignore[index]
    assert tree.visible("/a/b") is not None and tree.warnings


def test_duplicate_entries_last_one_wins() -> None:
    tree = _tree([_file("/f", 1), _file("/f", 2), _file("/f", 3)])
    assert tree.visible("/f")[1].size == 3  # type: ignore[index]
    assert [info.path for _, info in tree.iter_visible()] == ["/f"]


def test_symlinks_resolve_inside_the_root() -> None:
    tree = _tree([FileInfo("/usr/lib", FileKind.DIR), _file("/usr/lib/os-release"),
                  _link("/etc/os-release", "../usr/lib/os-release"),
                  _link("/lib", "usr/lib"), _link("/abs", "/usr/lib/os-release"),
                  _link("/up", "../../../../.."), _link("/root", "/"),
                  _link("/dangling", "/nowhere")])
    assert tree.resolve("/etc/os-release") == "/usr/lib/os-release"
    assert tree.resolve("/lib/os-release") == "/usr/lib/os-release"
    assert tree.resolve("/abs") == "/usr/lib/os-release"
    assert tree.resolve("/up/usr/lib/os-release") == "/usr/lib/os-release"  # .. stops at root
    assert tree.resolve("/root/root/root/etc/os-release") == "/usr/lib/os-release"
    assert tree.resolve("/up") == "/" and tree.resolve("/dangling") is None
    assert tree.resolve("/usr/lib/os-release/x") is None  # a file is not a directory


def test_two_step_symlink_escape_stays_inside_the_root(tmp_path: Path) -> None:
    escape = raw_tar(member("lnk", flag=b"2", linkname="/"),
                     member("up", flag=b"2", linkname="../../.."),
                     member("lnk/etc/passwd", b"via root link"),
                     member("up/tmp/x", b"via dotdot link"))
    tree = tree_of(tmp_path, escape)
    assert tree.visible("/etc/passwd") is not None and tree.visible("/tmp/x") is not None
    assert tree.visible("/lnk")[1].kind is FileKind.SYMLINK  # type: ignore[index]
    assert tree.resolve("/lnk/etc/passwd") == "/etc/passwd"
    # benign twin: a link to a real directory, then a file through it
    tree = tree_of(tmp_path, raw_tar(member("usr/lib/", flag=b"5"),
                                     member("lib", flag=b"2", linkname="usr/lib"),
                                     member("lib/libc.so", b"x")))
    assert tree.visible("/usr/lib/libc.so") is not None and tree.visible("/lib/libc.so") is None


def test_symlink_loops_and_hop_limit() -> None:
    chain = [_link(f"/l{i}", f"/l{i + 1}") for i in range(45)] + [_file("/l45")]
    tree = _tree([_link("/a", "b"), _link("/b", "a"), _link("/self", "self/x"), *chain])
    assert tree.resolve("/a") is None and tree.resolve("/self") is None
    assert tree.resolve("/l5") == "/l45"  # 40 hops: fine
    assert tree.resolve("/l0") is None  # 45 hops: refused
    loop_parent = _tree([_link("/a", "b"), _link("/b", "a")], [_file("/a/x")])
    assert loop_parent.visible("/a/x") is None and loop_parent.warnings


def test_hard_links_to_missing_or_later_entries(tmp_path: Path) -> None:
    layer = raw_tar(member("early", flag=b"1", linkname="target"), member("target", b"data"),
                    member("missing", flag=b"1", linkname="nowhere"),
                    member("good", flag=b"1", linkname="target"))
    tree = tree_of(tmp_path, layer)
    assert len(tree.warnings) == 2
    assert any("early" in w for w in tree.warnings) and any("missing" in w for w in tree.warnings)
    assert tree.visible("/good")[1].linkname == "/target"  # type: ignore[index]


def test_tree_memory_for_100k_files() -> None:
    infos = [_file(f"/usr/lib/python3/site-packages/pkg{i // 50}/module_{i % 50}.py", 1000)
             for i in range(100_000)]
    tracemalloc.start()
    try:
        tree = _tree(infos)
        current = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(tree) == 100_000 + 4 + 2000
    assert current < 40 << 20, f"{current >> 20} MiB"  # 200k files stay well under 100 MB
