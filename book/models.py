"""The teacher CNN, the student head, and how their sizes compare.

Introduced in chapter 1 (teacher) and chapter 3 (student head). Layers carry
explicit names so that summaries are identical from run to run.
"""

from __future__ import annotations

import keras
import pandas as pd

from book.data import IMAGE_SHAPE, NUM_CLASSES

BYTES_PER_PARAM = 4  # float32
FEATURE_LAYER = (
    "features"  # the teacher's Flatten output: what the student head reads
)
LOGIT_LAYER = (
    "logits"  # the teacher's pre-softmax output: what the student regresses
)
FEATURES = 12 * 12 * 64  # the Flatten output's width: 9,216
TEACHER_PARAMS = (
    1_199_882  # teacher_model().count_params(), checked by the tests
)
# conv1 (3x3x1 -> 32) and conv2 (3x3x32 -> 64), weights plus biases: 320 + 18,496.
# Every student head reuses them, so they count towards its size.
CONV_PARAMS = (3 * 3 * 1 + 1) * 32 + (3 * 3 * 32 + 1) * 64


def teacher_model() -> keras.Model:
    """The classic Keras ``mnist_cnn`` (1,199,882 parameters), softmax output."""
    layers = keras.layers
    image = keras.Input((*IMAGE_SHAPE, 1), name="image")
    x = layers.Conv2D(32, 3, activation="relu", name="conv1")(image)
    x = layers.Conv2D(64, 3, activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool")(x)
    x = layers.Dropout(0.25, name="dropout1")(x)
    x = layers.Flatten(name=FEATURE_LAYER)(x)
    x = layers.Dense(128, activation="relu", name="dense")(x)
    x = layers.Dropout(0.5, name="dropout2")(x)
    logits = layers.Dense(NUM_CLASSES, name=LOGIT_LAYER)(x)
    probs = layers.Activation("softmax", name="softmax")(logits)
    return keras.Model(image, probs, name="teacher")


def feature_dim(teacher: keras.Model) -> int:
    return teacher.get_layer(FEATURE_LAYER).output.shape[-1]


def student_head(
    hidden: int, feature_dim: int = FEATURES, dropout: float = 0.2
) -> keras.Model:
    """Dense(hidden, relu) -> Dropout -> Dense(10): the original's compressed model."""
    layers = keras.layers
    features = keras.Input((feature_dim,), name="teacher_features")
    x = layers.Dense(hidden, activation="relu", name="hidden")(features)
    x = layers.Dropout(dropout, name="dropout")(x)
    logits = layers.Dense(NUM_CLASSES, name="logits")(x)
    return keras.Model(features, logits, name=f"student_k{hidden}")


def head_params(hidden: int, feature_dim: int = FEATURES) -> int:
    """Parameters of ``student_head(hidden)``, by formula (no model needed)."""
    return (feature_dim + 1) * hidden + (hidden + 1) * NUM_CLASSES


def student_params(hidden: int, feature_dim: int = FEATURES) -> int:
    """A student's size: its head plus the two teacher conv layers it reuses."""
    return head_params(hidden, feature_dim) + CONV_PARAMS


def compression_rate(
    student_size: int, teacher_size: int = TEACHER_PARAMS
) -> float:
    """How many times smaller than the teacher (1,199,882 / 74,188 = 16.17 for k = 6)."""
    return teacher_size / student_size


def layer_table(model: keras.Model) -> pd.DataFrame:
    """One row per layer: name, type, output shape, parameters (plus a total row).

    Used instead of ``model.summary()``, whose box drawing depends on the
    console width, so that notebook outputs compare exactly under nbval.
    """
    rows = [
        dict(
            layer=layer.name,
            type=type(layer).__name__,
            output_shape=str(tuple(layer.output.shape)),
            params=layer.count_params(),
        )
        for layer in model.layers
    ]
    rows.append(
        dict(
            layer="total",
            type="",
            output_shape="",
            params=model.count_params(),
        )
    )
    return pd.DataFrame(rows).set_index("layer")


def footprint_mib(params: int) -> float:
    """Memory of the weights in MiB at 4 bytes per parameter (the original's "Mb")."""
    return params * BYTES_PER_PARAM / 2**20
