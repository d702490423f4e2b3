"""Benchmark: the fused sweep against the original's one-model-per-size loop.

    python benchmarks/sweep_speed.py [--train-size 6000] [--epochs 2] [--seeds 1]

Both train the same heads (every sweep size, ``--seeds`` seeds, MSE on
logits, batch 32) on the first ``--train-size`` images of the full profile's
transfer set, on this machine, one after the other. Prints both wall times
and their ratio, and writes them as JSON to ``results/sweep_speed.json``.
Not a test: the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import time

from book.cache import ROOT, write_json
from book.distill import METHODS, fit_fused_heads, fit_head
from book.profile import PROFILES
from book.teacher import TransferSet, transfer_set


def measure(train_size: int = 6000, epochs: int = 2, seeds: int = 1) -> dict:
    """Train the same heads both ways, one after the other; both wall times and their ratio."""
    profile = PROFILES["full"]
    full = transfer_set(profile)
    n = train_size
    subset = dataclasses.replace(
        full, train_features=full.train_features[:n], train_logits=full.train_logits[:n],
        train_labels=full.train_labels[:n],
    )
    sizes, method = profile.sweep_hidden_sizes, METHODS["mse"]

    start = time.perf_counter()
    for seed in range(seeds):
        for k in sizes:
            fit_head(k, method, subset, seed, epochs)
    per_size = time.perf_counter() - start

    start = time.perf_counter()
    for seed in range(seeds):
        fit_fused_heads(sizes, method, subset, seed, epochs)
    fused = time.perf_counter() - start

    return dict(
        heads=len(sizes) * seeds, train_size=n, epochs=epochs,
        per_size_loop_seconds=round(per_size, 1), fused_seconds=round(fused, 1),
        speedup=round(per_size / fused, 2), machine=platform.processor() or platform.machine(),
        date=time.strftime("%Y-%m-%d"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train-size", type=int, default=6000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=1)
    args = parser.parse_args()
    result = measure(args.train_size, args.epochs, args.seeds)
    print(f"{result['heads']} heads, {args.train_size} images, {args.epochs} epochs")
    print(f"one model per size: {result['per_size_loop_seconds']:7.1f} s")
    print(f"fused sweep:        {result['fused_seconds']:7.1f} s")
    print(f"speed-up:           {result['speedup']:7.2f}x")
    write_json(ROOT / "results" / "sweep_speed.json", result)


if __name__ == "__main__":
    main()
