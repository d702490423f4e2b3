"""Training student heads on the transfer set: the losses, one head, many heads at once.

Introduced in chapter 3 (``Method``, ``METHODS``, ``fit_head``, ``cached_head``), chapter 4
(``kd_loss``, ``kd_method``) and chapter 5 (``FusedHeads``, ``fit_fused_heads``).

Every method sees the same targets: a ``(n, 11)`` array whose first ten
columns are the teacher's logits and whose last column is the true label, so
one training loop serves every loss.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import math
import time
from pathlib import Path
from typing import Callable

import keras
import numpy as np
from keras import ops

from book.cache import (
    artifacts_dir,
    atomic_path,
    cached,
    fields_check,
    set_aside,
    settings_key,
)
from book.data import NUM_CLASSES
from book.models import student_head
from book.profile import Profile
from book.teacher import ADADELTA_LR, TransferSet, teacher_settings

STUDENT_BATCH = 32  # Keras' default, which the original's notebook used
STUDENT_DROPOUT = 0.2


def targets(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Teacher logits and true labels packed into one ``(n, 11)`` array."""
    return np.concatenate(
        [logits, labels[:, None].astype(logits.dtype)], axis=1
    )


def _unpack(y_true, y_pred):
    """Teacher logits and one-hot labels, broadcastable against ``y_pred``.

    ``y_pred`` is ``(batch, 10)`` for one head, ``(batch, heads, 10)`` for
    fused heads.
    """
    teacher_logits = y_true[:, :NUM_CLASSES]
    one_hot = ops.one_hot(
        ops.cast(y_true[:, NUM_CLASSES], "int32"), NUM_CLASSES
    )
    if len(y_pred.shape) == 3:
        teacher_logits, one_hot = (
            teacher_logits[:, None, :],
            one_hot[:, None, :],
        )
    return teacher_logits, one_hot


def _per_head_sum(per_example):
    """Sum over heads (if any): each head's gradient is its own loss's."""
    return (
        ops.sum(per_example, axis=-1)
        if len(per_example.shape) == 2
        else per_example
    )


def mse_logits_loss(y_true, y_pred):
    """Logit regression (Ba & Caruana 2014): squared error to the teacher's
    logits, averaged over the ten classes."""
    teacher_logits, _ = _unpack(y_true, y_pred)
    return _per_head_sum(
        ops.mean(ops.square(y_pred - teacher_logits), axis=-1)
    )


def centred_mse_loss(y_true, y_pred):
    """Logit regression on *centred* logits: each example's mean logit is removed
    from the student's and the teacher's before the squared error (chapter 5's
    control; the high-temperature limit of ``kd_loss`` up to a factor)."""
    teacher_logits, _ = _unpack(y_true, y_pred)
    centred = (y_pred - ops.mean(y_pred, axis=-1, keepdims=True)) - (
        teacher_logits - ops.mean(teacher_logits, axis=-1, keepdims=True)
    )
    return _per_head_sum(ops.mean(ops.square(centred), axis=-1))


def hard_label_loss(y_true, y_pred):
    """The no-teacher control: cross-entropy with the true labels."""
    _, one_hot = _unpack(y_true, y_pred)
    return _per_head_sum(
        -ops.sum(one_hot * ops.log_softmax(y_pred, axis=-1), axis=-1)
    )


def kd_loss(temperature, alpha):
    """Hinton et al.'s distillation loss, for one head or one setting per
    fused head:

        (1 - alpha) * T**2 * KL(softmax(z / T) || softmax(u / T))
        + alpha * CE(y, softmax(u))

    with teacher logits z, student logits u and true label y. The T**2
    keeps the soft term's gradients on the same scale whatever T (paper,
    section 2). ``temperature`` and ``alpha`` are scalars, or sequences with
    one value per head.
    """
    # one T per head, broadcast over the classes
    t = np.asarray(temperature, "float32")[..., None]
    a = np.asarray(alpha, "float32")

    def loss(y_true, y_pred):
        teacher_logits, one_hot = _unpack(y_true, y_pred)
        log_teacher = ops.log_softmax(teacher_logits / t, axis=-1)
        log_student = ops.log_softmax(y_pred / t, axis=-1)
        kl = ops.sum(
            ops.exp(log_teacher) * (log_teacher - log_student), axis=-1
        )
        hard = -ops.sum(one_hot * ops.log_softmax(y_pred, axis=-1), axis=-1)
        return _per_head_sum((1 - a) * t[..., 0] ** 2 * kl + a * hard)

    return loss


@dataclasses.dataclass(frozen=True)
class Method:
    name: str
    label: str  # for tables and legends
    loss: Callable
    adadelta_epsilon: float = 1e-7  # Keras 3's default; Keras 1.1-1.2, which the original ran on, used 1e-8


METHODS = {
    m.name: m
    for m in (
        Method("mse", "MSE on teacher logits", mse_logits_loss),
        Method("hard", "hard labels (no teacher logits)", hard_label_loss),
    )
}
# The original's student recipe: MSE on logits, Adadelta at Keras 1.1-1.2's epsilon.
ORIGINAL_MSE = Method(
    "mse-original",
    "MSE on logits, the original's way",
    mse_logits_loss,
    adadelta_epsilon=1e-8,
)


def kd_method(temperature: float, alpha: float) -> Method:
    """Temperature distillation with one (T, alpha) setting (chapter 4)."""
    return Method(
        f"kd-T{temperature:g}-a{alpha:g}",
        f"KD at T = {temperature:g}, α = {alpha:g}",
        kd_loss(temperature, alpha),
    )


def accuracy(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Accuracy of ``(n, 10)`` or ``(n, heads, 10)`` logits; one value per head."""
    predictions = np.argmax(logits, axis=-1)
    if predictions.ndim == 2:
        labels = labels[:, None]
    return (predictions == labels).mean(axis=0)


def _compile(model: keras.Model, method: Method, jit_compile="auto") -> None:
    model.compile(
        optimizer=keras.optimizers.Adadelta(learning_rate=ADADELTA_LR),
        loss=method.loss,
        jit_compile=jit_compile,
    )


@dataclasses.dataclass
class HeadResult:
    model: (
        keras.Model | None
    )  # None when the result comes from the cache (``cached_head``)
    history: dict
    test_accuracy: float
    seconds: float


def fit_head(
    hidden: int,
    method: Method,
    transfer: TransferSet,
    seed: int,
    epochs: int,
    verbose: int = 0,
) -> HeadResult:
    """Train one ``student_head(hidden)`` the plain Keras way (the
    original's loop)."""
    keras.utils.set_random_seed(seed)
    model = student_head(
        hidden, transfer.train_features.shape[1], STUDENT_DROPOUT
    )
    _compile(model, method)
    start = time.perf_counter()
    history = model.fit(
        transfer.train_features,
        targets(transfer.train_logits, transfer.train_labels),
        batch_size=STUDENT_BATCH,
        epochs=epochs,
        verbose=verbose,
    )
    seconds = time.perf_counter() - start
    test_logits = model.predict(
        transfer.test_features, batch_size=4096, verbose=0
    )
    return HeadResult(
        model,
        history.history,
        float(accuracy(test_logits, transfer.test_labels)),
        seconds,
    )


def cached_head(
    hidden: int,
    method: Method,
    transfer: TransferSet,
    seed: int,
    profile: Profile,
) -> HeadResult:
    """``fit_head`` for the profile's epochs, with its history, accuracy and time cached
    (chapter 3): re-executing the chapter does not retrain its two heads."""
    key = settings_key(
        dict(
            teacher=teacher_settings(profile),
            test_size=profile.test_size,
            hidden=hidden,
            method=method.name,
            seed=seed,
            epochs=profile.student_epochs,
            batch_size=STUDENT_BATCH,
            v=1,
        )
    )
    path = artifacts_dir(profile.name) / f"head-{key}.json"

    def save(result, tmp):
        history = {
            name: [float(v) for v in values]
            for name, values in result.history.items()
        }
        tmp.write_text(
            json.dumps(
                dict(
                    history=history,
                    test_accuracy=result.test_accuracy,
                    seconds=result.seconds,
                )
            )
        )

    def load(p):
        return HeadResult(model=None, **json.loads(p.read_text()))

    def check(result):
        fields_check(["loss"])(result.history)
        if len(result.history["loss"]) != profile.student_epochs:
            raise ValueError(
                f"history of {len(result.history['loss'])} epochs, expected {profile.student_epochs}"
            )

    return cached(
        path,
        lambda: fit_head(
            hidden, method, transfer, seed, profile.student_epochs
        ),
        save,
        load,
        check,
    )


def glorot_uniform_limit(fan_in: int, fan_out: int) -> float:
    return math.sqrt(6.0 / (fan_in + fan_out))


@keras.saving.register_keras_serializable(package="book")
class FusedHeads(keras.layers.Layer):
    """Many independent student heads as one layer: output ``(batch, heads, 10)``.

    The hidden layers of all heads are one ``(features, sum(hidden))`` matmul;
    the output layers are one block-diagonal ``(sum(hidden), heads * 10)``
    matmul whose off-diagonal blocks are masked to zero. Each block is
    initialised exactly as ``student_head`` initialises its own layers (Glorot
    uniform with that head's fan-in and fan-out, zero biases), heads share no
    parameter, and the loss is a sum of per-head losses. With an elementwise
    optimizer such as Adadelta every head therefore gets the same updates it
    would get if trained alone on the same batches -- at the cost of one
    large matmul instead of many small ones.
    """

    def __init__(
        self, hidden_sizes, seed=0, dropout=STUDENT_DROPOUT, **kwargs
    ):
        super().__init__(**kwargs)
        self.hidden_sizes = tuple(int(k) for k in hidden_sizes)
        self.seed = int(seed)
        self.rate = dropout
        self.dropout = keras.layers.Dropout(dropout, seed=self.seed)

    def head_slices(self):
        """Per head: its columns of the hidden layer and of the output layer."""
        starts = np.cumsum((0,) + self.hidden_sizes)
        return [
            (slice(a, b), slice(NUM_CLASSES * i, NUM_CLASSES * (i + 1)))
            for i, (a, b) in enumerate(zip(starts[:-1], starts[1:]))
        ]

    def build(self, input_shape):
        d, total = input_shape[-1], sum(self.hidden_sizes)
        out = NUM_CLASSES * len(self.hidden_sizes)
        rng = np.random.default_rng(self.seed)
        kernel1 = np.zeros((d, total), "float32")
        kernel2 = np.zeros((total, out), "float32")
        mask = np.zeros((total, out), "float32")
        for k, (cols, outs) in zip(self.hidden_sizes, self.head_slices()):
            kernel1[:, cols] = rng.uniform(
                -1, 1, (d, k)
            ) * glorot_uniform_limit(d, k)
            kernel2[cols, outs] = rng.uniform(
                -1, 1, (k, NUM_CLASSES)
            ) * glorot_uniform_limit(k, NUM_CLASSES)
            mask[cols, outs] = 1.0

        def weight(name, value):
            return self.add_weight(
                shape=value.shape,
                name=name,
                initializer=keras.initializers.Constant(value),
            )

        self.kernel1 = weight("hidden_kernel", kernel1)
        self.bias1 = weight("hidden_bias", np.zeros(total, "float32"))
        self.kernel2 = weight("output_kernel", kernel2)
        self.bias2 = weight("output_bias", np.zeros(out, "float32"))
        # Masked entries get zero gradient, so Adadelta leaves them at zero.
        self.block_mask = ops.convert_to_tensor(mask)

    def call(self, features, training=None):
        hidden = ops.relu(ops.matmul(features, self.kernel1) + self.bias1)
        hidden = self.dropout(hidden, training=training)
        logits = (
            ops.matmul(hidden, self.kernel2 * self.block_mask) + self.bias2
        )
        return ops.reshape(logits, (-1, len(self.hidden_sizes), NUM_CLASSES))

    def split(self) -> list[keras.Model]:
        """Each head as a plain ``student_head`` model carrying this layer's weights."""
        kernel1, bias1, kernel2, bias2 = (
            ops.convert_to_numpy(w)
            for w in (self.kernel1, self.bias1, self.kernel2, self.bias2)
        )
        heads = []
        for k, (cols, outs) in zip(self.hidden_sizes, self.head_slices()):
            head = student_head(k, kernel1.shape[0], self.rate)
            head.get_layer("hidden").set_weights(
                [kernel1[:, cols], bias1[cols]]
            )
            head.get_layer("logits").set_weights(
                [kernel2[cols, outs], bias2[outs]]
            )
            heads.append(head)
        return heads

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_sizes": self.hidden_sizes,
            "seed": self.seed,
            "dropout": self.rate,
        }


def fused_model(
    hidden_sizes,
    feature_dim: int,
    seed: int,
    dropout: float = STUDENT_DROPOUT,
):
    features = keras.Input((feature_dim,), name="teacher_features")
    heads = FusedHeads(hidden_sizes, seed=seed, dropout=dropout, name="heads")
    return keras.Model(features, heads(features), name="fused_heads")


ADADELTA_RHO, ADADELTA_EPSILON = (
    0.95,
    1e-7,
)  # Keras' defaults, as fit_head uses them


@dataclasses.dataclass
class FusedRun:
    """What ``fit_fused_heads`` returns: per head, test accuracy and the number
    of hidden units that never activate on the training set; the training time;
    and the trained model, to score it on other data."""

    accuracy: np.ndarray
    dead_units: np.ndarray
    seconds: float
    model: keras.Model


def dead_units(
    model: keras.Model, features, hidden_sizes, chunk: int = 8192
) -> np.ndarray:
    """Per head, the hidden ReLU units whose input is <= 0 for every row of
    ``features`` (in inference mode): units that never pass a gradient again."""
    import tensorflow as tf

    layer = model.get_layer("heads")
    peak = None
    for start in range(0, int(features.shape[0]), chunk):
        pre = (
            tf.matmul(features[start : start + chunk], layer.kernel1.value)
            + layer.bias1.value
        )
        batch_peak = tf.reduce_max(pre, axis=0)
        peak = batch_peak if peak is None else tf.maximum(peak, batch_peak)
    never = peak.numpy() <= 0
    return np.array(
        [int(never[cols].sum()) for cols, _ in layer.head_slices()]
    )


def fit_fused_heads(
    hidden_sizes,
    method: Method,
    transfer: TransferSet,
    seed: int,
    epochs: int,
    on_epoch_end: Callable[[int], None] | None = None,
    checkpoint: Path | None = None,
    dropout: float = STUDENT_DROPOUT,
    shuffle: bool = True,
) -> FusedRun:
    """Train one head per hidden size together; return test accuracies, dead units, seconds, model.

    ``seed`` fixes the initial weights, the batch order and the dropout masks.
    The recipe is ``fit_head``'s (Adadelta 1.0, batch 32, a fresh shuffle
    every epoch), but the loop is written out rather than left to
    ``model.fit``: at batch 32 the optimizer's passes over the 9,216-row
    weight matrix are the largest single cost of a step, and TensorFlow's
    fused ``ResourceApplyAdadelta`` kernel does in three multithreaded passes
    what Keras' Adadelta does in about ten separate operations (3x faster,
    measured on the 2-core CPU). The update rule is the same, which
    ``tests/test_distill.py`` checks against ``fit_head``'s Keras optimizer.

    With ``checkpoint`` (a file path), the state after every epoch is saved
    there atomically -- weights, optimizer slots, dropout RNG, epoch -- and a
    run started again resumes from it exactly; the file is removed at the end.
    A checkpoint that cannot be read or does not fit this run is set aside and
    the run starts from its first epoch.
    The seconds returned are the training time of all epochs, resumed or not.
    """
    import tensorflow as tf  # only here: the fused step uses TF's own kernels

    # A finished run's training function and model form reference cycles that hold its
    # 2 GB copy of the features until Python's cycle collector runs, which can be many
    # runs later: collect now, before this run makes its own copy (else a sweep in one
    # process runs out of memory).
    gc.collect()
    keras.utils.set_random_seed(seed)
    model = fused_model(
        hidden_sizes, transfer.train_features.shape[1], seed, dropout
    )
    weights = [
        w.value for w in model.trainable_variables
    ]  # the backing tf.Variables
    slots = [
        (tf.Variable(tf.zeros_like(w)), tf.Variable(tf.zeros_like(w)))
        for w in weights
    ]
    # Keras' Dropout keeps its RNG state in a variable (none when the rate is 0).
    dropout_rng = getattr(
        model.get_layer("heads").dropout, "seed_generator", None
    )
    rng_state = [dropout_rng.state.value] if dropout_rng else []
    state = [*weights, *(v for pair in slots for v in pair), *rng_state]
    x = tf.constant(transfer.train_features)
    y = tf.constant(targets(transfer.train_logits, transfer.train_labels))
    n = int(x.shape[0])

    @tf.function
    def train_epoch(order):
        for start in tf.range(0, n, STUDENT_BATCH):
            batch = order[start : start + STUDENT_BATCH]
            with tf.GradientTape() as tape:
                predictions = model(tf.gather(x, batch), training=True)
                loss = tf.reduce_mean(
                    method.loss(tf.gather(y, batch), predictions)
                )
            for w, g, (accum, accum_update) in zip(
                weights, tape.gradient(loss, weights), slots
            ):
                tf.raw_ops.ResourceApplyAdadelta(
                    var=w.handle,
                    accum=accum.handle,
                    accum_update=accum_update.handle,
                    lr=ADADELTA_LR,
                    rho=ADADELTA_RHO,
                    epsilon=method.adadelta_epsilon,
                    grad=g,
                )

    first_epoch, seconds_before = (
        0,
        0.0,
    )  # training time spent before an interruption
    if checkpoint is not None and Path(checkpoint).exists():
        try:
            with np.load(checkpoint, allow_pickle=False) as saved:
                expected = {f"v{i}" for i in range(len(state))} | {
                    "epoch",
                    "seconds",
                }
                if set(saved.files) != expected:
                    raise ValueError(
                        f"arrays {sorted(saved.files)}, expected {len(state)} variables, epoch, seconds"
                    )
                values = [saved[f"v{i}"] for i in range(len(state))]
                for value, variable in zip(values, state):
                    if value.shape != tuple(variable.shape):
                        raise ValueError(
                            f"a variable of shape {value.shape}, expected {tuple(variable.shape)}"
                        )
                epoch, seconds = int(saved["epoch"]), float(saved["seconds"])
                if not 0 <= epoch <= epochs:
                    raise ValueError(f"epoch {epoch}, expected 0-{epochs}")
        except Exception as err:  # noqa: BLE001 -- any damage: start over
            set_aside(
                checkpoint,
                f"unusable checkpoint ({type(err).__name__}: {err})",
            )
        else:
            for value, variable in zip(values, state):
                variable.assign(value)
            first_epoch, seconds_before = epoch, seconds
    rng = np.random.default_rng(seed)
    orders = [
        rng.permutation(n) if shuffle else np.arange(n) for _ in range(epochs)
    ]
    start_time = time.perf_counter()
    for epoch in range(first_epoch, epochs):
        train_epoch(tf.constant(orders[epoch]))
        if checkpoint is not None:
            with atomic_path(checkpoint) as tmp:
                np.savez(
                    tmp,
                    epoch=epoch + 1,
                    seconds=seconds_before + time.perf_counter() - start_time,
                    **{f"v{i}": v.numpy() for i, v in enumerate(state)},
                )
        if on_epoch_end is not None:
            on_epoch_end(epoch)
    seconds = seconds_before + time.perf_counter() - start_time
    test_logits = model.predict(
        transfer.test_features, batch_size=4096, verbose=0
    )
    dead = dead_units(model, x, hidden_sizes)
    if checkpoint is not None:
        Path(checkpoint).unlink(missing_ok=True)
    return FusedRun(
        accuracy(test_logits, transfer.test_labels), dead, seconds, model
    )
