"""From parameters to bytes: pruning, quantization and LiteRT files.

Introduced in the bytes chapter. Every model this module reports on is a LiteRT
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
import lzma
import math
import time
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from book.cache import (
    atomic_path,
    require,
    save_csv,
)
from book.cnn import (
    CNN_BATCH,
    CNN_LEARNING_RATE,
    KdSetting,
    cnn_student,
    distillation_loss,
)
from book.data import Mnist
from book.distill import targets
from book.models import FEATURE_LAYER, LOGIT_LAYER
from book.profile import Profile
from book.results import PUBLISHED, results_dir
from book.teacher import TransferSet
from book.temperature import holdout_cut

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
    """A CNN student (the CNN students' chapter's) trained longer, on the
    training set minus its held-out tail, by one of ``RECIPES``. Shifted
    images have no cached teacher logits, so the augmented recipe learns
    from the labels."""
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


# --- latency (timed by book.deployables, in a process of its own) ---------

LATENCY_COLUMNS = ["name", "litert_ms", "keras_ms"]


def _median_ms(call, calls: int) -> float:
    for _ in range(20):  # warm-up
        call()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


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
        f"teacher, {pick['size']:.0%} of its first dense layer pruned, "
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


# The bytes chapter's targets, fixed before its runs: for an accuracy f, the
# most bytes on disk a file reaching it may have; and how many times smaller
# than the float32 teacher the pruned teacher's file should be after lzma.
FILE_TARGETS = {0.98: 8_000, 0.99: 20_000}
RATIO_TARGET = 40


def plot_bytes_frontier(table: pd.DataFrame):
    """Test accuracy against each file's size, on disk and after lzma (log
    axes): every file a point, one colour and marker per family; dotted:
    the accuracies of ``FILE_TARGETS``; dashed: their sizes."""
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
        for level, limit in FILE_TARGETS.items():
            ax.axhline(level, color="grey", lw=0.8, ls=":")
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
