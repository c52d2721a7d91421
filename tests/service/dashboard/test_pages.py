"""The dashboard in a real headless Chromium, over a real store filled by ``respond --demo``
and a ``rescan`` against a smaller advisory set: every page renders without console errors
(a screenshot each), the search and the filters work, what changed is shown, and hostile
names from the store are shown as text, never run."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.asgi import uvicorn_thread
from tests.support.browser import Browser
from tests.support.cli import REPO, run_hullguard
from tests.support.registry import free_port

WEB = "registry.shop.internal/shop/web:1.4.2"
HOSTILE = '<img src=x onerror="window.pwned=1">'


def hullguard(*args: str) -> subprocess.CompletedProcess[str]:
    return run_hullguard(*args, timeout=600)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo incident's store, then a rescan against one advisory only: every other
    finding is resolved in the latest scan; one image gets a hostile extra name."""
    root = tmp_path_factory.mktemp("dashboard")
    done = hullguard("respond", "--demo", "--out", str(root / "incident"), "-q",
                     "--no-contain", "--no-remediate")
    assert done.returncode in (0, 1), done.stderr
    path = root / "incident" / ".hullguard-state" / "demo" / "store.sqlite"
    advisories = REPO / "src" / "hullguard" / "demo" / "data" / "advisories"
    assert hullguard("db", "import", str(advisories / "PYSEC-2018-28.json"), "--db",
                     str(root / "one.db")).returncode == 0
    rescan = hullguard("rescan", "--db", str(root / "one.db"), "--store", str(path))
    assert rescan.returncode in (0, 1), rescan.stderr
    with sqlite3.connect(path) as conn:
        # the demo's scans happened "two days ago": the rescan is what changed since
        conn.execute("UPDATE scans SET created_at = datetime(created_at, '-2 days') "
                     "WHERE kind != 'rescan'")
        # a name an attacker chose, e.g. from a webhook
        conn.execute("UPDATE graph_images SET names = names || ? WHERE names LIKE ?",
                     ("\n" + HOSTILE, "%shop/worker%"))
    return path


@pytest.fixture(scope="module")
def server(store: Path) -> Iterator[str]:
    from hullguard.service.dashboard.pages import create_dashboard_app

    port = free_port()
    with uvicorn_thread(create_dashboard_app(f"sqlite:///{store}"), port):
        yield f"http://127.0.0.1:{port}/ui"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    found = Browser()
    yield found
    found.close()


def visit(browser: Browser, url: str, shots: Path, name: str) -> None:
    browser.events.clear()
    browser.load("about:blank")
    browser.load(url)
    wait_for(browser, f"location.href === {json.dumps(url)} && document.readyState === "
             "'complete'")
    browser.screenshot(shots / f"{name}.png")
    assert browser.errors() == [], f"{name}: {browser.errors()}"


def wait_for(browser: Browser, condition: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if browser.evaluate(condition):
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {condition}")


def text(browser: Browser, selector: str) -> str:
    return str(browser.evaluate(f"document.querySelector({json.dumps(selector)}).innerText"))


def test_every_page_renders_without_errors(server: str, browser: Browser,
                                           tmp_path: Path) -> None:
    visit(browser, f"{server}/", tmp_path, "overview")
    assert text(browser, "#images-count") == "4"
    visit(browser, f"{server}/queue", tmp_path, "queue")
    assert WEB in text(browser, "#queue")
    visit(browser, f"{server}/images", tmp_path, "images")
    assert browser.evaluate("document.querySelectorAll('#images .image-row').length") == 4
    link = browser.evaluate(
        f"[...document.querySelectorAll('#images a')].find(a => a.innerText === "
        f"{json.dumps(WEB)}).href")
    visit(browser, link, tmp_path, "image")
    assert "CVE-2018-18074" in text(browser, "#findings")
    assert "compose/compose-service/web" in text(browser, "#workloads")
    assert "requests" in text(browser, "#packages")
    visit(browser, f"{server}/changes?hours=24", tmp_path, "changes")
    changed = text(browser, "main")
    assert "resolved\tcritical" in changed and "CVE-2018-18074" not in changed
    visit(browser, f"{server}/changes?hours=72", tmp_path, "changes-72h")
    assert "new\thigh\tCVE-2018-18074" in text(browser, "main")  # first scans in window
    assert all(path.stat().st_size > 5000 for path in tmp_path.glob("*.png"))


def test_search_form_finds_by_cve_and_by_package(server: str, browser: Browser,
                                                 tmp_path: Path) -> None:
    visit(browser, f"{server}/", tmp_path, "before-search")
    browser.evaluate("document.querySelector('#search').value = 'CVE-2018-18074';"
                     "document.querySelector('header form').submit()")
    wait_for(browser, "location.href.includes('search?q=CVE-2018-18074') && "
             "document.readyState === 'complete' && !!document.querySelector('#vuln-hits')")
    assert "requests@2.19.1" in text(browser, "#vuln-hits")
    assert WEB in text(browser, "#vuln-hits")
    visit(browser, f"{server}/search?q=musl", tmp_path, "search-package")
    assert "musl 1.1.22-r2 (apk)" in text(browser, "#package-hits")
    assert browser.errors() == []


def test_filters_narrow_the_image_list(server: str, browser: Browser, tmp_path: Path) -> None:
    visit(browser, f"{server}/images", tmp_path, "filter-before")
    browser.evaluate("document.querySelector('#filters input[name=q]').value = 'worker';"
                     "document.querySelector('#filters').submit()")
    wait_for(browser, "location.href.includes('q=worker') && document.readyState === "
             "'complete' && !!document.querySelector('#images')")
    assert browser.evaluate("document.querySelectorAll('#images .image-row').length") == 1
    # after the rescan only CVE-2018-18074 (high, in web's requests) is left: a critical
    # filter shows no image, a high one shows web
    query = urllib.parse.urlencode({"severity": "critical"})
    visit(browser, f"{server}/images?{query}", tmp_path, "filter-critical")
    assert browser.evaluate("document.querySelectorAll('#images .image-row').length") == 0
    visit(browser, f"{server}/images?severity=high", tmp_path, "filter-high")
    assert text(browser, "#images").count("shop/web") == 1


def test_hostile_names_are_text(server: str, browser: Browser, tmp_path: Path) -> None:
    visit(browser, f"{server}/images?q=worker", tmp_path, "hostile")
    link = browser.evaluate("document.querySelector('#images a').href")
    visit(browser, link, tmp_path, "hostile-image")
    assert browser.evaluate("window.pwned === undefined")
    assert browser.evaluate("document.querySelectorAll('main img').length") == 0
    assert HOSTILE in text(browser, "main")


def test_unknown_image_is_404(server: str) -> None:
    import httpx

    response = httpx.get(f"{server}/images/sha256:{'0' * 64}")
    assert response.status_code == 404
