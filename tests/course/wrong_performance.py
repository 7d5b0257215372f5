"""Typical wrong answers to the code exercises of book/performance_engineering.md.

Each entry replaces the exercise's solution cell; the self-check cell must then
raise fmlib.exercises.WrongAnswer with a message containing ``hint``, the
part of the diagnosis that answer's mistake gets.
"""

WRONG_ANSWERS = {
    "perf-cache-lines": [
        {   # the size alone, wherever the bytes start
            "code": '''import math


def cache_lines(start, n_bytes, line=64):
    """Lines of `line` bytes touched by bytes start .. start + n_bytes - 1."""
    return math.ceil(n_bytes / line)
''',
            "hint": "does not depend on where the bytes start",
        },
        {   # counts to the line of the first byte after the range
            "code": '''def cache_lines(start, n_bytes, line=64):
    """Lines of `line` bytes touched by bytes start .. start + n_bytes - 1."""
    return (start + n_bytes) // line - start // line + 1
''',
            "hint": "one past the last byte",
        },
    ],
}
