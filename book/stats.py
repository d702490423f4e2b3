"""Uncertainty: what "±" means in this book, and a t-interval for paired differences.

Introduced in chapter 3. Every "± x" in the book is one standard deviation
over seeds (``mean_sd``), never a standard error. ``t_interval`` gives the
mean of paired differences and its 95% t-interval (the bytes chapter compares
two files image by image on the same test images). Methods are compared over
seeds by ``book.inference``'s paired sign-flip tests.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

CONFIDENCE = 0.95


def mean_sd(values, digits: int = 4) -> str:
    """ "mean ± SD" over seeds, e.g. ``0.9770 ± 0.0012`` (SD with n - 1),
    with no-break spaces: a line never starts or ends at the ±."""
    values = np.asarray(values, dtype=float)
    sd = values.std(ddof=1) if len(values) > 1 else float("nan")
    return f"{values.mean():.{digits}f}\u00a0±\u00a0{sd:.{digits}f}"


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
