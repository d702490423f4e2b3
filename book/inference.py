"""What a set of runs can conclude, and how the book says it.

The conclusions of chapters 5 to 9 are comparisons of methods over many
sizes, from a handful of seeds, with outcomes that can be bimodal (a head
with a dead unit scores like a smaller head). This module holds the rules the
book applies to every such comparison (issue 18):

* **Paired differences.** Two methods are compared seed by seed: heads of one
  (seed, k) share their initial weights, batch order and dropout masks
  (``book.heads``), so the by-seed differences remove what the draws have in
  common.
* **A family, corrected.** One pair of methods across its sizes is one family
  of tests; Holm's step-down procedure (Holm 1979) keeps the chance of any
  false "difference" in the family below 5%. Each interval is shown at the
  confidence level at which Holm's procedure tested it, so an interval
  excludes zero exactly when a difference is detected.
* **Words that mean what the interval says** (``verdict``): a difference is
  *detected* only when the corrected interval excludes zero; *equivalent*
  only when the whole corrected interval lies within ``MARGIN`` (fixed in
  advance: 0.002, 20 test images); otherwise *no difference detected*, which
  is neither a tie nor a proof of one; with fewer than ``MIN_RUNS`` pairs,
  *not resolved*.
* **What one more run will give** (``prediction_range``): the range of n runs
  covers a new, independent run with probability (n - 1) / (n + 1), whatever
  the distribution -- bimodal ones included.
* **The s(f) of a one-run-per-size experiment** (``single_run_s_of_f``):
  exact, given how often each size's runs reach f, with a bootstrap interval
  for the sampling error of those frequencies.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

ALPHA = 0.05  # per family: the chance of one or more false "differences"
MARGIN = (
    0.002  # equivalence margin in accuracy: 20 of MNIST's 10,000 test images
)
MIN_RUNS = 3  # pairs needed before a comparison is judged at all


def sizes_text(sizes, name: str = "k") -> str:
    """Sizes for a sentence: "at no size", "at k = 3", "at k = 3, 5 and 7"."""
    sizes = [f"{s:g}" if isinstance(s, float) else str(s) for s in sizes]
    if not sizes:
        return "at no size"
    if len(sizes) == 1:
        return f"at {name} = {sizes[0]}"
    return f"at {name} = {', '.join(sizes[:-1])} and {sizes[-1]}"


def _t_test(d: np.ndarray) -> tuple[float, float, float]:
    """Mean, standard error and two-sided p of the by-seed differences ``d``."""
    mean, se = float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d)))
    if se == 0:
        return mean, 0.0, 0.0 if mean != 0 else 1.0
    return mean, se, float(2 * stats.t.sf(abs(mean) / se, len(d) - 1))


def holm_levels(p_values, alpha: float = ALPHA) -> np.ndarray:
    """The significance level at which Holm's step-down procedure tests each
    hypothesis: alpha / (m - i) for the i-th smallest p (from 0) while every
    smaller p was rejected; from the first one not rejected on, that step's
    level for all the rest (they are not rejected either)."""
    p = np.asarray(p_values, dtype=float)
    m, levels = len(p), np.empty(len(p))
    level = None
    for i, index in enumerate(np.argsort(p, kind="stable")):
        if level is None:
            step = alpha / (m - i)
            if p[index] >= step:
                level = step
            levels[index] = step
        else:
            levels[index] = level
    return levels


def holm_adjusted(p_values) -> np.ndarray:
    """Holm's adjusted p-values: a hypothesis is rejected at level alpha
    exactly when its adjusted p is below alpha."""
    p = np.asarray(p_values, dtype=float)
    adjusted, running = np.empty(len(p)), 0.0
    for i, index in enumerate(np.argsort(p, kind="stable")):
        running = max(running, min(1.0, (len(p) - i) * p[index]))
        adjusted[index] = running
    return adjusted


def paired_events(
    table: pd.DataFrame,
    a: str,
    b: str,
    event: str,
    by: str = "k",
    method: str = "method",
    seed: str = "seed",
) -> pd.DataFrame:
    """How often a yes/no ``event`` column (a dead unit, say) happens to
    method ``a``'s runs and to ``b``'s, per ``by`` group, paired by seed:
    McNemar's exact test on the seeds where only one of the two has it, with
    Holm's correction over the groups."""
    wide = (
        table[table[method].isin([a, b])]
        .pivot_table(
            index=[by, seed], columns=method, values=event, aggfunc="first"
        )
        .dropna()
        .astype(bool)
    )
    rows = []
    for key, group in wide.groupby(level=by):
        only_a = int((group[a] & ~group[b]).sum())
        only_b = int((group[b] & ~group[a]).sum())
        p = (
            stats.binomtest(only_a, only_a + only_b).pvalue
            if only_a + only_b
            else 1.0
        )
        rows.append(
            {
                by: key,
                "runs": len(group),
                a: int(group[a].sum()),
                b: int(group[b].sum()),
                "only " + a: only_a,
                "only " + b: only_b,
                "p": p,
            }
        )
    result = pd.DataFrame(rows)
    result["holm_p"] = holm_adjusted(result.p)
    result["verdict"] = [
        f"more often with {a}"
        if q < ALPHA and x > y
        else f"more often with {b}"
        if q < ALPHA
        else "no difference detected"
        for q, x, y in zip(result.holm_p, result[a], result[b])
    ]
    return result


def verdict(row, a: str, b: str) -> str:
    """A compared cell in words (see the module's rules)."""
    if row.runs < MIN_RUNS:
        return f"not resolved ({row.runs} runs)"
    if row.low > 0:
        return f"{a} better"
    if row.high < 0:
        return f"{b} better"
    if -MARGIN <= row.low and row.high <= MARGIN:
        return f"equivalent (±{MARGIN:g})"
    return "no difference detected"


def paired(
    table: pd.DataFrame,
    a: str,
    b: str,
    by: str = "k",
    value: str = "test_accuracy",
    method: str = "method",
    seed: str = "seed",
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """Method ``a`` minus method ``b`` per ``by`` group, seed by seed (the seeds
    both have), as one Holm-corrected family: runs, mean difference, p,
    Holm-adjusted p, the interval at Holm's level and the verdict."""
    wide = (
        table[table[method].isin([a, b])]
        .pivot_table(index=[by, seed], columns=method, values=value)
        .dropna()
    )
    rows = []
    for key, group in wide.groupby(level=by):
        d = (group[a] - group[b]).to_numpy()
        mean, se, p = (
            _t_test(d) if len(d) >= 2 else (float(d.mean()), np.nan, np.nan)
        )
        rows.append(
            {by: key, "runs": len(d), "difference": mean, "se": se, "p": p}
        )
    result = pd.DataFrame(rows)
    tested = result.runs >= MIN_RUNS
    result["level"] = np.nan
    result.loc[tested, "level"] = holm_levels(result.p[tested], alpha)
    half = [
        stats.t.ppf(1 - level / 2, n - 1) * se if t else np.nan
        for level, n, se, t in zip(
            result.level, result.runs, result.se, tested
        )
    ]
    result["low"], result["high"] = (
        result.difference - half,
        result.difference + half,
    )
    result["verdict"] = [verdict(row, a, b) for row in result.itertuples()]
    return result.drop(columns="se")


def interval_text(row, digits: int = 4) -> str:
    """A compared cell for the prose: ``+0.0123 [-0.0020, +0.0266], 10 runs``."""
    return (
        f"{row.difference:+.{digits}f} [{row.low:+.{digits}f}, "
        f"{row.high:+.{digits}f}], {row.runs} runs"
    )


def prediction_range(values) -> tuple[float, float, float]:
    """(lowest, highest, coverage): the range of ``values`` and the chance,
    (n - 1) / (n + 1), that one more independent run lands inside it."""
    v = np.asarray(values, dtype=float)
    return float(v.min()), float(v.max()), (len(v) - 1) / (len(v) + 1)


def s_of_f_distribution(reach: pd.Series) -> pd.Series:
    """The distribution of s(f) in an experiment that trains each size once,
    given ``reach``: per size (ascending index), the probability that one run
    reaches f. P(s = size i) = reach_i x prod over smaller sizes of (1 -
    reach_j); NaN (not reached) gets the rest."""
    reach = reach.sort_index()
    missed_before = np.concatenate([[1.0], np.cumprod(1 - reach.to_numpy())])
    shares = pd.Series(
        reach.to_numpy() * missed_before[:-1], index=reach.index
    )
    shares.loc[np.nan] = missed_before[-1]
    return shares


def single_run_s_of_f(
    table: pd.DataFrame,
    f: float,
    by: str = "k",
    acc: str = "test_accuracy",
    resamples: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Per size (and "not reached", index NaN): the share of one-run-per-size
    experiments whose s(f) is that size, exactly from each size's fraction of
    runs reaching f, with a 95% bootstrap interval (runs resampled within
    each size) for the sampling error of those fractions."""
    groups = {k: (g[acc] >= f).to_numpy() for k, g in table.groupby(by)}
    share = s_of_f_distribution(
        pd.Series({k: r.mean() for k, r in groups.items()})
    )
    rng = np.random.default_rng(seed)
    draws = np.stack(
        [
            s_of_f_distribution(
                pd.Series(
                    {
                        k: rng.choice(r, len(r)).mean()
                        for k, r in groups.items()
                    }
                )
            ).to_numpy()
            for _ in range(resamples)
        ]
    )
    low, high = np.percentile(draws, [2.5, 97.5], axis=0)
    return pd.DataFrame(
        dict(
            share=share.to_numpy(),
            low=low,
            high=high,
            runs=[*(len(r) for r in groups.values()), np.nan],
        ),
        index=share.index,
    )
