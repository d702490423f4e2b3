"""Fully distilled CNN students: their own conv layers, nothing borrowed from the teacher.

Introduced in chapter 7. A student is trained one of two ways, over seeds:

- ``distilled``: Hinton et al.'s loss as ``keras.distillation`` computes it
  (``LogitsDistillation`` with a ``KLDivergence`` loss, i.e. T**2 times the KL
  divergence at temperature T, weighted by ``1 - alpha``, plus ``alpha`` times
  cross-entropy with the true labels);
- ``scratch``: cross-entropy with the true labels only, the same student and
  recipe without a teacher.

``keras.distillation.Distiller`` runs the teacher on every batch. With no
augmentation and the teacher in inference mode (which is how ``Distiller``
calls it) the teacher's logits for an image never change, so the runs here
read them from chapter 2's transfer set instead: ``distillation_loss`` is the
Distiller's loss on cached logits. ``tests/test_cnn.py`` checks that one
training step gives the same weights by both routes, and ``distiller_run``
trains one student end to end with ``Distiller`` itself.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pandas as pd
from tqdm import tqdm

from book.cache import (
    artifacts_dir,
    atomic_path,
    cached,
    fields_check,
    save_csv,
    settings_key,
)
from book.data import NUM_CLASSES, Mnist, load_mnist
from book.distill import accuracy, targets
from book.models import compression_rate
from book.profile import Profile
from book.results import results_dir
from book.teacher import logits_model, teacher_settings, transfer_set
from book.temperature import best_setting, grid_search, holdout_cut

CNN_BATCH = 128
CNN_LEARNING_RATE = (
    1e-3  # Adam's, decayed to zero along a cosine over the run
)
METHODS = {
    "distilled": "CNN student, distilled",
    "scratch": "CNN student, from scratch",
}  # name -> label
OMITTED_DIGIT = 3  # as in the paper's section 3
BIAS_OFFSETS = (
    np.arange(0, 61) / 4
)  # candidate raises of the omitted digit's logit: 0, 0.25, ..., 15


@dataclasses.dataclass(frozen=True)
class KdSetting:
    temperature: float
    alpha: float  # weight of the hard-label loss: Distiller's ``student_loss_weight``


def cnn_student(width: int) -> keras.Model:
    """Two conv blocks (``width``, then ``2 * width`` 3x3 filters, twice each, then 2x2
    max-pooling) and a linear layer to 10 logits: ``63 w**2 + 335 w + 10`` parameters."""
    layers = keras.layers
    x = image = keras.Input((28, 28, 1), name="image")
    for block, filters in enumerate((width, 2 * width), start=1):
        x = layers.Conv2D(
            filters, 3, activation="relu", name=f"conv{block}a"
        )(x)
        x = layers.Conv2D(
            filters, 3, activation="relu", name=f"conv{block}b"
        )(x)
        x = layers.MaxPooling2D(2, name=f"pool{block}")(x)
    x = layers.Flatten(name="flatten")(x)
    logits = layers.Dense(NUM_CLASSES, name="logits")(x)
    return keras.Model(image, logits, name=f"cnn_w{width}")


def size_table(widths) -> pd.DataFrame:
    """Parameters of each width, and the compression rate (teacher's parameters / student's)."""
    params = [cnn_student(w).count_params() for w in widths]
    return pd.DataFrame(
        dict(
            width=list(widths),
            params=params,
            compression_rate=[round(compression_rate(p), 1) for p in params],
        )
    ).set_index("width")


def _optimizer(epochs: int, n_images: int) -> keras.optimizers.Optimizer:
    steps = epochs * -(-n_images // CNN_BATCH)
    return keras.optimizers.Adam(
        keras.optimizers.schedules.CosineDecay(CNN_LEARNING_RATE, steps)
    )


def _hard_loss() -> keras.losses.Loss:
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def logits_distillation(
    temperature: float,
) -> keras.distillation.LogitsDistillation:
    """``LogitsDistillation`` that really computes T**2 * KL(softmax(z/T) || softmax(s/T)).

    It applies softmax and T**2 only when its loss is a ``KLDivergence``
    *instance*; any other loss gets the logits divided by T and no T**2. In
    Keras 3.15 the default ``loss="kl_divergence"`` resolves to the plain
    function, not the class, so the default takes that other path: it treats
    the scaled logits as probabilities (chapter 7 shows the numbers).
    """
    return keras.distillation.LogitsDistillation(
        temperature, loss=keras.losses.KLDivergence()
    )


def distillation_loss(kd: KdSetting):
    """``Distiller.compute_loss`` with ``student_loss_weight=kd.alpha``, on cached teacher logits.

    ``y_true`` is the ``(n, 11)`` array of ``book.distill.targets``: the
    teacher's logits and the true label.
    """
    soft, hard = logits_distillation(kd.temperature), _hard_loss()

    def loss(y_true, y_pred):
        teacher_logits, labels = (
            y_true[:, :NUM_CLASSES],
            y_true[:, NUM_CLASSES],
        )
        return kd.alpha * hard(labels, y_pred) + (
            1 - kd.alpha
        ) * soft.compute_loss(teacher_logits, y_pred)

    return loss


def distiller(
    teacher: keras.Model,
    student: keras.Model,
    kd: KdSetting,
    epochs: int,
    n_images: int,
) -> keras.distillation.Distiller:
    """A compiled ``Distiller``: the route that runs the (softmax-less) teacher on every batch."""
    model = keras.distillation.Distiller(
        teacher=logits_model(teacher),
        student=student,
        distillation_losses=logits_distillation(kd.temperature),
        student_loss_weight=kd.alpha,
    )
    model.compile(optimizer=_optimizer(epochs, n_images), loss=_hard_loss())
    return model


def train_student(
    width: int,
    method: str,
    seed: int,
    images: np.ndarray,
    labels: np.ndarray,
    teacher_logits: np.ndarray,
    epochs: int,
    kd: KdSetting,
) -> keras.Model:
    """One CNN student, ``distilled`` (on cached teacher logits) or from ``scratch``."""
    if method not in METHODS:
        raise ValueError(f"method {method!r} is not one of {list(METHODS)}")
    keras.utils.set_random_seed(seed)
    student = cnn_student(width)
    if method == "distilled":
        loss, y = distillation_loss(kd), targets(teacher_logits, labels)
    else:
        loss, y = _hard_loss(), labels
    student.compile(optimizer=_optimizer(epochs, len(images)), loss=loss)
    student.fit(images, y, batch_size=CNN_BATCH, epochs=epochs, verbose=0)
    return student


def _logits(model: keras.Model, images: np.ndarray) -> np.ndarray:
    return model.predict(images, batch_size=1024, verbose=0)


def _runs_dir(profile: Profile, name: str, kd: KdSetting) -> Path:
    return artifacts_dir(profile.name) / "{}-{}".format(
        name,
        settings_key(
            dict(
                teacher=teacher_settings(profile),
                test_size=profile.test_size,
                epochs=profile.cnn_epochs,
                batch=CNN_BATCH,
                lr=CNN_LEARNING_RATE,
                kd=dataclasses.asdict(kd),
                v=1,
            )
        ),
    )


def _cached_runs(
    where: Path, runs: list[tuple], train, desc: str, fields
) -> list[dict]:
    """``train(*run)`` for every run not yet saved under ``where``; every run's saved dict.

    Each finished run is written atomically as it completes, so an interrupted
    call loses at most the run in progress, and a new call trains only the rest.
    """
    paths = [where / ("-".join(map(str, run)) + ".json") for run in runs]
    results = []
    with tqdm(
        total=len(runs),
        initial=sum(p.exists() for p in paths),
        desc=desc,
        unit="run",
        file=sys.stderr,
        ascii=True,
    ) as bar:
        for run, path in zip(runs, paths):
            fresh = not path.exists()
            results.append(
                cached(
                    path,
                    lambda: train(*run),
                    lambda value, tmp: tmp.write_text(json.dumps(value)),
                    lambda p: json.loads(p.read_text()),
                    fields_check(fields),
                )
            )
            bar.update(int(fresh))
    return results


def _write_table(profile: Profile, name: str, table: pd.DataFrame) -> None:
    with atomic_path(results_dir(profile) / f"{name}.csv") as tmp:
        save_csv(table, tmp)


def run_students(
    profile: Profile, data: Mnist, train_logits: np.ndarray, kd: KdSetting
) -> pd.DataFrame:
    """Every (method, width, seed) of the profile; a tidy table, also written to
    ``<results_dir>/cnn_students.csv``."""

    def train(method, width, seed):
        start = time.perf_counter()
        model = train_student(
            width,
            method,
            seed,
            data.x_train,
            data.y_train,
            train_logits,
            profile.cnn_epochs,
            kd,
        )
        seconds = time.perf_counter() - start
        return dict(
            method=method,
            width=width,
            seed=seed,
            params=model.count_params(),
            test_accuracy=float(
                accuracy(_logits(model, data.x_test), data.y_test)
            ),
            train_seconds=seconds,
        )

    runs = [
        (m, w, s)
        for m in METHODS
        for w in profile.cnn_widths
        for s in profile.sweep_seeds
    ]
    saved = _cached_runs(
        _runs_dir(profile, "cnn", kd),
        runs,
        train,
        "CNN students",
        [
            "method",
            "width",
            "seed",
            "params",
            "test_accuracy",
            "train_seconds",
        ],
    )
    table = pd.DataFrame(saved)[
        [
            "method",
            "width",
            "seed",
            "params",
            "test_accuracy",
            "train_seconds",
        ]
    ]
    table.insert(1, "method_label", table.method.map(METHODS))
    table.insert(5, "compression_rate", compression_rate(table.params))
    _write_table(profile, "cnn_students", table)
    return table


def students(profile: Profile) -> pd.DataFrame:
    """``run_students`` with everything it needs fetched (from the cache, or made now):
    the data, the transfer set's logits and chapter 4's KD setting. For chapters 5 and 6."""
    transfer = transfer_set(profile)
    choice = best_setting(grid_search(transfer, profile))
    return run_students(
        profile,
        load_mnist(profile),
        transfer.train_logits,
        KdSetting(choice.temperature, choice.alpha),
    )


def distiller_run(
    profile: Profile,
    data: Mnist,
    teacher: keras.Model,
    kd: KdSetting,
    width: int,
    seed: int,
) -> dict:
    """One distilled student trained end to end with ``keras.distillation.Distiller``
    (the teacher runs on every batch), to compare with the cached-logit route."""

    def train(width, seed):
        keras.utils.set_random_seed(seed)
        start = time.perf_counter()
        model = distiller(
            teacher,
            cnn_student(width),
            kd,
            profile.cnn_epochs,
            len(data.x_train),
        )
        model.fit(
            data.x_train,
            data.y_train,
            batch_size=CNN_BATCH,
            epochs=profile.cnn_epochs,
            verbose=0,
        )
        seconds = time.perf_counter() - start
        return dict(
            route="Distiller",
            width=width,
            seed=seed,
            test_accuracy=float(
                accuracy(_logits(model.student, data.x_test), data.y_test)
            ),
            train_seconds=seconds,
        )

    return _cached_runs(
        _runs_dir(profile, "distiller", kd),
        [(width, seed)],
        train,
        "Distiller",
        ["route", "width", "seed", "test_accuracy", "train_seconds"],
    )[0]


def raise_bias(logits: np.ndarray, digit: int, offset: float) -> np.ndarray:
    """Logits with ``offset`` added to ``digit``'s: the same as raising that output unit's bias."""
    return logits + offset * np.eye(NUM_CLASSES, dtype=logits.dtype)[digit]


def bias_sweep(
    logits: np.ndarray, labels: np.ndarray, digit: int, offsets=BIAS_OFFSETS
) -> pd.DataFrame:
    """Accuracy, and errors on ``digit``, for every raise of ``digit``'s bias in ``offsets``."""
    is_digit = labels == digit
    wrong = np.stack(
        [raise_bias(logits, digit, o).argmax(1) != labels for o in offsets]
    )
    return pd.DataFrame(
        dict(
            bias_raise=offsets,
            accuracy=1 - wrong.mean(1),
            errors=wrong.sum(1),
            digit_errors=wrong[:, is_digit].sum(1),
        )
    )


def _best_row(sweep: pd.DataFrame) -> int:
    """The row of a ``bias_sweep`` with the highest accuracy; the smallest raise among ties."""
    return int(sweep.accuracy.idxmax())  # idxmax returns the first maximum


def best_offset(
    logits: np.ndarray, labels: np.ndarray, digit: int, offsets=BIAS_OFFSETS
) -> float:
    """The raise with the highest accuracy on (held-out) ``logits``; the smallest among ties."""
    sweep = bias_sweep(logits, labels, digit, offsets)
    return float(sweep.bias_raise[_best_row(sweep)])


@dataclasses.dataclass(frozen=True)
class OmittedDigit:
    summary: pd.DataFrame  # one row per (method, seed): the chosen raise, test errors before and after
    curves: pd.DataFrame  # per (method, seed, raise): held-out accuracy, test errors (for the figure)


def omitted_digit(
    profile: Profile,
    data: Mnist,
    train_logits: np.ndarray,
    kd: KdSetting,
    width: int,
) -> OmittedDigit:
    """The paper's omitted-digit experiment, over the profile's seeds.

    Students train on the training set minus its held-out tail and minus every
    ``OMITTED_DIGIT``. The bias raise is chosen on the held-out tail (which has
    all ten digits); the test set only reports errors before and after.
    """
    cut = holdout_cut(len(data.y_train))
    keep = data.y_train[:cut] != OMITTED_DIGIT
    images, labels, logits = (
        data.x_train[:cut][keep],
        data.y_train[:cut][keep],
        train_logits[:cut][keep],
    )

    def train(method, seed):
        model = train_student(
            width,
            method,
            seed,
            images,
            labels,
            logits,
            profile.cnn_epochs,
            kd,
        )
        held_out = bias_sweep(
            _logits(model, data.x_train[cut:]),
            data.y_train[cut:],
            OMITTED_DIGIT,
        )
        test = bias_sweep(
            _logits(model, data.x_test), data.y_test, OMITTED_DIGIT
        )
        chosen = _best_row(
            held_out
        )  # chosen on held-out images; the test set only reports
        row = dict(
            method=method,
            seed=seed,
            width=width,
            train_images=len(images),
            test_digit_images=int((data.y_test == OMITTED_DIGIT).sum()),
            bias_raise=float(held_out.bias_raise[chosen]),
        )
        for when, at in (("before", 0), ("after", chosen)):
            row[f"test_errors_{when}"] = int(test.errors[at])
            row[f"digit_errors_{when}"] = int(test.digit_errors[at])
        row["curve"] = dict(
            bias_raise=held_out.bias_raise.tolist(),
            heldout_accuracy=held_out.accuracy.tolist(),
            test_digit_errors=test.digit_errors.tolist(),
        )
        return row

    runs = [(m, s) for m in METHODS for s in profile.sweep_seeds]
    saved = _cached_runs(
        _runs_dir(profile, f"omit{OMITTED_DIGIT}", kd),
        runs,
        train,
        f"without the {OMITTED_DIGIT}s",
        ["method", "seed", "bias_raise", "curve"],
    )
    summary = pd.DataFrame(
        [{k: v for k, v in row.items() if k != "curve"} for row in saved]
    )
    curves = pd.concat(
        [
            pd.DataFrame(row["curve"]).assign(
                method=row["method"], seed=row["seed"]
            )
            for row in saved
        ],
        ignore_index=True,
    )
    _write_table(profile, "omitted_digit", summary)
    return OmittedDigit(summary, curves)
