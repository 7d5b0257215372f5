"""The built site in a real browser: Debian's Chromium, headless, driven by Playwright.

The site is served on 127.0.0.1; every request elsewhere (MathJax's CDN,
fonts) is blocked, as the test machines have no internet, and the errors
those blocked requests cause are the only console errors allowed.
"""

import functools
import http.server
import os
import re
import shutil
import threading
import urllib.parse
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from book_support import ROOT, build_site, chapter_files, toc_files

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = ROOT / "_build" / "screenshots"
# A local copy of MathJax 3's es5 folder (npm's mathjax package), if any, stands
# in for the CDN so that the test can check the maths is typeset without error.
MATHJAX = Path(os.environ["MATHJAX_ES5_DIR"]) if os.environ.get("MATHJAX_ES5_DIR") else None
# Chromium must not try to reach the network on its own (updates, sync, ...).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    html, _, _ = build_site()
    handler = functools.partial(_QuietHandler, directory=str(html))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", html
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: install Debian's chromium package (apt-get install chromium)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    base, _ = server
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.problems = []

    def only_local(route):
        url = route.request.url
        if url.startswith(base):
            route.continue_()
        elif MATHJAX and "/mathjax@3/es5/" in url:
            # serve the CDN's MathJax from a local copy, so the maths is typeset
            local = MATHJAX / url.split("/mathjax@3/es5/", 1)[1].split("?")[0]
            if local.is_file():
                route.fulfill(path=str(local), content_type="application/javascript")
            else:
                route.abort()
        else:
            route.abort()

    def on_console(message):
        if message.type != "error":
            return
        source = (message.location or {}).get("url", "")
        if source and not source.startswith(base):
            return  # a blocked request to the internet, e.g. MathJax's CDN
        if "net::ERR_FAILED" in message.text and not source:
            return
        page.problems.append(f"console error: {message.text} ({source})")

    page.route("**/*", only_local)
    page.on("console", on_console)
    page.on("pageerror", lambda error: page.problems.append(f"page error: {error}"))
    yield page
    context.close()


PAGES = [path.relative_to(ROOT).with_suffix(".html").as_posix() for path in toc_files()]
PAGES += ["search.html", "genindex.html"]


def _local_links(page, base):
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    return sorted({href for href in hrefs if href.startswith(base)})


@functools.lru_cache(maxsize=None)
def _ids_of(path):
    return set(re.findall(r'\bid="([^"]+)"', Path(path).read_text(errors="replace")))


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_cleanly_with_working_links_and_images(page, server, name):
    base, html = server
    response = page.goto(f"{base}/{name}", wait_until="load")
    assert response.ok, f"{name}: HTTP {response.status}"
    page.wait_for_timeout(200)
    assert not page.problems, f"{name}: " + "; ".join(page.problems)

    for href in _local_links(page, base):
        parsed = urllib.parse.urlparse(href)
        target = html / urllib.parse.unquote(parsed.path).lstrip("/")
        if target.is_dir():
            target = target / "index.html"
        assert target.exists(), f"{name}: link to {href} points at nothing"
        if parsed.fragment and target.suffix == ".html":
            anchor = urllib.parse.unquote(parsed.fragment)
            assert anchor in _ids_of(str(target)), f"{name}: anchor #{anchor} missing in {target.name}"

    images = page.eval_on_selector_all(
        "img", "imgs => imgs.map(i => [i.currentSrc || i.src, i.complete, i.naturalWidth, i.naturalHeight])"
    )
    for src, complete, width, height in images:
        if not src.startswith(base):
            continue
        assert complete and width > 0 and height > 0, f"{name}: image {src} did not load"


@pytest.mark.parametrize("chapter", chapter_files(), ids=lambda p: p.stem)
def test_chapter_screenshot_maths_and_solution_dropdowns(page, server, chapter):
    base, _ = server
    name = chapter.relative_to(ROOT).with_suffix(".html").as_posix()
    page.goto(f"{base}/{name}", wait_until="load")

    # MathJax itself comes from a CDN; offline, the TeX must be in the page,
    # between the delimiters Sphinx configures MathJax to process.
    if "$" in chapter.read_text():
        # the page as served, before MathJax replaces the TeX with its output
        served = page.request.get(f"{base}/{name}").text()
        maths = []
        for node in BeautifulSoup(served, "html.parser").select("span.math, div.math"):
            for number in node.select(".eqno"):  # a labelled equation's number
                number.decompose()
            maths.append(node.get_text().strip())
        assert maths, f"{name}: no maths in the page"
        # inline \( \), display \[ \], and amsmath environments, which
        # MathJax processes without delimiters
        delimited = ("\\(", "\\[", "$$", "\\begin{")
        undelimited = [m for m in maths if not m.startswith(delimited)]
        assert not undelimited, f"{name}: maths MathJax will not pick up: {undelimited[:3]}"
        assert page.eval_on_selector_all("script[src*='mathjax']", "s => s.length"), "MathJax is not loaded"
        if MATHJAX:
            page.wait_for_function(
                f"document.querySelectorAll('mjx-container').length >= {len(maths)}", timeout=20000)
            assert page.locator("mjx-merror").count() == 0, f"{name}: MathJax reports TeX errors"

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / f"{chapter.stem}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000

    dropdowns = page.locator(".solution.dropdown")
    assert dropdowns.count() >= 1, f"{name}: no solution dropdowns"
    for index in range(dropdowns.count()):
        dropdown = dropdowns.nth(index)
        body = dropdown.locator(":scope > :not(.admonition-title)").first
        assert not body.is_visible(), f"{name}: solution {index + 1} is open before a click"
        dropdown.locator(".admonition-title, button.toggle-button").first.click()
        body.wait_for(state="visible", timeout=3000)
    assert not page.problems, f"{name}: " + "; ".join(page.problems)



def test_search_finds_factorization(page, server):
    base, _ = server
    page.goto(f"{base}/search.html?q=factorization", wait_until="load")
    results = page.locator("#search-results li, ul.search li")
    results.first.wait_for(timeout=15000)
    assert results.count() > 0
    assert not page.problems, "; ".join(page.problems)
