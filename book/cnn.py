"""Fully distilled CNN students: their own conv layers, nothing borrowed from the teacher.

Introduced in the CNN students' chapter. A student is trained one of two ways, over seeds:

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
training step gives the same weights by both routes, and the campaign's
``distiller`` run (``book.campaign.train_distiller``) trains one student end
to end with ``Distiller`` itself.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pandas as pd

from book.data import NUM_CLASSES
from book.distill import targets
from book.models import compression_rate
from book.teacher import logits_model

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
    """Two conv blocks (``width``, then ``2 * width`` 3x3 filters, twice
    each, then 2x2 max-pooling) and a linear layer to 10 logits:
    ``63 w**2 + 335 w + 10`` parameters."""
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
    the scaled logits as probabilities (the CNN students' chapter shows the numbers).
    """
    return keras.distillation.LogitsDistillation(
        temperature, loss=keras.losses.KLDivergence()
    )


def distillation_loss(kd: KdSetting):
    """``Distiller.compute_loss`` with ``student_loss_weight=kd.alpha``, on
    cached teacher logits.

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
    """One CNN student, ``distilled`` (on cached teacher logits) or from
    ``scratch``."""
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
