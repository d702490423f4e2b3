"""Training student heads on the transfer set: the losses, and one head the Keras way.

Introduced in chapter 3 (``Method``, ``METHODS``, ``fit_head``) and chapter 4
(``kd_loss``, ``kd_method``). Many heads at once, as the campaign trains
them, are ``book.heads.fit_group``'s.

Every method sees the same targets: a ``(n, 11)`` array whose first ten
columns are the teacher's logits and whose last column is the true label, so
one training loop serves every loss.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Callable

import keras
import numpy as np
from keras import ops

from book.data import NUM_CLASSES
from book.models import student_head
from book.teacher import ADADELTA_LR, TransferSet

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
    from the student's and the teacher's before the squared error (the small heads' chapter's
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
    model: keras.Model | None
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


def glorot_uniform_limit(fan_in: int, fan_out: int) -> float:
    return math.sqrt(6.0 / (fan_in + fan_out))


ADADELTA_RHO, ADADELTA_EPSILON = (
    0.95,
    1e-7,
)  # Keras' defaults, as fit_head uses them
