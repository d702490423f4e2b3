"""The campaign: every student head the book's conclusions rest on, in resumable groups.

Issue 18's design. One teacher, trained once and kept (its weights are a
record), and groups of heads trained with ``book.heads.fit_group``, whose
random draws depend on (seed, k) alone: the three methods of one seed train
in one group, and a head of one (seed, k) starts from the same weights and
sees the same dropout masks and batches whatever its loss or group. Each
finished group is a record under ``results/runs/<experiment>/`` (see
``book.records``), so a campaign interrupted at the end of a session resumes
in the next one, on whatever machine, from the same teacher.

Run it with ``python -m book.campaign`` (``--minutes N`` starts no group
after N minutes; ``--only NAME`` runs one experiment). It trains, in order,
what is missing of ``EXPERIMENTS``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
import types
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from book import distill, records
from book.cache import artifacts_dir, require
from book.cnn import (
    BIAS_OFFSETS,
    CNN_BATCH,
    OMITTED_DIGIT,
    KdSetting,
    bias_sweep,
    cnn_student,
    distiller,
    train_student,
)
from book.cnn import METHODS as CNN_METHODS
from book.data import NUM_CLASSES, Mnist, data_fingerprint, load_mnist
from book.distill import (
    METHODS,
    ORIGINAL_MSE,
    STUDENT_BATCH,
    Method,
    fit_head,
    kd_method,
)
from book.heads import Head, fit_group, predict
from book.models import FEATURES, TEACHER_PARAMS, teacher_model
from book.profile import (
    CNN_WIDTHS,
    SWEEP_HIDDEN_SIZES,
    Profile,
    current_profile,
)
from book.results import results_dir
from book.teacher import (
    TransferSet,
    extract,
    extract_as_the_original,
    teacher_settings,
    train_teacher,
)
from book.temperature import (
    ALPHAS,
    GRID_HIDDEN_SIZES,
    TEMPERATURES,
    holdout_cut,
    holdout_split,
)

# Keys are computed from the source files as this process loaded them (book.records).
records.snapshot_sources()

SMALL_SIZES = tuple(k for k in SWEEP_HIDDEN_SIZES if k <= 20)
# k = 128 is left out: a head of 1.19 million parameters compresses the teacher
# 1.0x, outside the book's question, and costs more than k = 32 and 64 together.
LARGE_SIZES = (32, 64)
ORIGINAL_DRAWS = (
    3  # dropout-on extractions the original-way seeds spread over
)


def runs_dir(profile: Profile) -> Path:
    return results_dir(profile) / "runs"


# --- the teacher ---------------------------------------------------------------------


def teacher_sha(profile: Profile) -> str:
    """The stored teacher's sha256, part of every key made from it; never
    trains (asking for a key must not): ``run`` trains it first."""
    stored = stored_teacher(profile, read_only=True)
    if stored is None:
        raise RuntimeError(
            f"no current stored teacher in {runs_dir(profile)}: run `python -m book.campaign` first"
        )
    return stored[1]["sha256"]


# profile -> (model, manifest), once loaded and checked. Not a plain dict at
# module level: a key's closure (book.codekey) would hash what it holds.
# Likewise profile -> the sweep's methods (the KD grid's choice), once read.
# And (profile, data fingerprint) -> MNIST as load_mnist gives it: reading the
# records needs it for every group, and each load decompresses the file anew.
_LOADED = types.SimpleNamespace(teachers={}, methods={}, mnist={})


def forget_teacher() -> None:
    """Drop the teachers, KD choices and data this process loaded (tests that
    change the records)."""
    _LOADED.teachers.clear()
    _LOADED.methods.clear()
    _LOADED.mnist.clear()


def mnist_of(profile: Profile) -> Mnist:
    """``load_mnist(profile)``, loaded once per process and data file."""
    key = (profile.name, data_fingerprint(profile))
    if key not in _LOADED.mnist:
        _LOADED.mnist[key] = load_mnist(profile)
    return _LOADED.mnist[key]


def stored_teacher(profile: Profile, read_only: bool = False):
    """(model, manifest): the campaign's teacher, from its record or trained now.

    The record is the weights (``teacher.weights.h5``); its manifest holds the
    training history and time. Loading rebuilds the model, checks that every
    weight is finite and that its accuracy on the test set is the one its
    history recorded (to 5 test images: another CPU may round differently).
    """
    path = runs_dir(profile) / "teacher.weights.h5"
    settings = teacher_settings(profile)
    # The data enter by their content (settings' fingerprint); loading them is checked below.
    key = records.code_key(
        train_teacher, teacher_model, load_mnist, settings=settings
    )

    def compute():
        start = time.perf_counter()
        model, history = train_teacher(
            load_mnist(profile), profile.teacher_epochs
        )
        seconds = time.perf_counter() - start

        def save(tmp):
            # Keras insists on the suffix; the staged name is still a temporary
            # name of this record, so a killed write leaves nothing behind for long.
            staged = tmp.with_name(tmp.stem + ".weights.h5")
            weights_only = (
                teacher_model()
            )  # not compiled: no optimizer state saved
            weights_only.set_weights(model.get_weights())
            weights_only.save_weights(staged)
            staged.replace(tmp)

        return save, dict(history=history, seconds=seconds, settings=settings)

    def check(path, manifest):
        model = teacher_model()
        model.load_weights(path)
        require(
            model.count_params() == TEACHER_PARAMS,
            "not the teacher's architecture",
        )
        require(
            all(np.isfinite(w).all() for w in model.get_weights()),
            "a weight is NaN or infinite",
        )
        # Weights whose bytes (sha256, checked against the manifest before
        # this) passed this test once need not pass it again in every process.
        passed = (
            artifacts_dir(profile.name)
            / "checked"
            / f"teacher-{manifest['sha256']}"
        )
        if not passed.is_file():
            data = mnist_of(profile)
            logits = model.predict(data.x_test, batch_size=1024, verbose=0)
            accuracy = float((logits.argmax(1) == data.y_test).mean())
            recorded = manifest["history"]["val_accuracy"][-1]
            require(
                abs(accuracy - recorded) <= 5 / len(data.y_test),
                f"test accuracy {accuracy:.4f}, its history says {recorded:.4f}",
            )
            passed.parent.mkdir(parents=True, exist_ok=True)
            passed.touch()
        return model, manifest

    if profile not in _LOADED.teachers:
        stored = records.produce(
            path, key, None if read_only else compute, check
        )
        if stored is None:
            return None
        _LOADED.teachers[profile] = stored
    return _LOADED.teachers[profile]


# --- transfer sets -------------------------------------------------------------------


def read_transfer(model, mnist, data: str) -> TransferSet:
    """The transfer set ``data`` names, read off ``model`` (see ``transfer``)."""
    import keras

    if data == "inference":
        read = extract
    else:
        read = extract_as_the_original
        keras.utils.set_random_seed(int(data.removeprefix("original-")))
    train_features, train_logits = read(model, mnist.x_train)
    test_features, test_logits = read(model, mnist.x_test)
    return TransferSet(
        train_features,
        train_logits,
        mnist.y_train,
        test_features,
        test_logits,
        mnist.y_test,
    )


def transfer(profile: Profile, data: str = "inference") -> TransferSet:
    """Features, logits and labels read off the stored teacher.

    ``data`` is ``"inference"`` (dropout off), ``"holdout"`` (the same, split
    for chapter 4's grid) or ``"original-<d>"``: the original's dropout-on
    extraction with draw ``d``. Cached locally (a few minutes to recompute),
    keyed by the teacher's weights.
    """
    if data == "holdout":
        return holdout_split(transfer(profile))
    if not (
        data == "inference"
        or (data.startswith("original-") and data[9:].isdigit())
    ):
        raise ValueError(
            f"data={data!r}; expected 'inference', 'holdout' or 'original-<draw>'"
        )
    model, teacher_manifest = stored_teacher(profile)
    path = artifacts_dir(profile.name) / (
        f"campaign-transfer-{teacher_manifest['sha256'][:12]}-{data}.npz"
    )
    mnist = mnist_of(profile)
    settings = dict(
        teacher=teacher_manifest["sha256"],
        data=data,
        mnist=data_fingerprint(profile),
    )
    key = records.code_key(read_transfer, load_mnist, settings=settings)

    def compute():
        rows = len(mnist.y_train) + len(mnist.y_test)
        path.parent.mkdir(parents=True, exist_ok=True)
        records.require_space(
            path.parent,
            rows * (FEATURES + NUM_CLASSES + 2) * 4,
            f"the transfer set {path.name}",
        )
        start = time.perf_counter()
        value = read_transfer(model, mnist, data)

        def save(tmp):
            # not dataclasses.asdict: it deep-copies the 2 GB of features
            np.savez(
                tmp,
                **{
                    f.name: getattr(value, f.name)
                    for f in dataclasses.fields(value)
                },
            )

        return save, dict(
            settings=settings, seconds=time.perf_counter() - start
        )

    def check(path, manifest) -> TransferSet:
        # The first check of a file reads every array in full, which checks the
        # zip's CRCs (a flipped bit is caught), and every value. While the file
        # stays as it was then (same size and modification time), later
        # processes map its arrays in place and check only what is cheap.
        fields = [f.name for f in dataclasses.fields(TransferSet)]
        passed = records.passed_mark(
            path, manifest, artifacts_dir(profile.name) / "checked"
        )
        first = not passed.is_file()
        if first:
            with np.load(path, allow_pickle=False) as npz:
                arrays = {name: npz[name] for name in npz.files}
        else:
            arrays = records.mapped_npz(path)
        require(
            sorted(arrays) == sorted(fields),
            f"arrays {sorted(arrays)}, expected {sorted(fields)}",
        )
        value = TransferSet(**arrays)
        for split, labels in (
            ("train", mnist.y_train),
            ("test", mnist.y_test),
        ):
            features = getattr(value, f"{split}_features")
            logits = getattr(value, f"{split}_logits")
            require(
                np.array_equal(getattr(value, f"{split}_labels"), labels),
                f"{split} labels differ from MNIST's",
            )
            require(
                features.shape == (len(labels), FEATURES),
                f"{split} features of shape {features.shape}",
            )
            require(
                logits.shape == (len(labels), NUM_CLASSES),
                f"{split} logits of shape {logits.shape}",
            )
            for name, array in (
                (f"{split}_features", features),
                (f"{split}_logits", logits),
            ):
                require(
                    array.dtype == np.float32,
                    f"{name} of dtype {array.dtype}, expected float32",
                )
                require(
                    not first or bool(np.isfinite(array).all()),
                    f"{name} holds NaN or infinite values",
                )
        if first:
            passed.parent.mkdir(parents=True, exist_ok=True)
            passed.touch()
        return value

    return records.produce(path, key, compute, check, content_hash=False)


# --- the experiments ------------------------------------------------------------------


# The small heads' chapter's mechanism runs: which part of logit regression hurts the smallest heads?
MECHANISM_MAX_K = 8


def mechanism_methods() -> list[distill.Method]:
    """Variants of MSE on logits, each aimed at one of its parts: the mean
    logit (centred MSE); squared error itself (KD at T = 20 and 100, alpha = 0,
    whose high-T limit is centred MSE, though KD at a finite T also differs
    from it in other ways); and the loss's scale under Adadelta (MSE / 100)."""

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


# The original's sweep, as it ran: its sizes, its targets (dropout on), its Adadelta epsilon.
ORIGINAL_SIZES = (2, 3, 4, 5, 6, 7)


def sweep_methods(profile: Profile) -> list[Method]:
    """Logit regression, hard labels, and KD at the grid's best setting (over
    the grid's records, which must all be there: asking for a key never trains)."""
    if profile in _LOADED.methods:
        return _LOADED.methods[profile]
    grid_job = experiment_named("kd_grid")
    missing = [s for s in grid_job.seeds if not grid_job.finished(profile, s)]
    if missing:
        raise RuntimeError(
            f"the KD grid's seeds {missing} are not trained (or stale): run "
            "`python -m book.campaign --only kd_grid` first"
        )
    grid = table(profile, "kd_grid", train=False)
    means = grid.groupby(["temperature", "alpha"]).test_accuracy.mean()
    temperature, alpha = means.idxmax()
    _LOADED.methods[profile] = [
        METHODS["mse"],
        METHODS["hard"],
        kd_method(float(temperature), float(alpha)),
    ]
    return _LOADED.methods[profile]


def kd_setting(profile: Profile) -> KdSetting:
    """The KD grid's choice (``sweep_methods``) as a (T, alpha) setting."""
    name = sweep_methods(profile)[2].name  # "kd-T<t>-a<alpha>"
    temperature, alpha = (float(x[1:]) for x in name.split("-")[1:])
    return KdSetting(temperature, alpha)


def grid_methods(profile: Profile) -> list[Method]:
    return [kd_method(t, a) for t in TEMPERATURES for a in ALPHAS]


@dataclasses.dataclass(frozen=True)
class Experiment:
    """A set of groups: for each seed, ``methods(profile)`` x ``sizes`` heads on ``data(seed)``."""

    name: str
    methods: Callable[[Profile], list[Method]]
    sizes: Sequence[int]
    seeds: Sequence[int]
    data: Callable[[int], str] = lambda seed: "inference"

    @property
    def uses_kd(self) -> bool:
        """Whether it trains at the grid's KD setting (see ``table``)."""
        return self.methods is sweep_methods

    def heads(self, profile: Profile) -> list[Head]:
        return [Head(m, k) for m in self.methods(profile) for k in self.sizes]

    def units(self, profile: Profile) -> list:
        return list(self.seeds)

    def epochs(self, profile: Profile) -> int:
        return profile.student_epochs

    def path(self, profile: Profile, seed: int) -> Path:
        return runs_dir(profile) / self.name / f"seed{seed}.csv"

    def group(
        self,
        profile: Profile,
        seed: int,
        bar=None,
        key_only=False,
        read_only=False,
    ):
        return head_group(
            profile,
            self.name,
            self.heads(profile),
            seed,
            self.data(seed),
            self.path(profile, seed),
            bar,
            key_only,
            read_only,
        )

    def finished(self, profile: Profile, unit) -> bool:
        """Whether the unit's record is there, current and valid (never trains)."""
        return self.group(profile, unit, read_only=True) is not None


EXPERIMENTS = (
    # Chapter 4: KD's (T, alpha) chosen on held-out training images.
    Experiment(
        "kd_grid",
        grid_methods,
        GRID_HIDDEN_SIZES,
        range(3),
        lambda s: "holdout",
    ),
    # Chapter 5: the three methods at every size, 10 seeds where outcomes are bimodal.
    Experiment("sweep", sweep_methods, SMALL_SIZES, range(10)),
    # The small heads' chapter's controls: what about logit regression hurts small heads.
    Experiment(
        "controls",
        lambda profile: mechanism_methods(),
        tuple(k for k in SWEEP_HIDDEN_SIZES if k <= MECHANISM_MAX_K),
        range(10),
    ),
    Experiment("sweep_large", sweep_methods, LARGE_SIZES, range(3)),
    # The original as it ran: dropout-on targets, 10 seeds over 3 extraction draws.
    Experiment(
        "original_way",
        lambda profile: [ORIGINAL_MSE],
        ORIGINAL_SIZES,
        range(10),
        lambda seed: f"original-{seed % ORIGINAL_DRAWS}",
    ),
)

DTYPES = dict(
    method="str",
    k="int",
    seed="int",
    correct="int",
    test_accuracy="float",
    dead_units="int",
)


def require_counts(rows: pd.DataFrame, n: int, columns) -> None:
    """A record's counts of test images (those of ``columns`` it has) lie in
    0..n, and its accuracy is its count of correct images over n."""
    for column in columns:
        require(
            column not in rows or rows[column].between(0, n).all(),
            f"a count of test images ({column}) outside 0-{n}",
        )
    require(
        np.allclose(rows.test_accuracy, rows.correct / n, rtol=0, atol=1e-9),
        "an accuracy that is not its count of correct images over the test images",
    )


def head_group(
    profile: Profile,
    name: str,
    heads: list[Head],
    seed: int,
    data: str,
    path: Path,
    bar=None,
    key_only: bool = False,
    read_only: bool = False,
):
    """The table of one group of heads (``fit_group``), from its record at
    ``path`` or trained now; with ``key_only``, just its key; with
    ``read_only``, None instead of training."""
    settings = dict(
        experiment=name,
        heads=[f"{h.method.name}:{h.k}" for h in heads],
        seed=seed,
        data=data,
        epochs=profile.student_epochs,
        teacher=teacher_sha(profile),
        profile=profile.name,
        # a Method's loss is hashed as code; its Adadelta epsilon is a value
        epsilons=sorted({h.method.adadelta_epsilon for h in heads}),
    )
    key = records.code_key(
        fit_group,
        read_transfer,
        load_mnist,
        holdout_split,
        predict,
        *{h.method.loss for h in heads},
        settings=settings,
    )
    if key_only:
        return key

    def compute():
        data_set = transfer(profile, data)
        # Fetched before training: once fit_group returns, its checkpoint is gone,
        # and a failure here would lose the whole group.
        clean = transfer(profile) if data.startswith("original-") else None
        run = fit_group(
            heads,
            data_set,
            seed,
            profile.student_epochs,
            checkpoint=records.Checkpoint(
                artifacts_dir(profile.name)
                / f"campaign-{path.parent.name}-{path.stem}-{key}.npz"
            ),
            on_epoch_end=(lambda epoch: bar.update(1)) if bar else None,
        )
        rows = pd.DataFrame(
            dict(
                method=[h.method.name for h in heads],
                k=[h.k for h in heads],
                seed=seed,
                correct=run.correct,
                test_accuracy=run.accuracy,
                dead_units=run.dead_units,
            )
        )
        if data.startswith("original-"):
            # The original scored on dropout-on test features; also score the
            # same heads on the inference-mode ones.
            rows["correct_inference"] = [
                int(
                    (
                        predict(w, clean.test_features) == clean.test_labels
                    ).sum()
                )
                for w in run.weights
            ]
        manifest = dict(
            settings=settings,
            seconds=run.seconds,
            test_images=len(data_set.test_labels),
        )
        return (lambda tmp: rows.to_csv(tmp, index=False)), manifest

    def check(path, manifest):
        dtypes = DTYPES | (
            dict(correct_inference="int")
            if data.startswith("original-")
            else {}
        )
        rows = records.read_table(path, dtypes)
        n = manifest["test_images"]
        require(
            len(rows) == len(heads),
            f"{len(rows)} rows, expected {len(heads)}",
        )
        require(
            list(zip(rows.method, rows.k))
            == [(h.method.name, h.k) for h in heads],
            "heads other than the experiment's",
        )
        require((rows.seed == seed).all(), f"a seed other than {seed}")
        require_counts(rows, n, ["correct", "correct_inference"])
        require(
            ((rows.dead_units >= 0) & (rows.dead_units <= rows.k)).all(),
            "a dead-unit count outside 0-k",
        )
        return rows.assign(seconds=manifest["seconds"], cpu=manifest["cpu"])

    return records.produce(path, key, None if read_only else compute, check)


def experiment_named(name: str) -> Experiment:
    return next(e for e in EXPERIMENTS if e.name == name)


def table(profile: Profile, name: str, train: bool = True) -> pd.DataFrame:
    """Every group of job ``name``; with ``train=False`` only the finished
    ones (an empty table if none is)."""
    job = job_named(name)
    if train and job.uses_kd:
        # The job trains at the grid's KD setting, and asking for a key never
        # trains: the grid comes first (its records are read if they exist).
        table(profile, "kd_grid")
    tables = [
        job.group(profile, u, read_only=not train) for u in job.units(profile)
    ]
    tables = [t for t in tables if t is not None]
    if not tables:
        return pd.DataFrame(columns=[*DTYPES, "seconds", "cpu"])
    rows = pd.concat(tables, ignore_index=True)
    if name == "kd_grid":
        names = rows.method.str.extract(r"^kd-T([0-9.]+)-a([0-9.]+)$")
        require(not names.isna().any().any(), "a method outside the grid")
        rows["temperature"], rows["alpha"] = (
            names[0].astype(float),
            names[1].astype(float),
        )
    return rows


# --- the CNN students' chapter ---------------------------------------------------------

# The bytes chapter builds on widths 4 and 12 (its smallest files): seven seeds there, three
# elsewhere. Seven, not five: an exact sign-flip test of n pairs cannot give p below
# 2 / 2**n (0.0625 for five), and Holm's first level over these two widths is 0.025.
CNN_MORE_SEEDS = {4: range(7), 12: range(7)}
CNN_DTYPES = dict(
    method="str",
    width="int",
    seed="int",
    params="int",
    correct="int",
    test_accuracy="float",
)


@dataclasses.dataclass(frozen=True)
class CnnStudents:
    """The CNN students' chapter's students: for each (width, seed), one distilled on the
    stored teacher's logits (at the grid's KD setting) and one trained from
    scratch, from the same initial weights and batch order."""

    uses_kd = True  # trains at the grid's KD setting (see ``table``)
    name: str = "cnn_students"

    def units(self, profile: Profile) -> list:
        return [
            (w, s)
            for w in CNN_WIDTHS
            for s in CNN_MORE_SEEDS.get(w, range(3))
        ]

    def epochs(self, profile: Profile) -> int:
        return len(CNN_METHODS)

    def path(self, profile: Profile, unit) -> Path:
        width, seed = unit
        return runs_dir(profile) / self.name / f"w{width}-seed{seed}.csv"

    finished = Experiment.finished

    def group(
        self,
        profile: Profile,
        unit,
        bar=None,
        key_only=False,
        read_only=False,
    ):
        width, seed = unit
        temperature, alpha = dataclasses.astuple(kd_setting(profile))
        settings = dict(
            experiment=self.name,
            width=width,
            seed=seed,
            methods=list(CNN_METHODS),
            epochs=profile.cnn_epochs,
            kd=[temperature, alpha],
            teacher=teacher_sha(profile),
            profile=profile.name,
        )
        key = records.code_key(
            train_student, read_transfer, load_mnist, settings=settings
        )
        if key_only:
            return key
        path = self.path(profile, unit)
        mnist = mnist_of(profile)

        def compute():
            logits = transfer(profile).train_logits
            rows, seconds = [], 0.0
            for method in CNN_METHODS:
                start = time.perf_counter()
                model = train_student(
                    width,
                    method,
                    seed,
                    mnist.x_train,
                    mnist.y_train,
                    logits,
                    profile.cnn_epochs,
                    KdSetting(temperature, alpha),
                )
                seconds += time.perf_counter() - start
                predicted = model.predict(
                    mnist.x_test, batch_size=1024, verbose=0
                ).argmax(1)
                rows.append(
                    dict(
                        method=method,
                        width=width,
                        seed=seed,
                        params=model.count_params(),
                        correct=int((predicted == mnist.y_test).sum()),
                    )
                )
                if bar is not None:
                    bar.update(1)
            rows = pd.DataFrame(rows).assign(
                test_accuracy=lambda t: t.correct / len(mnist.y_test)
            )
            manifest = dict(
                settings=settings,
                seconds=seconds,
                test_images=len(mnist.y_test),
            )
            return (lambda tmp: rows.to_csv(tmp, index=False)), manifest

        def check(path, manifest):
            rows = records.read_table(path, CNN_DTYPES)
            n = manifest["test_images"]
            require(
                list(rows.method) == list(CNN_METHODS),
                "methods other than chapter 7's",
            )
            require(
                ((rows.width == width) & (rows.seed == seed)).all(),
                "another width or seed",
            )
            require(
                (rows.params == cnn_params(width)).all(),
                f"a parameter count other than width {width}'s {cnn_params(width):,}",
            )
            require_counts(rows, n, ["correct"])
            return rows.assign(
                seconds=manifest["seconds"], cpu=manifest["cpu"]
            )

        return records.produce(
            path, key, None if read_only else compute, check
        )


def cnn_params(width: int) -> int:
    """``book.cnn.cnn_student``'s parameters, by its formula."""
    return 63 * width**2 + 335 * width + 10


# --- heads alone, and other teachers ---------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SoloHeads:
    """Heads of the sweep trained alone, each its own group: the same (seed, k)
    draws as their fused twins, other matmul shapes (how often does rounding
    tip a head into another outcome?)."""

    uses_kd = True  # trains at the grid's KD setting (see ``table``)
    name: str = "solo"
    heads: tuple = tuple(
        (method, k, seed)
        for method, sizes in (("mse", (2, 6)), ("hard", (6,)), ("kd", (6,)))
        for k in sizes
        for seed in range(3)
    )

    def units(self, profile: Profile) -> list:
        return list(self.heads)

    def epochs(self, profile: Profile) -> int:
        return profile.student_epochs

    def path(self, profile: Profile, unit) -> Path:
        short, k, seed = unit
        return runs_dir(profile) / self.name / f"{short}-k{k}-seed{seed}.csv"

    def group(
        self,
        profile: Profile,
        unit,
        bar=None,
        key_only=False,
        read_only=False,
    ):
        short, k, seed = unit
        (method,) = [
            m for m in sweep_methods(profile) if m.name.split("-")[0] == short
        ]
        return head_group(
            profile,
            self.name,
            [Head(method, k)],
            seed,
            "inference",
            self.path(profile, unit),
            bar,
            key_only,
            read_only,
        )

    finished = Experiment.finished


TEACHER_SEEDS = (1, 2)  # teacher 0 is the stored one
TEACHER_SEED_K = 6
TEACHER_DTYPES = DTYPES | dict(teacher_seed="int", teacher_correct="int")


@dataclasses.dataclass(frozen=True)
class OtherTeachers:
    """What moves when the teacher is retrained: teachers of other seeds, and
    the three methods' k = 6 heads (student seeds 0-2) on each one's transfer set."""

    uses_kd = True  # trains at the grid's KD setting (see ``table``)
    name: str = "teacher_seeds"
    student_seeds: tuple = (0, 1, 2)

    def units(self, profile: Profile) -> list:
        return list(TEACHER_SEEDS)

    def epochs(self, profile: Profile) -> int:
        return (
            profile.teacher_epochs
            + len(self.student_seeds) * profile.student_epochs
        )

    def path(self, profile: Profile, teacher_seed: int) -> Path:
        return runs_dir(profile) / self.name / f"teacher{teacher_seed}.csv"

    finished = Experiment.finished

    def group(
        self,
        profile: Profile,
        teacher_seed: int,
        bar=None,
        key_only=False,
        read_only=False,
    ):
        heads = [Head(m, TEACHER_SEED_K) for m in sweep_methods(profile)]
        settings = dict(
            experiment=self.name,
            teacher_seed=teacher_seed,
            teacher=teacher_settings(profile, teacher_seed),
            heads=[f"{h.method.name}:{h.k}" for h in heads],
            student_seeds=list(self.student_seeds),
            epochs=profile.student_epochs,
            profile=profile.name,
        )
        key = records.code_key(
            train_teacher,
            teacher_model,
            load_mnist,
            read_transfer,
            fit_group,
            *{h.method.loss for h in heads},
            settings=settings,
        )
        if key_only:
            return key
        path = self.path(profile, teacher_seed)
        mnist = mnist_of(profile)

        def compute():
            start = time.perf_counter()
            model, history = train_teacher(
                mnist, profile.teacher_epochs, verbose=0, seed=teacher_seed
            )
            seconds = time.perf_counter() - start
            if bar is not None:
                bar.update(profile.teacher_epochs)
            predicted = model.predict(
                mnist.x_test, batch_size=1024, verbose=0
            ).argmax(1)
            teacher_correct = int((predicted == mnist.y_test).sum())
            data_set = read_transfer(model, mnist, "inference")
            tables = []
            for seed in self.student_seeds:
                run = fit_group(
                    heads,
                    data_set,
                    seed,
                    profile.student_epochs,
                    on_epoch_end=(lambda epoch: bar.update(1))
                    if bar
                    else None,
                )
                seconds += run.seconds
                tables.append(
                    pd.DataFrame(
                        dict(
                            method=[h.method.name for h in heads],
                            k=TEACHER_SEED_K,
                            seed=seed,
                            correct=run.correct,
                            test_accuracy=run.accuracy,
                            dead_units=run.dead_units,
                            teacher_seed=teacher_seed,
                            teacher_correct=teacher_correct,
                        )
                    )
                )
            rows = pd.concat(tables, ignore_index=True)
            manifest = dict(
                settings=settings,
                seconds=seconds,
                test_images=len(mnist.y_test),
                teacher_history=history,
            )
            return (lambda tmp: rows.to_csv(tmp, index=False)), manifest

        def check(path, manifest):
            rows = records.read_table(path, TEACHER_DTYPES)
            n = manifest["test_images"]
            require(
                len(rows) == len(heads) * len(self.student_seeds),
                f"{len(rows)} rows",
            )
            expected = [
                (h.method.name, TEACHER_SEED_K, seed)
                for seed in self.student_seeds
                for h in heads
            ]
            require(
                list(zip(rows.method, rows.k, rows.seed)) == expected,
                "heads or seeds other than the experiment's",
            )
            require(
                (rows.teacher_seed == teacher_seed).all(),
                f"a teacher seed other than {teacher_seed}",
            )
            require(
                rows.teacher_correct.nunique() == 1,
                "more than one teacher accuracy",
            )
            require(
                ((rows.dead_units >= 0) & (rows.dead_units <= rows.k)).all(),
                "a dead-unit count outside 0-k",
            )
            require_counts(rows, n, ["correct", "teacher_correct"])
            recorded = manifest["teacher_history"]["val_accuracy"][-1]
            require(
                abs(rows.teacher_correct.iloc[0] / n - recorded) <= 5 / n,
                "a teacher accuracy other than its history's",
            )
            return rows.assign(
                seconds=manifest["seconds"], cpu=manifest["cpu"]
            )

        return records.produce(
            path, key, None if read_only else compute, check
        )


# --- single runs that chapters 1, 3 and 8 show -------------------------------------------

CHAPTER3_K = 6  # chapter 3's head: the original's k


# Inputs a single run can take, loaded in ``Runs.group`` and passed in as values:
# a producer that loaded them itself would bring the storage code into its key.
INPUTS = {
    "mnist": lambda profile: mnist_of(profile),
    "teacher": lambda profile: stored_teacher(profile)[0],
    # not "transfer": a parameter of that name would shadow transfer() in a closure
    "transfer_set": lambda profile: transfer(profile),
}


def plain(values: dict) -> dict:
    """``values`` as a manifest can hold them: a dataclass (a KD setting) as a dict."""
    return {
        name: dataclasses.asdict(v) if dataclasses.is_dataclass(v) else v
        for name, v in values.items()
    }


@dataclasses.dataclass(frozen=True)
class Runs:
    """A job of single runs. Unit ``u`` of ``unit_list(profile)`` runs
    ``train(**inputs, **values)``, where ``values(profile, u, kd)`` are the
    settings it reads (in the key) and ``inputs`` the loaded ``needs``
    (``INPUTS``; in the key by the data's fingerprint and the teacher's
    sha256); it returns a DataFrame of ``dtypes``, recorded as a CSV, and
    ``valid(rows, values, test_images)`` raises ``InvalidArtifact`` (through
    ``require``) on a wrong value."""

    name: str
    unit_list: Callable[[Profile], list]
    train: Callable[..., pd.DataFrame]
    values: Callable[[Profile, object, KdSetting | None], dict]
    needs: tuple[str, ...]
    dtypes: dict
    valid: Callable[[pd.DataFrame, dict, int], None]
    uses_kd: bool = False

    def units(self, profile: Profile) -> list:
        return list(self.unit_list(profile))

    def epochs(self, profile: Profile) -> int:
        return 1

    def path(self, profile: Profile, unit) -> Path:
        return runs_dir(profile) / self.name / f"{unit}.csv"

    finished = Experiment.finished

    def group(self, profile, unit, bar=None, key_only=False, read_only=False):
        values = self.values(
            profile, unit, kd_setting(profile) if self.uses_kd else None
        )
        uses_teacher = bool({"teacher", "transfer_set"} & set(self.needs))
        settings = dict(
            experiment=self.name,
            values=plain(values),
            mnist=data_fingerprint(profile),
            teacher=teacher_sha(profile) if uses_teacher else None,
        )
        key = records.code_key(self.train, settings=settings)
        if key_only:
            return key
        n = len(mnist_of(profile).y_test)

        def compute():
            inputs = {need: INPUTS[need](profile) for need in self.needs}
            start = time.perf_counter()
            rows = self.train(**inputs, **values)[list(self.dtypes)]
            seconds = time.perf_counter() - start
            if bar is not None:
                bar.update(1)
            manifest = dict(settings=settings, seconds=seconds, test_images=n)
            return (lambda tmp: rows.to_csv(tmp, index=False)), manifest

        def check(path, manifest):
            rows = records.read_table(path, self.dtypes)
            self.valid(rows, values, manifest["test_images"])
            return rows.assign(
                seconds=manifest["seconds"], cpu=manifest["cpu"]
            )

        return records.produce(
            self.path(profile, unit),
            key,
            None if read_only else compute,
            check,
        )


def _accuracies_in_range(rows: pd.DataFrame) -> None:
    for column in rows.columns:
        if "accuracy" in column:
            require(rows[column].between(0, 1).all(), f"{column} outside 0-1")
        if "loss" in column:
            require(np.isfinite(rows[column]).all(), f"{column} not finite")


LEARNING_RATES = (0.001, 1.0)  # Keras' Adadelta default, and Keras 1's


def train_lr_demo(mnist, learning_rate: float) -> pd.DataFrame:
    """Chapter 1: the teacher's first epoch with one Adadelta learning rate."""
    _, history = train_teacher(
        mnist, epochs=1, learning_rate=learning_rate, verbose=0
    )
    return pd.DataFrame(history).assign(
        learning_rate=learning_rate, epoch=lambda t: range(1, len(t) + 1)
    )


def valid_lr_demo(rows: pd.DataFrame, values: dict, n: int) -> None:
    require(len(rows) == 1, f"{len(rows)} epochs, expected 1")
    require(
        (rows.learning_rate == values["learning_rate"]).all(),
        "another learning rate",
    )
    _accuracies_in_range(rows)


def train_keras_head(
    transfer_set, method: str, k: int, seed: int, epochs: int
) -> pd.DataFrame:
    """Chapter 3: one head of ``k`` units trained with Keras' ``fit`` (the
    seed seeds Keras' generator; see ``book.distill.fit_head``)."""
    # not `run`: a key's closure would take it for this module's run()
    fitted = fit_head(k, METHODS[method], transfer_set, seed, epochs)
    predicted = fitted.model.predict(
        transfer_set.test_features, batch_size=4096, verbose=0
    ).argmax(1)
    return pd.DataFrame(fitted.history).assign(
        method=method,
        k=k,
        epoch=lambda t: range(1, len(t) + 1),
        # test images right after the last epoch (the same on every row)
        correct=int((predicted == transfer_set.test_labels).sum()),
    )


def valid_keras_head(rows: pd.DataFrame, values: dict, n: int) -> None:
    require(
        ((rows.method == values["method"]) & (rows.k == values["k"])).all(),
        "another method or k",
    )
    require(
        list(rows.epoch) == list(range(1, values["epochs"] + 1)),
        f"epochs other than 1-{values['epochs']}",
    )
    require(rows.correct.nunique() == 1, "more than one final count")
    require(rows.correct.between(0, n).all(), f"a count outside 0-{n}")
    _accuracies_in_range(rows)


def train_omitted_digit(
    mnist, transfer_set, seed: int, width: int, epochs: int, kd: KdSetting
) -> pd.DataFrame:
    """The CNN students' chapter: the paper's omitted-digit experiment, one seed, both
    methods (the same initial weights). Students of ``width`` train on the
    training set minus its held-out tail and minus every ``OMITTED_DIGIT``;
    each bias raise of the digit is scored on the held-out tail (all ten
    digits; the chapter chooses there) and on the test set."""
    cut = holdout_cut(len(mnist.y_train))
    keep = mnist.y_train[:cut] != OMITTED_DIGIT
    tables = []
    for method in CNN_METHODS:
        model = train_student(
            width,
            method,
            seed,
            mnist.x_train[:cut][keep],
            mnist.y_train[:cut][keep],
            transfer_set.train_logits[:cut][keep],
            epochs,
            kd,
        )
        scores = {
            split: bias_sweep(
                model.predict(x, batch_size=1024, verbose=0), y, OMITTED_DIGIT
            )
            for split, x, y in (
                ("heldout", mnist.x_train[cut:], mnist.y_train[cut:]),
                ("test", mnist.x_test, mnist.y_test),
            )
        }
        tables.append(
            pd.DataFrame(
                dict(
                    method=method,
                    seed=seed,
                    width=width,
                    train_images=int(keep.sum()),
                    bias_raise=scores["test"].bias_raise,
                    heldout_accuracy=scores["heldout"].accuracy,
                    test_errors=scores["test"].errors,
                    test_digit_errors=scores["test"].digit_errors,
                )
            )
        )
    return pd.concat(tables, ignore_index=True)


def valid_omitted_digit(rows: pd.DataFrame, values: dict, n: int) -> None:
    raises = len(BIAS_OFFSETS)
    require(
        list(rows.method) == [m for m in CNN_METHODS for _ in range(raises)],
        "methods or raises other than chapter 7's",
    )
    require(
        (
            (rows.seed == values["seed"]) & (rows.width == values["width"])
        ).all(),
        "another seed or width",
    )
    require(rows.train_images.nunique() == 1, "more than one training set")
    require(
        np.allclose(rows.bias_raise, np.tile(BIAS_OFFSETS, len(CNN_METHODS))),
        "bias raises other than book.cnn.BIAS_OFFSETS",
    )
    require(
        rows.test_errors.between(0, n).all()
        and (rows.test_digit_errors <= rows.test_errors).all()
        and (rows.test_digit_errors >= 0).all(),
        "error counts outside 0-n",
    )
    _accuracies_in_range(rows)


def train_distiller(
    mnist, teacher, seed: int, width: int, epochs: int, kd: KdSetting
) -> pd.DataFrame:
    """The CNN students' chapter: a student of ``width`` distilled end to end with
    ``keras.distillation.Distiller`` (the teacher runs on every batch), to set
    beside the cached-logit student of the same width and seed."""
    import keras

    keras.utils.set_random_seed(seed)
    model = distiller(
        teacher, cnn_student(width), kd, epochs, len(mnist.x_train)
    )
    model.fit(
        mnist.x_train,
        mnist.y_train,
        batch_size=CNN_BATCH,
        epochs=epochs,
        verbose=0,
    )
    predicted = model.student.predict(
        mnist.x_test, batch_size=1024, verbose=0
    ).argmax(1)
    correct = int((predicted == mnist.y_test).sum())
    return pd.DataFrame(
        dict(route=["Distiller"], width=width, seed=seed, correct=correct)
    )


def valid_distiller(rows: pd.DataFrame, values: dict, n: int) -> None:
    require(len(rows) == 1, f"{len(rows)} rows, expected one run")
    require(
        (rows.route == "Distiller").all()
        and (rows.seed == values["seed"]).all()
        and (rows.width == values["width"]).all(),
        "another route, seed or width",
    )
    require(rows.correct.between(0, n).all(), f"a count outside 0-{n}")


def _cnn_values(profile: Profile, seed: int, kd: KdSetting) -> dict:
    """The CNN students' chapter's single CNN runs: the widest student, the CNN epochs."""
    return dict(
        seed=seed,
        width=max(profile.cnn_widths),
        epochs=profile.cnn_epochs,
        kd=kd,
    )


SINGLE_RUNS = (
    Runs(
        "lr_demo",
        lambda profile: LEARNING_RATES,
        train_lr_demo,
        lambda profile, lr, kd: dict(learning_rate=lr),
        ("mnist",),
        dict(
            loss="float",
            accuracy="float",
            val_loss="float",
            val_accuracy="float",
            learning_rate="float",
            epoch="int",
        ),
        valid_lr_demo,
    ),
    Runs(
        "keras_heads",
        lambda profile: list(METHODS),
        train_keras_head,
        lambda profile, method, kd: dict(
            method=method,
            k=CHAPTER3_K,
            seed=0,
            epochs=profile.student_epochs,
        ),
        ("transfer_set",),
        dict(loss="float", method="str", k="int", epoch="int", correct="int"),
        valid_keras_head,
    ),
    Runs(
        "omitted_digit",
        lambda profile: list(profile.sweep_seeds),
        train_omitted_digit,
        _cnn_values,
        ("mnist", "transfer_set"),
        dict(
            method="str",
            seed="int",
            width="int",
            train_images="int",
            bias_raise="float",
            heldout_accuracy="float",
            test_errors="int",
            test_digit_errors="int",
        ),
        valid_omitted_digit,
        uses_kd=True,
    ),
    Runs(
        "distiller",
        lambda profile: [0],
        train_distiller,
        _cnn_values,
        ("mnist", "teacher"),
        dict(route="str", width="int", seed="int", correct="int"),
        valid_distiller,
        uses_kd=True,
    ),
)


def single_run(name: str) -> Runs:
    return next(r for r in SINGLE_RUNS if r.name == name)


# The bytes chapter's units use this module's teacher and transfer sets (a late import:
# book.deployables imports them from here).
from book.deployables import Deployables  # noqa: E402

records.snapshot_sources()

# In order of need: what the most conclusions rest on first, then what
# completes a chapter soonest (the heads' chapters before the CNN students'
# and the bytes chapter's, which cost the most).
JOBS = (
    experiment_named("kd_grid"),
    experiment_named("sweep"),
    SoloHeads(),
    experiment_named("controls"),
    single_run("lr_demo"),
    single_run("keras_heads"),
    experiment_named("sweep_large"),
    experiment_named("original_way"),
    CnnStudents(),
    single_run("omitted_digit"),
    single_run("distiller"),
    Deployables(),
    OtherTeachers(),
)
# What each job trains, in words for a reader (tables and runtime notes).
JOB_TITLES = {
    "kd_grid": "the KD grid",
    "sweep": "the sweep, k ≤ 20",
    "solo": "heads trained alone",
    "controls": "the mechanism controls",
    "lr_demo": "the learning-rate demo",
    "keras_heads": "the Keras-fit heads",
    "sweep_large": "the sweep, k = 32 and 64",
    "original_way": "the original's way",
    "cnn_students": "the CNN students",
    "omitted_digit": "the omitted digit",
    "distiller": "the Distiller run",
    "deployables": "the bytes chapter's files",
    "teacher_seeds": "other teachers",
}


def job_named(name: str):
    """The job of ``JOBS`` called ``name``; an error listing the names if none is."""
    job = next((j for j in JOBS if j.name == name), None)
    if job is None:
        raise ValueError(
            f"no campaign job {name!r}: expected one of {[j.name for j in JOBS]}"
        )
    return job


def run(
    profile: Profile, minutes: float | None = None, only: str | None = None
) -> None:
    """Train what is missing of ``JOBS`` (or of ``only``), in order; start no
    group after ``minutes``."""
    start = time.monotonic()
    stored_teacher(profile)  # trained here if missing: keys only ever read it
    for job in JOBS:
        if only and job.name != only:
            continue
        for unit in job.units(profile):
            if (
                minutes is not None
                and time.monotonic() - start > 60 * minutes
            ):
                print(
                    f"campaign: {minutes} minutes spent; stopping before {job.name} {unit}",
                    flush=True,
                )
                return
            with tqdm(
                total=job.epochs(profile),
                desc=f"{job.name} {unit}",
                unit="epoch",
                file=sys.stderr,
                mininterval=30,
                ascii=True,
            ) as bar:
                rows = job.group(profile, unit, bar)
            print(
                f"campaign: {job.name} {unit}: {len(rows)} models, "
                f"{rows.seconds.iloc[0] / 60:.1f} min on {rows.cpu.iloc[0]}",
                flush=True,
            )


# --- what the campaign cost, and what it could cost -------------------------------

FUSED_MIN_UNITS = (
    94  # groups this wide are bound by the first layer's matmuls and updates
)
FIRST_LAYER_PASSES = (
    9  # per step over the (features x units) first layer, in float32:
)
# the forward product reads the weights (1), the weight-gradient product writes
# their gradient (1), Adadelta reads it (1) and reads and writes the weights and
# its two accumulators (6).


def step_bound_seconds(
    units: int, gflops: float, gbytes_per_second: float
) -> float:
    """The least time one batch-32 step of a fused group of ``units`` hidden
    units can take: its two large matrix products at the matmul peak plus the
    bytes it must move over the first layer at the memory bandwidth."""
    flops = 2 * 2 * STUDENT_BATCH * FEATURES * units
    moved = FIRST_LAYER_PASSES * 4 * FEATURES * units
    return flops / (gflops * 1e9) + moved / (gbytes_per_second * 1e9)


def training_time(
    profile: Profile,
    gflops: float | None = None,
    gbytes_per_second: float | None = None,
) -> pd.DataFrame:
    """Per finished group: the training seconds its record holds and, given
    the machine's matmul peak and memory bandwidth, the design's bound (for a
    fused group of at least ``FUSED_MIN_UNITS`` units; any other run counts
    its measured time as its own bound). Valid across resumed sessions: each
    record holds its own time."""
    n_train = len(mnist_of(profile).y_train)
    rows = []
    for job in JOBS:
        for unit in job.units(profile):
            # the manifest of a current record (its key matches); the record's
            # values are checked where a chapter reads them, not here
            manifest = records.read_manifest(
                job.path(profile, unit),
                job.group(profile, unit, key_only=True),
                content_hash=False,
            )
            if manifest is None:
                continue
            settings = manifest["settings"]
            units = sum(
                int(h.rsplit(":", 1)[1]) for h in settings.get("heads", [])
            )
            bound = manifest["seconds"]
            if (
                gflops
                and gbytes_per_second
                and isinstance(job, Experiment)
                and units >= FUSED_MIN_UNITS
            ):
                rows_trained = (
                    holdout_cut(n_train)
                    if settings["data"] == "holdout"
                    else n_train
                )
                steps = settings["epochs"] * -(-rows_trained // STUDENT_BATCH)
                bound = steps * step_bound_seconds(
                    units, gflops, gbytes_per_second
                )
            rows.append(
                dict(
                    job=job.name,
                    unit=str(unit),
                    heads=len(settings.get("heads", [])),
                    units=units,
                    seconds=manifest["seconds"],
                    bound_seconds=bound,
                    cpu=manifest["cpu"],
                )
            )
    return pd.DataFrame(rows)


def _duration(seconds: float) -> str:
    """Hours past 90 minutes; below, minutes to a tenth, so that a note's
    parts add up to its total."""
    if seconds >= 5400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def runtime_note(
    profile: Profile, jobs: dict, teacher: bool = False, also: str = ""
):
    """A chapter's runtime note, as Markdown: what training the records it
    reads took, as they recorded it (``jobs``: the words for each, by job
    name; ``teacher``: the stored teacher too), on which CPUs, and how many
    are not trained yet; ``also``: a sentence on what else it does."""
    from IPython.display import Markdown

    parts, cpus, missing, total = [], set(), 0, 0.0
    if teacher:
        stored = stored_teacher(profile, read_only=True)
        if stored is None:
            missing += 1
        else:
            manifest = stored[1]
            total += manifest["seconds"]
            cpus.add(manifest["cpu"])
            parts.append(("the teacher", manifest["seconds"]))
    for name, words in jobs.items():
        job = job_named(name)
        rows = [
            job.group(profile, u, read_only=True) for u in job.units(profile)
        ]
        done = [r for r in rows if r is not None]
        missing += len(rows) - len(done)
        seconds = sum(float(r.seconds.iloc[0]) for r in done)
        cpus |= {r.cpu.iloc[0] for r in done}
        total += seconds
        parts.append((words, seconds))
    on = (
        " and ".join(records.cpu_text(c) for c in sorted(cpus))
        or "no CPU yet"
    )
    if len(parts) == 1:  # one part: its time is the total
        took = (
            f"Training them ({parts[0][0]}) took {_duration(total)} on {on}."
        )
    else:
        listed = [
            f"{words} ({_duration(seconds)})" for words, seconds in parts
        ]
        took = (
            f"Training them took {_duration(total)} on {on}: "
            f"{', '.join(listed[:-1])} and {listed[-1]}."
        )
    text = (
        f"**Runtime.** This chapter reads records that the campaign trained "
        f"(`python -m book.campaign` trains them all in advance, resuming where "
        f"it stopped); a record that is missing, or stale because its code "
        f"changed, is trained when the chapter runs. {took} "
        f"{also + ' ' if also else ''}With its records in place the "
        f"chapter only reads them; in "
        f"the `smoke` profile (`BOOK_PROFILE=smoke`) it trains small records "
        f"of its own in a few minutes."
    )
    if missing:
        text += f" {missing} of its records are not trained yet."
    return Markdown(text)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--minutes", type=float, help="start no group after this many minutes"
    )
    parser.add_argument("--only", choices=[job.name for job in JOBS])
    args = parser.parse_args(argv)
    run(current_profile(), args.minutes, args.only)


if __name__ == "__main__":
    # Run the imported module's main, not this copy's: run as a script, this
    # file's functions belong to "__main__", outside the book package that
    # the records' code keys follow (book.codekey.closure).
    from book.campaign import main as imported_main

    imported_main()
