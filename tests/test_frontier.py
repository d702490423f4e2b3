import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from book.frontier import pareto_frontier, s_of_f, smallest_size

rows = st.lists(
    st.tuples(st.integers(1, 10**6), st.floats(0, 1, allow_nan=False)), min_size=1, max_size=40
)


@settings(max_examples=200, deadline=None)
@given(rows, st.lists(st.floats(0, 1, allow_nan=False), min_size=2, max_size=20))
def test_s_of_f_is_non_decreasing(points, fs):
    table = pd.DataFrame(points, columns=["params", "test_accuracy"])
    s = s_of_f(table, sorted(fs))
    reached = s.dropna()
    assert reached.is_monotonic_increasing  # pandas: non-decreasing
    # once some f is out of reach, every larger f is too
    unreached = s.isna().to_numpy()
    assert not np.any(unreached[:-1] & ~unreached[1:])


def test_smallest_size_by_hand():
    table = pd.DataFrame(dict(params=[10, 20, 30, 40], test_accuracy=[0.5, 0.9, 0.8, 0.95]))
    assert smallest_size(table, 0.85) == 20
    assert smallest_size(table, 0.9) == 20  # ">=": reaching f exactly counts
    assert smallest_size(table, 0.91) == 40
    assert np.isnan(smallest_size(table, 0.99))


def test_pareto_frontier_by_hand():
    table = pd.DataFrame(
        dict(
            params=[10, 20, 20, 30, 40, 50],
            test_accuracy=[0.5, 0.9, 0.7, 0.8, 0.95, 0.95],
        )
    )
    frontier = pareto_frontier(table)
    # 20@0.7 loses to 20@0.9; 30@0.8 to 20@0.9; 50@0.95 ties 40@0.95 but is larger
    assert list(zip(frontier.params, frontier.test_accuracy)) == [(10, 0.5), (20, 0.9), (40, 0.95)]


@given(rows)
def test_frontier_points_are_undominated(points):
    table = pd.DataFrame(points, columns=["params", "test_accuracy"])
    frontier = pareto_frontier(table)
    for size, acc in zip(frontier.params, frontier.test_accuracy):
        dominated = (table.params <= size) & (table.test_accuracy > acc) | (
            table.params < size
        ) & (table.test_accuracy >= acc)
        assert not dominated.any()
    # and the frontier answers s(f) for every f it contains
    for acc in frontier.test_accuracy:
        assert smallest_size(table, acc) == smallest_size(frontier, acc)
