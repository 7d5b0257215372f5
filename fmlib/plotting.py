"""Sharp figures in the book's notebooks, on every screen.

Jupyter shows a Matplotlib figure as a PNG of one pixel per CSS pixel, which
a high-density screen (a laptop's "retina" display, a phone) blurs by
stretching. :func:`sharp_inline_figures` switches the notebook to
IPython's ``"retina"`` format: the PNG has twice the pixels and says, in its
display metadata, to be shown at the usual size. JupyterLab and the book's
site (MyST-NB reads the same metadata) both honour it.

The chapters do not call it: ``book/matplotlibrc``, which Matplotlib reads
from the kernel's working folder (the chapter's folder, in a site build, in
JupyterLab, in Binder and beside the course editions), names it as a figure
hook, so it runs when the first figure of a chapter is created.
"""

__all__ = ["sharp_inline_figures"]


def sharp_inline_figures(figure=None):
    """Have IPython show Matplotlib figures as 2x PNGs at their usual size.

    Parameters
    ----------
    figure : matplotlib.figure.Figure, optional
        Ignored: given when Matplotlib calls this as a ``figure.hooks``
        entry of a matplotlibrc.

    Returns
    -------
    bool
        Whether the formats were set (False outside an IPython kernel with
        the inline backend, where there is nothing to set).
    """
    try:
        from IPython import get_ipython
        from matplotlib_inline.config import InlineBackend
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return False   # a script or a terminal: figures are not inline PNGs
    backend = InlineBackend.instance(parent=shell)
    if backend.figure_formats != {"retina"}:
        # as `%config InlineBackend.figure_formats = {"retina"}` would: the
        # inline backend re-registers its formatters with its own print
        # options (bbox_inches="tight")
        backend.figure_formats = {"retina"}
    return True
