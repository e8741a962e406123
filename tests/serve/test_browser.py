"""The web page in a real headless Chromium: enter the key, ask and watch the answer stream in with its sources,
upload a document and get answered from it, switch strategy, and view the report.

Debian's `chromium` driven by Playwright through the system browser's path (Playwright's own browser downloads are
never used). Where the browser is missing and we are root with apt, the test installs it; else it skips and says why.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.serve.conftest import API_KEY, Served

pytestmark = pytest.mark.slow
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is missing: pip install -e '.[dev]'"
)
expect = sync_api.expect

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium() -> str:
    """The system Chromium, installed with apt when missing and allowed; else the test skips with the reason."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.name != "posix" or os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("no chromium on PATH and cannot install it (needs root and apt-get): apt-get install chromium")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium"]
    if subprocess.run(install, env=env, capture_output=True, timeout=600).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=600)
        result = subprocess.run(install, env=env, capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            pytest.skip(f"chromium could not be installed with apt-get: {result.stderr.strip()[-300:]}")
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("apt-get installed chromium but no chromium binary is on PATH")
    return found


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    executable = chromium()
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),  # a fresh profile: nothing remembered between runs
            executable_path=executable,
            headless=True,
            args=CHROMIUM_ARGS,
        )
        context.set_default_timeout(90_000)
        expect.set_options(timeout=90_000)  # answers on a busy 2-core machine can take a while
        page = context.pages[0] if context.pages else context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield page
        context.close()
        assert not errors, f"JavaScript errors on the page: {errors}"


def ask(page: Any, question: str, strategy: str) -> None:
    page.select_option("#strategy", strategy)
    page.fill("#question", question)
    page.evaluate(
        """() => {
            window.answerUpdates = 0;
            new MutationObserver(() => window.answerUpdates++).observe(
                document.getElementById('answer'), {childList: true, characterData: true, subtree: true});
        }"""
    )
    page.click("#ask-button")
    expect(page.locator("#answer-status")).to_have_text(re.compile(r"^Answered"))


def test_ask_upload_switch_strategy_and_report(served: Served, page: Any, tmp_path: Path) -> None:
    page.goto(served.url + "/")
    # every control has a label a screen reader can announce
    unlabeled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
              .filter(e => e.type !== 'hidden' && e.labels.length === 0).map(e => e.id)"""
    )
    assert unlabeled == []
    # The id field's pattern compiles (browsers use the 'v' flag; an invalid pattern is silently ignored).
    verdicts = page.evaluate(
        """() => { const f = document.getElementById('doc-id');
              return ['zoo/otters 2', '../secrets'].map(v => { f.value = v; return f.validity.patternMismatch; }); }"""
    )
    assert verdicts == [False, True]
    page.fill("#doc-id", "")

    # the server wants a key: the page asks for it
    page.wait_for_selector("#key-section:not([hidden])")
    page.fill("#key", API_KEY)
    page.click("#key-form button")
    expect(page.locator("#doc-count")).to_contain_text("documents")
    options = page.eval_on_selector_all("#strategy option:not([disabled])", "els => els.map(e => e.value)")
    assert set(options) == {"rag", "hybrid", "finetune", "base"}

    # ask: the answer streams in, then its sources (title, passage) appear
    ask(page, "Who built the Varneholm lighthouse?", "rag")
    assert "Quist" in page.inner_text("#answer")
    assert page.evaluate("window.answerUpdates") >= 2  # it arrived in pieces, not as one block
    first = page.locator("#sources li").first
    assert "Varneholm lighthouse" in first.locator("strong").inner_text()
    assert "Mara Quist" in first.locator("blockquote").inner_text()
    assert page.is_visible("#sources-heading")

    # upload a file and be answered from it at once
    doc = tmp_path / "comet-cafe.md"
    doc.write_text("# Comet Cafe\n\nThe Comet Cafe's signature drink is the Nebula, a cold brew with cardamom.\n")
    page.set_input_files("#file", str(doc))
    page.click("#upload-button")
    expect(page.locator("#upload-status")).to_contain_text("comet-cafe.md: added")
    expect(page.locator("#doc-list")).to_contain_text("comet-cafe.md")
    ask(page, "What is the signature drink of the Comet Cafe?", "rag")
    assert "Nebula" in page.inner_text("#answer")
    assert "Comet Cafe" in page.locator("#sources li").first.locator("strong").inner_text()

    # switch strategy: closed-book answers cite nothing
    ask(page, "What is the capital of France?", "base")
    assert page.inner_text("#answer").strip()
    assert page.locator("#sources li").count() == 0 and not page.is_visible("#sources-heading")

    # the report: a clear message while there is none, then the report itself
    page.click("#report-button")
    expect(page.locator("#report-status")).to_contain_text("ragtune compare")
    assert not page.is_visible("#report-frame")
    folder = served.engine.workspace.new_report_dir()
    folder.mkdir(parents=True)
    try:
        (folder / "report.html").write_text("<html><body><h1>Browser check report</h1></body></html>")
        page.click("#report-button")
        expect(page.frame_locator("#report-frame").locator("h1")).to_have_text("Browser check report")
    finally:
        shutil.rmtree(folder)

    # delete the uploaded document from the list
    page.click("button[aria-label='Delete comet-cafe.md']")
    expect(page.locator("#upload-status")).to_contain_text("Deleted comet-cafe.md")
    expect(page.locator("#doc-list")).not_to_contain_text("comet-cafe.md")
