"""Self-checks for the book's exercises.

Each code exercise in the book ends with a cell that calls one of these
functions on the student's answer. A check compares the answer with an
independent reference (the naive formula, finite differences, a value
computed another way), prints a verdict, and on a wrong answer raises
:class:`WrongAnswer` whose message says what differs and gives a hint.

An exercise not attempted yet raises the stub's ``NotImplementedError``
unchanged, so the student sees which cell to fill in.

What counts as a right answer
-----------------------------
- A number, or an array (or nested list) of numbers, of the reference's shape,
  within the tolerances. Real numbers only: a complex answer is wrong even
  with a zero imaginary part, and so are strings (``'1.0'`` is not ``1.0``),
  ``None`` and other objects.
- Booleans are not numbers here: ``True`` does not pass for ``1.0``. A
  boolean answer (``True``/``False``, or an array of them) is compared only
  with a boolean reference, and must then be equal to it.
- Infinities and NaN are right exactly where the reference has the same
  value: ``inf`` against ``inf`` (same sign) and NaN against NaN at the same
  positions pass; a NaN or an infinity anywhere else is wrong.
- An integer too large for a float (``10**400``) is a wrong answer, not an
  ``OverflowError``.

How :func:`check_function` runs a case
--------------------------------------
The reference runs first, on its own deep copy of the case's arguments; the
student's function then gets another deep copy. An answer that zeroes its
inputs cannot change what it is compared with, and a right answer computed in
place is not judged against inputs it modified.

Each call of the student's function is stopped after ``time_limit`` seconds
(10 by default) with a :class:`WrongAnswer` naming the case. In the main
thread on POSIX (a Jupyter kernel, nbgrader's autograde, a script) a
``SIGALRM`` timer interrupts the function where it is, even in
``time.sleep``; elsewhere (another thread, Windows, or when the program
already uses ``SIGALRM``) the case runs in a helper thread that is asked to
stop with an asynchronous exception. Neither can stop compiled code that
never returns to Python (a Numba loop, one huge NumPy call) or a function
that catches ``BaseException`` and carries on; in the thread fallback such a
case is left running in the background and reported as stopped. The kernel
itself is never killed.
"""

import copy
import ctypes
import math
import numbers
import signal
import threading

import numpy as np

__all__ = ["Mistake", "WrongAnswer", "check_close", "check_function", "check_true"]

#: Seconds a single case of :func:`check_function` may run, by default.
DEFAULT_TIME_LIMIT = 10.0


class WrongAnswer(Exception):
    """The answer to an exercise does not match the reference.

    The message holds the verdict and a hint.
    """


class _TimeLimitExceeded(BaseException):
    """Raised inside a student's function whose time is up.

    A BaseException, so that the usual ``except Exception`` in the student's
    code does not swallow it.
    """


class Mistake:
    """A typical wrong answer, and the diagnosis a student who made it reads.

    A check that finds an answer wrong tries its mistakes in order; the first
    one that matches replaces the exercise's general hint with its diagnosis
    ("the pairwise term is exactly twice the reference: the 1/2 is missing"),
    which tells the student what their answer did rather than restating the
    solution.

    Parameters
    ----------
    diagnosis : str
        What the answer got wrong, shown as the hint when the mistake matches.
    produces : callable, optional
        What an answer with this mistake returns: called with a deep copy of
        the case's arguments (no arguments for :func:`check_close`); the
        mistake matches when the student's answer is close to its result.
    when : callable, optional
        ``when(answer, expected, *args) -> bool``: a test on the answer that
        cannot be written as a wrong formula (e.g. "a factor of a feature
        absent from the row changed").

    Exactly one of ``produces`` and ``when`` is given. A diagnosis function
    that raises is taken as not matching: a wrong answer can be odd enough
    to break it, and the student then still gets the general hint.
    """

    def __init__(self, diagnosis, *, produces=None, when=None):
        if (produces is None) == (when is None):
            raise TypeError("Mistake: give exactly one of produces= and when=")
        for name, value in (("produces", produces), ("when", when)):
            if value is not None and not callable(value):
                raise TypeError(f"Mistake: {name}= must be callable, got {_describe(value)}")
        if not isinstance(diagnosis, str) or not diagnosis.strip():
            raise TypeError("Mistake: diagnosis must be a non-empty string")
        self.diagnosis = diagnosis
        self.produces = produces
        self.when = when

    def __repr__(self):
        return f"Mistake({self.diagnosis!r})"

    def matches(self, answer, expected, args, rtol, atol):
        """Whether ``answer`` (wrong against ``expected``) shows this mistake."""
        try:
            if self.produces is not None:
                wrong = self.produces(*copy.deepcopy(args))
                return _difference(answer, wrong, rtol, atol) is None
            return bool(self.when(answer, expected, *copy.deepcopy(args)))
        except Exception:  # noqa: BLE001 - an odd answer must not break the check
            return False


def _check_mistakes(mistakes):
    mistakes = tuple(mistakes)
    for mistake in mistakes:
        if not isinstance(mistake, Mistake):
            raise TypeError(
                f"mistakes= takes fmlib.exercises.Mistake objects, got {_describe(mistake)}")
    return mistakes


def _diagnosis(mistakes, hint, answer, expected, args, rtol, atol):
    """The first matching mistake's diagnosis, else the general hint."""
    for mistake in mistakes:
        if mistake.matches(answer, expected, args, rtol, atol):
            return mistake.diagnosis
    return hint


def _passed(label, detail=""):
    # returns None, so that a notebook shows only the verdict, not "True"
    print(f"\N{HEAVY CHECK MARK} {label}: correct.{(' ' + detail) if detail else ''}")


def _failed(label, problem, hint, cause=None):
    message = f"\N{HEAVY BALLOT X} {label}: {problem}\nHint: {hint}"
    # the cause (the student's own error) keeps its traceback in the report
    raise WrongAnswer(message) from cause


# --------------------------------------------------------------------------
# Comparing an answer with the reference
# --------------------------------------------------------------------------


def _describe(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _as_real_array(value):
    """``(array, None)`` with ``value`` as an array of float64 or of bool,
    or ``(None, problem)`` saying why it is not numeric."""
    if value is None:
        return None, "the answer is None: did the function forget to `return`?"
    if isinstance(value, (str, bytes)):
        return None, (
            f"expected a number or an array of numbers, got the "
            f"{type(value).__name__} {_describe(value)}."
        )
    try:
        array = np.asarray(value)
    except (ValueError, TypeError, OverflowError) as error:
        # ragged nested lists, objects NumPy cannot take
        return None, f"expected a number or an array of numbers ({error})."
    kind = array.dtype.kind
    if kind == "b":
        return array, None
    if kind in "iuf":
        return array.astype(np.float64), None
    if kind == "c":
        return None, "the answer is complex; expected real numbers."
    if kind != "O":
        return None, (
            f"expected a number or an array of numbers, got "
            f"{type(value).__name__} of {array.dtype}."
        )
    # An object array: Python ints too large for a float, a list mixing
    # numbers with other things, Fractions... Look at every element.
    elements = list(array.flat)
    if elements and all(isinstance(e, (bool, np.bool_)) for e in elements):
        return array.astype(bool), None
    for element in elements:
        if isinstance(element, (bool, np.bool_)):
            return None, "the answer mixes booleans with numbers; expected numbers."
        if isinstance(element, numbers.Complex) and not isinstance(element, numbers.Real):
            return None, "the answer is complex; expected real numbers."
        if not isinstance(element, numbers.Real):
            return None, (
                f"expected a number or an array of numbers, but the answer "
                f"holds the {type(element).__name__} {_describe(element)}."
            )
        if isinstance(element, numbers.Integral):
            try:
                float(element)
            except OverflowError:
                digits = int(int(element).bit_length() * math.log10(2))
                return None, (
                    f"the answer holds an integer too large to be a float "
                    f"(about 10**{digits})."
                )
    try:
        return array.astype(np.float64), None
    except (TypeError, ValueError, OverflowError) as error:
        return None, f"expected a number or an array of numbers ({error})."


def _index_text(index, ndim):
    return f" at index {tuple(int(i) for i in index)}" if ndim else ""


def _difference(answer, expected, rtol, atol):
    """Describe how ``answer`` differs from ``expected``, or return None if it does not."""
    got, problem = _as_real_array(answer)
    if problem:
        return problem
    want, reference_problem = _as_real_array(expected)
    if reference_problem:
        # a bug in the exercise, not in the answer: say so loudly
        raise TypeError(f"the reference value is not numeric: {reference_problem}")
    if got.shape != want.shape:
        return f"the answer has shape {got.shape}, the reference {want.shape}."
    if (got.dtype == bool) != (want.dtype == bool):
        if got.dtype == bool:
            return "the answer is True/False values; expected numbers."
        return "expected True/False values; the answer is numbers."
    if want.dtype == bool:
        wrong = got != want
        if not wrong.any():
            return None
        index = np.unravel_index(np.argmax(wrong), got.shape)
        return (
            f"the answer is {bool(got[index])}{_index_text(index, got.ndim)}, "
            f"the reference {bool(want[index])}."
        )
    # Non-finite values must sit where the reference has the same ones.
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    special = ~np.isfinite(got) | ~np.isfinite(want)
    wrong = special & ~same
    if wrong.any():
        index = np.unravel_index(np.argmax(wrong), got.shape)
        where = _index_text(index, got.ndim)
        if not np.isfinite(got[index]):
            return (
                f"the answer contains NaN or infinite values ({got[index]}{where}, "
                f"where the reference has {want[index]:.6g})."
            )
        return (
            f"the answer is {got[index]:.6g}{where}, where the reference is "
            f"{want[index]}."
        )
    finite = ~special
    if np.allclose(got[finite], want[finite], rtol=rtol, atol=atol):
        return None
    gap = np.zeros(got.shape)
    gap[finite] = np.abs(got[finite] - want[finite])
    index = np.unravel_index(np.argmax(gap), got.shape)
    return (
        f"largest difference {gap[index]:.3g}{_index_text(index, got.ndim)} "
        f"(answer {got[index]:.6g}, reference {want[index]:.6g})."
    )


# --------------------------------------------------------------------------
# Running a case with a time limit
# --------------------------------------------------------------------------


def _check_time_limit(time_limit):
    if time_limit is None:
        return None
    if isinstance(time_limit, bool) or not isinstance(time_limit, numbers.Real):
        raise TypeError(
            f"time_limit must be a positive number of seconds or None, got "
            f"{type(time_limit).__name__} {time_limit!r}"
        )
    seconds = float(time_limit)
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(
            f"time_limit must be a positive, finite number of seconds (or None "
            f"for no limit), got {time_limit!r}"
        )
    return seconds


def _can_use_alarm() -> bool:
    """Whether a SIGALRM timer can interrupt the current thread without
    disturbing anyone else's use of it."""
    if not hasattr(signal, "setitimer") or not hasattr(signal, "SIGALRM"):
        return False
    if threading.current_thread() is not threading.main_thread():
        return False
    try:
        if signal.getitimer(signal.ITIMER_REAL)[0] != 0:
            return False  # someone else's timer is running
        return signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.SIG_IGN, None)
    except (OSError, ValueError):
        return False


def _call_with_alarm(function, args, seconds):
    """``(finished, result, error)`` of ``function(*args)``, stopped by SIGALRM.

    The timer repeats every 0.25 s after the limit, so that a function that
    swallows the first interruption (with a bare ``except:`` inside a loop
    that then continues) is interrupted again.
    """
    state = {"armed": True, "expired": False}

    def on_alarm(signum, frame):
        if state["armed"]:
            state["expired"] = True
            raise _TimeLimitExceeded

    previous = signal.signal(signal.SIGALRM, on_alarm)
    result = error = None
    try:
        # at least a millisecond: setitimer takes a zero as "disarm"
        signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-3), 0.25)
        try:
            result = function(*args)
        except _TimeLimitExceeded:
            pass
        except BaseException as exc:  # returned, and re-raised by the caller
            error = exc
    finally:
        # An alarm can still land while disarming; retry until it is done.
        while True:
            try:
                state["armed"] = False
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
                break
            except _TimeLimitExceeded:
                continue
    if state["expired"]:
        return False, None, None
    return True, result, error


def _call_in_thread(function, args, seconds):
    """``(finished, result, error)`` of ``function(*args)`` run in a helper
    thread that is asked to stop (an asynchronous exception) at the limit."""
    outcome = {}

    def run():
        try:
            outcome["result"] = function(*args)
        except _TimeLimitExceeded:
            outcome["stopped"] = True
        except BaseException as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="fmlib-exercise-case", daemon=True)
    try:
        worker.start()
    except RuntimeError:
        # no threads (Pyodide): run without a limit
        run()
        return True, outcome.get("result"), outcome.get("error")
    worker.join(seconds)
    if worker.is_alive():
        # Delivered at the thread's next Python instruction; code blocked in
        # C never sees it, and is then left to finish in the background.
        for _ in range(20):
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(worker.ident), ctypes.py_object(_TimeLimitExceeded)
            )
            worker.join(0.05)
            if not worker.is_alive():
                break
        return False, None, None
    if "stopped" in outcome:
        return False, None, None
    return True, outcome.get("result"), outcome.get("error")


def _call_limited(function, args, seconds):
    """``(finished, result, error)``: the answer, or the exception it raised,
    or ``finished=False`` when the time limit stopped it."""
    if seconds is None:
        try:
            return True, function(*args), None
        except BaseException as exc:
            return True, None, exc
    if _can_use_alarm():
        return _call_with_alarm(function, args, seconds)
    return _call_in_thread(function, args, seconds)


# --------------------------------------------------------------------------
# Public checks
# --------------------------------------------------------------------------


def check_close(label, answer, expected, *, hint, rtol=1e-6, atol=1e-9, mistakes=()):
    """Check that a numeric answer (scalar or array) is close to the expected value.

    Parameters
    ----------
    label : str
        Names the exercise in the verdict, e.g. ``"Exercise 3.1"``.
    answer : float or array-like
        The student's value: real numbers (not complex, not strings; see
        the module's notes for booleans, infinities and NaN).
    expected : float or array-like
        The reference value, computed independently of the answer.
    hint : str
        Shown when the answer is wrong.
    rtol, atol : float
        Tolerances, as in ``numpy.allclose``, on the finite values.
    mistakes : sequence of Mistake, optional
        Typical wrong answers (``produces`` called with no arguments); the
        first that matches gives the hint instead of ``hint``.


    Raises
    ------
    WrongAnswer
        With what differs (type, shape, non-finite values, largest
        difference) and the hint.
    """
    mistakes = _check_mistakes(mistakes)
    problem = _difference(answer, expected, rtol, atol)
    if problem:
        _failed(label, problem, _diagnosis(mistakes, hint, answer, expected, (), rtol, atol))
    _passed(label)


def check_function(label, function, reference, cases, *, hint, rtol=1e-6, atol=1e-9,
                   time_limit=DEFAULT_TIME_LIMIT, mistakes=()):
    """Check a function the student wrote against a reference on several inputs.

    For each case, the reference runs first on its own deep copy of the
    arguments, then the student's function on another deep copy, so that
    neither can change what the other sees.

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
        Tolerances, as in ``numpy.allclose``, on the finite values.
    time_limit : float or None, default 10.0
        Seconds the student's function may run on one case before it is
        stopped and the case reported as not finishing; None for no limit.
        See the module's notes for how it is stopped, and what cannot be.
    mistakes : sequence of Mistake, optional
        Typical wrong answers; when a case's answer is wrong, the first
        mistake that matches it (on that case's arguments) gives the hint
        instead of ``hint``.


    Raises
    ------
    WrongAnswer
        For the first case that does not match, raises an error, or runs
        past ``time_limit``.
    NotImplementedError
        Unchanged from the stub, when the exercise is not attempted yet.
    ValueError
        If ``time_limit`` is not a positive finite number or None.
    """
    seconds = _check_time_limit(time_limit)
    mistakes = _check_mistakes(mistakes)
    cases = list(cases)
    for number, args in enumerate(cases, start=1):
        which = f"case {number} of {len(cases)}"
        expected = reference(*copy.deepcopy(args))
        finished, answer, error = _call_limited(function, copy.deepcopy(args), seconds)
        if not finished:
            _failed(
                label,
                f"{which} did not finish within {seconds:g} seconds and was "
                f"stopped (an endless loop, or a loop over far too many values?).",
                hint,
            )
        if isinstance(error, NotImplementedError):
            raise error
        if isinstance(error, Exception):  # the student's code crashed: say so, with the hint
            _failed(label, f"{which} raised {type(error).__name__}: {error}", hint, error)
        if error is not None:  # KeyboardInterrupt, SystemExit: not a verdict
            raise error
        problem = _difference(answer, expected, rtol, atol)
        if problem:
            _failed(label, f"{which}: {problem}",
                    _diagnosis(mistakes, hint, answer, expected, args, rtol, atol))
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
