"""From parameters to bytes: pruning, quantization and LiteRT files.

Introduced in chapter 8. Every model this module reports on is a LiteRT
flatbuffer on disk, scored by loading that file in the ``ai-edge-litert``
interpreter with its default settings; its size is the file's bytes
(1 KB = 1,000 bytes) and its bytes after ``lzma`` at preset 9 (standing in
for a download's compression and Deep Compression's Huffman stage).

Keras 3 has no pruning API (the TF Model Optimization Toolkit needs Keras 2),
so pruning is a mask re-applied after every optimizer step
(``MagnitudePruning``). The runs choose on the held-out tail of the training
set (``book.temperature.holdout_cut``); the test set only reports.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import lzma
import math
import os
import subprocess
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
    load_csv,
    require,
    save_csv,
    settings_key,
)
from book.codekey import code_key
from book.cnn import (
    CNN_BATCH,
    CNN_LEARNING_RATE,
    KdSetting,
    cnn_student,
    distillation_loss,
)
from book.data import Mnist
from book.distill import accuracy, targets
from book.models import FEATURE_LAYER, LOGIT_LAYER
from book.profile import Profile
from book.results import PUBLISHED, results_dir
from book.teacher import TransferSet, teacher_settings
from book.temperature import best_setting, holdout_cut

LZMA_PRESET = 9
LATENCY_THREADS = 1
CLUSTERS = 16  # shared values per layer: 4-bit indices, as Deep Compression
BORDER = 1  # rows/columns of the 12 x 12 feature map counted as its border
FEATURE_MAP = (12, 12, 64)  # the teacher's pooled map, flattened row-major


RECIPES = {
    "distilled": "distilled on cached teacher logits (chapter 7's loss)",
    "augmented": "hard labels, images shifted by up to 2 pixels",
}


@dataclasses.dataclass(frozen=True)
class Plan:
    """How much this chapter trains. It lives here, not in ``book.profile``,
    because changing that module would stale every executed chapter; it
    moves there at the book's next cold re-run."""

    sparsities: tuple[float, ...]  # of the teacher's dense layer
    prune_epochs: int  # the ramp and the fine-tuning after it
    students: tuple[tuple[int, str], ...]  # (width, recipe)
    student_epochs: int
    student_sparsity: float  # of every kernel, in distil-then-prune
    head_sizes: tuple[int, ...]  # k of chapter 3's heads, for the frontier
    latency_calls: int


PLANS = {
    "full": Plan(
        sparsities=(0.5, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99),
        prune_epochs=4,
        students=tuple((w, r) for w in (4, 12) for r in RECIPES),
        student_epochs=20,
        student_sparsity=0.5,
        head_sizes=(6,),
        latency_calls=2000,
    ),
    "smoke": Plan(
        sparsities=(0.9,),
        prune_epochs=1,
        students=tuple((4, r) for r in RECIPES),
        student_epochs=1,
        student_sparsity=0.5,
        head_sizes=(6,),
        latency_calls=20,
    ),
}


# --- files ---------------------------------------------------------------


def litert_file(model: keras.Model, calibration=None) -> bytes:
    """``model`` as a LiteRT flatbuffer: float32, or, given calibration
    images, full-integer int8 (int8 weights and activations, per-channel
    weight scales) with float input and output."""
    import tensorflow as tf
    from tensorflow.lite.tools import flatbuffer_utils

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if calibration is not None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: (
            [image[None]] for image in calibration
        )
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.TFLITE_BUILTINS_INT8
        ]
    with quiet():
        blob = converter.convert()
    # Drop the tensor names and the signature (about 1.8 KB of a small
    # file): the interpreter finds the input and output by position.
    flat = flatbuffer_utils.convert_bytearray_to_object(blob)
    flatbuffer_utils.strip_strings(flat)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(flat))


@contextlib.contextmanager
def quiet():
    """Silence what converting and predicting print on the way (the traced
    graph, "Assets written to <temporary folder>", retracing warnings), so
    that a notebook's output stays the same from run to run."""
    import tensorflow as tf

    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        logger.setLevel(level)


def lzma_bytes(blob: bytes) -> int:
    return len(lzma.compress(blob, preset=LZMA_PRESET))


def litert_scores(path: Path, images: np.ndarray, batch: int = 1000):
    """The file's 10 scores for every image, from the LiteRT interpreter
    with its default settings."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    (source,), (sink,) = (
        interpreter.get_input_details(),
        interpreter.get_output_details(),
    )
    scores, shape = [], None
    for start in range(0, len(images), batch):
        x = np.ascontiguousarray(images[start : start + batch], "float32")
        if x.shape != shape:
            interpreter.resize_tensor_input(source["index"], x.shape)
            interpreter.allocate_tensors()
            shape = x.shape
        interpreter.set_tensor(source["index"], x)
        interpreter.invoke()
        scores.append(interpreter.get_tensor(sink["index"]).copy())
    return np.concatenate(scores)


def activation_bytes(model: keras.Model, bytes_per_value: int) -> int:
    """The largest input-plus-output activation of any layer, for one
    image: memory a forward pass needs beyond its weights, at least."""
    peak = 0
    for layer in model.layers[1:]:
        sizes = [math.prod(t.shape[1:]) for t in (layer.input, layer.output)]
        peak = max(peak, sum(sizes) * bytes_per_value)
    return peak


# --- pruning and weight sharing -----------------------------------------


def magnitude_mask(kernel: np.ndarray, sparsity: float) -> np.ndarray:
    """1 for the weights to keep: all but the ``sparsity`` share with the
    smallest magnitude (Han et al. 2015)."""
    drop = int(round(sparsity * kernel.size))
    mask = np.ones(kernel.size, "float32")
    mask[np.argsort(np.abs(kernel), axis=None)[:drop]] = 0
    return mask.reshape(kernel.shape)


def sparsity_at(step: int, ramp_steps: int, final: float) -> float:
    """Zhu & Gupta's (2017) gradual schedule: fast at first, then slower,
    reaching ``final`` after ``ramp_steps`` optimizer steps."""
    return final * (1 - (1 - min(step, ramp_steps) / ramp_steps) ** 3)


class MagnitudePruning(keras.callbacks.Callback):
    """Prune the kernels of ``layers`` gradually while the model trains.

    Every ``every`` steps of the ramp, each kernel's mask is recomputed to
    the schedule's sparsity; after *every* step the masks are re-applied,
    since the optimizer's update would otherwise bring pruned weights back.
    """

    def __init__(self, layers, final: float, ramp_steps: int, every=50):
        super().__init__()
        self.layers, self.final = layers, final
        self.ramp_steps, self.every, self.step = ramp_steps, every, 0
        self.masks = [
            np.ones(layer.kernel.shape, "float32") for layer in layers
        ]

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step <= self.ramp_steps and (
            self.step % self.every == 0 or self.step == self.ramp_steps
        ):
            sparsity = sparsity_at(self.step, self.ramp_steps, self.final)
            self.masks = [
                magnitude_mask(layer.kernel.numpy(), sparsity)
                for layer in self.layers
            ]
        for layer, mask in zip(self.layers, self.masks):
            layer.kernel.assign(layer.kernel * mask)


def share_weights(kernel: np.ndarray, clusters: int = CLUSTERS):
    """Deep Compression's weight sharing: the non-zero weights replaced by
    the nearest of ``clusters`` values found by k-means (1-D, linear
    initialisation over their range); zeros stay zero."""
    values = kernel[kernel != 0]
    centres = np.linspace(values.min(), values.max(), clusters)
    for _ in range(30):
        nearest = np.abs(values[:, None] - centres[None]).argmin(1)
        for c in range(clusters):
            if (nearest == c).any():
                centres[c] = values[nearest == c].mean()
    shared = kernel.copy()
    shared[kernel != 0] = centres[nearest]
    return shared


# --- the models ----------------------------------------------------------


def teacher_head(teacher: keras.Model) -> keras.Model:
    """The teacher's dense part, from its Flatten features to its logits,
    with its trained weights: the part that pruning works on."""
    layers = keras.layers
    features = keras.Input((math.prod(FEATURE_MAP),), name="features")
    x = layers.Dense(128, activation="relu", name="dense")(features)
    x = layers.Dropout(0.5, name="dropout2")(x)
    logits = layers.Dense(10, name=LOGIT_LAYER)(x)
    head = keras.Model(features, logits, name="teacher_head")
    for name in ("dense", LOGIT_LAYER):
        head.get_layer(name).set_weights(
            teacher.get_layer(name).get_weights()
        )
    return head


def on_images(teacher: keras.Model, head: keras.Model, name: str):
    """A deployable model: image -> the teacher's conv layers -> ``head``,
    which returns logits (no softmax: the argmax is the same)."""
    features = teacher.get_layer(FEATURE_LAYER).output
    return keras.Model(teacher.input, head(features), name=name)


def border_rows(border: int = BORDER) -> np.ndarray:
    """Rows of the dense kernel fed by the outer ``border`` ring of the
    12 x 12 map (all 64 channels of each such position)."""
    rows, cols, channels = FEATURE_MAP
    r, c = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    edge = (
        (r < border)
        | (r >= rows - border)
        | (c < border)
        | (c >= cols - border)
    )
    return np.flatnonzero(np.repeat(edge.ravel(), channels))


def prune_head(
    teacher: keras.Model,
    transfer: TransferSet,
    sparsity: float,
    seed: int,
    epochs: int,
) -> keras.Model:
    """The teacher's head pruned to ``sparsity`` (its first dense kernel;
    the 1,280 weights of the last layer stay) and fine-tuned on the
    training features, the held-out tail excluded."""
    keras.utils.set_random_seed(seed)
    head = teacher_head(teacher)
    cut = holdout_cut(len(transfer.train_labels))
    steps_per_epoch = -(-cut // CNN_BATCH)
    ramp = max(1, epochs * 2 // 3) * steps_per_epoch
    head.compile(
        optimizer=keras.optimizers.Adam(
            keras.optimizers.schedules.CosineDecay(
                1e-4, epochs * steps_per_epoch
            )
        ),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    head.fit(
        transfer.train_features[:cut],
        transfer.train_labels[:cut],
        batch_size=CNN_BATCH,
        epochs=epochs,
        verbose=0,
        callbacks=[
            MagnitudePruning([head.get_layer("dense")], sparsity, ramp)
        ],
    )
    return head


def train_compact_student(
    width: int,
    recipe: str,
    seed: int,
    data: Mnist,
    train_logits: np.ndarray,
    kd: KdSetting,
    epochs: int,
) -> keras.Model:
    """Chapter 7's CNN student trained longer, on the training set minus its
    held-out tail, by one of ``RECIPES``. Shifted images have no cached
    teacher logits, so the augmented recipe learns from the labels."""
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    student = cnn_student(width)
    cut = holdout_cut(len(data.y_train))
    x, y = data.x_train[:cut], data.y_train[:cut]
    steps = epochs * -(-cut // CNN_BATCH)
    optimizer = keras.optimizers.Adam(
        keras.optimizers.schedules.CosineDecay(CNN_LEARNING_RATE, steps)
    )
    if recipe == "distilled":
        student.compile(optimizer=optimizer, loss=distillation_loss(kd))
        student.fit(
            x,
            targets(train_logits[:cut], y),
            batch_size=CNN_BATCH,
            epochs=epochs,
            verbose=0,
        )
        return student
    require(
        recipe == "augmented", f"recipe {recipe!r}, expected {list(RECIPES)}"
    )
    shift = keras.layers.RandomTranslation(
        2 / 28, 2 / 28, fill_mode="constant", seed=seed
    )
    batches = (
        tf.data.Dataset.from_tensor_slices((x, y))
        .shuffle(cut, seed=seed)
        .batch(CNN_BATCH)
        .map(lambda images, labels: (shift(images, training=True), labels))
        .prefetch(2)
    )
    student.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    student.fit(batches, epochs=epochs, verbose=0)
    return student


def chosen_kd() -> KdSetting:
    """The KD setting chapter 4 chose, read from its published grid."""
    choice = best_setting(pd.read_csv(PUBLISHED / "kd_grid.csv"))
    return KdSetting(choice.temperature, choice.alpha)


# --- measuring a file ----------------------------------------------------

RECORD_FIELDS = (
    "name",
    "family",
    "variant",
    "size",
    "seed",
    "params",
    "nonzero",
    "bytes",
    "lzma_bytes",
    "holdout_accuracy",
    "test_accuracy",
    "keras_test_accuracy",
    "disagreements",
    "activation_bytes",
)


def measure(
    where: Path,
    name: str,
    make,
    data: Mnist,
    quantize: bool,
    **labels,
) -> dict:
    """Build ``make()`` (a Keras model), write its LiteRT file
    ``where/<name>.tflite`` and score it; cached as ``<name>.json``.

    Accuracies come from the interpreter; ``keras_test_accuracy`` is the
    Keras model's own, and ``disagreements`` counts the test images on which
    the two predict different digits.
    """
    cut = holdout_cut(len(data.y_train))
    tflite = where / f"{name}.tflite"

    def compute():
        with quiet():
            return _measure(make())

    def _measure(model):
        with atomic_path(where / f"{name}.keras") as tmp:  # for latencies
            model.save(tmp)
        calibration = data.x_train[: cut : max(1, cut // 500)]
        blob = litert_file(model, calibration if quantize else None)
        with atomic_path(tflite) as tmp:
            tmp.write_bytes(blob)
        keras_predictions = model.predict(
            data.x_test, batch_size=1000, verbose=0
        ).argmax(1)
        test = litert_scores(tflite, data.x_test).argmax(1)
        kernels = [w for w in model.weights if len(w.shape) > 1]
        return dict(
            labels,
            name=name,
            params=int(model.count_params()),
            nonzero=int(
                sum(np.count_nonzero(w.numpy()) for w in model.weights)
            ),
            kernel_nonzero_share=float(
                sum(np.count_nonzero(k.numpy()) for k in kernels)
                / sum(math.prod(k.shape) for k in kernels)
            ),
            bytes=len(blob),
            lzma_bytes=lzma_bytes(blob),
            holdout_accuracy=float(
                accuracy(
                    litert_scores(tflite, data.x_train[cut:]),
                    data.y_train[cut:],
                )
            ),
            test_accuracy=float((test == data.y_test).mean()),
            keras_test_accuracy=float(
                (keras_predictions == data.y_test).mean()
            ),
            disagreements=int((test != keras_predictions).sum()),
            activation_bytes=activation_bytes(model, 1 if quantize else 4),
            test_correct="".join(
                "1" if c else "0" for c in test == data.y_test
            ),
            # labels: family, variant, size, seed
        )

    def check(record):
        fields_check(RECORD_FIELDS)(record)
        require(tflite.is_file(), f"its file {tflite.name} is missing")
        require(
            tflite.stat().st_size == record["bytes"],
            f"{tflite.name} has {tflite.stat().st_size} bytes, "
            f"the record says {record['bytes']}",
        )
        for field in ("holdout_accuracy", "test_accuracy"):
            require(0 <= record[field] <= 1, f"{field} {record[field]}")
        require(
            record["test_correct"].count("1")
            == round(record["test_accuracy"] * len(data.y_test)),
            "test_accuracy does not match its per-image record",
        )

    return cached(
        where / f"{name}.json",
        compute,
        lambda value, tmp: tmp.write_text(json.dumps(value)),
        lambda p: json.loads(p.read_text()),
        check,
    )


def deploy_dir(profile: Profile) -> Path:
    plan = PLANS[profile.name]
    return artifacts_dir(profile.name) / "deploy-{}".format(
        settings_key(
            dict(
                teacher=teacher_settings(profile),
                test_size=profile.test_size,
                plan=dataclasses.asdict(plan),
                kd=dataclasses.asdict(chosen_kd()),
                # the code that makes these files (book.codekey)
                code=code_key(
                    teacher_files,
                    pruned_teachers,
                    compact_students,
                    pruned_students,
                    head_files,
                    latencies,
                ),
            )
        )
    )


# --- the runs ------------------------------------------------------------


def _cached_model(path: Path, train) -> keras.Model:
    """``train()`` once; the trained model is kept as ``path`` (.keras),
    refused when a weight is not finite or every weight is zero."""

    def check(model):
        values = np.concatenate([w.numpy().ravel() for w in model.weights])
        require(np.isfinite(values).all(), "weights that are not finite")
        require(values.any(), "all weights zero")

    def save(model, tmp):  # without its compiled loss, often a closure
        copy(model, model.get_weights()).save(tmp)

    return cached(
        path,
        train,
        save,
        lambda p: keras.saving.load_model(p, safe_mode=True),
        check,
    )


def teacher_files(profile, teacher, data) -> list[dict]:
    """The teacher as a float32 file and as a full-integer int8 file."""
    where = deploy_dir(profile)
    logits = on_images(teacher, teacher_head(teacher), "teacher")
    return [
        measure(
            where,
            f"teacher-{kind}",
            lambda: logits,
            data,
            kind == "int8",
            family="teacher",
            variant=kind,
            size=0,
            seed=0,
        )
        for kind in ("float32", "int8")
    ]


def pruned_teachers(
    profile, teacher, transfer, data, sparsities=None
) -> list[dict]:
    """The teacher with its dense layer pruned to every sparsity of the
    plan (or ``sparsities``), over seeds, as int8 files; each also with
    shared weights. Sparsity 0 is the control: fine-tuning alone."""
    plan, where = PLANS[profile.name], deploy_dir(profile)
    records = []
    runs = [
        (s, seed)
        for s in (plan.sparsities if sparsities is None else sparsities)
        for seed in profile.sweep_seeds
    ]
    for sparsity, seed in tqdm(
        runs, desc="pruned teachers", file=sys.stderr, ascii=True
    ):
        name = f"teacher-pruned{sparsity:g}-seed{seed}"
        head = _cached_model(
            where / f"{name}.keras",
            lambda: prune_head(
                teacher, transfer, sparsity, seed, plan.prune_epochs
            ),
        )
        records += int8_and_shared(
            where,
            name,
            lambda: on_images(teacher, head, name),
            lambda: on_images(teacher, shared(head), name),
            data,
            "pruned, ",
            family="pruned teacher",
            size=sparsity,
            seed=seed,
        )
    return records


def int8_and_shared(
    where: Path,
    name: str,
    make,
    make_shared,
    data: Mnist,
    prefix: str,
    **labels,
) -> list[dict]:
    """The int8 file of ``make()`` and that of ``make_shared()`` (the same
    model with ``shared`` weights), measured: variants ``<prefix>int8`` and
    ``<prefix>16 shared values, int8``."""
    return [
        measure(where, f"{name}-int8", make, data, True,
                variant=f"{prefix}int8", **labels),
        measure(where, f"{name}-shared-int8", make_shared, data, True,
                variant=f"{prefix}{CLUSTERS} shared values, int8", **labels),
    ]  # fmt: skip


def shared(model: keras.Model) -> keras.Model:
    """A copy of ``model`` with ``share_weights`` applied to every kernel."""
    return copy(
        model,
        [share_weights(w) if w.ndim > 1 else w for w in model.get_weights()],
    )


def copy(model: keras.Model, weights) -> keras.Model:
    """An uncompiled copy of a functional ``model`` holding ``weights``."""
    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(weights)
    return clone


def compact_students(profile, data, train_logits) -> list[dict]:
    """Chapter 7's students by both ``RECIPES`` at the plan's widths, over
    seeds, as int8 files; each also with shared weights."""
    plan, where, kd = PLANS[profile.name], deploy_dir(profile), chosen_kd()
    records = []
    runs = [(w, r, s) for w, r in plan.students for s in profile.sweep_seeds]
    for width, recipe, seed in tqdm(
        runs, desc="CNN students", file=sys.stderr, ascii=True
    ):
        name = f"cnn-w{width}-{recipe}-seed{seed}"
        model = _student(where, name, width, recipe, seed, data,
                         train_logits, kd, plan.student_epochs)  # fmt: skip
        records += int8_and_shared(
            where,
            name,
            lambda: model,
            lambda: shared(model),
            data,
            "",
            family=f"CNN student, {recipe}",
            size=width,
            seed=seed,
        )
    return records


def _student(where, name, width, recipe, seed, data, train_logits, kd,
             epochs) -> keras.Model:  # fmt: skip
    """``train_compact_student``'s model, trained once and kept as
    ``where/<name>.keras``."""
    return _cached_model(
        where / f"{name}.keras",
        lambda: train_compact_student(
            width, recipe, seed, data, train_logits, kd, epochs
        ),
    )


def prune_student(
    student: keras.Model,
    sparsity: float,
    data: Mnist,
    train_logits: np.ndarray,
    kd: KdSetting,
    epochs: int,
    seed: int,
) -> keras.Model:
    """Distil, then prune: a trained student's kernels (all of them) pruned
    gradually to ``sparsity`` while it goes on learning from the teacher's
    cached logits, on the training set minus its held-out tail."""
    keras.utils.set_random_seed(seed)
    model = copy(student, student.get_weights())
    cut = holdout_cut(len(data.y_train))
    steps_per_epoch = -(-cut // CNN_BATCH)
    model.compile(
        optimizer=keras.optimizers.Adam(
            keras.optimizers.schedules.CosineDecay(
                1e-4, epochs * steps_per_epoch
            )
        ),
        loss=distillation_loss(kd),
    )
    kernels = [layer for layer in model.layers if hasattr(layer, "kernel")]
    ramp = max(1, epochs * 2 // 3) * steps_per_epoch
    model.fit(
        data.x_train[:cut],
        targets(train_logits[:cut], data.y_train[:cut]),
        batch_size=CNN_BATCH,
        epochs=epochs,
        verbose=0,
        callbacks=[MagnitudePruning(kernels, sparsity, ramp)],
    )
    return model


def pruned_students(profile, data, train_logits, sparsity=None) -> list[dict]:
    """Every student of ``compact_students``, pruned (``prune_student``) to
    the plan's sparsity (or ``sparsity``), as an int8 file and with shared
    weights: distil, prune, quantize. Sparsity 0 is the control: the same
    fine-tuning with nothing pruned."""
    plan, where, kd = PLANS[profile.name], deploy_dir(profile), chosen_kd()
    sparsity = plan.student_sparsity if sparsity is None else sparsity
    tag = "pruned" if sparsity else "tuned"
    records = []
    runs = [(w, r, s) for w, r in plan.students for s in profile.sweep_seeds]
    for width, recipe, seed in tqdm(
        runs, desc="pruned students", file=sys.stderr, ascii=True
    ):
        name = f"cnn-w{width}-{recipe}-seed{seed}"
        student = _student(where, name, width, recipe, seed, data,
                           train_logits, kd, plan.student_epochs)  # fmt: skip
        pruned = _cached_model(
            where / f"{name}-{tag}.keras",
            lambda: prune_student(
                student,
                sparsity,
                data,
                train_logits,
                kd,
                plan.prune_epochs,
                seed,
            ),
        )
        records += int8_and_shared(
            where,
            f"{name}-{tag}",
            lambda: pruned,
            lambda: shared(pruned),
            data,
            f"pruned {sparsity:.0%}, ",
            family=f"CNN student, {recipe}, {tag}",
            size=width,
            seed=seed,
        )
    return records


def head_files(profile, teacher, transfer, data) -> list[dict]:
    """Chapter 3's head (KD at chapter 4's setting) with the teacher's conv
    layers in front, trained without the held-out tail, as int8 files."""
    from book.distill import fit_head, kd_method
    from book.temperature import holdout_split

    plan, where, kd = PLANS[profile.name], deploy_dir(profile), chosen_kd()
    records = []
    for k in plan.head_sizes:
        for seed in profile.sweep_seeds:
            name = f"head-k{k}-seed{seed}"
            head = _cached_model(
                where / f"{name}.keras",
                lambda: (
                    fit_head(
                        k,
                        kd_method(kd.temperature, kd.alpha),
                        holdout_split(transfer),
                        seed,
                        profile.student_epochs,
                    ).model
                ),
            )
            records.append(
                measure(
                    where,
                    f"{name}-int8",
                    lambda: on_images(teacher, head, name),
                    data,
                    True,
                    family="head on the teacher's convs",
                    variant="int8",
                    size=k,
                    seed=seed,
                )
            )
    return records


# --- latency, in a process of its own ------------------------------------

LATENCY_COLUMNS = ["name", "litert_ms", "keras_ms"]


def latencies(profile: Profile, names: list[str]) -> pd.DataFrame:
    """Median batch-1 latency per image of the named files in the LiteRT
    interpreter, and of their Keras models run as a compiled function, both
    on one thread: measured in a fresh process, since TensorFlow fixes its
    thread count when it starts."""
    where, plan = deploy_dir(profile), PLANS[profile.name]
    path = where / f"latency-{settings_key(names)}.csv"

    def compute():
        command = [sys.executable, "-m", "book.deploy", str(where),
                   str(plan.latency_calls), *names]  # fmt: skip
        run = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
        )
        if run.returncode:
            raise RuntimeError(
                f"the latency benchmark ({' '.join(command[1:4])} ...) "
                f"failed:\n{run.stderr[-2000:]}"
            )
        return pd.read_csv(io.StringIO(run.stdout))

    def check(table):
        require(list(table.columns) == LATENCY_COLUMNS, "columns")
        require(list(table.name) == names, "other models")
        require((table[LATENCY_COLUMNS[1:]] > 0).all().all(), "times not > 0")

    return cached(path, compute, save_csv, load_csv, check)


def _median_ms(call, calls: int) -> float:
    for _ in range(20):  # warm-up
        call()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def _benchmark(where: Path, calls: int, names: list[str]) -> None:
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    tf.config.threading.set_intra_op_parallelism_threads(LATENCY_THREADS)
    tf.config.threading.set_inter_op_parallelism_threads(LATENCY_THREADS)
    image = np.random.default_rng(0).random((1, 28, 28, 1), "float32")
    rows = []
    for name in names:
        interpreter = Interpreter(
            model_path=str(where / f"{name}.tflite"),
            num_threads=LATENCY_THREADS,
        )
        interpreter.allocate_tensors()
        (source,), (sink,) = (
            interpreter.get_input_details(),
            interpreter.get_output_details(),
        )

        def litert():
            interpreter.set_tensor(source["index"], image)
            interpreter.invoke()
            return interpreter.get_tensor(sink["index"])

        model = keras.saving.load_model(
            where / f"{name}.keras", compile=False
        )
        compiled = tf.function(lambda x: model(x, training=False))
        tensor = tf.constant(image)
        rows.append(
            dict(
                name=name,
                litert_ms=_median_ms(litert, calls),
                keras_ms=_median_ms(lambda: compiled(tensor).numpy(), calls),
            )
        )
    pd.DataFrame(rows, columns=LATENCY_COLUMNS).to_csv(
        sys.stdout, index=False
    )


if __name__ == "__main__":
    _benchmark(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3:])


# --- results ---------------------------------------------------------------

TABLE_COLUMNS = [
    "name", "family", "variant", "size", "seed", "params", "nonzero",
    "bytes", "lzma_bytes", "holdout_accuracy", "test_accuracy",
    "keras_test_accuracy", "disagreements", "activation_bytes",
]  # fmt: skip


def write_table(profile: Profile, records: list[dict]) -> pd.DataFrame:
    """Every measured file, one row each, also as
    ``<results_dir>/deployables.csv``."""
    table = pd.DataFrame(records)[TABLE_COLUMNS]
    with atomic_path(results_dir(profile) / "deployables.csv") as tmp:
        save_csv(table, tmp)
    return table


def smallest_file(table: pd.DataFrame, f: float, size: str = "bytes"):
    """s(f) in bytes: the smallest file whose *held-out* accuracy reaches
    ``f`` (its test accuracy is then what it reports, not what chose it);
    None if no file does. Ties in size go to the higher held-out accuracy."""
    reaching = table[table.holdout_accuracy >= f]
    if reaching.empty:
        return None
    # among files of the same size, the most accurate on held-out images
    return reaching.sort_values(
        [size, "holdout_accuracy"], ascending=[True, False], kind="stable"
    ).iloc[0]


def compare_by_seed(
    runs: pd.DataFrame, a: str, b: str, tests: int | None = None
) -> pd.DataFrame:
    """Test accuracy of method ``a`` minus ``b`` per ``size``, seed by seed
    (runs of one seed share their initial weights), with t-intervals
    Bonferroni-corrected for ``tests`` comparisons (by default, the number
    of sizes): together, 95%."""
    from scipy import stats

    wide = runs.pivot_table(
        index=["size", "seed"], columns="method", values="test_accuracy"
    ).dropna(subset=[a, b])
    differences = (wide[a] - wide[b]).groupby(level="size")
    confidence = 1 - 0.05 / (tests or differences.ngroups)
    rows = []
    for width, d in differences:
        half = (
            stats.t.ppf(0.5 + confidence / 2, len(d) - 1)
            * d.std(ddof=1)
            / np.sqrt(len(d))
        )
        rows.append(
            {
                "size": width,
                "seeds": len(d),
                "difference": d.mean(),
                "low": d.mean() - half,
                "high": d.mean() + half,
                "confidence": confidence,
            }
        )
    return pd.DataFrame(rows)


PRUNING_MARGIN = 0.002  # held-out accuracy a pruned file may lose


def pruned_pick(table: pd.DataFrame, seed: int) -> pd.Series:
    """The pruned teacher to set against the float32 teacher, by a rule
    fixed in advance and applied on held-out images: among the settings
    (sparsity, shared weights or not) whose mean held-out accuracy over
    seeds is within ``PRUNING_MARGIN`` of the float32 teacher's, the one with
    the smallest mean file after lzma; its ``seed`` file."""
    teacher = table[table.name == "teacher-float32"].iloc[0]
    pruned = table[(table.family == "pruned teacher") & (table["size"] > 0)]
    means = pruned.groupby(["size", "variant"]).agg(
        holdout=("holdout_accuracy", "mean"), lzma=("lzma_bytes", "mean")
    )
    eligible = means[
        means.holdout >= teacher.holdout_accuracy - PRUNING_MARGIN
    ]
    size, variant = eligible.lzma.idxmin()
    return pruned[
        (pruned["size"] == size)
        & (pruned.variant == variant)
        & (pruned.seed == seed)
    ].iloc[0]


def bytes_headline(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """The intro's table in bytes: the teacher's files, the pruned teacher
    ``pruned_pick`` chooses and the smallest files reaching 0.98 and 0.99
    on held-out images (from the published ``deployables.csv``)."""
    if table is None:
        table = pd.read_csv(PUBLISHED / "deployables.csv")
    first_seed = int(table.seed.min())
    rows = [
        table[table.name == "teacher-float32"].iloc[0],
        table[table.name == "teacher-int8"].iloc[0],
        pruned_pick(table, first_seed),
    ]
    pick = rows[2]
    labels = [
        "teacher, float32",
        "teacher, int8",
        f"teacher, {pick['size']:.0%} of its dense layer pruned, "
        + pick.variant.removeprefix("pruned, "),
    ]
    for f in (0.98, 0.99):
        row = smallest_file(table, f)
        if row is not None:
            rows.append(row)
            labels.append(f"smallest file on disk reaching {f:g} (held-out)")
    chosen = pd.DataFrame(rows)
    return pd.DataFrame(
        {
            "model": labels,
            "file": chosen.name.values,
            "non-zero parameters": chosen.nonzero.values,
            "bytes on disk": chosen["bytes"].values,
            "bytes after lzma": chosen.lzma_bytes.values,
            "test accuracy": chosen.test_accuracy.values,
        }
    )


def paired_images(a: dict, b: dict) -> tuple[float, float, float]:
    """``a``'s test accuracy minus ``b``'s, image by image (the same test
    images): the mean difference and its 95% t-interval."""
    from book.stats import t_interval

    correct = [
        np.frombuffer(r["test_correct"].encode(), "u1") - ord("0")
        for r in (a, b)
    ]
    return t_interval(correct[0].astype(float) - correct[1])


def publish_models(profile: Profile, table: pd.DataFrame, names, times):
    """Copy the named files to ``<results_dir>/models/`` with a table of
    their bytes, lzma bytes, accuracy (from the interpreter) and latency."""
    where, models = deploy_dir(profile), results_dir(profile) / "models"
    models.mkdir(exist_ok=True)
    for stale in models.glob("*.tflite"):
        if stale.stem not in names:
            stale.unlink()
    for name in names:
        with atomic_path(models / f"{name}.tflite") as tmp:
            tmp.write_bytes((where / f"{name}.tflite").read_bytes())
    rows = (
        table.set_index("name").loc[list(names)].join(times.set_index("name"))
    )
    listing = pd.DataFrame(
        {
            "file": [f"{n}.tflite" for n in names],
            "bytes": rows.bytes.values,
            "lzma_bytes": rows.lzma_bytes.values,
            "test_accuracy": rows.test_accuracy.values,
            "litert_ms": rows.litert_ms.round(3).values,
        }
    )
    with atomic_path(models / "models.csv") as tmp:
        save_csv(listing, tmp)
    return listing


# --- figures -------------------------------------------------------------

FAMILY_STYLES = {  # colour index in the book's palette, marker
    "teacher": (7, "o"),
    "pruned teacher": (0, "s"),
    "head on the teacher's convs": (2, "^"),
    "CNN student, distilled": (3, "X"),
    "CNN student, augmented": (6, "*"),
    "CNN student, distilled, pruned": (1, "P"),
    "CNN student, augmented, pruned": (4, "D"),
}


def plot_pruning(table: pd.DataFrame, teacher_file: dict):
    """Pruned teachers against the share of the dense layer's weights they
    keep (log axis, more pruning to the right): test accuracy (every seed a
    dot, the mean a line) and bytes after lzma; black: the float32 teacher."""
    import seaborn as sns

    from book import plots

    pruned = table[table.family == "pruned teacher"].assign(
        kept=lambda t: 1 - t["size"]
    )
    palette = sns.color_palette("colorblind")
    _, (left, right) = plots.figure(3.8, ncols=2)
    variants = sorted(pruned.variant.unique(), key=len)
    for variant, colour, marker in zip(variants, palette[:2], "os"):
        runs = pruned[pruned.variant == variant]
        means = runs.groupby("kept")[["test_accuracy", "lzma_bytes"]].mean()
        for ax, column in ((left, "test_accuracy"), (right, "lzma_bytes")):
            ax.plot(
                means.index,
                means[column],
                marker=marker,
                color=colour,
                mfc="white",
                label=variant.removeprefix("pruned, "),
            )
            ax.scatter(
                runs.kept, runs[column], color=colour, s=10, alpha=0.5, lw=0
            )
    for ax, column in ((left, "test_accuracy"), (right, "lzma_bytes")):
        ax.axhline(
            teacher_file[column],
            color="black",
            lw=1,
            label="teacher, float32",
        )
        ax.set(xscale="log", xlabel="share of the dense layer kept")
        ax.invert_xaxis()
    left.set(ylabel="test accuracy (LiteRT)")
    right.set(ylabel="bytes after lzma", yscale="log")
    handles, labels = left.get_legend_handles_labels()
    left.figure.legend(
        handles, labels, loc="outside lower center", ncol=3, fontsize="small"
    )
    return left.figure


def plot_bytes_frontier(table: pd.DataFrame):
    """Test accuracy against each file's size, on disk and after lzma (log
    axes): every file a point, one colour and marker per family; dotted:
    accuracy 0.98 and 0.99; dashed: 8,000 and 20,000 bytes."""
    import seaborn as sns

    from book import plots

    palette = sns.color_palette("colorblind")
    _, axes = plots.figure(4.6, ncols=2, sharey=True)
    for ax, size in zip(axes, ("bytes", "lzma_bytes")):
        for family, (colour, marker) in FAMILY_STYLES.items():
            runs = table[table.family == family]
            if not runs.empty:
                ax.scatter(
                    runs[size],
                    runs.test_accuracy,
                    color=palette[colour],
                    marker=marker,
                    s=28,
                    alpha=0.8,
                    label=family,
                )
        for level in (0.98, 0.99):
            ax.axhline(level, color="grey", lw=0.8, ls=":")
        for limit in (8_000, 20_000):
            ax.axvline(limit, color="grey", lw=0.8, ls="--")
        ax.set(
            xscale="log",
            xlabel="bytes on disk" if size == "bytes" else "bytes after lzma",
        )
    axes[0].set(
        ylabel="test accuracy (LiteRT)",
        ylim=(max(0.95, table.test_accuracy.min() - 0.002), None),
    )
    handles, labels = axes[0].get_legend_handles_labels()
    axes[0].figure.legend(
        handles, labels, loc="outside lower center", ncol=2, fontsize="small"
    )
    return axes[0].figure
