"""What a set of runs can conclude, and how the book says it.

The conclusions of chapters 5 to 10 are comparisons of methods over many
sizes, from a handful of seeds, with outcomes that can be bimodal (a head
with a dead unit scores like a smaller head). This module holds the rules the
book applies to every such comparison (issue 18):

* **Paired differences, tested without assuming normal runs.** Two methods
  are compared seed by seed: heads of one (seed, k) share their initial
  weights, batch order and dropout masks (``book.heads``), so the by-seed
  differences remove what the draws have in common. Each size is tested
  with the exact sign-flip permutation test of "the two methods are
  interchangeable within a seed" (``sign_flip_p``): valid for bimodal
  differences, where a t-test's p-values are not. Its price: n seeds can
  give no p below 2 / 2**n, so three seeds can never show a difference at 5%,
  and a size with too few runs to reach the level is "not resolved".
* **A family, corrected.** One pair of methods across its sizes is one family;
  Holm's step-down procedure (Holm 1979), over the sizes whose runs could
  reach its levels at all (Tarone's rule), keeps the chance of any false
  "difference" in the family at 5% or less. Each interval is the set of
  constant shifts the sign-flip test does not reject at the level Holm tested
  its size with, so it excludes zero exactly when a difference is detected;
  the intervals are compatible with the tests, not simultaneous.
* **Words that mean what the runs say** (``verdict``): *better* only where a
  difference is detected; *equivalent* only where the sign-flip interval at
  the Bonferroni level (5% over the family's sizes) lies within ``MARGIN``
  (fixed in advance: 0.002, 20 test images); otherwise *no difference
  detected*, which is neither a tie nor a proof of one.
* **What one more run will give** (``prediction_range``): before the runs are
  seen, the range of n runs covers one more run of the same kind with
  probability at least (n - 1) / (n + 1), whatever the distribution (bimodal
  ones included; "at least" because accuracies can tie). It needs the new run
  to be interchangeable with the n, which a run sharing their teacher or
  extraction is not.
* **The s(f) of a one-run-per-size experiment** (``single_run_s_of_f``):
  exact, given how often each size's runs reach f, with an interval for the
  sampling error of those frequencies.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pandas as pd
from scipy import stats

from book.tables import signed

ALPHA = 0.05  # per family: the chance of one or more false "differences"
MARGIN = (
    0.002  # equivalence margin in accuracy: 20 of MNIST's 10,000 test images
)
EXACT_UP_TO = (
    16  # runs: up to 2**16 sign patterns are enumerated, beyond that sampled
)


def sizes_text(sizes, name: str = "k") -> str:
    """Sizes for a sentence: "at no size", "at k = 3", "at k = 3, 5 and 7"."""
    sizes = [f"{s:g}" if isinstance(s, float) else str(s) for s in sizes]
    if not sizes:
        return "at no size"
    if len(sizes) == 1:
        return f"at {name} = {sizes[0]}"
    return f"at {name} = {', '.join(sizes[:-1])} and {sizes[-1]}"


def borderline(row) -> bool:
    """Whether an equivalence (a row of ``paired``) lies inside the margin by
    less than one test image (0.0001)."""
    reach = max(abs(row.equivalence_low), abs(row.equivalence_high))
    return MARGIN - reach < 1e-4 + 1e-12


def verdicts_text(
    comparison: pd.DataFrame, a: str, b: str, by: str = "k"
) -> str:
    """One family's verdicts (``paired``'s table, indexed by ``by``) as
    clauses that follow "<a> is": "ahead at k = 1 and 2; equivalent within
    ±0.002 at k = 5; not detectably different at k = 3; unresolved (3 runs)
    at k = 32". Every size is in exactly one clause, so the sentence reads
    right whatever the runs found."""

    def words(row) -> str:
        verdict = row.verdict
        if verdict == f"{a} better":
            return "ahead"
        if verdict == f"{b} better":
            return "behind"
        if verdict.startswith("equivalent"):
            if borderline(row):
                return (
                    f"equivalent within ±{MARGIN:g}, but borderline (its "
                    "interval ends less than one test image inside the margin),"
                )
            return f"equivalent within ±{MARGIN:g}"
        if verdict.startswith("no difference"):
            return "not detectably different"
        return verdict.replace("not resolved", "unresolved")

    rank = ["ahead", "behind", "equivalent", "not detectably", "unresolved"]
    clauses: dict[str, list] = {}
    for size, row in comparison.iterrows():
        clauses.setdefault(words(row), []).append(size)
    ordered = sorted(
        clauses,
        key=lambda w: next(
            (i for i, r in enumerate(rank) if w.startswith(r)), len(rank)
        ),
    )
    return "; ".join(f"{w} {sizes_text(clauses[w], by)}" for w in ordered)


@functools.cache  # the same few n in every test of a chapter: built once each
def _signs(n: int) -> np.ndarray:
    """Every pattern of n signs (or 2**16 sampled ones, seeded, beyond ``EXACT_UP_TO``)."""
    if n <= EXACT_UP_TO:
        return np.array(list(itertools.product((1.0, -1.0), repeat=n)))
    return np.random.default_rng(0).choice((1.0, -1.0), size=(2**16, n))


def sign_flip_p(d) -> float:
    """Two-sided p of the sign-flip test of "no difference" for the by-seed
    differences ``d``: the share of sign patterns whose sum is at least as far
    from zero as the observed one."""
    d = np.round(
        np.asarray(d, dtype=float), 9
    )  # accuracies: no float noise in ties
    observed = abs(d.sum())
    return float((np.abs(_signs(len(d)) @ d) >= observed - 1e-12).mean())


def min_attainable_p(d) -> float:
    """The smallest p the sign-flip test can give these differences: 2 / 2**m
    for m non-zero ones (zeros do not move under a flip)."""
    m = int((np.round(np.asarray(d, dtype=float), 9) != 0).sum())
    return min(1.0, 2.0 / 2**m)


def sign_flip_interval(d, level: float) -> tuple[float, float]:
    """The constant shifts delta for which the sign-flip test of ``d - delta``
    is not rejected at ``level``: an interval around the mean difference,
    found by bisection to 1e-7. NaN if no shift can be rejected at this level."""
    d = np.asarray(d, dtype=float)
    if (
        min_attainable_p(d - d.mean() + 1.0) > level
    ):  # too few runs for this level
        return float("nan"), float("nan")
    mean, span = d.mean(), d.max() - d.min() + 1.0

    def edge(outside: float) -> float:
        inside = mean
        while abs(outside - inside) > 1e-7:
            middle = (inside + outside) / 2
            if sign_flip_p(d - middle) >= level:
                inside = middle
            else:
                outside = middle
        return inside

    return edge(mean - span), edge(mean + span)


def tarone_family(min_p, alpha: float = ALPHA) -> np.ndarray:
    """Which hypotheses to count in a multiple-testing family (Tarone 1990):
    the smallest K for which at most K hypotheses have a smallest attainable
    p of alpha / K or less, and those hypotheses. Valid because the smallest
    attainable p does not depend on the direction of the data."""
    min_p = np.asarray(min_p, dtype=float)
    for k in range(1, len(min_p) + 1):
        kept = min_p <= alpha / k
        if kept.sum() <= k:
            return kept
    return np.zeros(len(min_p), bool)


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


def _wide(table, a, b, value, by, method, seed) -> pd.DataFrame:
    """Methods ``a`` and ``b`` side by side, one row per (``by``, seed) both have;
    a second run of one (method, ``by``, seed) is refused, not averaged."""
    both = table[table[method].isin([a, b])]
    repeated = both.duplicated([method, by, seed])
    if repeated.any():
        raise ValueError(
            f"{int(repeated.sum())} repeated ({method}, {by}, {seed}) rows, e.g. "
            f"{both[repeated].iloc[0][[method, by, seed]].to_dict()}: one run per cell"
        )
    return both.pivot(index=[by, seed], columns=method, values=value).dropna()


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
    Holm's correction over the groups whose discordant seeds could reach its
    levels at all (Tarone's rule). With ten seeds a size needs most of
    them discordant, nearly all one way, to be detected."""
    wide = _wide(table, a, b, event, by, method, seed).astype(bool)
    rows = []
    for key, group in wide.groupby(level=by):
        only_a = int((group[a] & ~group[b]).sum())
        only_b = int((group[b] & ~group[a]).sum())
        discordant = only_a + only_b
        rows.append(
            {
                by: key,
                "runs": len(group),
                a: int(group[a].sum()),
                b: int(group[b].sum()),
                "only " + a: only_a,
                "only " + b: only_b,
                "p": stats.binomtest(only_a, discordant).pvalue
                if discordant
                else 1.0,
                "min_p": min(1.0, 2 * 0.5**discordant),
            }
        )
    result = pd.DataFrame(rows)
    kept = tarone_family(result.min_p)
    result["holm_p"] = np.nan
    result.loc[kept, "holm_p"] = holm_adjusted(result.p[kept])
    result["verdict"] = [
        "not resolved (too few discordant seeds)"
        if not k
        else f"more often with {a}"
        if q < ALPHA and x > y
        else f"more often with {b}"
        if q < ALPHA
        else "no difference detected"
        for k, q, x, y in zip(
            kept, result.holm_p, result["only " + a], result["only " + b]
        )
    ]
    return result.drop(columns="min_p")


def verdict(row, a: str, b: str) -> str:
    """A compared cell in words (see the module's rules)."""
    if row.low > 0:
        return f"{a} better"
    if row.high < 0:
        return f"{b} better"
    if -MARGIN <= row.equivalence_low and row.equivalence_high <= MARGIN:
        return f"equivalent (±{MARGIN:g})"
    if not row.tested:
        return f"not resolved ({row.runs} runs)"
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
    """Method ``a`` minus method ``b`` per ``by`` group, seed by seed (the
    seeds both have), as one family (see the module's rules): runs, mean
    difference, sign-flip p, Holm-adjusted p, the interval at Holm's level,
    the equivalence interval at the Bonferroni level, and the verdict."""
    wide = _wide(table, a, b, value, by, method, seed)
    groups = [
        (key, (g[a] - g[b]).to_numpy()) for key, g in wide.groupby(level=by)
    ]
    result = pd.DataFrame(
        {
            by: [key for key, _ in groups],
            "runs": [len(d) for _, d in groups],
            "difference": [float(d.mean()) for _, d in groups],
            "p": [sign_flip_p(d) for _, d in groups],
            "min_p": [
                min_attainable_p(d) if len(d) else 1.0 for _, d in groups
            ],
        }
    )
    result["tested"] = tarone_family(result.min_p, alpha)
    result["holm_p"], result["level"] = np.nan, np.nan
    tested = result.tested.to_numpy()
    result.loc[tested, "holm_p"] = holm_adjusted(result.p[tested])
    result.loc[tested, "level"] = holm_levels(result.p[tested], alpha)
    untested = np.nan
    intervals = [
        sign_flip_interval(d, level) if t else (untested, untested)
        for (_, d), level, t in zip(groups, result.level, tested)
    ]
    result["low"] = [lo for lo, _ in intervals]
    result["high"] = [hi for _, hi in intervals]
    bonferroni = alpha / max(1, len(groups))
    equivalence = [sign_flip_interval(d, bonferroni) for _, d in groups]
    result["equivalence_low"] = [lo for lo, _ in equivalence]
    result["equivalence_high"] = [hi for _, hi in equivalence]
    result["verdict"] = [verdict(row, a, b) for row in result.itertuples()]
    return result.drop(columns="min_p")


def interval_text(row, digits: int = 4, runs: bool = True) -> str:
    """A compared cell for the prose: ``+0.0123 [−0.0020, +0.0266], 10 runs``
    (``+0.0123, 3 runs`` where the runs give no interval); without the count
    where a caption or column gives it."""
    count = f", {row.runs} runs" if runs else ""
    if pd.isna(row.low):
        return f"{signed(row.difference, digits)}{count}"
    return (
        f"{signed(row.difference, digits)} [{signed(row.low, digits)}, "
        f"{signed(row.high, digits)}]{count}"
    )


def verdict_words(verdict: str, names: dict) -> str:
    """A verdict of ``verdict`` in a table's words, the methods by their
    display names (``names``): "KD better", "not detectably different",
    "unresolved" (the runs are counted elsewhere in the table)."""
    for key, name in names.items():
        if verdict == f"{key} better":
            return f"{name} better"
    if verdict.startswith("no difference"):
        return "not detectably different"
    if verdict.startswith("not resolved"):
        return "unresolved"
    return verdict  # "equivalent (±0.002)"


def event_words(verdict: str, names: dict) -> str:
    """A verdict of ``paired_events`` in a table's words, the methods by their
    display names (``names``): "more often with MSE", "not detectably
    different", "unresolved" (the caption says why: too few discordant seeds)."""
    for key, name in names.items():
        if verdict == f"more often with {key}":
            return f"more often with {name}"
    if verdict.startswith("no difference"):
        return "not detectably different"
    if verdict.startswith("not resolved"):
        return "unresolved"
    return verdict


def prediction_range(values) -> tuple[float, float, float]:
    """(lowest, highest, coverage): the range of ``values`` and (n - 1) / (n + 1),
    the least chance, before the runs are seen, that one more run
    interchangeable with them lands inside it (see the module's rules)."""
    v = np.asarray(values, dtype=float)
    return float(v.min()), float(v.max()), (len(v) - 1) / (len(v) + 1)


def s_of_f_distribution(reach: pd.Series) -> pd.Series:
    """The distribution of s(f) in an experiment that trains each size once,
    given ``reach``: per size (ascending index), the probability that one run
    reaches f. P(s = size i) = reach_i x prod over smaller sizes of (1 -
    reach_j); NaN (not reached) gets the rest."""
    reach = reach.sort_index()
    return pd.Series(
        _first_reach(reach.to_numpy(), reach.to_numpy()),
        index=[*reach.index, np.nan],
    )


def _first_reach(own, others) -> np.ndarray:
    """P(s = size i) = own_i x prod over j < i of (1 - others_j), and the rest
    (not reached) last; ``own`` and ``others`` differ at an interval's corners."""
    missed_before = np.concatenate([[1.0], np.cumprod(1 - others)])
    return np.append(own * missed_before[:-1], missed_before[-1])


def clopper_pearson(x, n, level: float) -> tuple[np.ndarray, np.ndarray]:
    """The exact (Clopper-Pearson) interval for a fraction: ``x`` of ``n``
    trials succeeded; it covers the true fraction with at least ``level``."""
    x, n = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    tail = (1 - level) / 2
    low = np.where(x > 0, stats.beta.ppf(tail, x, n - x + 1), 0.0)
    high = np.where(x < n, stats.beta.ppf(1 - tail, x + 1, n - x), 1.0)
    return low, high


def single_run_s_of_f(
    table: pd.DataFrame,
    f: float,
    by: str = "k",
    acc: str = "test_accuracy",
    level: float = 0.95,
) -> pd.DataFrame:
    """Per size (and "not reached", index NaN): the share of one-run-per-size
    experiments whose s(f) is that size, exactly from each size's fraction of
    runs reaching f, with a simultaneous ``level`` interval for the sampling
    error of those fractions.

    The interval is each share's range over a box: every size's fraction in
    its exact interval at level 1 - (1 - level) / m for m sizes (Bonferroni),
    so all m fractions lie in the box together with probability at least
    ``level``, and so do all the shares in their ranges. A share rises with
    its own size's fraction and falls with each smaller size's, so its range
    is reached at the box's corners. The share itself always lies inside."""
    groups = {k: (g[acc] >= f).to_numpy() for k, g in table.groupby(by)}
    groups = dict(sorted(groups.items()))
    reached = np.array([r.sum() for r in groups.values()])
    runs = np.array([len(r) for r in groups.values()])
    low, high = clopper_pearson(reached, runs, 1 - (1 - level) / len(groups))
    index = list(groups)
    share = s_of_f_distribution(pd.Series(reached / runs, index=index))
    # at the box's corners: own fraction low and smaller sizes' high, or the reverse
    # not reached is lowest where every size's fraction is high: _first_reach's
    # last entry takes only ``others``
    low_share = _first_reach(low, high)
    high_share = _first_reach(high, low)
    return pd.DataFrame(
        {
            "share": share.to_numpy(),
            "low": low_share,
            "high": high_share,
            "runs": [*runs, np.nan],
        },
        index=share.index,
    )
