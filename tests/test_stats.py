import numpy as np
import pytest

from book.stats import mean_sd, t_interval


def test_mean_sd_is_the_sample_standard_deviation():
    assert mean_sd([0.97, 0.98, 0.99]) == "0.9800\u00a0±\u00a00.0100"  # no-break spaces


def test_t_interval_by_hand():
    # n = 3: t(0.975, 2) = 4.303; SD of (1, 2, 3) = 1
    mean, low, high = t_interval([1.0, 2.0, 3.0])
    assert mean == 2.0
    assert high - mean == pytest.approx(4.303 / np.sqrt(3), rel=1e-3)
    assert mean - low == pytest.approx(high - mean)
