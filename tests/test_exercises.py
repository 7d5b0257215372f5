"""The self-checks the book's exercises call."""

import numpy as np
import pytest

from fmlib.exercises import WrongAnswer, check_close, check_function, check_true


def test_right_answer_prints_a_tick_and_returns_nothing(capsys):
    assert check_close("Exercise A", [1.0, 2.0], np.array([1.0, 2.0]), hint="h") is None
    assert "\N{HEAVY CHECK MARK} Exercise A: correct." in capsys.readouterr().out


@pytest.mark.parametrize(
    "answer, expected, problem",
    [
        (None, 1.0, "forget to `return`"),
        ("abc", 1.0, "expected a number"),
        (np.ones(3), np.ones(4), "shape (3,)"),
        (np.array([1.0, np.nan]), np.ones(2), "NaN"),
        (np.array([1.0, 2.5]), np.array([1.0, 2.0]), "index (1,)"),
        (3.0, 2.0, "largest difference 1"),
    ],
)
def test_wrong_answer_names_the_problem_and_the_hint(answer, expected, problem):
    with pytest.raises(WrongAnswer) as error:
        check_close("Exercise B", answer, expected, hint="Try the other sign.")
    assert problem in str(error.value)
    assert "Hint: Try the other sign." in str(error.value)


def test_check_function_reports_the_failing_case():
    cases = [(np.arange(3.0),), (np.arange(4.0) - 2,)]
    with pytest.raises(WrongAnswer, match="case 2 of 2"):
        check_function("Exercise C", np.abs, lambda x: x, cases, hint="h")


def test_check_function_counts_cases(capsys):
    check_function("Exercise D", np.square, lambda x: x * x, [(1.0,), (2.0,), (3.0,)], hint="h")
    assert "(3 cases checked)" in capsys.readouterr().out


def test_check_function_turns_a_crash_into_a_verdict():
    def broken(x):
        return x / "a"

    with pytest.raises(WrongAnswer, match="raised TypeError"):
        check_function("Exercise E", broken, lambda x: x, [(1.0,)], hint="h")


def test_unattempted_exercise_keeps_the_stubs_error():
    def stub(x):
        raise NotImplementedError("write it")

    with pytest.raises(NotImplementedError, match="write it"):
        check_function("Exercise F", stub, lambda x: x, [(1.0,)], hint="h")


def test_check_true(capsys):
    check_true("Exercise G", True, problem="p", hint="h", detail="(well done)")
    assert "(well done)" in capsys.readouterr().out
    with pytest.raises(WrongAnswer, match="the list is not sorted"):
        check_true("Exercise G", False, problem="the list is not sorted", hint="h")
