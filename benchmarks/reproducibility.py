"""Does training reproduce? One teacher epoch on the full data, each in a fresh process.

    python benchmarks/reproducibility.py   # about 5 minutes on 2 CPUs

Trains the teacher for one epoch (the book's recipe and seed) twice with
TensorFlow's defaults, twice with op determinism enabled, and once more of
each while another process keeps one core busy; compares a hash of the
weights. Writes ``results/reproducibility.json`` (or ``$BOOK_RESULTS``) with
the CPU it ran on, which the book cites when it says what a re-run
reproduces (chapter 5).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def one_epoch(deterministic: bool) -> dict:
    """Run in a subprocess: one teacher epoch; the weights' hash, test accuracy, seconds."""
    import numpy as np
    import tensorflow as tf

    if deterministic:
        tf.config.experimental.enable_op_determinism()
    from book.data import load_mnist
    from book.profile import PROFILES
    from book.teacher import train_teacher

    data = load_mnist(PROFILES["full"])
    start = time.perf_counter()
    model, history = train_teacher(data, epochs=1, verbose=0)
    weights = b"".join(np.asarray(w).tobytes() for w in model.get_weights())
    return dict(weights=hashlib.sha256(weights).hexdigest()[:16],
                test_accuracy=round(history["val_accuracy"][0], 4),
                seconds=round(time.perf_counter() - start, 1))


def fresh(deterministic: bool) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", json.dumps(deterministic)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(one_epoch(json.loads(sys.argv[2]))))
        return
    from book.cache import write_json
    from book.execute import cpu
    from book.profile import PROFILES
    from book.results import results_dir

    runs = []
    for load in (False, True):
        hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if load else None
        try:
            for deterministic in (False, True):
                for _ in range(1 if load else 2):
                    run = dict(fresh(deterministic), deterministic=deterministic, under_load=load)
                    print(run, flush=True)
                    runs.append(run)
        finally:
            if hog:
                hog.kill()
    same = {mode: len({r["weights"] for r in runs if r["deterministic"] == mode}) == 1 for mode in (False, True)}
    result = dict(cpu=cpu(), date=time.strftime("%Y-%m-%d"), runs=runs,
                  identical_default=same[False], identical_deterministic=same[True],
                  command="python benchmarks/reproducibility.py")
    path = results_dir(PROFILES["full"]) / "reproducibility.json"
    write_json(path, result)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
