"""Self-checks for the book's exercises.

Each code exercise in the book ends with a cell that calls one of these
functions on the student's answer. A check compares the answer with an
independent reference (the naive formula, finite differences, a value
computed another way), prints a verdict, and on a wrong answer raises
:class:`WrongAnswer` whose message says what differs and gives a hint.

An exercise not attempted yet raises the stub's ``NotImplementedError``
unchanged, so the student sees which cell to fill in.
"""

import numpy as np

__all__ = ["WrongAnswer", "check_close", "check_function", "check_true"]


class WrongAnswer(Exception):
    """The answer to an exercise does not match the reference.

    The message holds the verdict and a hint.
    """


def _passed(label, detail=""):
    # returns None, so that a notebook shows only the verdict, not "True"
    print(f"\N{HEAVY CHECK MARK} {label}: correct.{(' ' + detail) if detail else ''}")


def _failed(label, problem, hint):
    message = f"\N{HEAVY BALLOT X} {label}: {problem}\nHint: {hint}"
    raise WrongAnswer(message)


def _difference(answer, expected, rtol, atol):
    """Describe how ``answer`` differs from ``expected``, or return None if it does not."""
    if answer is None:
        return "the answer is None: did the function forget to `return`?"
    try:
        got = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return f"expected a number or an array of numbers, got {type(answer).__name__}."
    want = np.asarray(expected, dtype=float)
    if got.shape != want.shape:
        return f"the answer has shape {got.shape}, the reference {want.shape}."
    if not np.isfinite(got).all():
        return "the answer contains NaN or infinite values."
    if np.allclose(got, want, rtol=rtol, atol=atol):
        return None
    gap = np.abs(got - want)
    index = np.unravel_index(np.argmax(gap), got.shape)
    where = f" at index {tuple(int(i) for i in index)}" if got.ndim else ""
    return (
        f"largest difference {gap[index]:.3g}{where} "
        f"(answer {got[index]:.6g}, reference {want[index]:.6g})."
    )


def check_close(label, answer, expected, *, hint, rtol=1e-6, atol=1e-9):
    """Check that a numeric answer (scalar or array) is close to the expected value.

    Parameters
    ----------
    label : str
        Names the exercise in the verdict, e.g. ``"Exercise 3.1"``.
    answer : float or array-like
        The student's value.
    expected : float or array-like
        The reference value, computed independently of the answer.
    hint : str
        Shown when the answer is wrong.
    rtol, atol : float
        Tolerances, as in ``numpy.allclose``.


    Raises
    ------
    WrongAnswer
        With what differs (shape, non-finite values, largest difference) and
        the hint.
    """
    problem = _difference(answer, expected, rtol, atol)
    if problem:
        _failed(label, problem, hint)
    _passed(label)


def check_function(label, function, reference, cases, *, hint, rtol=1e-6, atol=1e-9):
    """Check a function the student wrote against a reference on several inputs.

    Parameters
    ----------
    label : str
        Names the exercise in the verdict.
    function : callable
        The student's function.
    reference : callable
        An independent implementation of the same thing.
    cases : iterable of tuple
        Positional arguments for both functions, one tuple per test case.
    hint : str
        Shown when an answer is wrong.
    rtol, atol : float
        Tolerances, as in ``numpy.allclose``.


    Raises
    ------
    WrongAnswer
        For the first case that does not match, or that raises an error.
    NotImplementedError
        Unchanged from the stub, when the exercise is not attempted yet.
    """
    cases = list(cases)
    for number, args in enumerate(cases, start=1):
        try:
            answer = function(*args)
        except NotImplementedError:
            raise
        except Exception as error:  # the student's code crashed: say so, with the hint
            _failed(label, f"case {number} of {len(cases)} raised {type(error).__name__}: {error}", hint)
        problem = _difference(answer, reference(*args), rtol, atol)
        if problem:
            _failed(label, f"case {number} of {len(cases)}: {problem}", hint)
    _passed(label, f"({len(cases)} cases checked)")


def check_true(label, condition, *, problem, hint, detail=""):
    """Check a condition about an answer that is not a single number.

    Parameters
    ----------
    label : str
        Names the exercise in the verdict.
    condition : bool
        Whether the answer is right.
    problem : str
        What is wrong when ``condition`` is false.
    hint : str
        Shown when the answer is wrong.
    detail : str, optional
        Shown after the verdict when the answer is right.

    """
    if not condition:
        _failed(label, problem, hint)
    _passed(label, detail)
