"""The check registry: every check has metadata and a function, levels nest."""

from __future__ import annotations

import re

import pytest

from hullguard.errors import InputError
from hullguard.lint import all_checks, enforced
from hullguard.lint.registry import functions, merged, parse_level

NIST = re.compile(r"^[A-Z]{2}-\d{1,2}$")


def test_every_check_has_a_function_and_metadata() -> None:
    ids = [c.id for c in all_checks()]
    assert len(ids) == len(set(ids)) and set(ids) == set(functions())
    for check in all_checks():
        assert re.fullmatch(r"HG-[DIKC]\d{3}", check.id)
        assert NIST.match(check.nist) and check.fix and check.help and check.title
        assert "\n" not in check.fix


def test_an_id_in_two_check_tables_is_refused() -> None:
    def first(context: object) -> list[object]:
        return []

    assert merged(({"HG-D001": first}, {"HG-D002": first}), "check") == {
        "HG-D001": first, "HG-D002": first}
    with pytest.raises(ValueError, match="check HG-D001 registered twice"):
        merged(({"HG-D001": first}, {"HG-D001": first}), "check")


def test_each_check_module_declares_its_own_checks() -> None:
    """Each check module's CHECKS table holds only its target's ids (HG-D Dockerfile, HG-I
    image, HG-K Kubernetes, HG-C compose), and none is empty."""
    from hullguard.lint import compose, dockerfile, image, kubernetes

    tables = (dockerfile.CHECKS, image.CHECKS, kubernetes.CHECKS, compose.CHECKS)
    for table, letter in zip(tables, "DIKC", strict=True):
        assert table and all(check_id.startswith(f"HG-{letter}") for check_id in table)


def test_levels_nest() -> None:
    l1, l2, l3 = (set(enforced(level)) for level in ("L1", "L2", "L3"))
    assert l1 < l2 < l3 and l3 == set(all_checks())
    assert {c.level for c in l1} == {"L1"}
    assert enforced("l2", "kubernetes") and all("kubernetes" in c.targets
                                                for c in enforced("L2", "kubernetes"))


def test_required_topics_are_covered() -> None:
    titles = " ".join(c.title.lower() for c in all_checks())
    for topic in ("root", "latest", "digest", "add fetches", "shell", "secret", "cache",
                  "package manager", "setuid", "world-writable", "sudo", "ssh", "healthcheck",
                  "privileged", "hostpath", "host namespaces", "runasnonroot",
                  "root filesystem", "service account token", "privilegeescalation",
                  "capabilities", "resource limits"):
        assert topic in titles, topic


@pytest.mark.parametrize("level", ["L4", "", "high"])
def test_bad_level(level: str) -> None:
    with pytest.raises(InputError):
        parse_level(level)
