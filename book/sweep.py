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
from book.cache import (
    artifacts_dir,
    atomic_path,
    cached,
    load_csv,
    save_csv,
    settings_key,
    table_check,
)
from book.models import compression_rate, student_params
from book.profile import Profile
from book.results import results_dir
from book.teacher import TransferSet, teacher_settings


COLUMNS = [
    "method",
    "k",
    "seed",
    "params",
    "compression_rate",
    "test_accuracy",
    "dead_units",
    "group_train_seconds",
]


def results_path(profile: Profile, name: str = "sweep") -> Path:
    """A tidy results table: committed under ``results/`` for the full profile only."""
    return results_dir(profile) / f"{name}.csv"


def points_dir(
    profile: Profile,
    hidden_sizes,
    provenance: dict | None = None,
    name: str = "sweep",
) -> Path:
    key = settings_key(
        dict(
            provenance=provenance or dict(teacher=teacher_settings(profile)),
            test_size=profile.test_size,
            epochs=profile.student_epochs,
            batch_size=distill.STUDENT_BATCH,
            hidden_sizes=list(hidden_sizes),
            v=2,
        )
    )
    return artifacts_dir(profile.name) / f"{name}-{key}"


def _group_rows(
    method, seed, hidden_sizes, run: distill.FusedRun, feature_dim
) -> pd.DataFrame:
    params = [student_params(k, feature_dim) for k in hidden_sizes]
    return pd.DataFrame(
        dict(
            method=method,
            k=hidden_sizes,
            seed=seed,
            params=params,
            compression_rate=[compression_rate(p) for p in params],
            test_accuracy=run.accuracy,
            dead_units=run.dead_units,
            # One fused run trains the whole group; this is its wall time.
            group_train_seconds=run.seconds,
        )
    )[COLUMNS]


def group_seconds(table: pd.DataFrame) -> pd.Series:
    """Training seconds per (method, seed) group: every row of a group carries its one fused run's time."""
    return table.groupby(["method", "seed"]).group_train_seconds.first()


def minutes_per_method(table: pd.DataFrame) -> float:
    """Mean over methods of the minutes one method's groups took (all sizes and seeds)."""
    return float(group_seconds(table).groupby("method").sum().mean()) / 60


def run_sweep(
    transfer: TransferSet,
    profile: Profile,
    methods: Sequence[distill.Method],
    progress: bool = True,
    *,
    hidden_sizes: Sequence[int] | None = None,
    seeds: Sequence[int] | None = None,
    name: str = "sweep",
    provenance: dict | None = None,
    also_test_on: dict[str, TransferSet] | None = None,
    publish: bool = True,
) -> pd.DataFrame:
    """Train every missing (method, seed) group; return the tidy table of all of them.

    By default the profile's sizes and seeds, on the transfer set of the
    profile's teacher. Other experiments name themselves (``name``, also the
    results file's), their sizes and seeds, and, when ``transfer`` comes from
    another teacher or extraction, its ``provenance`` (the settings that made
    it, part of the cache key). ``also_test_on`` scores every head on other
    transfer sets' test features too (column ``test_accuracy_<name>``). The
    table is also written to ``results_path(profile, name)``.
    """
    also_test_on = also_test_on or {}
    hidden_sizes = list(hidden_sizes or profile.sweep_hidden_sizes)
    seeds = list(profile.sweep_seeds if seeds is None else seeds)
    where = points_dir(profile, hidden_sizes, provenance, name)
    epochs = profile.student_epochs
    groups = [(m.name, s) for m in methods for s in seeds]
    by_name = {m.name: m for m in methods}

    def group_file(method, seed):
        return where / f"{method}-seed{seed}.csv"

    bar = tqdm(
        total=len(groups) * epochs,
        initial=sum(group_file(*g).exists() for g in groups)
        * epochs,  # saved groups are done
        desc=f"sweep ({len(groups)} groups x {epochs} epochs)",
        unit="epoch",
        file=sys.stderr,
        mininterval=30,
        ascii=True,
        disable=not progress,
    )

    def train(method, seed):
        run = distill.fit_fused_heads(
            hidden_sizes,
            by_name[method],
            transfer,
            seed,
            epochs,
            on_epoch_end=lambda epoch: bar.update(1),
            checkpoint=where / f".running-{method}-seed{seed}.npz",
        )
        rows = _group_rows(
            method, seed, hidden_sizes, run, transfer.train_features.shape[1]
        )
        for other, data in also_test_on.items():
            logits = run.model.predict(
                data.test_features, batch_size=4096, verbose=0
            )
            rows[f"test_accuracy_{other}"] = distill.accuracy(
                logits, data.test_labels
            )
        return rows

    check = table_check(
        COLUMNS + [f"test_accuracy_{other}" for other in also_test_on],
        rows=len(hidden_sizes),
    )
    with bar:
        tables = [
            cached(
                group_file(*g), lambda: train(*g), save_csv, load_csv, check
            )
            for g in groups
        ]
    table = pd.concat(tables, ignore_index=True)
    table.insert(
        1,
        "method_label",
        table.method.map({m.name: m.label for m in methods}),
    )
    if publish:
        with atomic_path(results_path(profile, name)) as tmp:
            save_csv(table, tmp)
    return table


# Chapter 5's mechanism runs: which part of logit regression hurts the smallest heads?
MECHANISM_MAX_K = 8


def mechanism_methods() -> list[distill.Method]:
    """Controls that each change one thing about MSE on logits: the mean logit
    (centred MSE), squared error itself (KD at high T, alpha = 0, whose limit is
    centred MSE), and the loss's scale under Adadelta (MSE / 100)."""

    def scaled_mse(y_true, y_pred):
        return distill.mse_logits_loss(y_true, y_pred) / 100

    return [
        distill.Method(
            "mse-centred", "MSE on centred logits", distill.centred_mse_loss
        ),
        distill.kd_method(20, 0.0),
        distill.kd_method(100, 0.0),
        distill.Method("mse-scaled", "MSE on logits / 100", scaled_mse),
    ]


def mechanism(transfer: TransferSet, profile: Profile) -> pd.DataFrame:
    """The mechanism controls at every sweep size up to ``MECHANISM_MAX_K``, over the profile's seeds."""
    sizes = [k for k in profile.sweep_hidden_sizes if k <= MECHANISM_MAX_K]
    return run_sweep(
        transfer,
        profile,
        mechanism_methods(),
        hidden_sizes=sizes,
        name="mechanism",
    )


# The mean-logit term and dead units: MSE against centred MSE on the smallest heads,
# over more seeds than the sweep (three seeds left every interval across zero).
SMALL_HEAD_SIZES = (1, 2, 3, 4)


def small_heads(transfer: TransferSet, profile: Profile) -> pd.DataFrame:
    """MSE and centred MSE at k = 1..4 over the profile's ``small_head_seeds``."""
    centred = mechanism_methods()[0]
    return run_sweep(
        transfer,
        profile,
        [distill.METHODS["mse"], centred],
        hidden_sizes=SMALL_HEAD_SIZES,
        seeds=profile.small_head_seeds,
        name="small_heads",
    )


# The original's sweep, as it ran: its sizes, its targets (dropout on), its Adadelta epsilon.
ORIGINAL_SIZES = (2, 3, 4, 5, 6, 7)


def original_way(profile: Profile) -> pd.DataFrame:
    """MSE heads trained and scored on a transfer set extracted the original's way
    (``book.teacher.EXTRACTIONS``), over the profile's seeds; each head is also
    scored on the inference-mode test features (column ``test_accuracy_inference``)."""
    from book.teacher import transfer_set

    original = transfer_set(profile, extraction="original")
    return run_sweep(
        original,
        profile,
        [distill.ORIGINAL_MSE],
        hidden_sizes=ORIGINAL_SIZES,
        name="original_way",
        provenance=dict(
            teacher=teacher_settings(profile), extraction="original"
        ),
        also_test_on=dict(inference=transfer_set(profile)),
    )


# What moves when the teacher is retrained: other teacher seeds, k = 6, one student seed.
TEACHER_SEEDS = (0, 1, 2)
TEACHER_SEED_K = 6


def teacher_seeds(profile: Profile) -> pd.DataFrame:
    """For every teacher seed: the teacher's test accuracy, and the three methods'
    k = 6 heads (student seed 0) trained on that teacher's transfer set. Written
    to ``results_path(profile, "teacher_seeds")``."""
    from book.teacher import teacher, transfer_set

    methods = sweep_methods(
        transfer_set(profile), profile
    )  # KD at the setting chosen with teacher 0
    tables = []
    for seed in TEACHER_SEEDS:
        transfer = transfer_set(profile, teacher_seed=seed)
        heads = run_sweep(
            transfer,
            profile,
            methods,
            progress=False,
            hidden_sizes=[TEACHER_SEED_K],
            seeds=[0],
            name=f"teacher{seed}-k{TEACHER_SEED_K}",
            publish=False,
            provenance=dict(teacher=teacher_settings(profile, seed)),
        )
        accuracy = teacher(profile, seed=seed).history["val_accuracy"][-1]
        tables.append(
            heads.assign(teacher_seed=seed, teacher_accuracy=accuracy)
        )
    table = pd.concat(tables, ignore_index=True)
    with atomic_path(results_path(profile, "teacher_seeds")) as tmp:
        save_csv(table, tmp)
    return table


def sweep_methods(
    transfer: TransferSet, profile: Profile
) -> list[distill.Method]:
    """The book's three training methods: logit regression, the no-teacher
    control, and temperature distillation at the setting chapter 4 chose."""
    from book.temperature import chosen_kd_method

    return [
        distill.METHODS["mse"],
        distill.METHODS["hard"],
        chosen_kd_method(transfer, profile),
    ]
