"""The numbers the site gives chapters, exercises and figures, for the notebooks.

The site (Sphinx) numbers the chapters of the numbered part of ``_toc.yml``
1, 2, ..., and, inside chapter 2, its exercises "Exercise 2.1", ..., its
figures "Fig. 2.1", ... and its equations "(2.1)", ...; the root page is not
numbered ("Exercise 1"). A chapter opened as a notebook in JupyterLab gets
the same numbers from its first cell, a MyST frontmatter hidden on the site
(see MECHANISM.md); the self-checks name their exercise the same way.

``python tools/book_numbers.py --fix`` rewrites both after ``_toc.yml`` or
the order of the exercises changed; ``--check`` (what the tests run) only
reports what is stale.
"""

import argparse
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

_HEADER = re.compile(r"\A---\n.*?\n---\n", re.S)
_FRONTMATTER_CELL = re.compile(
    r'\n\+\+\+ \{"tags": \["remove-cell"\]\}\n\n---\nnumbering:\n.*?\n---\n\n\+\+\+\n', re.S)
# an exercise directive in any fence MyST accepts (the site numbers them all)
_EXERCISE = re.compile(r"^(:{3,}|`{3,}|~{3,})\{exercise\}[^\n]*\n((?::[^\n]*\n)*)", re.M)
_LABEL = re.compile(r"^:label:\s*(\S+)", re.M)
_CHECK_NAME = re.compile(r'(\bcheck_\w+\(\s*)"Exercise ([^"]*)"')
_FIGURE_NAME = re.compile(r"^mystnb:\n  figure:\n(?:    .*\n)*?    name: (\S+)", re.M)


def chapter_prefixes(root=ROOT):
    """``{page stem: "2."}`` for numbered chapters, ``""`` for the others."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    prefixes = {Path(toc["root"]).name: ""}
    number = 0
    for part in toc.get("parts", []):
        for entry in part.get("chapters", []):
            stem = Path(entry["file"]).name
            if part.get("numbered"):
                number += 1
                prefixes[stem] = f"{number}."
            else:
                prefixes[stem] = ""
    return prefixes


def chapter_number(path, root=ROOT):
    """The chapter's number on the site as a string ("2"), or "" if unnumbered."""
    return chapter_prefixes(root)[Path(path).stem].rstrip(".")


def exercise_numbers(text, prefix):
    """``[(label or None, "2.1"), ...]`` for the exercises of a chapter, in order."""
    numbers = []
    for index, match in enumerate(_EXERCISE.finditer(text), start=1):
        label = _LABEL.search(match.group(2))
        numbers.append((label.group(1) if label else None, f"{prefix}{index}"))
    return numbers


def figure_numbers(text, prefix):
    """``{figure name: "2.1"}`` for the labelled figure cells of a chapter."""
    return {name: f"{prefix}{index}"
            for index, name in enumerate(_FIGURE_NAME.findall(text), start=1)}


def frontmatter_cell(prefix):
    """The hidden first cell that gives JupyterLab the site's numbering."""
    return ('\n+++ {"tags": ["remove-cell"]}\n\n---\nnumbering:\n'
            f'  enumerator: "{prefix}%s"\n  figure:\n    template: "Fig. %s"\n---\n\n+++\n')


def numbered_text(text, prefix):
    """The chapter's text with its frontmatter cell and self-check names up to date."""
    header = _HEADER.match(text)
    if not header:
        raise ValueError("the chapter has no jupytext header")
    body = text[header.end():]
    body = _FRONTMATTER_CELL.sub("", body, count=1) if _FRONTMATTER_CELL.match(body) else body
    body = frontmatter_cell(prefix) + body
    # each check_*("Exercise ...") call names the exercise it follows
    exercises = [(m.start(), number) for m, (_, number)
                 in zip(_EXERCISE.finditer(body), exercise_numbers(body, prefix))]

    def name(match):
        before = [number for start, number in exercises if start < match.start()]
        if not before:
            return match.group(0)
        return f'{match.group(1)}"Exercise {before[-1]}"'

    return text[:header.end()] + _CHECK_NAME.sub(name, body)


def notebook_chapters(root=ROOT):
    """The pages of ``_toc.yml`` that are notebooks (a kernelspec in the header)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]] + [entry["file"] for part in toc.get("parts", [toc])
                            for entry in part.get("chapters", [])]
    paths = [root / f"{name}.md" for name in files]
    return [path for path in paths if "kernelspec:" in path.read_text().split("\n---", 1)[0]]


def stale_chapters(root=ROOT, fix=False):
    """Chapters whose numbering cell or self-check names are out of date."""
    prefixes = chapter_prefixes(root)
    stale = []
    for path in notebook_chapters(root):
        text = path.read_text()
        wanted = numbered_text(text, prefixes[path.stem])
        if wanted != text:
            stale.append(path)
            if fix:
                path.write_text(wanted)
    return stale


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--fix", action="store_true", help="rewrite the stale chapters")
    group.add_argument("--check", action="store_true", help="list the stale chapters, exit 1 if any")
    args = parser.parse_args(argv)
    stale = stale_chapters(fix=args.fix)
    for path in stale:
        print(f"{'fixed' if args.fix else 'stale'}: {path.relative_to(ROOT)}")
    if args.check and stale:
        sys.exit("book_numbers: run 'python tools/book_numbers.py --fix'")


if __name__ == "__main__":
    main()
