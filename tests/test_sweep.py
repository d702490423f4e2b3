import dataclasses

import pytest

from book import distill, sweep
from book.distill import METHODS
from book.profile import PROFILES

SWEPT = [METHODS["mse"], METHODS["hard"]]


@pytest.fixture
def small_profile(tmp_path, monkeypatch):
    monkeypatch.setenv("BOOK_ARTIFACTS", str(tmp_path))
    return dataclasses.replace(
        PROFILES["smoke"], name="test", student_epochs=1, sweep_hidden_sizes=(1, 3), sweep_seeds=(0, 1)
    )


def test_interrupted_sweep_resumes_without_redoing(tiny_transfer, small_profile, monkeypatch):
    trained = []
    real_fit = distill.fit_fused_heads

    def fit_then_maybe_die(hidden_sizes, method, transfer, seed, *args, **kwargs):
        if len(trained) == 2:
            raise KeyboardInterrupt  # killed during the third group
        trained.append((method.name, seed))
        return real_fit(hidden_sizes, method, transfer, seed, *args, **kwargs)

    monkeypatch.setattr(distill, "fit_fused_heads", fit_then_maybe_die)
    with pytest.raises(KeyboardInterrupt):
        sweep.run_sweep(tiny_transfer, small_profile, SWEPT, progress=False)
    assert trained == [("mse", 0), ("mse", 1)]
    where = sweep.points_dir(small_profile, small_profile.sweep_hidden_sizes)
    assert sorted(p.name for p in where.iterdir()) == ["mse-seed0.csv", "mse-seed1.csv"]

    trained.clear()
    monkeypatch.setattr(distill, "fit_fused_heads", fit_then_maybe_die)
    table = sweep.run_sweep(tiny_transfer, small_profile, SWEPT, progress=False)
    assert trained == [("hard", 0), ("hard", 1)]  # only the missing groups
    assert len(table) == 2 * 2 * 2  # methods x seeds x sizes
    assert set(table.columns) >= {"method", "k", "seed", "params", "compression_rate", "test_accuracy"}
    # k = 1 on 20 features: (20 + 1) * 1 + (1 + 1) * 10 head parameters, plus the 18,816 conv ones
    assert table.query("k == 1").params.unique().tolist() == [18_857]
    assert sweep.results_path(small_profile).exists()


def test_kd_grid_chooses_on_held_out_training_data(tiny_transfer, small_profile, monkeypatch):
    from book import temperature

    seen = []
    real_fit = distill.fit_fused_heads

    def spy(hidden_sizes, method, transfer, *args, **kwargs):
        seen.append(transfer)
        return real_fit(hidden_sizes, method, transfer, *args, **kwargs)

    monkeypatch.setattr(distill, "fit_fused_heads", spy)
    grid = temperature.grid_search(tiny_transfer, small_profile)
    assert len(grid) == 5 * 3 * 3 * 2  # temperatures x alphas x sizes x seeds
    # scored on the tail of the training set, never on the test set
    for split in seen:
        assert len(split.test_labels) == 96 // 10
        assert (split.test_features == tiny_transfer.train_features[-len(split.test_labels):]).all()
    choice = temperature.best_setting(grid)
    assert choice.holdout_accuracy == grid.groupby(["temperature", "alpha"]).holdout_accuracy.mean().max()
    seen.clear()
    temperature.grid_search(tiny_transfer, small_profile)  # cached: nothing trains again
    assert seen == []
