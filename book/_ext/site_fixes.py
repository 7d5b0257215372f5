"""Small changes to how the site is built.

Self-check cells (tagged ``self-check``) show their output (the verdict) but
fold their input, as ``hide-input`` would, without a second tag on every
cell: the reader of the site studies the exercise, not the checking code,
which JupyterLab and the course editions still show in full.

One search box: pydata-sphinx-theme 0.17 puts a search field in a top bar
(its default ``navbar_persistent``) that sphinx-book-theme, which has its own
in the sidebar (a button in the article header on narrow screens), does not
expect; the top bar, which holds nothing else, is dropped.

``book/_static/fmlib.css`` sizes code so that lines of 79 characters fit
their boxes at a 1280 px wide window.

Two fixes keep the site's browser console free of errors:

- sphinx-thebe 0.3 registers its inline configuration script once per
  ``env-before-read-docs`` event, which a Jupyter Book build can fire more
  than once; the second copy redeclares ``const THEBE_JS_URL`` and throws.
  Identical scripts are dropped from each page.
- sphinx-book-theme's head script sets the colour mode to ``""`` on a first
  visit (empty localStorage), which pydata-sphinx-theme rejects with a
  console error before falling back to "auto". Starting from "auto" gives the
  same result without the error.
"""

from pathlib import Path

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform

_DEFAULT_MODE = 'if (!document.documentElement.dataset.mode) { document.documentElement.dataset.mode = "auto"; }'


def _drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        # inline scripts are registered with filename None or "", alike
        attributes = getattr(script, "attributes", {})
        key = (getattr(script, "filename", None) or "", tuple(sorted(attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    # in place: handlers that run later (MathJax's) add to this same list
    scripts[:] = unique


class FoldSelfCheckInput(SphinxPostTransform):
    """Fold the input of every code cell tagged ``self-check``, as ``hide-input`` does.

    Runs just before MyST-NB's own post-transform (priority 199), which then
    wraps the input in its "Show code cell source" toggle.
    """

    default_priority = 198
    formats = ("html",)

    def run(self, **kwargs):
        show = getattr(self.config, "nb_code_prompt_show", "Show code cell {type}")
        hide = getattr(self.config, "nb_code_prompt_hide", "Hide code cell {type}")
        for node in self.document.findall(nodes.container):
            if node.get("nb_element") != "cell_code":
                continue
            tags = (node.get("cell_metadata") or {}).get("tags", [])
            if "self-check" not in tags:
                continue
            mode = node.get("hide_mode")
            if mode in ("input", "input+output", "all"):
                continue    # folded already
            node["hide_mode"] = "input+output" if mode == "output" else "input"
            node["prompt_show"] = node.get("prompt_show") or show
            node["prompt_hide"] = node.get("prompt_hide") or hide


def _one_search_box(app, config):
    options = config.html_theme_options
    # jupyter-book builds html_theme_options itself; only fill the gap
    options.setdefault("navbar_persistent", [])


def _add_static_folder(app, config):
    # book/_static: the site's own style sheet (fmlib.css)
    static = str(Path(__file__).resolve().parents[1] / "_static")
    if static not in config.html_static_path:
        config.html_static_path.append(static)


def setup(app):
    app.connect("config-inited", _add_static_folder)
    app.add_css_file("fmlib.css")
    app.connect("config-inited", _one_search_box)
    app.add_post_transform(FoldSelfCheckInput)
    app.add_js_file(None, body=_DEFAULT_MODE, priority=100)
    # html-page-context stops at the first handler that returns a template
    # name, so this one, which returns nothing, runs first
    app.connect("html-page-context", _drop_duplicate_scripts, priority=1)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
