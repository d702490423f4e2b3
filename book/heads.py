"""Student heads whose random draws depend on (seed, k) alone, trained many at once.

The design issue 18 asks for, and what the sweep's campaign (``book.campaign``)
trains. A head of ``k`` hidden units trained with seed ``s`` gets

* its initial weights from a generator seeded with ``(s, k)`` (Glorot
  uniform with its own fan-in and fan-out, zero biases, as ``student_head``);
* its dropout mask at step ``t`` from a counter-based (stateless) generator
  keyed by ``(s, k, t)``;
* the batch order of seed ``s`` (one permutation per epoch).

None of these depends on the other heads of its group, so a head trained in a
group of thirty, or alone, follows the same draws: heads of one (seed, k)
trained with different losses start from the same weights and see the same
masks and batches, and their accuracies pair genuinely.

A group may mix losses (``Head.method``): its loss is the sum over heads of
each head's own loss, so each head gets its own gradient. The hidden layers of
all heads are one matmul and the output layers one block-diagonal matmul whose
off-diagonal blocks are masked to zero; Adadelta is elementwise, so every head
gets the update it would get alone, up to the rounding of a matmul of another
shape.
"""

from __future__ import annotations

import dataclasses
import gc
import time
from collections.abc import Callable, Sequence

import numpy as np

from book.data import NUM_CLASSES
from book.distill import (
    ADADELTA_LR,
    ADADELTA_RHO,
    STUDENT_BATCH,
    STUDENT_DROPOUT,
    Method,
    glorot_uniform_limit,
    targets,
)
from book.teacher import TransferSet


@dataclasses.dataclass(frozen=True)
class Head:
    """One student head of a group: its loss and its hidden size."""

    method: Method
    k: int


def initial_weights(seed: int, k: int, feature_dim: int):
    """A head's initial (hidden kernel, output kernel): drawn from
    ``(seed, k)`` only."""
    rng = np.random.default_rng([seed, k])
    hidden = rng.uniform(-1, 1, (feature_dim, k)) * glorot_uniform_limit(
        feature_dim, k
    )
    output = rng.uniform(-1, 1, (k, NUM_CLASSES)) * glorot_uniform_limit(
        k, NUM_CLASSES
    )
    return hidden.astype("float32"), output.astype("float32")


def dropout_key(seed: int, k: int) -> np.ndarray:
    """The key of a head's dropout stream: two integers from ``(seed, k)``
    only."""
    return (
        np.random.SeedSequence([seed, k, 1])
        .generate_state(2, np.uint32)
        .astype("int64")
    )


def batch_orders(seed: int, n: int, epochs: int, shuffle: bool = True):
    """One permutation of the ``n`` training rows per epoch, from ``seed`` only."""
    rng = np.random.default_rng(seed)
    return [
        rng.permutation(n) if shuffle else np.arange(n) for _ in range(epochs)
    ]


@dataclasses.dataclass
class GroupRun:
    """What ``fit_group`` returns, per head: test accuracy, test images right
    and hidden units that never activate on the training set; the training
    time; the trained weights, as arrays ``(kernel1, bias1, kernel2, bias2)``
    per head."""

    accuracy: np.ndarray
    correct: np.ndarray
    dead_units: np.ndarray
    seconds: float
    weights: list[tuple[np.ndarray, ...]]


def predict(
    weights: tuple[np.ndarray, ...], features: np.ndarray
) -> np.ndarray:
    """A trained head's predicted classes (inference: no dropout), from its
    ``(kernel1, bias1, kernel2, bias2)``."""
    w1, b1, w2, b2 = weights
    return np.concatenate(
        [
            (
                np.maximum(features[i : i + 4096] @ w1 + b1, 0) @ w2 + b2
            ).argmax(1)
            for i in range(0, len(features), 4096)
        ]
    )


def _columns(hidden_sizes: Sequence[int]) -> list[slice]:
    starts = np.cumsum([0, *hidden_sizes])
    return [slice(a, b) for a, b in zip(starts[:-1], starts[1:])]


def fit_group(
    heads: Sequence[Head],
    transfer: TransferSet,
    seed: int,
    epochs: int,
    *,
    dropout: float = STUDENT_DROPOUT,
    shuffle: bool = True,
    checkpoint=None,
    on_epoch_end: Callable[[int], None] | None = None,
) -> GroupRun:
    """Train ``heads`` together for ``epochs`` with seed ``seed``; score them on the test set.

    The recipe is ``book.distill.fit_head``'s (Adadelta 1.0, batch 32, dropout
    0.2, a fresh shuffle every epoch), written out as a loop rather than left
    to ``model.fit``: at batch 32 the optimizer's passes over the 9,216-row
    weight matrix are the largest single cost of a step, and TensorFlow's
    fused ``ResourceApplyAdadelta`` kernel does in three multithreaded passes
    what Keras' Adadelta does in about ten separate operations. The update
    rule is the same, which ``tests/test_heads.py`` checks against Keras'
    optimizer.
    All heads must share Adadelta's epsilon (one kernel call per variable).
    With ``checkpoint`` (a ``book.records.Checkpoint``), the state after every
    epoch is saved and a run started again resumes from it exactly (the
    dropout draws are keyed by the step, so there is no generator state to
    save); it is removed at the end.
    """
    import tensorflow as tf

    epsilons = {h.method.adadelta_epsilon for h in heads}
    if len(epsilons) != 1:
        raise ValueError(
            f"heads with Adadelta epsilons {sorted(epsilons)}: a group needs one"
        )
    (epsilon,) = epsilons
    # A finished run's training function and model form reference cycles that hold
    # its 2 GB copy of the features until the cycle collector runs: collect now,
    # before this run makes its own copy.
    gc.collect()
    sizes = [h.k for h in heads]
    columns = _columns(sizes)
    d, total, out = (
        transfer.train_features.shape[1],
        sum(sizes),
        NUM_CLASSES * len(heads),
    )
    kernel1 = np.zeros((d, total), "float32")
    kernel2 = np.zeros((total, out), "float32")
    mask = np.zeros((total, out), "float32")
    for i, (h, cols) in enumerate(zip(heads, columns)):
        outs = slice(NUM_CLASSES * i, NUM_CLASSES * (i + 1))
        kernel1[:, cols], kernel2[cols, outs] = initial_weights(seed, h.k, d)
        mask[cols, outs] = 1.0
    weights = [
        tf.Variable(kernel1),
        tf.Variable(np.zeros(total, "float32")),
        tf.Variable(kernel2),
        tf.Variable(np.zeros(out, "float32")),
    ]
    slots = [
        (tf.Variable(tf.zeros_like(w)), tf.Variable(tf.zeros_like(w)))
        for w in weights
    ]
    state = [*weights, *(v for pair in slots for v in pair)]
    block_mask = tf.constant(mask)
    keys = tf.constant(np.stack([dropout_key(seed, k) for k in sizes]))
    by_method: dict[str, tuple[Method, list[int]]] = {}
    for i, h in enumerate(heads):
        by_method.setdefault(h.method.name, (h.method, []))[1].append(i)

    def logits(features, masks=None):
        w1, b1, w2, b2 = weights
        hidden = tf.nn.relu(tf.matmul(features, w1) + b1)
        if masks is not None:
            hidden = hidden * masks
        z = tf.matmul(hidden, w2 * block_mask) + b2
        return tf.reshape(z, (-1, len(heads), NUM_CLASSES))

    def dropout_masks(rows, step):
        """Per head, keep with probability 1 - rate, from its own (seed, k, step)
        stream (heads of one k share theirs: it is the same stream)."""
        draws = {}
        for i, k in enumerate(sizes):
            if k not in draws:
                key = tf.random.experimental.stateless_fold_in(keys[i], step)
                draws[k] = tf.random.stateless_uniform((rows, k), seed=key)
        keep = tf.concat([draws[k] for k in sizes], axis=1) >= dropout
        return tf.cast(keep, tf.float32) / (1.0 - dropout)

    x = tf.constant(transfer.train_features)
    y = tf.constant(targets(transfer.train_logits, transfer.train_labels))
    n = int(x.shape[0])
    steps_per_epoch = -(-n // STUDENT_BATCH)

    @tf.function
    def train_epoch(order, first_step):
        for i in tf.range(steps_per_epoch):
            batch = order[i * STUDENT_BATCH : (i + 1) * STUDENT_BATCH]
            xb, yb = tf.gather(x, batch), tf.gather(y, batch)
            masks = (
                dropout_masks(
                    tf.shape(batch)[0], first_step + tf.cast(i, tf.int64)
                )
                if dropout > 0
                else None
            )
            with tf.GradientTape() as tape:
                predictions = logits(xb, masks)
                loss = tf.add_n(
                    [
                        tf.reduce_mean(
                            method.loss(
                                yb, tf.gather(predictions, index, axis=1)
                            )
                        )
                        for method, index in by_method.values()
                    ]
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
                    epsilon=epsilon,
                    grad=g,
                )

    first_epoch, seconds_before = 0, 0.0
    saved = (
        checkpoint.load([tuple(v.shape) for v in state], epochs)
        if checkpoint
        else None
    )
    if saved is not None:
        first_epoch, seconds_before, arrays = saved
        for variable, array in zip(state, arrays):
            variable.assign(array)
    orders = batch_orders(seed, n, epochs, shuffle)
    start_time = time.perf_counter()
    for epoch in range(first_epoch, epochs):
        train_epoch(
            tf.constant(orders[epoch]),
            tf.constant(epoch * steps_per_epoch, tf.int64),
        )
        if checkpoint is not None:
            checkpoint.save(
                epoch + 1,
                seconds_before + time.perf_counter() - start_time,
                [v.numpy() for v in state],
            )
        if on_epoch_end is not None:
            on_epoch_end(epoch)
    seconds = seconds_before + time.perf_counter() - start_time

    predicted = np.concatenate(
        [
            np.argmax(
                logits(transfer.test_features[i : i + 4096]).numpy(), -1
            )
            for i in range(0, len(transfer.test_labels), 4096)
        ]
    )
    correct = (predicted == transfer.test_labels[:, None]).sum(axis=0)
    peak = np.full(total, -np.inf, "float32")
    for i in range(0, n, 8192):
        pre = tf.matmul(x[i : i + 8192], weights[0]) + weights[1]
        peak = np.maximum(peak, tf.reduce_max(pre, axis=0).numpy())
    dead = np.array([int((peak[cols] <= 0).sum()) for cols in columns])
    w1, b1, w2, b2 = (w.numpy() for w in weights)
    per_head = [
        (
            w1[:, cols],
            b1[cols],
            w2[cols, NUM_CLASSES * i : NUM_CLASSES * (i + 1)],
            b2[NUM_CLASSES * i : NUM_CLASSES * (i + 1)],
        )
        for i, cols in enumerate(columns)
    ]
    if checkpoint is not None:
        checkpoint.remove()
    return GroupRun(
        correct / len(transfer.test_labels), correct, dead, seconds, per_head
    )
