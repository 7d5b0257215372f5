"""fmlib._scans (the one-pass summaries behind the input checks) against
NumPy's reductions, with and without the compiled loops."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fmlib import _scans

FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 5e-324, -5e-324, np.inf, -np.inf, np.nan, 1.3e154, -2.0]),
)


def _numpy_summary(data):
    finite_or_inf = data[~np.isnan(data)]
    largest = float(np.abs(finite_or_inf).max()) if finite_or_inf.size else 0.0
    return int(np.sum(data == 0.0)), largest


@pytest.fixture(params=["compiled", "numpy"])
def mode(request, monkeypatch):
    if request.param == "numpy":
        monkeypatch.setattr(_scans, "JIT_ENABLED", False)
    return request.param


@settings(max_examples=200, deadline=None)
@given(values=st.lists(FLOATS, max_size=40))
def test_zeros_and_magnitude_equal_numpy(values):
    data = np.array(values, dtype=np.float64)
    expected = _numpy_summary(data)
    assert _scans.zeros_and_magnitude(data) == expected
    # NaN is ignored (left to the finiteness check), -0.0 counts as a zero
    assert _scans.zeros_and_magnitude(data[::-1].copy()) == expected


def test_zeros_and_magnitude_in_both_modes(mode):
    data = np.array([0.0, -3.5, np.nan, 2.0, -0.0, -np.inf])
    assert _scans.zeros_and_magnitude(data) == (2, np.inf)
    assert _scans.zeros_and_magnitude(np.array([])) == (0, 0.0)
    assert _scans.zeros_and_magnitude(np.array([np.nan, -1e-300])) == (0, 1e-300)
    strided = np.arange(10.0)[::2]  # not contiguous: the NumPy path
    assert _scans.zeros_and_magnitude(strided) == (1, 8.0)


@settings(max_examples=100, deadline=None)
@given(values=st.lists(st.integers(-2**31, 2**31 - 1), min_size=1, max_size=40),
       dtype=st.sampled_from([np.int32, np.int64]))
def test_index_range_equals_numpy(values, dtype):
    indices = np.array(values, dtype=dtype)
    assert _scans.index_range(indices) == (int(indices.min()), int(indices.max()))


def test_index_range_in_both_modes(mode):
    assert _scans.index_range(np.array([3, -1, 7], dtype=np.int32)) == (-1, 7)
    assert _scans.index_range(np.array([9, 2], dtype=np.uint8)) == (2, 9)
    with pytest.raises(ValueError):  # empty: NumPy's error, never the compiled loop
        _scans.index_range(np.array([], dtype=np.int64))
