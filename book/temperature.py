"""Choosing the temperature T and the hard-label weight alpha, on held-out training data.

Introduced in chapter 4. The grid (every T and alpha, each at three small
hidden sizes, over the profile's seeds) is trained on the training set minus
its last ``HOLDOUT`` images and scored on those; the test set is never used
to choose. All heads of one seed train together as one fused model, each head
with its own (T, alpha).
"""

from __future__ import annotations

import dataclasses
import itertools

import pandas as pd

from book import distill
from book.cache import (
    artifacts_dir,
    atomic_path,
    cached,
    load_csv,
    save_csv,
    settings_key,
    table_check,
)
from book.profile import Profile
from book.results import results_dir
from book.teacher import TransferSet, teacher_settings

TEMPERATURES = (1, 2, 4, 8, 20)
ALPHAS = (0.0, 0.1, 0.5)
GRID_HIDDEN_SIZES = (2, 4, 6)
HOLDOUT = 5000  # the last 5,000 training images; 10% of the smoke profile's


def holdout_cut(n_train: int) -> int:
    """Where the held-out tail of the training set starts (chapter 7 reuses it)."""
    return n_train - min(HOLDOUT, n_train // 10)


def holdout_split(transfer: TransferSet) -> TransferSet:
    """Train on all but the last images of the training set; score on those."""
    cut = holdout_cut(len(transfer.train_labels))
    return TransferSet(
        transfer.train_features[:cut],
        transfer.train_logits[:cut],
        transfer.train_labels[:cut],
        transfer.train_features[cut:],
        transfer.train_logits[cut:],
        transfer.train_labels[cut:],
    )


def grid_search(transfer: TransferSet, profile: Profile) -> pd.DataFrame:
    """Held-out accuracy of every (T, alpha, k, seed); one cached fused run per seed."""
    where = artifacts_dir(profile.name) / "kd-grid-{}".format(
        settings_key(
            dict(
                teacher=teacher_settings(profile),
                epochs=profile.student_epochs,
                holdout=HOLDOUT,
                temperatures=TEMPERATURES,
                alphas=ALPHAS,
                hidden_sizes=GRID_HIDDEN_SIZES,
                v=2,
            )
        )
    )
    heads = list(itertools.product(TEMPERATURES, ALPHAS, GRID_HIDDEN_SIZES))
    temperatures, alphas, hidden_sizes = (
        list(column) for column in zip(*heads)
    )
    grid = distill.Method(
        "kd-grid", "KD grid", distill.kd_loss(temperatures, alphas)
    )
    split = holdout_split(transfer)

    def train(seed):
        run = distill.fit_fused_heads(
            hidden_sizes,
            grid,
            split,
            seed,
            profile.student_epochs,
            checkpoint=where / f".running-seed{seed}.npz",
        )
        return pd.DataFrame(
            dict(
                temperature=temperatures,
                alpha=alphas,
                k=hidden_sizes,
                seed=seed,
                holdout_accuracy=run.accuracy,
                dead_units=run.dead_units,
            )
        )

    check = table_check(
        [
            "temperature",
            "alpha",
            "k",
            "seed",
            "holdout_accuracy",
            "dead_units",
        ],
        rows=len(heads),
    )
    tables = [
        cached(
            where / f"seed{seed}.csv",
            lambda: train(seed),
            save_csv,
            load_csv,
            check,
        )
        for seed in profile.sweep_seeds
    ]
    grid = pd.concat(tables, ignore_index=True)
    with atomic_path(
        results_dir(profile) / "kd_grid.csv"
    ) as tmp:  # every cell, every seed
        save_csv(grid, tmp)
    return grid


@dataclasses.dataclass(frozen=True)
class Choice:
    temperature: float
    alpha: float
    holdout_accuracy: float  # mean over the grid's sizes and seeds


def best_setting(grid: pd.DataFrame) -> Choice:
    """The (T, alpha) with the highest held-out accuracy, averaged over sizes and seeds."""
    means = grid.groupby(["temperature", "alpha"]).holdout_accuracy.mean()
    temperature, alpha = means.idxmax()
    return Choice(float(temperature), float(alpha), float(means.max()))


def chosen_kd_method(
    transfer: TransferSet, profile: Profile
) -> distill.Method:
    """The KD method the sweep uses: the grid's best setting (grid trained if not cached)."""
    choice = best_setting(grid_search(transfer, profile))
    return distill.kd_method(choice.temperature, choice.alpha)
