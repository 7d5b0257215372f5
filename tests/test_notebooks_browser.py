"""The chapters and the course editions in JupyterLab, in a real browser.

JupyterLab runs from an environment configured the way Binder configures it:
the project's Binder ``postBuild`` (``binder/postBuild``, else the older
top-level ``postBuild``) runs in a virtual environment of its own, so that it
writes JupyterLab's settings (the Jupytext viewer for ``.md`` files), installs
fmlib (from this checkout) and warms Numba's cache exactly where Binder's
would, without touching the development environment. That environment
reuses the development environment's packages through a ``.pth`` line (a
fresh install of the reader's requirements takes minutes; tests/test_binder.py
checks those install and run on their own), and JupyterLab's labextensions
(jupytext's viewer, jupyterlab-myst) from its ``share/jupyter``.

Only the test's own choices are added as *user* settings, on top of Binder's:
JupyterLab 4 leaves off-screen cells out of the page unless the notebook's
windowing mode is ``none``, and the news prompt is switched off.

Each chapter is opened at ``lab/tree/book/<chapter>.md`` (Binder's launch
URL), all its cells are run, and the rendered page is read: no cell raised,
no MyST syntax or unevaluated placeholder in any Markdown cell, every figure
with its caption and the site's number, every exercise with the site's
number, every solution folded. Then the same for the editions (student
notebooks are opened and read; instructor notebooks are run).
"""

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import jupytext
import pytest

from book_support import ROOT, chapter_files, make_editions

pytestmark = [pytest.mark.browser, pytest.mark.slow]

sys.path.insert(0, str(ROOT / "tools"))
import book_numbers  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = ROOT / "_build" / "screenshots" / "jupyterlab"
CHAPTERS = chapter_files()
RUN_TIMEOUT_MS = 420_000  # one chapter, all cells (each takes under a minute on an idle machine)

# MyST that must never reach a reader: a role, a directive fence or option, a
# labelled equation's label, an unresolved cross-reference's label.
_MYST_LEFTOVERS = [
    (re.compile(r"\{[a-z][\w:-]*\}`"), "a MyST role"),
    (re.compile(r"^\s*(:{3,}|`{3,})\s*\{", re.M), "a directive fence"),
    (re.compile(r"^\s*:(label|class|tags|name|caption):", re.M), "a directive option"),
    (re.compile(r"\$\$\s*\("), "a labelled equation's label"),
]


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def binder_env(tmp_path_factory):
    """A virtual environment set up by the project's Binder postBuild; its python."""
    base = tmp_path_factory.mktemp("binder-env")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site_packages = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip()
    # the development environment's packages, after the venv's own (where
    # postBuild installs fmlib from this checkout)
    Path(site_packages, "_dev_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # pip, for postBuild's "python -m pip install -e .", from the development environment
    post_build = ROOT / "binder" / "postBuild"
    env = _clean_env(base)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    if not post_build.exists():
        # the older top-level postBuild, which left fmlib's install to requirements.txt
        post_build = ROOT / "postBuild"
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "-e", str(ROOT)],
                       cwd=ROOT, env=env, check=True, capture_output=True)
    result = subprocess.run(["bash", str(post_build)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"{post_build} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    settings = venv / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert settings.is_file(), f"{post_build} wrote no JupyterLab settings in {settings.parent}"
    imported = subprocess.run([str(python), "-c", "import fmlib; print(fmlib.__file__)"], cwd="/",
                              env=env, capture_output=True, text=True, check=True).stdout
    assert imported.startswith(str(ROOT)), f"the Binder environment imports fmlib from {imported}"
    return python


def _clean_env(base):
    """The test's environment, with Jupyter's folders in ``base`` (not the user's)."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("JUPYTER", "VIRTUAL_ENV"))}
    for name in ("config", "runtime", "data"):
        (base / name).mkdir(exist_ok=True)
    env.update(JUPYTER_CONFIG_DIR=str(base / "config"), JUPYTER_RUNTIME_DIR=str(base / "runtime"),
               JUPYTER_DATA_DIR=str(base / "data"), PYTHONNOUSERSITE="1",
               # labextensions, kernelspecs and server extensions (jupytext's
               # contents manager, jupyterlab-myst) of the development environment
               JUPYTER_PATH=str(Path(sys.prefix) / "share" / "jupyter"),
               JUPYTER_CONFIG_PATH=str(Path(sys.prefix) / "etc" / "jupyter"))
    env.pop("PYTHONPATH", None)  # fmlib comes from the postBuild's install
    return env


class Lab:
    """A JupyterLab server on 127.0.0.1 serving ``root``, from the Binder environment."""

    def __init__(self, python, root, base):
        self.port, self.token = _free_port(), secrets.token_hex(16)
        user_settings = base / "user-settings"
        (user_settings / "@jupyterlab" / "notebook-extension").mkdir(parents=True, exist_ok=True)
        (user_settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
            json.dumps({"windowingMode": "none"}))
        (user_settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True, exist_ok=True)
        (user_settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        env = _clean_env(base)
        env["PATH"] = f"{python.parent}{os.pathsep}{env['PATH']}"
        env["JUPYTERLAB_SETTINGS_DIR"] = str(user_settings)
        env["JUPYTERLAB_WORKSPACES_DIR"] = str(base / "workspaces")
        prefix = Path(subprocess.run([str(python), "-c", "import sys; print(sys.prefix)"],
                                     capture_output=True, text=True, check=True).stdout.strip())
        self.log = (base / "jupyterlab.log").open("w")
        self.process = subprocess.Popen(
            [str(python), "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
             f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}",
             # the application (its built assets) is the development environment's;
             # the settings are the ones postBuild wrote into the Binder environment
             f"--LabApp.app_dir={Path(sys.prefix) / 'share' / 'jupyter' / 'lab'}",
             f"--LabApp.app_settings_dir={prefix / 'share' / 'jupyter' / 'lab' / 'settings'}",
             "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
             "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--allow-root"],
            cwd=root, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=2)
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise AssertionError(f"JupyterLab did not start:\n{(base / 'jupyterlab.log').read_text()[-5000:]}")
                time.sleep(0.5)

    def close(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: install Debian's chromium package (apt-get install chromium)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def book_lab(binder_env, tmp_path_factory):
    lab = Lab(binder_env, ROOT, tmp_path_factory.mktemp("lab-book"))
    yield lab
    lab.close()


@pytest.fixture(scope="module")
def editions(tmp_path_factory):
    return make_editions.write_editions(tmp_path_factory.mktemp("editions"))


@pytest.fixture(scope="module")
def editions_lab(binder_env, editions, tmp_path_factory):
    root = editions["student"][0].parent
    lab = Lab(binder_env, root, tmp_path_factory.mktemp("lab-editions"))
    yield lab
    lab.close()


# Read the open notebook through JupyterLab's own model (exposed as
# window.jupyterapp): every cell's type, rendered text, outputs, and whether
# its input is folded.
_READ_NOTEBOOK = """
() => {
  const panel = window.__panel;
  return panel.content.widgets.map(cell => {
    // jupyterlab-myst renders into a '.myst' widget, plain JupyterLab into '.jp-MarkdownOutput'
    const rendered = cell.node.querySelector('.myst, .jp-MarkdownOutput');
    const outputs = cell.model.type === 'code' ? cell.model.outputs.toJSON() : [];
    return {
      type: cell.model.type,
      text: cell.model.type === 'markdown' && rendered ? rendered.innerText : null,
      rendered: cell.model.type === 'markdown' ? cell.node.classList.contains('jp-mod-rendered') : null,
      source: cell.model.sharedModel.getSource(),
      inputHidden: cell.inputHidden,
      errors: outputs.filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue),
      images: cell.node.querySelectorAll('.jp-OutputArea-output img').length,
    };
  });
}
"""


def _open(page, lab, path):
    """Open ``path`` in a fresh workspace (nothing restored from the previous page)."""
    workspace = f"test-{secrets.token_hex(4)}"
    page.goto(f"{lab.url}/lab/workspaces/{workspace}/tree/{path}?token={lab.token}", wait_until="load")
    # the Jupytext viewer opened the file as a notebook, whose kernel is ready
    page.wait_for_function(
        """name => {
             const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
             if (!panel || !panel.context || !panel.context.path.endsWith(name) || !panel.content) return false;
             window.__panel = panel;
             return panel.sessionContext?.session?.kernel?.status === 'idle'
                    && panel.content.widgets.length > 0;
           }""", arg=path.rsplit("/", 1)[-1], timeout=120_000)


def _run_all(page):
    """Run every cell, Markdown included (which evaluates the {eval} roles); wait for the end."""
    page.evaluate("""async () => {
        window.jupyterapp.shell.activateById(window.__panel.id);
        await window.jupyterapp.commands.execute('notebook:run-all-cells');
    }""")
    page.wait_for_function("() => window.__panel.sessionContext?.session?.kernel?.status === 'idle'",
                           timeout=RUN_TIMEOUT_MS)
    # jupyterlab-myst asks the kernel for a Markdown cell's {eval} values after
    # the cell ran, and keeps them in its "user_expressions" metadata
    page.wait_for_function(
        """() => window.__panel.content.widgets.every(cell =>
             cell.model.type !== 'markdown' || !cell.model.sharedModel.getSource().includes('{eval}')
             || (cell.model.getMetadata('user_expressions') || []).length > 0)""",
        timeout=60_000)
    # ... then renders the cell again with them (asynchronously): wait until no
    # Markdown cell shows an {eval} name any more (if one still does, _read
    # reports it)
    try:
        page.wait_for_function(
            """() => window.__panel.content.widgets.every(cell => {
                 if (cell.model.type !== 'markdown') return true;
                 const names = [...cell.model.sharedModel.getSource().matchAll(/\\{eval\\}`([^`]+)`/g)].map(m => m[1]);
                 const shown = cell.node.querySelector('.myst, .jp-MarkdownOutput');
                 return !names.length || (shown && names.every(name => !shown.innerText.includes(name)));
               })""", timeout=60_000)
    except Exception as error:  # a Playwright timeout: the assertions say which cell
        if "Timeout" not in type(error).__name__:
            raise


def _shut_down_kernels(lab):
    """Stop the notebook's kernel, so that the next notebook has the machine to itself."""
    request = urllib.request.Request(f"{lab.url}/api/sessions?token={lab.token}")
    for session in json.load(urllib.request.urlopen(request, timeout=30)):
        urllib.request.urlopen(urllib.request.Request(
            f"{lab.url}/api/sessions/{session['id']}?token={lab.token}", method="DELETE"), timeout=30)


def _read(page, name):
    # the Markdown cells render asynchronously (jupyterlab-myst parses each one)
    try:
        page.wait_for_function(
            """() => window.__panel.content.widgets.every(cell => cell.model.type !== 'markdown'
                 || !cell.model.sharedModel.getSource().trim()
                 || (cell.node.classList.contains('jp-mod-rendered')
                     && cell.node.querySelector('.myst, .jp-MarkdownOutput')))""", timeout=60_000)
    except Exception as error:  # a Playwright timeout: the assertions say which cell
        if "Timeout" not in type(error).__name__:
            raise
    page.wait_for_timeout(500)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    return page.evaluate(_READ_NOTEBOOK)


def _markdown_problems(cells, source_names):
    """What is wrong with the rendered Markdown of a notebook, as messages."""
    problems = []
    for index, cell in enumerate(cells):
        if cell["type"] != "markdown" or not cell["source"].strip():
            continue
        if cell["text"] is None or not cell["rendered"]:
            problems.append(f"Markdown cell {index} is not rendered")
            continue
        for pattern, what in _MYST_LEFTOVERS:
            found = pattern.search(cell["text"])
            if found:
                problems.append(f"Markdown cell {index} shows {what}: {found.group(0)!r} in "
                                f"{cell['text'][max(0, found.start() - 80):found.end() + 80]!r}")
        # an {eval} not evaluated, or a reference not resolved, shows its name
        for name in source_names(cell["source"]):
            if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", cell["text"]):
                problems.append(f"Markdown cell {index} shows the placeholder {name!r}")
    return problems


def _role_targets(source):
    """Names a chapter's Markdown uses that a reader must never see: {eval} names, labels."""
    names = re.findall(r"\{(?:eval|numref|eq|ref)\}`(?:[^`<]*<)?([^`>]+)>?`", source)
    return [name for name in names if not name.isdigit()]


def _normalised(text):
    """Whitespace collapsed, typographic quotes (which MyST renderers may use) made plain."""
    text = text.translate(str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'}))
    return re.sub(r"\s+", " ", text).strip()


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_in_jupyterlab_as_binder_opens_it(browser, book_lab, chapter):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        _open(page, book_lab, chapter.relative_to(ROOT).as_posix())
        _run_all(page)
        cells = _read(page, f"chapter-{chapter.stem}")
    finally:
        page.close()
        _shut_down_kernels(book_lab)
    text = chapter.read_text()
    assert len(cells) > 5, f"{chapter.name}: JupyterLab shows {len(cells)} cells"
    raised = [(i, c["errors"]) for i, c in enumerate(cells) if c["errors"]]
    assert not raised, f"{chapter.name}: cells raised {raised}"
    problems = _markdown_problems(cells, _role_targets)
    assert not problems, f"{chapter.name}:\n" + "\n".join(problems[:20])

    rendered = _normalised("\n".join(c["text"] or "" for c in cells))
    prefix = book_numbers.chapter_prefixes(ROOT)[chapter.stem]
    for _, number in book_numbers.exercise_numbers(text, prefix):
        assert f"Exercise {number}" in rendered, f"{chapter.name}: no 'Exercise {number}' in JupyterLab"
    # equations are numbered as on the site (ChapterNumbers is checked against
    # the site's HTML in tests/test_course.py)
    for label, number in make_editions.ChapterNumbers(chapter, ROOT).equations.items():
        if f"{{eq}}`{label}`" in text:
            assert f"({number})" in rendered, f"{chapter.name}: equation {label} is not ({number}) in JupyterLab"
    # jupyterlab-myst writes "Figure 2.1:" then the caption, with or without a space
    shown = re.sub(r"Figure (\S+?):\s*", r"Figure \1: ", rendered)
    notebook = jupytext.read(chapter)
    for name, number in book_numbers.figure_numbers(text, prefix).items():
        caption = _caption_of(notebook, name)
        at = shown.find(f"Figure {number}:")
        assert f"Figure {number}: {caption}" in shown, (
            f"{chapter.name}: figure {name} has no caption 'Figure {number}: {caption}' in JupyterLab; "
            f"it shows {shown[at:at + len(caption) + 40]!r}")
    for index, cell in enumerate(notebook.cells):
        if cell.metadata.get("mystnb", {}).get("figure"):
            assert cells[index]["images"], f"{chapter.name}: figure cell {index} shows no image"
    solutions = [i for i, cell in enumerate(notebook.cells) if "solution" in cell.metadata.get("tags", [])]
    unfolded = [i for i in solutions if not cells[i]["inputHidden"]]
    assert solutions and not unfolded, f"{chapter.name}: solution cells {unfolded} are not folded"


def _caption_of(notebook, name):
    """The caption of the figure cell ``name`` of a chapter (its mystnb metadata)."""
    for cell in notebook.cells:
        figure = cell.metadata.get("mystnb", {}).get("figure", {})
        if figure.get("name") == name:
            return _normalised(figure["caption"])
    raise KeyError(name)


@pytest.mark.parametrize("edition", ["student", "instructor"])
@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_edition_notebook_in_jupyterlab(browser, editions_lab, editions, edition, chapter):
    folder, _ = editions[edition]
    name = make_editions.edition_filename(chapter, ROOT)
    assert (folder / name).is_file(), f"the {edition} edition has no {name}"
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        _open(page, editions_lab, f"{edition}/{name}")
        if edition == "instructor":
            _run_all(page)
        cells = _read(page, f"{edition}-{chapter.stem}")
    finally:
        page.close()
        _shut_down_kernels(editions_lab)
    raised = [(i, c["errors"]) for i, c in enumerate(cells) if c["errors"]]
    assert not raised, f"{edition}/{name}: cells raised {raised}"
    problems = _markdown_problems(cells, lambda source: [])
    assert not problems, f"{edition}/{name}:\n" + "\n".join(problems[:20])
    text = chapter.read_text()
    rendered = _normalised("\n".join(c["text"] or "" for c in cells))
    for eval_name in set(re.findall(r"\{eval\}`([^`]+)`", text)):
        assert not re.search(rf"(?<![\w-]){re.escape(eval_name)}(?![\w-])", rendered), (
            f"{edition}/{name}: the placeholder {eval_name!r} is in the text")
    prefix = book_numbers.chapter_prefixes(ROOT)[chapter.stem]
    for name_, number in book_numbers.figure_numbers(text, prefix).items():
        caption = _caption_of(jupytext.read(chapter), name_)
        assert f"Fig. {number}: {caption}" in rendered, f"{edition}/{name}: no caption for figure {name_}"
    for _, number in book_numbers.exercise_numbers(text, prefix):
        assert f"Exercise {number}" in rendered, f"{edition}/{name}: no 'Exercise {number}'"
