import numpy as np
import pandas as pd
import pytest

from book.stats import mean_sd, paired, t_interval


def test_mean_sd_is_the_sample_standard_deviation():
    assert mean_sd([0.97, 0.98, 0.99]) == "0.9800 ± 0.0100"


def test_t_interval_by_hand():
    # n = 3: t(0.975, 2) = 4.303; SD of (1, 2, 3) = 1
    mean, low, high = t_interval([1.0, 2.0, 3.0])
    assert mean == 2.0
    assert high - mean == pytest.approx(4.303 / np.sqrt(3), rel=1e-3)
    assert mean - low == pytest.approx(high - mean)


def test_paired_uses_seed_by_seed_differences():
    # b is a's twin minus a constant: the paired interval is tight although each method's spread is wide
    seeds = [0, 1, 2]
    a = [0.90, 0.95, 0.99]
    rows = [dict(method="a", k=1, seed=s, test_accuracy=v) for s, v in zip(seeds, a)]
    rows += [dict(method="b", k=1, seed=s, test_accuracy=v - 0.01 + 1e-4 * s) for s, v in zip(seeds, a)]
    result = paired(pd.DataFrame(rows), "a", "b").iloc[0]
    assert result.difference == pytest.approx(0.0099)
    assert result.low > 0 and result.verdict == "a better"
    tie = paired(pd.DataFrame(rows).assign(test_accuracy=lambda t: t.test_accuracy.where(t.method == "a", 0.95)),
                 "a", "b").iloc[0]
    assert tie.verdict == "tie"


def test_sizes_where_names_the_groups_whose_interval_excludes_zero():
    from book.stats import sizes_where

    comparison = pd.DataFrame({"low": [0.1, -0.2, -0.3], "high": [0.2, 0.1, -0.1]},
                              index=pd.Index([2, 4, 6], name="k"))
    assert sizes_where(comparison, 1) == "2"
    assert sizes_where(comparison, -1) == "6"
    assert sizes_where(comparison.iloc[[1]], 1) == "none"
