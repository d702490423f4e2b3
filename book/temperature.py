"""Choosing the temperature T and the hard-label weight alpha, on held-out training data.

Introduced in chapter 4. The grid (every T and alpha, each at three small
hidden sizes, over seeds: the campaign's ``kd_grid`` experiment) is trained on
the training set minus its last ``HOLDOUT`` images (``holdout_split``) and
scored on those; the test set is never used to choose (``best_setting``).
All heads of one seed train together as one group (``book.heads.fit_group``),
each head with its own (T, alpha).
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from book.teacher import TransferSet

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
