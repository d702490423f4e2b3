"""Benchmark: the fused sweep against the original's one-model-per-size loop,
and where the fused sweep's time goes.

    python benchmarks/sweep_speed.py [--train-size 6000] [--epochs 2] [--seeds 1] [--rounds 3]

Both train the same heads (every sweep size, ``--seeds`` seeds, MSE on
logits, batch 32) on the first ``--train-size`` images of the full profile's
transfer set, on this machine, one after the other, ``--rounds`` times in
turn; the speed-up is the best round of the loop over the best round of the
fused model. Best rounds, not medians: timings on this 2-CPU machine are
bimodal (some processes run at about one core's speed, whatever the
program), and interference only ever adds time. It then times, at the shape
of one fused group (batch 32, 9,216 features, all sweep sizes' hidden
units), the three passes every step must make -- the forward matmul, the
weight-gradient matmul and TensorFlow's fused Adadelta update -- and the
whole step, each the best of three interleaved rounds, and projects them
onto one method of the published sweep. Prints everything;
``performance.py`` runs the same measurements and records them in
``results/performance.json``. Not a test: the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import time

import numpy as np
import pandas as pd

from book.distill import (ADADELTA_EPSILON, ADADELTA_RHO, METHODS, STUDENT_BATCH, fit_fused_heads,
                          fit_head)
from book.profile import PROFILES
from book.results import PUBLISHED
from book.sweep import minutes_per_method
from book.teacher import ADADELTA_LR, TransferSet, transfer_set

METHOD_TARGET_MINUTES = 10  # issue 3: one method, 15 sizes x 3 seeds x 40 epochs


def _first(full: TransferSet, n: int) -> TransferSet:
    """The transfer set cut to its first ``n`` training images."""
    return dataclasses.replace(
        full, train_features=full.train_features[:n], train_logits=full.train_logits[:n],
        train_labels=full.train_labels[:n],
    )


def measure(full: TransferSet, train_size: int = 6000, epochs: int = 2, seeds: int = 1,
            rounds: int = 3) -> dict:
    """Train the same heads both ways on the first ``train_size`` images of ``full`` (the full
    profile's transfer set), ``rounds`` times in turn; every round's wall times and the ratio
    of the best rounds."""
    subset = _first(full, train_size)
    sizes, method = PROFILES["full"].sweep_hidden_sizes, METHODS["mse"]
    per_size, fused = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        for seed in range(seeds):
            for k in sizes:
                fit_head(k, method, subset, seed, epochs)
        per_size.append(round(time.perf_counter() - start, 1))

        start = time.perf_counter()
        for seed in range(seeds):
            fit_fused_heads(sizes, method, subset, seed, epochs)
        fused.append(round(time.perf_counter() - start, 1))
        print(f"  round {len(fused)}: one model per size {per_size[-1]:6.1f} s, fused {fused[-1]:5.1f} s",
              flush=True)
    return dict(
        heads=len(sizes) * seeds, train_size=train_size, epochs=epochs, rounds=rounds,
        per_size_loop_seconds=per_size, fused_seconds=fused,
        speedups=[round(a / b, 2) for a, b in zip(per_size, fused)], speedup=round(min(per_size) / min(fused), 2),
        machine=platform.processor() or platform.machine(), date=time.strftime("%Y-%m-%d"),
    )


def _timed_loop(step):
    """``step(i)`` for i < n in one compiled loop (traced now); returns a function of n that
    runs it and returns the milliseconds per call."""
    import tensorflow as tf

    @tf.function
    def loop(n):
        for i in tf.range(n):
            step(i)

    loop(tf.constant(3))  # tracing

    def ms_per_call(n):
        start = time.perf_counter()
        loop(tf.constant(n))
        return (time.perf_counter() - start) / n * 1e3

    return ms_per_call


def step_breakdown(full: TransferSet, steps: int = 500, rounds: int = 3) -> dict:
    """Milliseconds per batch-32 step of one fused group's three big passes and of the whole
    fused step (each the best of ``rounds`` interleaved rounds), and what they imply for one
    published method (15 sizes x 3 seeds x 40 epochs)."""
    import tensorflow as tf

    profile = PROFILES["full"]
    subset = _first(full, 6000)
    x_all = full.train_features
    units, features = sum(profile.sweep_hidden_sizes), x_all.shape[1]
    x = tf.constant(subset.train_features)
    n = (x.shape[0] // STUDENT_BATCH) * STUDENT_BATCH
    rng = np.random.default_rng(0)
    kernel = tf.Variable(rng.normal(0, 0.01, (features, units)).astype("float32"))
    grad = tf.Variable(tf.zeros_like(kernel))
    slots = [tf.Variable(tf.zeros_like(kernel)) for _ in range(2)]
    hidden_grad = tf.constant(rng.normal(0, 1, (STUDENT_BATCH, units)).astype("float32"))
    hidden = tf.Variable(tf.zeros((STUDENT_BATCH, units)))
    probe = tf.Variable(0.0)  # a side effect, so the gradient is computed but not copied

    def batch(i):
        start = (i * STUDENT_BATCH) % n
        return x[start : start + STUDENT_BATCH]

    passes = dict(
        forward_matmul=lambda i: hidden.assign(batch(i) @ kernel),
        weight_gradient_matmul=lambda i: probe.assign(tf.matmul(batch(i), hidden_grad, transpose_a=True)[0, 0]),
        adadelta_update=lambda i: tf.raw_ops.ResourceApplyAdadelta(
            var=kernel.handle, accum=slots[0].handle, accum_update=slots[1].handle, lr=ADADELTA_LR,
            rho=ADADELTA_RHO, epsilon=ADADELTA_EPSILON, grad=grad),
    )
    loops = {name: _timed_loop(step) for name, step in passes.items()}

    # The whole step as the sweep runs it: the slope between a 1- and a 3-epoch fused run,
    # so model building, tracing and prediction cancel out.
    def whole_step_ms():
        seconds = {e: fit_fused_heads(profile.sweep_hidden_sizes, METHODS["mse"], subset, 0, e).seconds
                   for e in (1, 3)}
        return (seconds[3] - seconds[1]) / (2 * n / STUDENT_BATCH) * 1e3

    ms = dict.fromkeys([*passes, "whole_fused_step"], float("inf"))
    for _ in range(rounds):  # interleaved, so a slow spell of the machine hits every timing alike
        for name, ms_per_call in loops.items():
            ms[name] = min(ms[name], ms_per_call(steps))
        ms["whole_fused_step"] = min(ms["whole_fused_step"], whole_step_ms())
    ms = {name: round(value, 3) for name, value in ms.items()}

    # Rows of the first layer that a batch touches: a sparse update could skip the others.
    order = rng.permutation(len(x_all))[: 200 * STUDENT_BATCH].reshape(200, STUDENT_BATCH)
    touched = float(np.mean([(x_all[rows] != 0).any(axis=0).mean() for rows in order]))

    method_steps = len(profile.sweep_seeds) * profile.student_epochs * -(-len(x_all) // STUDENT_BATCH)
    three_passes = sum(ms[name] for name in passes)
    return dict(
        units=units, features=features, batch=STUDENT_BATCH, ms_per_step=ms,
        method_steps=method_steps,
        method_minutes_published=round(minutes_per_method(pd.read_csv(PUBLISHED / "sweep.csv")), 1),
        method_minutes_three_passes=round(three_passes * method_steps / 6e4, 1),
        method_minutes_whole_step=round(ms["whole_fused_step"] * method_steps / 6e4, 1),
        method_target_minutes=METHOD_TARGET_MINUTES,
        target_ms_per_step=round(METHOD_TARGET_MINUTES * 6e4 / method_steps, 2),
        rows_touched_per_batch=round(touched, 3),
    )


def print_breakdown(b: dict) -> None:
    print(f"one fused group ({b['units']} hidden units x {b['features']:,} features, batch {b['batch']}), "
          "ms per step:")
    for name, ms in b["ms_per_step"].items():
        print(f"  {name.replace('_', ' '):24} {ms:6.2f}")
    print(f"one method ({b['method_steps']:,} group steps): {b['method_minutes_published']} min in the published "
          f"sweep, {b['method_minutes_whole_step']} min at the step time above, "
          f"{b['method_minutes_three_passes']} min for the three passes alone; the "
          f"{b['method_target_minutes']}-minute target needs {b['target_ms_per_step']} ms per step")
    print(f"a batch touches {b['rows_touched_per_batch']:.0%} of the first layer's rows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train-size", type=int, default=6000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"{len(PROFILES['full'].sweep_hidden_sizes) * args.seeds} heads, {args.train_size} images, "
          f"{args.epochs} epochs, {args.rounds} rounds")
    full = transfer_set(PROFILES["full"])  # loaded once: 2 GB of features
    result = measure(full, args.train_size, args.epochs, args.seeds, args.rounds)
    print(f"speed-up (best rounds): {result['speedup']:.2f}x")
    result["breakdown"] = step_breakdown(full)
    print_breakdown(result["breakdown"])


if __name__ == "__main__":
    main()
