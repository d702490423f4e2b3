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

from book.cache import (
    artifacts_dir,
    cached,
    fields_check,
    require,
    settings_key,
    write_json,
)
from book.data import NUM_CLASSES, Mnist, data_fingerprint, load_mnist
from book.models import (
    FEATURE_LAYER,
    FEATURES,
    LOGIT_LAYER,
    TEACHER_PARAMS,
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


@dataclasses.dataclass
class TrainedTeacher:
    model: keras.Model
    history: dict  # per-epoch loss/accuracy on the training set, and on the test set
    path: Path


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


HISTORY_FIELDS = ("loss", "accuracy", "val_loss", "val_accuracy")


def teacher(
    profile: Profile, data: Mnist | None = None, seed: int = TEACHER_SEED
) -> TrainedTeacher:
    """The profile's trained teacher, from the cache or trained now."""
    path = (
        artifacts_dir(profile.name)
        / f"teacher-{settings_key(teacher_settings(profile, seed))}.keras"
    )
    history_path = path.with_suffix(".history.json")

    def compute():
        return train_teacher(
            data or load_mnist(profile), profile.teacher_epochs, seed=seed
        )

    def save(value, tmp):
        model, history = value
        write_json(
            history_path, history
        )  # before the model lands, so it exists whenever the model does
        model.save(tmp)

    def load(p):
        return keras.saving.load_model(p), json.loads(
            history_path.read_text()
        )

    def check(value):
        model, history = value
        require(
            model.count_params() == TEACHER_PARAMS,
            f"{model.count_params():,} parameters, expected {TEACHER_PARAMS:,}",
        )
        fields_check(HISTORY_FIELDS)(history)
        require(
            all(
                len(history[f]) == profile.teacher_epochs
                for f in HISTORY_FIELDS
            ),
            f"history of {len(history['loss'])} epochs, expected {profile.teacher_epochs}",
        )

    model, history = cached(path, compute, save, load, check)
    return TrainedTeacher(model, history, path)


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
    """The teacher with two outputs: its Flatten features and its pre-softmax logits."""
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
EXTRACTIONS = ("inference", "original")
ORIGINAL_BATCH = 1000
ORIGINAL_EXTRACTION_SEED = 0


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


def transfer_set(
    profile: Profile,
    teacher_seed: int = TEACHER_SEED,
    extraction: str = "inference",
) -> TransferSet:
    """The profile's transfer set, from the cache or extracted now (training the teacher if needed).

    ``extraction="original"`` reads the targets off the teacher the original's
    way (see ``EXTRACTIONS``), with dropout masks drawn from a fixed seed.
    """
    if extraction not in EXTRACTIONS:
        raise ValueError(
            f"extraction={extraction!r}; expected one of {EXTRACTIONS}"
        )
    key = settings_key(
        dict(
            teacher=teacher_settings(profile, teacher_seed),
            test_size=profile.test_size,
            extraction=extraction,
            v=2,
        )
    )
    name = (
        "transfer" if extraction == "inference" else f"transfer-{extraction}"
    )
    path = artifacts_dir(profile.name) / f"{name}-{key}.npz"

    def compute():
        data = load_mnist(profile)
        model = teacher(profile, data, teacher_seed).model
        if extraction == "original":
            keras.utils.set_random_seed(ORIGINAL_EXTRACTION_SEED)
        read = (
            extract if extraction == "inference" else extract_as_the_original
        )
        train_features, train_logits = read(model, data.x_train)
        test_features, test_logits = read(model, data.x_test)
        return TransferSet(
            train_features,
            train_logits,
            data.y_train,
            test_features,
            test_logits,
            data.y_test,
        )

    def save(value, tmp):
        # not dataclasses.asdict: it deep-copies the 2 GB of features
        np.savez(
            tmp,
            **{
                f.name: getattr(value, f.name)
                for f in dataclasses.fields(value)
            },
        )

    def load(p):
        with np.load(p, allow_pickle=False) as npz:
            fields = [f.name for f in dataclasses.fields(TransferSet)]
            require(
                sorted(npz.files) == sorted(fields),
                f"arrays {sorted(npz.files)}, expected {sorted(fields)}",
            )
            return TransferSet(**{k: npz[k] for k in fields})

    def check(value: TransferSet):
        data = load_mnist(profile)
        for split, n in (
            ("train", len(data.y_train)),
            ("test", len(data.y_test)),
        ):
            shapes = {
                f"{split}_features": (n, FEATURES),
                f"{split}_logits": (n, NUM_CLASSES),
                f"{split}_labels": (n,),
            }
            for name, shape in shapes.items():
                array = getattr(value, name)
                require(
                    array.shape == shape,
                    f"{name} has shape {array.shape}, expected {shape}",
                )
                require(
                    bool(np.isfinite(array).all()),
                    f"{name} holds NaN or infinite values",
                )

    return cached(path, compute, save, load, check)
