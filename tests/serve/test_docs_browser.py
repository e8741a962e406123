"""The documentation site in a real headless Chromium: built from docs/ (strict), served over loopback http (search
needs http, not file://), it loads with no script errors and no request leaving the machine, search finds a
page, and every link on every page leads to a page that exists and to a heading on it.

Same browser set-up as test_browser.py: Debian's chromium driven by Playwright, installed with apt when missing.
"""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urlparse

import pytest

from tests.serve.test_browser import CHROMIUM_ARGS, chromium, expect, sync_api

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The site, built in strict mode, served on a free loopback port."""
    pytest.importorskip("mkdocs", reason="the docs extra is missing: pip install -e '.[docs]'")
    site = tmp_path_factory.mktemp("docs") / "site"
    build = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(build, cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    executable = chromium()
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        context.set_default_timeout(60_000)
        expect.set_options(timeout=60_000)
        page = context.pages[0] if context.pages else context.new_page()
        errors: list[str] = []
        outside: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("request", lambda r: outside.append(r.url) if _leaves_machine(r.url) else None)
        yield page
        context.close()
        assert not errors, f"JavaScript errors on the site: {errors}"
        assert not outside, f"the site requested addresses off this machine (it must work offline): {outside}"


def _leaves_machine(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in {"http", "https"} and parsed.hostname not in {"127.0.0.1", "localhost"}


def test_site_loads_and_search_finds_a_page(site_url: str, page: Any) -> None:
    page.goto(site_url)
    expect(page).to_have_title("ragtune")
    expect(page.locator("nav.md-nav--primary")).to_contain_text("Getting started")
    page.click("input.md-search__input")  # in the header on a desktop-wide window
    page.keyboard.type("calibrate", delay=30)  # the theme searches on key events, which fill() does not send
    results = page.locator(".md-search-result__item")
    expect(results.first).to_be_visible()
    assert "calibrate" in page.inner_text(".md-search-result").lower()
    results.first.locator("a").first.click()
    expect(page.locator("article h1")).to_be_visible()


def _page_links(page: Any) -> tuple[list[str], set[str]]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    ids = set(page.eval_on_selector_all("[id]", "els => els.map(e => e.id)"))
    return hrefs, ids


def test_no_link_is_dead(site_url: str, page: Any) -> None:
    """Crawl every page from the home page; each internal link must load and its #anchor must exist there."""
    ids_by_page: dict[str, set[str]] = {}
    links: list[tuple[str, str]] = []  # (from page, to address)
    queue = [site_url]
    while queue:
        url = queue.pop()
        if url in ids_by_page:
            continue
        response = page.goto(url)
        assert response is not None and response.ok, f"{url}: HTTP {response.status if response else 'no response'}"
        hrefs, ids_by_page[url] = _page_links(page)
        for href in hrefs:
            if not href.startswith(site_url):
                continue
            links.append((url, href))
            target = urldefrag(href).url
            if target.endswith("/") or target.endswith(".html"):
                queue.append(target)
    assert len(ids_by_page) >= 15, sorted(ids_by_page)
    dead = []
    for source, href in links:
        target, fragment = urldefrag(href)
        if target in ids_by_page:
            if fragment and fragment not in ids_by_page[target]:
                dead.append(f"{source} -> {href}: no element with id {fragment!r}")
            continue
        try:
            with urllib.request.urlopen(target, timeout=30) as reply:  # an asset (css, js, json)
                assert reply.status == 200
        except (urllib.error.URLError, AssertionError) as exc:
            dead.append(f"{source} -> {href}: {exc}")
    assert dead == []
