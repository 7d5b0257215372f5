"""The chapters follow the conventions that make them read well as notebooks (MECHANISM.md).

Fast, static checks of the sources; tests/test_notebooks_browser.py checks
the result in JupyterLab and tests/test_course.py against the built site.
"""

import ast
import re
import sys

import jupytext
import pytest

from book_support import ROOT, chapter_files, toc_files

sys.path.insert(0, str(ROOT / "tools"))
import book_numbers  # noqa: E402

CHAPTERS = chapter_files()


def test_numbering_cells_and_self_check_names_are_up_to_date():
    stale = book_numbers.stale_chapters(ROOT)
    assert not stale, f"run 'python tools/book_numbers.py --fix': stale numbering in {stale}"


def test_frontmatter_prefix_follows_the_table_of_contents(tmp_path):
    """Renumbering: a chapter moved in _toc.yml gets its new number from --fix."""
    (tmp_path / "book").mkdir()
    header = "---\njupytext:\n  formats: md:myst\nkernelspec:\n  name: python3\n---\n"
    chapter = (header + "\n# A\n\n:::{exercise}\n:label: a-one\n\nDo.\n:::\n\n"
               '```{code-cell} ipython3\ncheck_true("Exercise a-one", True)\n```\n')
    for name in ("intro", "a", "b"):
        (tmp_path / "book" / f"{name}.md").write_text(chapter)
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nparts:\n  - caption: C\n    numbered: true\n"
        "    chapters:\n      - file: book/b\n      - file: book/a\n")
    assert len(book_numbers.stale_chapters(tmp_path, fix=True)) == 3
    a = (tmp_path / "book" / "a.md").read_text()
    assert 'enumerator: "2.%s"' in a and 'check_true("Exercise 2.1", True)' in a
    assert 'enumerator: "%s"' in (tmp_path / "book" / "intro.md").read_text()
    assert not book_numbers.stale_chapters(tmp_path)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_no_glue_roles_or_directives_jupyterlab_cannot_render(chapter):
    text = chapter.read_text()
    for role in ("{glue", "{cite", "{doc}"):
        assert role not in text, f"{chapter.name}: {role} does not render in JupyterLab (MECHANISM.md)"
    assert "myst_nb" not in text, f"{chapter.name}: imports myst_nb, which readers do not have"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_quoted_name_is_assigned_before_the_text_quotes_it(chapter):
    """{eval}`name` needs ``name = quote(...)`` (or a quote_as pattern) in an earlier cell."""
    assigned, patterns = set(), []
    for index, cell in enumerate(jupytext.read(chapter).cells):
        if cell.cell_type == "code":
            tree = ast.parse(cell.source)
            for node in ast.walk(tree):
                if isinstance(node, ast.Assign):
                    assigned.update(t.id for t in node.targets if isinstance(t, ast.Name))
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "quote_as":
                    key = node.args[0]
                    if isinstance(key, ast.Constant):
                        assigned.add(key.value)
                    else:
                        patterns.append("".join(re.escape(part.value) if isinstance(part, ast.Constant)
                                                else r"\w+" for part in key.values))
            continue
        for name in re.findall(r"\{eval\}`([^`]+)`", cell.source):
            assert name in assigned or any(re.fullmatch(p, name) for p in patterns), (
                f"{chapter.name}: cell {index} quotes {{eval}}`{name}` before any cell assigns it")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_figure_has_its_notebook_caption_and_every_solution_is_folded(chapter):
    cells = jupytext.read(chapter).cells
    for index, cell in enumerate(cells):
        figure = cell.metadata.get("mystnb", {}).get("figure")
        if figure:
            after = cells[index + 1] if index + 1 < len(cells) else None
            wanted = f":::{{figure}}\n:label: {figure['name']}\n\n{figure['caption'].strip()}\n:::"
            assert after is not None and after.cell_type == "markdown", (
                f"{chapter.name}: figure {figure['name']} has no caption cell after it")
            assert "remove-cell" in after.metadata.get("tags", []), (
                f"{chapter.name}: the caption cell of {figure['name']} must be tagged remove-cell")
            assert re.sub(r"\s+", " ", after.source.strip()) == re.sub(r"\s+", " ", wanted), (
                f"{chapter.name}: the notebook caption of {figure['name']} differs from its cell's "
                f"mystnb caption:\n{after.source}\n---\n{wanted}")
        if "solution" in cell.metadata.get("tags", []):
            assert cell.metadata.get("jupyter", {}).get("source_hidden") is True, (
                f"{chapter.name}: solution cell {index} is not folded (jupyter: source_hidden: true)")
        if "remove-input" in cell.metadata.get("tags", []) and cell.cell_type == "code":
            assert cell.metadata.get("jupyter", {}).get("source_hidden") is True, (
                f"{chapter.name}: hidden cell {index} is shown in JupyterLab")


def _bib_citations():
    """The author-year text sphinxcontrib-bibtex prints for each entry of references.bib."""
    texts = set()
    bib = (ROOT / "book" / "references.bib").read_text()
    for entry in re.finditer(r"@\w+\{[^,]+,(.*?)\n\}", bib, flags=re.S):
        fields = dict(re.findall(r"(\w+)\s*=\s*\{(.*?)\},?\n", entry.group(1) + "\n"))
        authors = [a.split(",")[0].strip() for a in fields["author"].split(" and ")]
        name = authors[0] if len(authors) == 1 else (
            f"{authors[0]} and {authors[1]}" if len(authors) == 2 else f"{authors[0]} et al.")
        texts.add(f"{name}, {fields['year']}")
    return texts


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_citations_name_an_entry_of_the_bibliography(chapter):
    known = _bib_citations()
    # a citation: \[[Rendle, 2010](bibliography.md)\], links separated by "; "
    for text in re.findall(r"(?:\\\[|; )\[([^\[\]]+)\]\(bibliography\.md\)", chapter.read_text()):
        assert text in known, f"{chapter.name}: the citation [{text}] matches no entry of references.bib {sorted(known)}"


# --------------------------------------------------------------------------
# Readability (issue 16): the site must not scroll sideways at a 1280 px wide
# window. tests/test_site_browser.py measures the built pages; these static
# checks find the same problems in the sources, in seconds, with file:line.
# --------------------------------------------------------------------------

PAGES = toc_files()
#: Longest line of code (PEP 8); book/_static/fmlib.css sizes code so that it
#: fits every code box, solutions' included, at 1280 px.
MAX_CODE_LINE = 79
#: Widest display equation, in characters of typeset maths (each letter,
#: digit, operator or symbol counts one; markup counts nothing). The text
#: column holds about 68 at 1280 px; the O(kn) derivation that was clipped
#: (924 px in a 617 px column) measured 101.
MAX_EQUATION_GLYPHS = 60

_FENCE = re.compile(r"^(`{3,}|~{3,})\s*(\{[\w-]+\}|[\w+-]*)\s*(.*)$")


def code_lines(text):
    """(line number, line) of every line of code: code cells and code blocks.

    Code cells' option lines (``:tags:``) and YAML headers are not code;
    directives written with backticks (```` ```{math} ````) are not either.
    """
    lines = text.split("\n")
    found, index = [], 0
    while index < len(lines):
        match = _FENCE.match(lines[index])
        if not match:
            index += 1
            continue
        fence, kind = match.group(1), match.group(2)
        end = index + 1
        while end < len(lines) and not (lines[end].startswith(fence[0] * len(fence))
                                        and lines[end].strip() == lines[end].strip()[0] * len(lines[end].strip())
                                        and len(lines[end].strip()) >= len(fence)):
            end += 1
        body = list(range(index + 1, end))
        if kind == "{code-cell}":
            if body and lines[body[0]].strip() == "---":       # a YAML header
                close = next((i for i in body[1:] if lines[i].strip() == "---"), body[0])
                body = [i for i in body if i > close]
            while body and lines[body[0]].startswith(":"):     # :tags: [...]
                body = body[1:]
        elif kind.startswith("{"):
            body = []                                           # another directive
        found += [(i + 1, lines[i]) for i in body]
        index = end + 1
    return found


# Markup that typesets as nothing, or as one symbol (a \command that is not
# listed counts as one symbol: \alpha, \sum, \langle).
_TEX_NOTHING = {
    ",", ";", ":", "!", " ", "left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr",
    "Bigl", "Bigr", "displaystyle", "textstyle", "mathrm", "mathbf", "mathbb", "mathcal",
    "mathit", "boldsymbol", "operatorname", "text", "textrm", "textbf", "mbox", "underbrace",
    "overbrace", "nonumber", "notag", "frac", "tfrac", "dfrac", "hat", "tilde", "bar", "vec",
    "limits", "phantom", "qquad", "quad",
}
_TEX_SPACE = {"quad": 2, "qquad": 4}


def typeset_glyphs(tex):
    """Rough number of symbols ``tex`` typesets as, on one line."""
    tex = re.sub(r"\\(label|tag|begin|end)\{[^}]*\}(\{[^}]*\})?", "", tex)
    count = 0
    for match in re.finditer(r"\\([a-zA-Z]+|.)|[{}_^&\s]|(.)", tex):
        command, symbol = match.groups()
        if command:
            count += _TEX_SPACE.get(command, 0 if command in _TEX_NOTHING else 1)
        elif symbol:
            count += 1
    return count


def equation_width(tex):
    """Symbols on the widest line of a display equation: lines split at ``\\\\``,
    the aligned columns (``&``) of all lines take the widest entry of each."""
    columns = {}
    for line in re.split(r"\\\\", tex):
        for position, cell in enumerate(line.split("&")):
            columns[position] = max(columns.get(position, 0), typeset_glyphs(cell))
    return sum(columns.values())


def display_equations(text):
    """(line number, TeX) of every display equation: ``$$ ... $$`` blocks and
    amsmath environments that start a paragraph."""
    lines = text.split("\n")
    code = {number for number, _ in code_lines(text)}
    found, index = [], 0
    while index < len(lines):
        stripped = lines[index].strip()
        if index + 1 in code:
            index += 1
            continue
        if stripped.startswith("$$"):
            rest = stripped[2:]
            if "$$" in rest:                                   # $$ ... $$ on one line
                found.append((index + 1, rest.split("$$")[0]))
            else:
                start, body = index, [rest]
                index += 1
                while index < len(lines) and not lines[index].strip().startswith("$$"):
                    body.append(lines[index])
                    index += 1
                found.append((start + 1, "\n".join(body)))
        elif re.match(r"\\begin\{(align|equation|gather|multline)\*?\}", stripped) and (
                index == 0 or not lines[index - 1].strip()):
            environment = re.match(r"\\begin\{(\w+\*?)\}", stripped).group(1)
            start, body = index, [stripped]
            while index + 1 < len(lines) and f"\\end{{{environment}}}" not in lines[index]:
                index += 1
                body.append(lines[index])
            found.append((start + 1, "\n".join(body)))
        index += 1
    return found


def test_the_readability_measures_find_what_they_should():
    page = ("```{code-cell} ipython3\n---\ntags: [solution]\n---\n" + "x" * 80 + "\n```\n\n"
            "```{math}\n" + "y" * 90 + "\n```\n\n```bash\n" + "z" * 79 + "\n```\n\n"
            "$$\na + b\n  + c \\\\ &= d\n$$\n")
    assert [(number, len(line)) for number, line in code_lines(page)] == [(5, 80), (13, 79)]
    assert display_equations(page) == [(16, "\na + b\n  + c \\\\ &= d")]
    assert typeset_glyphs(r"\langle v_i, v_j \rangle x_i x_j") == 11
    assert typeset_glyphs(r"\frac12 \sum_{i=1}^n \text{ab}") == 9
    assert equation_width(r"a &= bb \\ ccc &= d") == 3 + 3


@pytest.mark.parametrize("source", PAGES, ids=lambda p: p.stem)
def test_no_code_line_is_longer_than_79_characters(source):
    long = [(number, line) for number, line in code_lines(source.read_text())
            if len(line) > MAX_CODE_LINE]
    assert not long, (
        f"{source.name}: {len(long)} code line(s) longer than {MAX_CODE_LINE} characters "
        "(they scroll sideways on the site):\n"
        + "\n".join(f"  book/{source.name}:{number}: {len(line)} chars: {line.strip()[:60]}"
                    for number, line in long))


@pytest.mark.parametrize("source", PAGES, ids=lambda p: p.stem)
def test_no_display_equation_is_wider_than_the_text_column(source):
    wide = [(number, equation_width(tex), tex) for number, tex in display_equations(source.read_text())
            if equation_width(tex) > MAX_EQUATION_GLYPHS]
    assert not wide, (
        f"{source.name}: {len(wide)} display equation(s) wider than about {MAX_EQUATION_GLYPHS} "
        "typeset symbols on a line (break them into lines with \\begin{aligned} ... \\\\ ...):\n"
        + "\n".join(f"  book/{source.name}:{number}: {width} symbols: {' '.join(tex.split())[:60]}"
                    for number, width, tex in wide))


def test_figures_are_twice_as_sharp_in_a_kernel_started_in_book():
    """book/matplotlibrc: JupyterLab, Binder and the site get 2x PNGs shown at 1x size."""
    import base64
    import struct

    import nbformat

    from book_support import execute

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import matplotlib.pyplot as plt\n"
        "fig, ax = plt.subplots(figsize=(4, 3))\n"
        "ax.plot([0, 1], [0, 1])\n"
        "print(plt.rcParams['figure.facecolor'])")])
    execute(notebook, cwd=ROOT / "book")
    outputs = notebook.cells[0].outputs
    assert any(o.get("text", "").strip() == "white" for o in outputs), outputs
    image = next(o for o in outputs if "image/png" in o.get("data", {}))
    png = base64.b64decode(image["data"]["image/png"])
    pixels_wide, pixels_high = struct.unpack(">II", png[16:24])
    shown = image["metadata"]["image/png"]
    assert pixels_wide >= 1.9 * shown["width"] and pixels_high >= 1.9 * shown["height"], (
        f"a {pixels_wide} x {pixels_high} PNG shown at {shown}: not 2x")


def test_the_summary_page_code_runs_and_its_checks_hold():
    """book/summary.md is a plain page: its Python blocks run here, in order."""
    source = (ROOT / "book" / "summary.md").read_text()
    blocks = re.findall(r"^```python\n(.*?)^```", source, flags=re.S | re.M)
    assert len(blocks) >= 2, "the summary lost its code"
    namespace = {}
    for block in blocks:
        exec(compile(block, "book/summary.md", "exec"), namespace)
    assert 0.9 < namespace["spam_probability"].max() <= 1.0
