"""The chapters follow the conventions that make them read well as notebooks (MECHANISM.md).

Fast, static checks of the sources; tests/test_notebooks_browser.py checks
the result in JupyterLab and tests/test_course.py against the built site.
"""

import ast
import re
import sys

import jupytext
import pytest

from book_support import ROOT, chapter_files

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
