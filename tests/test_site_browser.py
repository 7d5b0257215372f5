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
    # FMLIB_SITE_HTML: a site built already (its _build/html folder), to
    # iterate on these tests without rebuilding; never set in CI
    built = os.environ.get("FMLIB_SITE_HTML")
    html = Path(built) if built else build_site()[0]
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


# --------------------------------------------------------------------------
# Readability at a 1280 px wide window (issue 16): nothing scrolls sideways,
# no equation is wider than the text column, figures are sharp on
# high-density screens. Each test lists every offender of its page.
# --------------------------------------------------------------------------

# Opens everything a reader can open (folded inputs, solution dropdowns), so
# that what they would see when they open it is measured too.
_UNFOLD = """() => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  document.querySelectorAll('.toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));
  document.querySelectorAll('.solution.dropdown').forEach(e => e.classList.remove('toggle-hidden'));
}"""

# Code a reader scrolls sideways: a <pre> of a code cell's input, a code
# block of the text, or a text output, wider than its box.
_SCROLLING_CODE = """([selector, exclude]) => {
  const out = [];
  document.querySelectorAll(selector).forEach(pre => {
    if (exclude && pre.closest(exclude)) return;
    if (pre.clientWidth > 0 && pre.scrollWidth > pre.clientWidth + 1) {
      const lines = pre.innerText.split('\\n');
      const longest = lines.reduce((a, b) => (b.length > a.length ? b : a), '');
      out.push([pre.scrollWidth, pre.clientWidth, longest.trim().slice(0, 70)]);
    }
  });
  return out;
}"""

_CODE_INPUTS = ".cell_input pre, div[class*='highlight-'] pre"
_CODE_OUTPUTS = ".cell_output pre"

# Display equations (MathJax 3 output) wider than the article's text column.
_WIDE_EQUATIONS = """() => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main');
  const style = getComputedStyle(article);
  const column = article.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  const out = [];
  if (typeof MathJax === 'undefined' || !MathJax.startup || !MathJax.startup.document) {
    return [column, out];    // a page without maths
  }
  for (const item of MathJax.startup.document.math) {
    if (!item.display || !item.typesetRoot) continue;
    const math = item.typesetRoot.querySelector('mjx-math') || item.typesetRoot;
    const width = math.getBoundingClientRect().width;
    if (width > column + 1) {
      out.push([Math.round(width), Math.round(column), item.math.trim()]);
    }
  }
  return [column, out];
}"""

# Figure images: their pixels against the CSS pixels they are shown in.
_FIGURE_IMAGES = """() => Array.from(document.querySelectorAll(
    '.cell_output img, figure img, .output img')).map(i => [
  i.currentSrc || i.src, i.naturalWidth, i.getBoundingClientRect().width])"""

# Pages whose code and maths are checked: every page of the table of contents.
CONTENT_PAGES = [path.relative_to(ROOT).with_suffix(".html").as_posix() for path in toc_files()]


def _open_unfolded(page, base, name):
    response = page.goto(f"{base}/{name}", wait_until="load")
    assert response.ok, f"{name}: HTTP {response.status}"
    page.evaluate(_UNFOLD)
    page.wait_for_timeout(100)


@pytest.mark.parametrize("name", CONTENT_PAGES)
def test_no_code_scrolls_sideways_at_1280_px(page, server, name):
    """No code cell (input), code block or text output is wider than its box."""
    base, _ = server
    _open_unfolded(page, base, name)
    offenders = []
    for kind, selector, exclude in (("code", _CODE_INPUTS, ".cell_output"),
                                    ("output", _CODE_OUTPUTS, "")):
        for scroll, client, line in page.evaluate(_SCROLLING_CODE, [selector, exclude]):
            offenders.append(f"  {kind} {scroll} px in {client} px: {line!r}")
    assert not offenders, (
        f"{name}: {len(offenders)} code box(es) scroll sideways at 1280 px (wrap code lines "
        f"at 79 characters, shorten printed lines):\n" + "\n".join(offenders))


@pytest.mark.parametrize("name", CONTENT_PAGES)
def test_no_display_equation_is_wider_than_the_column(page, server, name):
    if not MATHJAX:
        pytest.skip("set MATHJAX_ES5_DIR to a local MathJax 3 es5 folder to measure typeset maths")
    base, _ = server
    _open_unfolded(page, base, name)
    expected = page.locator("div.math").count()
    if expected:
        page.wait_for_function(
            f"document.querySelectorAll('mjx-container[display=\"true\"]').length >= {expected}",
            timeout=20000)
    column, wide = page.evaluate(_WIDE_EQUATIONS)
    assert not wide, (
        f"{name}: {len(wide)} display equation(s) wider than the {column:.0f} px column (break "
        f"them into lines with aligned):\n"
        + "\n".join(f"  {width} px: {' '.join(tex.split())[:90]!r}" for width, _, tex in wide))


@pytest.mark.parametrize("name", CONTENT_PAGES)
def test_figures_are_sharp_on_high_density_screens(page, server, name):
    """Every figure is SVG, or has at least 1.5 image pixels per CSS pixel."""
    base, _ = server
    _open_unfolded(page, base, name)
    page.wait_for_load_state("load")
    blurred = []
    for src, natural, shown in page.evaluate(_FIGURE_IMAGES):
        if src.split("?")[0].endswith(".svg") or shown == 0:
            continue
        if natural < 1.5 * shown:
            blurred.append(f"  {src.rsplit('/', 1)[-1][:20]}: {natural} px shown in {shown:.0f} px")
    assert not blurred, (
        f"{name}: {len(blurred)} figure(s) not sharp on a high-density screen (fewer than 1.5 "
        f"pixels per CSS pixel; book/matplotlibrc sets 2x):\n" + "\n".join(blurred))


@pytest.mark.parametrize("width", [1280, 700])
def test_one_search_box(browser, server, width):
    """One search entry point on screen, wide (sidebar field) or narrow (header button)."""
    base, _ = server
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base)
               else route.abort())
    page.goto(f"{base}/book/intro.html", wait_until="load")
    visible = page.eval_on_selector_all(
        ".search-button__button, form.bd-search input",
        "els => els.filter(e => e.offsetParent !== null && e.getBoundingClientRect().width > 0)"
        ".map(e => e.className)")
    context.close()
    assert len(visible) == 1, f"{len(visible)} search boxes on screen at {width} px: {visible}"


@pytest.mark.parametrize("chapter", chapter_files(), ids=lambda p: p.stem)
def test_self_check_input_is_folded_and_its_verdict_shown(page, server, chapter):
    base, _ = server
    name = chapter.relative_to(ROOT).with_suffix(".html").as_posix()
    page.goto(f"{base}/{name}", wait_until="load")
    cells = page.locator("div.cell.tag_self-check")
    assert cells.count() >= 1, f"{name}: no self-check cell"
    for index in range(cells.count()):
        cell = cells.nth(index)
        code = cell.locator(".cell_input").first
        assert not code.is_visible(), f"{name}: self-check {index + 1} shows its code"
        assert cell.locator(".cell_output").first.is_visible(), (
            f"{name}: self-check {index + 1} hides its verdict")
        cell.locator("details > summary").first.click()
        code.wait_for(state="visible", timeout=3000)
