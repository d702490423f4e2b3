"""Training the teacher and reading its transfer set off it.

Introduced in chapters 1 (``train_teacher``) and 2 (``taps``, ``extract``).
The campaign keeps the trained teacher as a record and caches the transfer
sets read off it (``book.campaign.stored_teacher`` and ``transfer``).
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np

from book.data import Mnist, data_fingerprint
from book.models import (
    FEATURE_LAYER,
    LOGIT_LAYER,
    teacher_model,
)
from book.profile import Profile

TEACHER_SEED = 0
TEACHER_BATCH = 128
# Keras 1/2's Adadelta defaulted to learning_rate=1.0 (Zeiler's rule has no
# learning rate at all); Keras 3's default of 0.001 leaves this network far
# below 0.99 after 12 epochs. The original ran with 1.0.
ADADELTA_LR = 1.0


def teacher_settings(profile: Profile, seed: int = TEACHER_SEED) -> dict:
    """Everything that makes a teacher: part of the key of every artifact made from it."""
    return dict(
        model="mnist_cnn/v1",
        epochs=profile.teacher_epochs,
        batch_size=TEACHER_BATCH,
        optimizer="adadelta",
        learning_rate=ADADELTA_LR,
        train_size=profile.train_size,
        data=data_fingerprint(profile),
        seed=seed,
        v=2,
    )


def train_teacher(
    data: Mnist,
    epochs: int,
    learning_rate: float = ADADELTA_LR,
    verbose: int = 2,
    seed: int = TEACHER_SEED,
) -> tuple[keras.Model, dict]:
    """Train ``teacher_model()`` with the original's recipe; one log line per epoch.

    The test set is evaluated after each epoch only to draw learning curves;
    nothing is selected on it.
    """
    keras.utils.set_random_seed(seed)
    model = teacher_model()
    model.compile(
        optimizer=keras.optimizers.Adadelta(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(
        data.x_train,
        data.y_train,
        batch_size=TEACHER_BATCH,
        epochs=epochs,
        validation_data=(data.x_test, data.y_test),
        verbose=verbose,
    )
    return model, {
        k: [float(v) for v in vs] for k, vs in history.history.items()
    }


@dataclasses.dataclass(frozen=True)
class TransferSet:
    """What the students learn from: teacher features and logits for every image."""

    train_features: (
        np.ndarray
    )  # (n_train, 9216) float32, the teacher's Flatten output
    train_logits: (
        np.ndarray
    )  # (n_train, 10) float32, the teacher's pre-softmax output
    train_labels: (
        np.ndarray
    )  # (n_train,) int64, the true labels (for the hard-label control)
    test_features: np.ndarray
    test_logits: np.ndarray
    test_labels: np.ndarray


def taps(model: keras.Model) -> keras.Model:
    """The teacher with two outputs: its Flatten features and its
    pre-softmax logits."""
    return keras.Model(
        model.input,
        [
            model.get_layer(FEATURE_LAYER).output,
            model.get_layer(LOGIT_LAYER).output,
        ],
    )


def logits_model(model: keras.Model) -> keras.Model:
    """The teacher without its softmax: what ``keras.distillation`` expects (chapter 7)."""
    return keras.Model(
        model.input,
        model.get_layer(LOGIT_LAYER).output,
        name="teacher_logits",
    )


# How the targets are read off the teacher. The book's way is inference mode
# (dropout off). The original called a backend function with Keras' learning
# phase set to 1, in batches of 1,000, for the training *and* the test images:
# both dropouts were on for the logits, and the Dropout(0.25) before Flatten
# was on for the features the students were trained and scored on.
ORIGINAL_BATCH = 1000


def extract(
    model: keras.Model, images: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Features and logits of ``images``, in inference mode (dropout off)."""
    # predict() runs with training=False: dropout is the identity, so every
    # image gets the same, deterministic targets.
    features, logits = taps(model).predict(images, batch_size=1024, verbose=0)
    return features, logits


def extract_as_the_original(
    model: keras.Model, images: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Features and logits of ``images`` with dropout on (training mode), in
    batches of 1,000 -- one random draw per image, as the original recorded them."""
    tapped = taps(model)
    batches = [
        tapped(images[i : i + ORIGINAL_BATCH], training=True)
        for i in range(0, len(images), ORIGINAL_BATCH)
    ]
    return (
        np.concatenate([np.asarray(f) for f, _ in batches]),
        np.concatenate([np.asarray(z) for _, z in batches]),
    )
