"""The ignore file: parsing, strictness, expiry."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from hullguard.errors import InputError
from hullguard.vuln.ignore import load_ignore_file


def test_parse_rules(tmp_path: Path) -> None:
    path = tmp_path / "ignore.yaml"
    path.write_text("ignore:\n"
                    "  - id: CVE-2023-1\n    reason: not reachable\n    expires: 2026-12-31\n"
                    "  - id: GHSA-aaaa-bbbb-cccc\n    package: pkg:pypi/requests\n"
                    "    reason: vendored copy unused\n")
    first, second = load_ignore_file(path)
    assert (first.id, first.expires, first.package) == ("CVE-2023-1", date(2026, 12, 31), "")
    assert first.expired(date(2027, 1, 1)) and not first.expired(date(2026, 12, 31))
    assert second.package == "pkg:pypi/requests" and second.expires is None


@pytest.mark.parametrize("body", [
    "ignore:\n  - id: CVE-1\n",  # no reason
    "ignore:\n  - reason: x\n",  # no id
    "ignore:\n  - id: CVE-1\n    reason: x\n    expires: 31/12/2026\n",
    "ignore:\n  - id: CVE-1\n    reason: x\n    expires: 2026-02-30\n",
    "ignore:\n  - id: CVE-1\n    reason: x\n    until: 2026-01-01\n",  # unknown key
    "ignore: {id: CVE-1}\n",
    "ignore:\n  - [CVE-1]\n",
    "ignore:\n  - id: &a CVE-1\n    reason: *a\n",  # aliases refused
    "ignore: [unclosed\n",
])
def test_malformed_rules_are_errors(tmp_path: Path, body: str) -> None:
    path = tmp_path / "ignore.yaml"
    path.write_text(body)
    with pytest.raises(InputError) as caught:
        load_ignore_file(path)
    assert str(path) in str(caught.value)


def test_empty_and_missing(tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_text("ignore:\n")
    assert load_ignore_file(tmp_path / "empty.yaml") == []
    with pytest.raises(InputError):
        load_ignore_file(tmp_path / "missing.yaml")
