"""Numbers for the book's prose: computed in a chapter, quoted in its text.

A chapter's Markdown quotes a number with MyST's ``{eval}`` role, which
takes the *name* of a variable of the running notebook, on the site (myst-nb)
and in JupyterLab (jupyterlab-myst) alike. Both display the variable's
``repr``, so a plain string would show with its quotes: :func:`quote` formats
the number once, into a string that displays as itself::

    acc_text = quote(accuracy, ".1%")      # in a (hidden) code cell
    The accuracy is {eval}`acc_text`.      # in the text

See MECHANISM.md / CONTRIBUTING.md ("No number typed by hand").
"""

import sys

__all__ = ["Quoted", "quote", "quote_as"]


class Quoted(str):
    """A string that displays as itself: its ``repr`` has no quotes."""

    __slots__ = ()

    def __repr__(self):
        return str(self)


def quote(value, spec=""):
    """Format ``value`` for the prose, as :func:`format` does.

    Parameters
    ----------
    value : object
        A number (NumPy scalars are accepted) or a string.
    spec : str, default ""
        A format specification, for example ``".3f"``, ``",.0f"``, ``".1%"``.

    Returns
    -------
    Quoted
        The formatted text, which ``{eval}`` displays without quotes.
    """
    if not isinstance(spec, str):
        raise TypeError(f"spec must be a format specification string such as '.3f', got {spec!r}")
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        value = value.item()  # NumPy scalar: format it as the Python number it holds
    return Quoted(format(value, spec))


def quote_as(name, value, spec=""):
    """Make ``name`` a variable of the calling notebook holding ``quote(value, spec)``.

    For numbers computed inside a loop, whose names are built as they go
    (``quote_as(f"sms_{model}_auc", auc, ".4f")``); elsewhere, prefer a
    plain assignment ``name = quote(value, spec)``.

    Parameters
    ----------
    name : str
        A Python identifier, the name the text's ``{eval}`` role uses.
    value
        As for :func:`quote`.
    spec : str or dict, default ""
        As for :func:`quote`; or a dict from names to specifications, when
        the numbers a loop names are quoted with different precisions.

    Returns
    -------
    Quoted
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name must be a Python identifier for {{eval}}, got {name!r}")
    if isinstance(spec, dict):
        if name not in spec:
            raise KeyError(f"spec has no format for {name!r}; it has {sorted(spec)}")
        spec = spec[name]
    text = quote(value, spec)
    # the notebook's globals: where the code of a cell, and the functions it
    # defines, look names up
    sys._getframe(1).f_globals[name] = text
    return text
