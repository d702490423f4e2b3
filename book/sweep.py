"""The hidden-size sweep: every (method, k, seed) student head, resumable.

Introduced in chapter 5. A *group* is one (method, seed): all hidden sizes of
a group train together as ``FusedHeads`` (see ``book.distill``), and its
rows are saved as soon as it finishes. A sweep started again skips every
saved group, and resumes a group interrupted mid-training from its last
finished epoch (the group's checkpoint is deleted when it finishes).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from book import distill
from book.cache import artifacts_dir, atomic_path, cached, save_csv, settings_key
from book.models import compression_rate, student_params
from book.profile import Profile
from book.results import results_dir
from book.teacher import TransferSet, teacher_settings


def results_path(profile: Profile) -> Path:
    """The tidy results table: committed under ``results/`` for the full profile only."""
    return results_dir(profile) / "sweep.csv"


def points_dir(profile: Profile) -> Path:
    key = settings_key(
        dict(
            teacher=teacher_settings(profile),
            test_size=profile.test_size,
            epochs=profile.student_epochs,
            batch_size=distill.STUDENT_BATCH,
            hidden_sizes=profile.sweep_hidden_sizes,
            v=1,
        )
    )
    return artifacts_dir(profile.name) / f"sweep-{key}"


def _group_rows(method, seed, hidden_sizes, accuracies, seconds, feature_dim) -> pd.DataFrame:
    params = [student_params(k, feature_dim) for k in hidden_sizes]
    return pd.DataFrame(
        dict(
            method=method,
            k=hidden_sizes,
            seed=seed,
            params=params,
            compression_rate=[compression_rate(p) for p in params],
            test_accuracy=accuracies,
            # One fused run trains the whole group; this is its wall time.
            group_train_seconds=seconds,
        )
    )


def group_seconds(table: pd.DataFrame) -> pd.Series:
    """Training seconds per (method, seed) group: every row of a group carries its one fused run's time."""
    return table.groupby(["method", "seed"]).group_train_seconds.first()


def minutes_per_method(table: pd.DataFrame) -> float:
    """Mean over methods of the minutes one method's groups took (all sizes and seeds)."""
    return float(group_seconds(table).groupby("method").sum().mean()) / 60


def run_sweep(
    transfer: TransferSet, profile: Profile, methods: Sequence[distill.Method], progress: bool = True
) -> pd.DataFrame:
    """Train every missing (method, seed) group; return the tidy table of all of them.

    The table is also written to ``results_path(profile)``.
    """
    where = points_dir(profile)
    hidden_sizes = list(profile.sweep_hidden_sizes)
    epochs = profile.student_epochs
    groups = [(m.name, s) for m in methods for s in profile.sweep_seeds]
    by_name = {m.name: m for m in methods}

    def group_file(method, seed):
        return where / f"{method}-seed{seed}.csv"

    bar = tqdm(
        total=len(groups) * epochs,
        initial=sum(group_file(*g).exists() for g in groups) * epochs,  # saved groups are done
        desc=f"sweep ({len(groups)} groups x {epochs} epochs)",
        unit="epoch",
        file=sys.stderr,
        mininterval=30,
        ascii=True,
        disable=not progress,
    )

    def train(method, seed):
        accuracies, seconds = distill.fit_fused_heads(
            hidden_sizes,
            by_name[method],
            transfer,
            seed,
            epochs,
            on_epoch_end=lambda epoch: bar.update(1),
            checkpoint=where / f".running-{method}-seed{seed}.npz",
        )
        return _group_rows(method, seed, hidden_sizes, accuracies, seconds, transfer.train_features.shape[1])

    with bar:
        tables = [cached(group_file(*g), lambda: train(*g), save_csv, pd.read_csv) for g in groups]
    table = pd.concat(tables, ignore_index=True)
    table.insert(1, "method_label", table.method.map({m.name: m.label for m in methods}))
    with atomic_path(results_path(profile)) as tmp:
        table.to_csv(tmp, index=False)
    return table


def sweep_methods(transfer: TransferSet, profile: Profile) -> list[distill.Method]:
    """The book's three training methods: logit regression, the no-teacher
    control, and temperature distillation at the setting chapter 4 chose."""
    from book.temperature import chosen_kd_method

    return [distill.METHODS["mse"], distill.METHODS["hard"], chosen_kd_method(transfer, profile)]
