"""Issue 10, kind 9: self-checks that cannot be fooled, and that always end.

- each case's reference and the student's function get their own deep copy
  of the arguments, the reference first;
- only real numbers pass (no complex, no strings; booleans only against
  booleans); huge ints are a verdict, not an OverflowError; infinities and
  NaN are right exactly where the reference has them;
- an endless case is stopped after ``time_limit`` seconds with a verdict that
  names it, in the main thread (SIGALRM), in another thread (fallback), and in
  a Jupyter kernel, which survives;
- ``reference.sigmoid`` refuses what is not real numbers.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import threading
import time
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from fmlib import reference
from fmlib.exercises import DEFAULT_TIME_LIMIT, WrongAnswer, check_close, check_function

POSIX_ALARM = pytest.mark.skipif(
    not hasattr(signal, "setitimer"), reason="SIGALRM timers are POSIX only"
)


def _doubled(x):
    return 2 * np.asarray(x, dtype=float)


# --------------------------------------------------------------------------
# Copies
# --------------------------------------------------------------------------


def test_answer_that_zeroes_its_input_fails():
    def zeroing(x):
        x[:] = 0          # destroys the input...
        return 2 * x      # ...so that answer and a later reference agree

    cases = [(np.arange(1.0, 4.0),), (np.ones(2),)]
    with pytest.raises(WrongAnswer, match="case 1 of 2: largest difference"):
        check_function("E", zeroing, _doubled, cases, hint="h")


def test_right_answer_computed_in_place_passes(capsys):
    def in_place(x):
        x *= 2            # right, and modifies its own copy
        return x

    def reference_reading_input(x):
        return 2 * x

    cases = [(np.arange(1.0, 4.0),), (np.array([[1.0, -2.0]]),)]
    check_function("E", in_place, reference_reading_input, cases, hint="h")
    assert "(2 cases checked)" in capsys.readouterr().out


def test_reference_that_modifies_its_input_does_not_fool_a_right_answer(capsys):
    def sorting_reference(x):
        x.sort()          # in place: the student must still get the original
        return x[::-1].copy()

    def student(x):
        return np.sort(x)[::-1]

    check_function("E", student, sorting_reference, [(np.array([3.0, 1.0, 2.0]),)], hint="h")
    assert "correct" in capsys.readouterr().out


def test_caller_cases_are_never_modified():
    x = np.arange(3.0)
    nested = {"w": [np.ones(2)]}

    def vandal(a, b):
        a[:] = -1
        b["w"][0][:] = -1
        b["new"] = 1
        return 2 * a

    with pytest.raises(WrongAnswer):
        check_function("E", vandal, lambda a, b: 2 * a, [(x, nested)], hint="h")
    np.testing.assert_array_equal(x, np.arange(3.0))
    np.testing.assert_array_equal(nested["w"][0], np.ones(2))
    assert list(nested) == ["w"]


def test_reference_runs_first_on_a_separate_copy():
    seen = []

    def ref(x):
        seen.append(("reference", x.copy()))
        x[:] = 99
        return np.zeros(2)

    def student(x):
        seen.append(("student", x.copy()))
        return np.zeros(2)

    original = np.array([1.0, 2.0])
    check_function("E", student, ref, [(original,)], hint="h")
    assert [who for who, _ in seen] == ["reference", "student"]
    for _, x in seen:
        np.testing.assert_array_equal(x, [1.0, 2.0])


# --------------------------------------------------------------------------
# What counts as a number
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer, expected, problem",
    [
        (1 + 0j, 1.0, "complex"),
        (np.array([1.0, 2.0]) + 0j, np.array([1.0, 2.0]), "complex"),
        ([1.0, 2j], [1.0, 0.0], "complex"),
        ("1.0", 1.0, "got the str '1.0'"),
        (b"1.0", 1.0, "got the bytes"),
        (["1.0", "2.0"], [1.0, 2.0], "expected a number"),
        ([1.0, "2.0"], [1.0, 2.0], "expected a number"),
        (np.array(["1.0"]), np.array([1.0]), "expected a number"),
        (Decimal("1.0"), 1.0, "Decimal"),
        ({"a": 1.0}, 1.0, "expected a number"),
        (object(), 1.0, "expected a number"),
        (None, 1.0, "forget to `return`"),
        (10**400, 1.0, "too large to be a float (about 10**400)"),
        (-(10**400), 1.0, "too large to be a float"),
        ([1, 10**400], [1.0, 2.0], "too large to be a float"),
        (10**5000, 1.0, "about 10**5000"),
        (True, 1.0, "True/False values; expected numbers"),
        (np.array([True, False]), np.array([1.0, 0.0]), "True/False"),
        (1.0, True, "expected True/False values"),
        (np.array([True, True]), np.array([True, False]), "True at index (1,), the reference False"),
        ([[1.0], [2.0, 3.0]], [1.0, 2.0], "expected a number"),
    ],
    ids=lambda v: type(v).__name__,
)
def test_non_real_answers_are_wrong(answer, expected, problem):
    with pytest.raises(WrongAnswer) as info:
        check_close("E", answer, expected, hint="h")
    assert problem in str(info.value)
    assert "Hint: h" in str(info.value)


@pytest.mark.parametrize(
    "answer, expected",
    [
        (np.float32(1.5), 1.5),
        (3, 3.0),
        (np.int8(-4), -4.0),
        (Fraction(1, 2), 0.5),
        ([1, 2.5], np.array([1.0, 2.5])),
        (np.uint64(7), 7),
        (np.array([True, False]), np.array([True, False])),
        (True, True),
        (10**20, 1e20),
    ],
    ids=repr,
)
def test_real_answers_pass(answer, expected, capsys):
    check_close("E", answer, expected, hint="h")
    assert "correct" in capsys.readouterr().out


def test_a_huge_int_from_a_checked_function_is_a_verdict():
    with pytest.raises(WrongAnswer, match="case 1 of 1: the answer holds an integer too large"):
        check_function("E", lambda x: 10**400, lambda x: 1.0, [(1,)], hint="h")


# --------------------------------------------------------------------------
# Infinities and NaN
# --------------------------------------------------------------------------

INF, NAN = math.inf, math.nan


@pytest.mark.parametrize(
    "answer, expected",
    [
        (INF, INF),
        (-INF, -INF),
        ([1.0, INF, -INF], [1.0, INF, -INF]),
        (NAN, NAN),
        ([NAN, 2.0], [NAN, 2.0]),
        ([[INF, NAN], [0.0, 1.0]], [[INF, NAN], [0.0, 1.0 + 1e-9]]),
    ],
    ids=repr,
)
def test_non_finite_values_where_the_reference_has_them_pass(answer, expected, capsys):
    check_close("E", answer, expected, hint="h")
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "answer, expected, problem",
    [
        (INF, -INF, "(inf, where the reference has -inf)"),
        ([1.0, NAN], [1.0, 2.0], "NaN or infinite values (nan at index (1,)"),
        ([NAN, 1.0], [INF, 1.0], "where the reference has inf"),
        ([1.0, INF], [1.0, NAN], "where the reference has nan"),
        ([1.0, 2.0], [1.0, INF], "the answer is 2 at index (1,), where the reference is inf"),
        (0.0, NAN, "where the reference is nan"),
        ([INF, 1.0], [INF, 5.0], "largest difference 4 at index (1,)"),
    ],
    ids=repr,
)
def test_non_finite_values_elsewhere_fail(answer, expected, problem):
    with pytest.raises(WrongAnswer) as info:
        check_close("E", answer, expected, hint="h")
    assert problem in str(info.value)


def test_no_warning_when_comparing_infinities(recwarn):
    check_close("E", [INF, -INF, 1.0], [INF, -INF, 1.0], hint="h")
    with pytest.raises(WrongAnswer):
        check_close("E", [INF, 1.0], [INF, 2.0], hint="h")
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


# --------------------------------------------------------------------------
# Time limit
# --------------------------------------------------------------------------


def _endless(x):
    while True:
        pass


def _swallowing(x):
    # catches Exception around its loop body: the stop is a BaseException
    while True:
        try:
            sum(range(1000))
        except Exception:
            pass


def _sleeping(x):
    time.sleep(60)
    return x


def _fast_then_endless(x):
    if x > 1:
        _endless(x)
    return x


def _run_timed(function, cases, time_limit=0.5):
    start = time.monotonic()
    with pytest.raises(WrongAnswer) as info:
        check_function("Exercise T", function, lambda x: x, cases, hint="look at the loop",
                       time_limit=time_limit)
    return time.monotonic() - start, str(info.value)


@POSIX_ALARM
@pytest.mark.parametrize("function", [_endless, _swallowing, _sleeping], ids=lambda f: f.__name__)
def test_endless_case_is_stopped_in_the_main_thread(function):
    seconds, message = _run_timed(function, [(1.0,), (2.0,)])
    assert "case 1 of 2 did not finish within 0.5 seconds" in message
    assert "Hint: look at the loop" in message
    assert seconds < 3


@POSIX_ALARM
def test_message_names_the_case_that_hangs():
    seconds, message = _run_timed(_fast_then_endless, [(1.0,), (0.5,), (2.0,), (0.1,)])
    assert "case 3 of 4 did not finish" in message
    assert seconds < 3


@POSIX_ALARM
def test_alarm_state_is_restored_and_no_late_alarm_fires():
    before = signal.getsignal(signal.SIGALRM)
    _run_timed(_endless, [(1.0,)], time_limit=0.3)
    check_function("E", lambda x: x, lambda x: x, [(1.0,)], hint="h", time_limit=0.3)
    assert signal.getsignal(signal.SIGALRM) == before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    time.sleep(0.8)  # a timer left behind would interrupt this


@POSIX_ALARM
def test_someone_elses_alarm_handler_is_left_alone():
    calls = []

    def handler(*args):
        calls.append(args)

    previous = signal.signal(signal.SIGALRM, handler)
    try:
        seconds, message = _run_timed(_endless, [(1.0,)], time_limit=0.5)
        assert "case 1 of 1 did not finish" in message  # by the thread fallback
        assert signal.getsignal(signal.SIGALRM) is handler
        assert calls == []
    finally:
        signal.signal(signal.SIGALRM, previous)


def test_endless_case_is_stopped_in_another_thread():
    result = {}

    def run():
        try:
            result["seconds"], result["message"] = _run_timed(
                _endless, [(1.0,), (2.0,)], time_limit=0.5)
        except BaseException as exc:  # noqa: BLE001 - reported below
            result["error"] = exc

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(10)
    assert not worker.is_alive()
    assert "error" not in result, result.get("error")
    assert "case 1 of 2 did not finish within 0.5 seconds" in result["message"]
    assert result["seconds"] < 3


def test_thread_fallback_returns_answers_and_errors(monkeypatch, capsys):
    import fmlib.exercises as ex

    monkeypatch.setattr(ex, "_can_use_alarm", lambda: False)
    check_function("E", lambda x: 2 * x, lambda x: 2 * x, [(1.0,), (2.0,)], hint="h")
    assert "(2 cases checked)" in capsys.readouterr().out
    with pytest.raises(WrongAnswer, match="raised ZeroDivisionError"):
        check_function("E", lambda x: 1 / 0, lambda x: x, [(1.0,)], hint="h")
    with pytest.raises(NotImplementedError):
        check_function("E", _stub, lambda x: x, [(1.0,)], hint="h")
    seconds, message = _run_timed(_swallowing, [(1.0,)], time_limit=0.3)
    assert "case 1 of 1 did not finish" in message and seconds < 3


def _stub(x):
    raise NotImplementedError("write it")


def test_fast_cases_are_unaffected_by_the_limit(capsys):
    cases = [(float(i),) for i in range(50)]
    check_function("E", lambda x: x + 1, lambda x: x + 1, cases, hint="h", time_limit=1)
    assert "(50 cases checked)" in capsys.readouterr().out


def test_no_limit_with_none(capsys):
    def slowish(x):
        time.sleep(0.3)
        return x

    check_function("E", slowish, lambda x: x, [(1.0,)], hint="h", time_limit=None)
    assert "correct" in capsys.readouterr().out


def test_default_limit_is_ten_seconds():
    import inspect

    assert DEFAULT_TIME_LIMIT == 10.0
    default = inspect.signature(check_function).parameters["time_limit"].default
    assert default == 10.0


@pytest.mark.parametrize("bad", [0, -1, math.inf, math.nan])
def test_bad_time_limit_is_a_value_error(bad):
    with pytest.raises(ValueError, match="time_limit must be a positive, finite number"):
        check_function("E", lambda x: x, lambda x: x, [(1.0,)], hint="h", time_limit=bad)


@pytest.mark.parametrize("bad", [True, "10", [1]])
def test_time_limit_that_is_not_a_number_is_a_type_error(bad):
    with pytest.raises(TypeError, match="time_limit"):
        check_function("E", lambda x: x, lambda x: x, [(1.0,)], hint="h", time_limit=bad)


def test_keyboard_interrupt_in_the_students_code_is_not_a_verdict():
    def interrupted(x):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        check_function("E", interrupted, lambda x: x, [(1.0,)], hint="h")


def test_a_crash_keeps_the_students_traceback():
    def broken(x):
        return x / "a"

    with pytest.raises(WrongAnswer, match="raised TypeError") as info:
        check_function("E", broken, lambda x: x, [(1.0,)], hint="h")
    assert isinstance(info.value.__cause__, TypeError)


@pytest.mark.slow
def test_endless_case_in_a_jupyter_kernel_leaves_the_kernel_alive(tmp_path):
    # What a reader's notebook and nbgrader's autograde do: the cell runs in
    # the kernel's main thread. The check must stop the case, report it as a
    # WrongAnswer, and leave the kernel running the next cell.
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    cells = [
        "from fmlib.exercises import check_function\n"
        "def endless(x):\n"
        "    while True:\n"
        "        pass\n",
        "check_function('Exercise K', endless, lambda x: x, [(1.0,), (2.0,)],\n"
        "               hint='the loop never ends', time_limit=1)",
        "print('kernel still alive')",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = nbclient.NotebookClient(
        nb, timeout=60, kernel_name="python3", allow_errors=True,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    start = time.monotonic()
    client.execute(env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    error = [o for o in nb.cells[1].outputs if o.output_type == "error"]
    assert error and error[0].ename == "WrongAnswer"
    assert "case 1 of 2 did not finish within 1 seconds" in error[0].evalue
    texts = [o.get("text", "") for o in nb.cells[2].outputs]
    assert "kernel still alive\n" in texts
    assert time.monotonic() - start < 50


# --------------------------------------------------------------------------
# reference.sigmoid's input
# --------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [None, "1.0", 1j, [1.0, None], np.array(["a"]), {"z": 1}],
                         ids=repr)
def test_sigmoid_refuses_what_is_not_real_numbers(bad):
    with pytest.raises(TypeError, match="z must be real numbers"):
        reference.sigmoid(bad)


@pytest.mark.parametrize(
    "z, expected",
    [(0, 0.5), (0.0, 0.5), (True, 1 / (1 + math.exp(-1))), (np.float32(2.0), 1 / (1 + math.exp(-2))),
     (Fraction(1, 2), 1 / (1 + math.exp(-0.5))), (-800.0, 0.0), (800, 1.0)],
    ids=repr,
)
def test_sigmoid_still_takes_real_numbers(z, expected):
    value = reference.sigmoid(z)
    assert isinstance(value, float)
    assert value == pytest.approx(expected, abs=1e-300)


def test_sigmoid_on_arrays_is_unchanged():
    z = np.linspace(-40, 40, 81)
    np.testing.assert_allclose(reference.sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-12)
    np.testing.assert_allclose(reference.sigmoid(list(z)), 1 / (1 + np.exp(-z)), rtol=1e-12)
