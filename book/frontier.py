"""s(f), the smallest model that reaches accuracy f, and the size/accuracy Pareto frontier.

Introduced in the s(f) chapter. Both work on a tidy table with one row per trained
model and (at least) a size column and an accuracy column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def smallest_size(
    table: pd.DataFrame, f: float, size="params", acc="test_accuracy"
) -> float:
    """s(f) = min { size(m) : acc(m) >= f } over the rows; NaN if no row reaches f."""
    sizes = table.loc[table[acc] >= f, size]
    return float(sizes.min()) if len(sizes) else float("nan")


def s_of_f(
    table: pd.DataFrame, fs, size="params", acc="test_accuracy"
) -> pd.Series:
    """s evaluated at each accuracy level in ``fs``."""
    fs = np.asarray(fs, dtype=float)
    return pd.Series(
        [smallest_size(table, f, size, acc) for f in fs],
        index=pd.Index(fs, name="f"),
    )


def pareto_frontier(
    table: pd.DataFrame, size="params", acc="test_accuracy"
) -> pd.DataFrame:
    """Rows no other row beats: none is at most as large and strictly more accurate,
    or strictly smaller and at least as accurate. Sorted by size, accuracy rising."""
    # Among equal sizes keep the most accurate, then walk up in size keeping
    # each row that beats everything smaller.
    ordered = table.sort_values([size, acc], ascending=[True, False])
    best_per_size = ordered.drop_duplicates(subset=size, keep="first")
    best_so_far = best_per_size[acc].cummax().shift(fill_value=-np.inf)
    return best_per_size[best_per_size[acc] > best_so_far]
