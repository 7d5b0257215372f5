"""fmlib.prose: numbers formatted for the {eval} roles of the chapters."""

import re

import numpy as np
import pytest

from fmlib.prose import Quoted, quote, quote_as

# what myst-nb (ext/eval, render.py) and jupyterlab-myst (its inline-expression
# renderer) both show for a text/plain result: one pair of matching quotes dropped
_RENDERERS_STRIP = re.compile(r"^([\"'])(.*)\1$")


def _displayed(value):
    return _RENDERERS_STRIP.sub(r"\2", repr(value))


@pytest.mark.parametrize("value, spec, text", [
    (0.123456, ".3f", "0.123"), (1234567, ",", "1,234,567"), (0.0712, ".1%", "7.1%"),
    (np.float64(2.5), ".2f", "2.50"), (np.int64(42), "", "42"), (np.float32(0.25), "", "0.25"),
    (-0.01, "+.3f", "-0.010"), (3.0e-16, ".1e", "3.0e-16"), (True, "", "True"),
])
def test_quote_formats_like_format_and_displays_without_quotes(value, spec, text):
    quoted = quote(value, spec)
    assert isinstance(quoted, Quoted) and quoted == text
    assert _displayed(quoted) == text


@pytest.mark.parametrize("text", ['"ur", "www" and "stop"', "'a' or 'b'", "plain", '"one', ""])
def test_text_in_quote_marks_survives_the_renderers(text):
    assert _displayed(quote(text)) == text


def test_quote_rejects_a_spec_that_is_not_a_string():
    with pytest.raises(TypeError, match="spec"):
        quote(1.0, 3)


def test_quote_as_defines_the_name_in_the_callers_globals():
    namespace = {"quote_as": quote_as}
    exec("for key, value in [('a', 1.0), ('b', 2.0)]:\n"
         "    quote_as(f'prose_test_{key}', value, {'prose_test_a': '.1f', 'prose_test_b': '.2f'})",
         namespace)
    assert namespace["prose_test_a"] == "1.0" and namespace["prose_test_b"] == "2.00"
    assert "prose_test_a" not in globals()


def test_quote_as_names_the_problem():
    with pytest.raises(ValueError, match="identifier"):
        quote_as("not a name", 1)
    with pytest.raises(KeyError, match="no format for 'x'"):
        quote_as("x", 1, {"y": ".1f"})
