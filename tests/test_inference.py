import numpy as np
import pandas as pd
import pytest

from book import inference
from book.inference import MARGIN, holm_adjusted, holm_levels, paired_events, paired, prediction_range, s_of_f_distribution, sizes_text


def test_sizes_in_words():
    assert sizes_text([]) == "at no size"
    assert sizes_text([3]) == "at k = 3"
    assert sizes_text([3, 5, 7]) == "at k = 3, 5 and 7"


def test_holm_levels_by_hand():
    np.testing.assert_allclose(holm_levels([0.01, 0.04, 0.03]), [0.05 / 3, 0.05 / 2, 0.05 / 2])
    np.testing.assert_allclose(holm_levels([0.001, 0.002, 0.03]), [0.05 / 3, 0.05 / 2, 0.05])


def table(rng, effects, seeds=10, noise=0.01):
    rows = []
    for k, effect in effects.items():
        shared = rng.normal(0.9, 0.05, seeds)  # what a seed's draws give both methods
        for s in range(seeds):
            rows.append(dict(method="a", k=k, seed=s, test_accuracy=shared[s] + effect + rng.normal(0, noise)))
            rows.append(dict(method="b", k=k, seed=s, test_accuracy=shared[s] + rng.normal(0, noise)))
    return pd.DataFrame(rows)


@pytest.mark.parametrize("seed", range(5))
def test_an_interval_excludes_zero_exactly_when_holm_detects_a_difference(seed):
    rng = np.random.default_rng(seed)
    result = paired(table(rng, {k: e for k, e in enumerate([0, 0.002, 0.005, 0.008, 0.02, -0.01])}), "a", "b")
    detected = (result.holm_p < 0.05).to_numpy()
    excludes = ((result.low > 0) | (result.high < 0)).to_numpy()
    assert (detected == excludes).all()
    assert set(result.verdict[detected]) <= {"a better", "b better"}


def test_the_words_follow_the_runs():
    rng = np.random.default_rng(0)
    result = paired(table(rng, {1: 0.05, 2: 0.0, 3: 0.0}, noise=0.0002), "a", "b").set_index("k")
    assert result.verdict[1] == "a better"
    assert result.verdict[2] == f"equivalent (±{MARGIN:g})"
    wide = paired(table(rng, {1: 0.0}, seeds=10, noise=0.05), "a", "b")
    assert wide.verdict[0] == "no difference detected"
    # four seeds: a sign-flip test cannot go below 2/16, so no size of them is judged
    few = paired(table(rng, {1: 0.3}, seeds=4), "a", "b")
    assert few.verdict[0] == "not resolved (4 runs)"


def test_the_sign_flip_test_keeps_its_level_for_bimodal_differences():
    """Differences that are large or small, with random signs (no method effect):
    rejected at 5% no more than 5% of the time (the test is exact)."""
    rng = np.random.default_rng(1)
    sizes = np.where(rng.random((3000, 10)) < 0.1, 0.05, 0.005)
    d = sizes * rng.choice((-1, 1), size=sizes.shape)
    rejected = np.mean([inference.sign_flip_p(row) <= 0.05 for row in d])
    assert rejected <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 3000)


def test_a_repeated_run_is_refused_not_averaged():
    rng = np.random.default_rng(0)
    runs = table(rng, {1: 0.0}, seeds=5)
    with pytest.raises(ValueError, match="repeated"):
        paired(pd.concat([runs, runs.iloc[:1]]), "a", "b")


def test_tarone_leaves_out_what_cannot_reach_its_level():
    kept = inference.tarone_family([0.002, 0.002, 0.25, 0.25, 1.0])
    assert list(kept) == [True, True, False, False, False]


def test_prediction_range_coverage():
    assert prediction_range([0.2, 0.9, 0.5]) == (0.2, 0.9, 0.5)
    # a new run from the same distribution lands in the range of 9 others 80% of the time
    rng = np.random.default_rng(1)
    runs = rng.choice([0.3, 0.9], size=(20000, 10)) + rng.normal(0, 0.01, (20000, 10))
    inside = (runs[:, 9] >= runs[:, :9].min(1)) & (runs[:, 9] <= runs[:, :9].max(1))
    assert inside.mean() == pytest.approx(prediction_range(runs[0, :9])[2], abs=0.01)


def test_s_of_f_distribution_is_exact():
    shares = s_of_f_distribution(pd.Series({1: 0.5, 2: 0.0, 4: 0.8}))
    np.testing.assert_allclose(shares.to_numpy(), [0.5, 0.0, 0.4, 0.1])
    assert np.isnan(shares.index[-1])
    # it agrees with simulating one run per size
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(dict(k=np.repeat([1, 2, 4], 10), test_accuracy=rng.uniform(0.9, 1.0, 30)))
    exact = inference.single_run_s_of_f(frame, 0.95)
    reach = {k: (g.test_accuracy >= 0.95).to_numpy() for k, g in frame.groupby("k")}
    picks = {k: rng.choice(r, 20000) for k, r in reach.items()}
    first = np.where(picks[1], 1, np.where(picks[2], 2, np.where(picks[4], 4, 0)))
    simulated = [np.mean(first == k) for k in (1, 2, 4, 0)]
    np.testing.assert_allclose(exact.share.to_numpy(), simulated, atol=0.01)
    assert (exact.low <= exact.share + 1e-12).all() and (exact.share <= exact.high + 1e-12).all()
    # none of a size's runs reaching f still leaves room for it
    never = inference.single_run_s_of_f(frame.assign(test_accuracy=0.5), 0.95)
    assert never.share.iloc[0] == 0 and never.high.iloc[0] > 0.05
    # every run reaching f at the smallest size: the share is 1, and inside
    always = inference.single_run_s_of_f(frame.assign(test_accuracy=0.99), 0.95)
    assert always.share.iloc[0] == 1 == always.high.iloc[0] and always.low.iloc[0] < 1


def test_single_run_s_of_f_interval_covers():
    """Simultaneous coverage of the shares' intervals, by simulation: at least 95%."""
    rng = np.random.default_rng(1)
    reach = pd.Series({1: 0.2, 2: 0.6, 4: 0.9})
    truth = s_of_f_distribution(reach).to_numpy()
    covered = []
    for _ in range(400):
        frame = pd.DataFrame(dict(k=np.repeat(reach.index, 10),
                                  test_accuracy=(rng.random(30) < np.repeat(reach.to_numpy(), 10)) * 1.0))
        got = inference.single_run_s_of_f(frame, 0.5)
        covered.append(((got.low <= truth + 1e-12) & (truth <= got.high + 1e-12)).all())
    assert np.mean(covered) >= 0.95


def test_holm_adjusted_by_hand():
    np.testing.assert_allclose(holm_adjusted([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])


def test_paired_events_count_the_discordant_seeds():
    rows = [dict(method=m, k=3, seed=s, dead=dead)
            for s in range(10)
            for m, dead in (("mse", s < 8), ("centred", s == 0))]
    result = paired_events(pd.DataFrame(rows), "mse", "centred", "dead").iloc[0]
    assert (result["mse"], result["centred"], result["only mse"], result["only centred"]) == (8, 1, 7, 0)
    assert result.p == pytest.approx(2 * 0.5**7)
    assert result.verdict == "more often with mse"


def test_verdicts_text_puts_every_size_in_one_clause():
    nan = float("nan")
    comparison = pd.DataFrame(
        {"verdict": ["kd better", "kd better", "no difference detected", "mse better",
                     "equivalent (±0.002)", "equivalent (±0.002)", "not resolved (3 runs)"],
         # k = 6 is inside the margin by less than one test image (0.0001): borderline
         "equivalence_low": [nan, nan, nan, nan, -0.0010, -0.0005, nan],
         "equivalence_high": [nan, nan, nan, nan, 0.0015, 0.00195, nan]},
        index=pd.Index([1, 2, 3, 4, 5, 6, 32], name="k"))
    assert inference.verdicts_text(comparison, "kd", "mse") == (
        "ahead at k = 1 and 2; behind at k = 4; equivalent within ±0.002 at k = 5; "
        "equivalent within ±0.002, but borderline (its interval ends less than one test "
        "image inside the margin), at k = 6; "
        "not detectably different at k = 3; unresolved (3 runs) at k = 32")


def test_tarone_keeps_sizes_that_reach_the_level_of_the_family_it_settles_on():
    # ten sizes of ten untied seeds (smallest p 2/1024), two with one tie (2/512),
    # two of three seeds (2/8): K = 12 holds all twelve, 0.05/12 >= 2/512
    min_p = [2 / 1024] * 10 + [2 / 512] * 2 + [0.25] * 2
    assert inference.tarone_family(min_p).tolist() == [True] * 12 + [False] * 2


def test_event_words_name_the_methods_and_shorten_the_verdicts():
    names = {"mse": "MSE", "hard": "hard labels"}
    assert inference.event_words("more often with mse", names) == "more often with MSE"
    assert inference.event_words("more often with hard", names) == "more often with hard labels"
    assert inference.event_words("no difference detected", names) == "not detectably different"
    assert inference.event_words("not resolved (too few discordant seeds)", names) == "unresolved"
