"""Two small fixes that keep the site's browser console free of errors.

- sphinx-thebe 0.3 registers its inline configuration script once per
  ``env-before-read-docs`` event, which a Jupyter Book build can fire more
  than once; the second copy redeclares ``const THEBE_JS_URL`` and throws.
  Identical scripts are dropped from each page.
- sphinx-book-theme's head script sets the colour mode to ``""`` on a first
  visit (empty localStorage), which pydata-sphinx-theme rejects with a
  console error before falling back to "auto". Starting from "auto" gives the
  same result without the error.
"""

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


def setup(app):
    app.add_js_file(None, body=_DEFAULT_MODE, priority=100)
    # html-page-context stops at the first handler that returns a template
    # name, so this one, which returns nothing, runs first
    app.connect("html-page-context", _drop_duplicate_scripts, priority=1)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
