"""The self-checks the book's exercises call."""

import numpy as np
import pytest

from fmlib.exercises import Mistake, WrongAnswer, check_close, check_function, check_true


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


# --------------------------------------------------------------------------
# Diagnosing typical mistakes
# --------------------------------------------------------------------------


def _pairwise(x):
    return 0.5 * (x.sum() ** 2 - (x**2).sum())


_PAIRWISE_MISTAKES = [
    Mistake("your pairwise term is exactly twice the reference: the 1/2 is missing",
            produces=lambda x: x.sum() ** 2 - (x**2).sum()),
    Mistake("the diagonal is still in: subtract the sum of squares",
            produces=lambda x: 0.5 * x.sum() ** 2),
]


@pytest.mark.parametrize("wrong, diagnosis", [
    (lambda x: x.sum() ** 2 - (x**2).sum(), "the 1/2 is missing"),
    (lambda x: 0.5 * x.sum() ** 2, "the diagonal is still in"),
    (lambda x: -_pairwise(x), "General hint"),
])
def test_check_function_names_the_mistake_the_answer_made(wrong, diagnosis):
    cases = [(np.array([1.0, 2.0, 3.0]),), (np.array([0.5, -1.0]),)]
    with pytest.raises(WrongAnswer) as caught:
        check_function("Exercise M", wrong, _pairwise, cases, hint="General hint",
                       mistakes=_PAIRWISE_MISTAKES)
    message = str(caught.value)
    assert diagnosis in message
    others = [m.diagnosis for m in _PAIRWISE_MISTAKES if diagnosis not in m.diagnosis]
    assert not any(other in message for other in others)


def test_a_right_answer_is_never_diagnosed():
    cases = [(np.array([1.0, 2.0, 3.0]),)]
    check_function("Exercise M", _pairwise, _pairwise, cases, hint="h",
                   mistakes=[Mistake("never", produces=_pairwise)])


def test_check_close_diagnoses_with_a_predicate_and_survives_a_broken_one():
    def broken(answer, expected):
        raise ZeroDivisionError
    mistakes = [Mistake("broken", when=broken),
                Mistake("the sign is flipped", when=lambda a, e: np.isclose(a, -e))]
    with pytest.raises(WrongAnswer, match="the sign is flipped"):
        check_close("Exercise N", -2.0, 2.0, hint="general", mistakes=mistakes)
    with pytest.raises(WrongAnswer, match="general"):
        check_close("Exercise N", 3.0, 2.0, hint="general", mistakes=mistakes)


def test_a_diagnosis_gets_a_copy_of_the_case():
    def zeroes_its_input(x):
        x[:] = 0.0
        return x
    x = np.array([1.0, 2.0])
    with pytest.raises(WrongAnswer):
        check_function("Exercise O", lambda v: v + 1, lambda v: v.copy(), [(x,)], hint="h",
                       mistakes=[Mistake("zeroed", produces=zeroes_its_input)])
    np.testing.assert_array_equal(x, [1.0, 2.0])


@pytest.mark.parametrize("kwargs", [{}, {"produces": len, "when": len}, {"produces": 3}])
def test_a_mistake_needs_one_callable(kwargs):
    with pytest.raises(TypeError, match="Mistake"):
        Mistake("d", **kwargs)


def test_mistakes_must_be_mistake_objects():
    with pytest.raises(TypeError, match="Mistake objects"):
        check_close("Exercise P", 1.0, 2.0, hint="h", mistakes=[("d", len)])
