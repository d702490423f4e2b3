"""Uncertainty: what "±" means in this book, and paired comparisons of methods.

Introduced in chapter 3. Every "± x" in the book is one standard deviation
over seeds (``mean_sd``), never a standard error. Two methods are compared
seed by seed: the methods share seeds (the same initial weights, batch order
and dropout masks for the same seed), so the by-seed differences remove what
the seeds have in common, and the 95% t-interval of their mean says whether
the difference is more than noise (``paired``). An interval that contains
zero is a tie.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

CONFIDENCE = 0.95


def mean_sd(values, digits: int = 4) -> str:
    """ "mean ± SD" over seeds, e.g. ``0.9770 ± 0.0012`` (SD with n - 1)."""
    values = np.asarray(values, dtype=float)
    sd = values.std(ddof=1) if len(values) > 1 else float("nan")
    return f"{values.mean():.{digits}f} ± {sd:.{digits}f}"


def t_interval(differences) -> tuple[float, float, float]:
    """Mean of ``differences`` and its 95% t-interval (low, high)."""
    d = np.asarray(differences, dtype=float)
    mean = float(d.mean())
    if len(d) < 2:
        return mean, float("nan"), float("nan")
    half = (
        stats.t.ppf(0.5 + CONFIDENCE / 2, len(d) - 1)
        * d.std(ddof=1)
        / np.sqrt(len(d))
    )
    return mean, mean - half, mean + half


def sizes_where(comparison: pd.DataFrame, side: int) -> str:
    """The groups of a ``paired`` table, indexed by its ``by`` column, whose
    95% interval lies wholly above zero (``side=1``) or below it
    (``side=-1``), as text for the prose; "none" if there are none."""
    wholly = comparison.low > 0 if side > 0 else comparison.high < 0
    return (
        ", ".join(str(group) for group in comparison.index[wholly]) or "none"
    )


def verdict(low: float, high: float, better: str, worse: str) -> str:
    """In words: which side of zero the interval lies on, or a tie."""
    if low > 0:
        return f"{better} better"
    if high < 0:
        return f"{worse} better"
    return "tie"


def paired(
    table: pd.DataFrame,
    a: str,
    b: str,
    by: str | list[str] = "k",
    value: str = "test_accuracy",
    method: str = "method",
    seed: str = "seed",
) -> pd.DataFrame:
    """Per ``by`` group: method ``a`` minus method ``b``, seed by seed (only the
    seeds both have), with the mean difference, its 95% t-interval and a verdict."""
    by = [by] if isinstance(by, str) else list(by)
    wide = table[table[method].isin([a, b])].pivot_table(
        index=[*by, seed], columns=method, values=value
    )
    wide = wide.dropna()
    rows = []
    for key, group in wide.groupby(level=by):
        diff = group[a] - group[b]
        mean, low, high = t_interval(diff)
        rows.append(
            dict(
                zip(by, key if isinstance(key, tuple) else (key,)),
                seeds=len(diff),
                difference=mean,
                low=low,
                high=high,
                verdict=verdict(low, high, a, b),
            )
        )
    return pd.DataFrame(rows)


def best_with_ties(
    table: pd.DataFrame,
    methods: list[str],
    by: str = "k",
    value: str = "test_accuracy",
    method: str = "method",
) -> pd.Series:
    """Per ``by`` group: the method with the best mean, and every method whose paired
    interval against it contains zero (a tie), e.g. ``"kd"`` or ``"kd = mse"``."""
    means = (
        table[table[method].isin(methods)]
        .groupby([by, method])[value]
        .mean()
        .unstack(method)
    )
    best = {}
    for key, row in means.iterrows():
        leader = row.idxmax()
        tied = [
            m
            for m in methods
            if m != leader
            and pd.notna(row.get(m))
            and paired(
                table[table[by] == key],
                leader,
                m,
                by=by,
                value=value,
                method=method,
            )
            .iloc[0]
            .verdict
            == "tie"
        ]
        best[key] = " = ".join([leader, *tied])
    return pd.Series(best, name="best")


def interval_text(row, digits: int = 4) -> str:
    """A paired comparison as text: ``+0.0123 [-0.0020, +0.0266]``."""
    return f"{row.difference:+.{digits}f} [{row.low:+.{digits}f}, {row.high:+.{digits}f}]"
