"""The book builds strictly from cold, and its pages hold what the prose relies on."""

import re
from html.parser import HTMLParser

import pytest

from book_support import ROOT, build_site, chapter_files, toc_files

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site():
    html, _, _ = build_site()  # its time is printed in the test summary (conftest.py)
    return html


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.text = [], []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs).get("src", ""))
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def _page(site, source):
    relative = source.relative_to(ROOT).with_suffix(".html")
    parser = _Page()
    parser.feed((site / relative).read_text())
    return site / relative, parser


@pytest.mark.parametrize("source", toc_files(), ids=lambda p: p.stem)
def test_every_page_is_built_with_its_images(site, source):
    page, parsed = _page(site, source)
    assert page.exists(), f"{page} was not built"
    for src in parsed.images:
        if src.startswith(("http:", "https:", "data:")):
            continue
        image = (page.parent / src.split("#")[0]).resolve()
        assert image.exists() and image.stat().st_size > 0, f"{source.name}: image {src} is missing or empty"


@pytest.mark.parametrize("source", chapter_files(), ids=lambda p: p.stem)
def test_chapter_figures_are_rendered(site, source):
    """Every figure a chapter labels (mystnb figure metadata) is an image in the page."""
    labels = re.findall(r"^\s+name:\s*(fig-[\w-]+)", source.read_text(), flags=re.M)
    page, _ = _page(site, source)
    html = page.read_text()
    for label in labels:
        match = re.search(rf'<figure[^>]*id="{re.escape(label)}".*?</figure>', html, flags=re.S)
        assert match, f"{source.name}: figure {label} is not in the page"
        src = re.search(r'<img[^>]+src="([^"]+)"', match.group(0))
        assert src, f"{source.name}: figure {label} has no image"
        image = page.parent / src.group(1)
        assert image.stat().st_size > 1000, f"{source.name}: figure {label}'s image is (nearly) empty"


@pytest.mark.parametrize("source", chapter_files(), ids=lambda p: p.stem)
def test_chapter_has_three_exercises(source):
    assert source.read_text().count("{exercise}") >= 3, f"{source.name} needs at least three exercises"


@pytest.mark.parametrize("source", chapter_files(), ids=lambda p: p.stem)
def test_quoted_numbers_appear_in_the_page(site, source):
    """Every {eval} role in the prose was replaced by a computed value, and no code shows for it."""
    text = source.read_text()
    roles = len(re.findall(r"\{eval\}`", text))
    page, parsed = _page(site, source)
    html = page.read_text()
    pasted = len(re.findall(r'<span class="output text_plain">[^<]+</span>', html))
    assert pasted >= roles, f"{source.name}: {roles} eval roles, {pasted} values in the page"
    shown = "".join(parsed.text)
    assert "{eval" not in shown and "{glue" not in shown, f"{source.name}: a role was not rendered"
    # the bookkeeping cells (remove-input) that format the numbers leave nothing in the page
    assert "= quote(" not in shown and "import quote\n" not in shown, f"{source.name}: bookkeeping code is shown"
    # and the notebook-only numbering and caption cells (remove-cell) are not in it either
    assert "enumerator" not in shown and ":label:" not in shown, f"{source.name}: a notebook-only cell is shown"


def test_api_reference_lists_the_estimators(site):
    html = (site / "book" / "api.html").read_text()
    for name in ("FMClassifier", "FMRegressor", "fm_predict_naive", "load_sms_spam", "check_function"):
        assert name in html, f"the API page does not document {name}"


def test_bibliography_lists_the_references(site):
    text = (site / "book" / "bibliography.html").read_text()
    for author in ("Rendle", "Blondel", "Almeida"):
        assert author in text


@pytest.mark.parametrize("source", chapter_files(), ids=lambda p: p.stem)
def test_chapter_has_launch_repository_and_download_buttons(site, source):
    import yaml

    repository = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"].rstrip("/")
    page, _ = _page(site, source)
    html = page.read_text()
    org_repo = repository.split("github.com/")[1]
    binder = re.search(rf'href="https://mybinder\.org/v2/gh/{re.escape(org_repo)}/main\?urlpath=([^"]+)"', html)
    assert binder, f"{source.name}: no Binder launch button for {org_repo}"
    assert binder.group(1).startswith("lab/tree/") and binder.group(1).endswith(f"book/{source.stem}.md")
    assert f'href="{repository}"' in html, f"{source.name}: no repository button"
    assert f"_sources/book/{source.stem}" in html or "download" in html.lower()
