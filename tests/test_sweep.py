import dataclasses

import pytest

from book import distill, sweep
from book.profile import PROFILES


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
        sweep.run_sweep(tiny_transfer, small_profile, progress=False)
    assert trained == [("mse", 0), ("mse", 1)]
    where = sweep.points_dir(small_profile)
    assert sorted(p.name for p in where.iterdir()) == ["mse-seed0.csv", "mse-seed1.csv"]

    trained.clear()
    monkeypatch.setattr(distill, "fit_fused_heads", fit_then_maybe_die)
    table = sweep.run_sweep(tiny_transfer, small_profile, progress=False)
    assert trained == [("hard", 0), ("hard", 1)]  # only the missing groups
    assert len(table) == 2 * 2 * 2  # methods x seeds x sizes
    assert set(table.columns) >= {"method", "k", "seed", "params", "compression_rate", "test_accuracy"}
    # k = 1 on 20 features: (20 + 1) * 1 + (1 + 1) * 10 head parameters, plus the 18,816 conv ones
    assert table.query("k == 1").params.unique().tolist() == [18_857]
    assert sweep.results_path(small_profile).exists()
