"""Training the teacher and extracting its transfer set, both cached.

Introduced in chapters 1 (``teacher``) and 2 (``transfer_set``). Any chapter
may call these in a fresh kernel: the first call trains or extracts and saves
the artifact atomically, later calls (and later chapters) load it.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import keras
import numpy as np

from book.cache import artifacts_dir, cached, settings_key, write_json
from book.data import Mnist, load_mnist
from book.models import FEATURE_LAYER, LOGIT_LAYER, teacher_model
from book.profile import Profile

TEACHER_SEED = 0
TEACHER_BATCH = 128
# Keras 1/2's Adadelta defaulted to learning_rate=1.0 (Zeiler's rule has no
# learning rate at all); Keras 3's default of 0.001 leaves this network far
# below 0.99 after 12 epochs. The original ran with 1.0.
ADADELTA_LR = 1.0


def teacher_settings(profile: Profile) -> dict:
    return dict(
        model="mnist_cnn/v1",
        epochs=profile.teacher_epochs,
        batch_size=TEACHER_BATCH,
        optimizer="adadelta",
        learning_rate=ADADELTA_LR,
        train_size=profile.train_size,
        seed=TEACHER_SEED,
    )


@dataclasses.dataclass
class TrainedTeacher:
    model: keras.Model
    history: dict  # per-epoch loss/accuracy on the training set, and on the test set
    path: Path


def train_teacher(
    data: Mnist, epochs: int, learning_rate: float = ADADELTA_LR, verbose: int = 2
) -> tuple[keras.Model, dict]:
    """Train ``teacher_model()`` with the original's recipe; one log line per epoch.

    The test set is evaluated after each epoch only to draw learning curves;
    nothing is selected on it.
    """
    keras.utils.set_random_seed(TEACHER_SEED)
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
    return model, {k: [float(v) for v in vs] for k, vs in history.history.items()}


def teacher(profile: Profile, data: Mnist | None = None) -> TrainedTeacher:
    """The profile's trained teacher, from the cache or trained now."""
    path = artifacts_dir(profile.name) / f"teacher-{settings_key(teacher_settings(profile))}.keras"
    history_path = path.with_suffix(".history.json")

    def compute():
        return train_teacher(data or load_mnist(profile), profile.teacher_epochs)

    def save(value, tmp):
        model, history = value
        write_json(history_path, history)  # before the model lands, so it exists whenever the model does
        model.save(tmp)

    def load(p):
        return keras.saving.load_model(p), json.loads(history_path.read_text())

    model, history = cached(path, compute, save, load)
    return TrainedTeacher(model, history, path)


@dataclasses.dataclass(frozen=True)
class TransferSet:
    """What the students learn from: teacher features and logits for every image."""

    train_features: np.ndarray  # (n_train, 9216) float32, the teacher's Flatten output
    train_logits: np.ndarray  # (n_train, 10) float32, the teacher's pre-softmax output
    train_labels: np.ndarray  # (n_train,) int64, the true labels (for the hard-label control)
    test_features: np.ndarray
    test_logits: np.ndarray
    test_labels: np.ndarray


def taps(model: keras.Model) -> keras.Model:
    """The teacher with two outputs: its Flatten features and its pre-softmax logits."""
    return keras.Model(
        model.input, [model.get_layer(FEATURE_LAYER).output, model.get_layer(LOGIT_LAYER).output]
    )


def logits_model(model: keras.Model) -> keras.Model:
    """The teacher without its softmax: what ``keras.distillation`` expects (chapter 7)."""
    return keras.Model(model.input, model.get_layer(LOGIT_LAYER).output, name="teacher_logits")


def extract(model: keras.Model, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Features and logits of ``images``, in inference mode (dropout off)."""
    # predict() runs with training=False: dropout is the identity, so every
    # image gets the same, deterministic targets. (The original extracted with
    # the learning phase set to 1, i.e. with dropout on.)
    features, logits = taps(model).predict(images, batch_size=1024, verbose=0)
    return features, logits


def transfer_set(profile: Profile) -> TransferSet:
    """The profile's transfer set, from the cache or extracted now (training the teacher if needed)."""
    key = settings_key(dict(teacher=teacher_settings(profile), test_size=profile.test_size, v=1))
    path = artifacts_dir(profile.name) / f"transfer-{key}.npz"

    def compute():
        data = load_mnist(profile)
        model = teacher(profile, data).model
        train_features, train_logits = extract(model, data.x_train)
        test_features, test_logits = extract(model, data.x_test)
        return TransferSet(
            train_features, train_logits, data.y_train, test_features, test_logits, data.y_test
        )

    def save(value, tmp):
        # not dataclasses.asdict: it deep-copies the 2 GB of features
        np.savez(tmp, **{f.name: getattr(value, f.name) for f in dataclasses.fields(value)})

    def load(p):
        with np.load(p) as npz:
            return TransferSet(**{k: npz[k] for k in npz.files})

    return cached(path, compute, save, load)
