"""Benchmark: how fast the book runs on this machine, against what the machine can do.

    python benchmarks/performance.py                 # peaks, teacher levers, the campaign's bound
    python benchmarks/performance.py --cold-chapters # also execute every chapter cold (long)

Prints a table per section and writes everything to ``results/performance.json``:

1. the machine: its CPU as the campaign's records name it, the fp32 and
   bf16 matmul peak (4096 x 4096, TensorFlow) and the memory bandwidth of an
   elementwise pass over arrays the size of a fused group's first layer;
2. the teacher's training throughput (Adadelta, batch 128) in images/s and in
   achieved GFLOP/s from its FLOP count, as a fraction of the fp32 peak, for
   each speed lever: as published (``fit`` on NumPy arrays), a ``tf.data``
   pipeline with prefetch, XLA (``jit_compile``), bf16 mixed precision, and
   thread settings. Each lever runs in a fresh process, because TensorFlow
   fixes its thread pools and Keras its dtype policy at start-up;
3. the campaign's cost: the training seconds every record holds, per CPU,
   and for the records trained on this CPU the design's bound
   (``book.campaign.training_time``: a fused group's FLOPs at the matmul
   peak plus the bytes its steps must move at the measured bandwidth; any
   other run counts its own time), with their ratio;
4. the wall time of every chapter: with ``--cold-chapters``, executed now in
   the full profile from an empty artifact cache (outputs and results go to
   a scratch folder, never over the published ones); otherwise the times
   that ``python -m book.execute`` stamped into the committed notebooks.

Run it on an idle machine (nothing else training): every number is a speed.
Not a test: the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Lever name -> (environment for its process, keyword arguments of teacher_throughput).
LEVERS = {
    "as published (fit on NumPy)": ({}, {}),
    "tf.data + prefetch": ({}, dict(pipeline=True)),
    "XLA (jit_compile)": ({}, dict(jit_compile=True)),
    "bf16 mixed precision": ({}, dict(bf16=True)),
    "1 inter-op thread, 2 intra-op": ({"TF_NUM_INTEROP_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "2"}, {}),
    "intra-op threads = 1": ({"TF_NUM_INTRAOP_THREADS": "1"}, {}),
}
# Issue 6's targets, and issue 18's: the campaign within 1.5 times the design's bound.
TARGETS = dict(book_cold_minutes=20, teacher_epoch_seconds=20, ci_minutes=15, bound_ratio=1.5)


def matmul_peak(dtype: str, n: int = 4096, reps: int = 10) -> float:
    """GFLOP/s of an n x n matmul in TensorFlow, best of three timings of ``reps`` products."""
    import tensorflow as tf

    a = tf.random.normal((n, n), dtype="float32")
    a = tf.cast(a, dtype)
    tf.reduce_sum(tf.matmul(a, a)).numpy()  # warm-up
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(reps):
            c = tf.matmul(a, a)
        tf.reduce_sum(c).numpy()  # waits for the last product
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 * reps / best / 1e9


def memory_bandwidth(units: int = 282, reps: int = 20) -> float:
    """GB/s moved by an elementwise update over arrays the size of a fused
    sweep group's first layer (9,216 x ``units`` float32, the campaign's
    three-method group by default): ``c = a + b`` reads two arrays and writes
    one, the access pattern of Adadelta's passes. Best of three timings.
    The working set decides which level of the memory hierarchy this measures,
    hence arrays of the real size rather than a generic stream benchmark."""
    import numpy as np

    from book.models import FEATURES

    a, b = (np.ones((FEATURES, units), "float32") for _ in range(2))
    c = np.empty_like(a)
    np.add(a, b, out=c)  # warm-up
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(reps):
            np.add(a, b, out=c)
        best = min(best, time.perf_counter() - start)
    return 3 * a.nbytes * reps / best / 1e9


def teacher_train_flops_per_image() -> float:
    """Training FLOPs per image: 3x the forward pass (forward, input and weight gradients)."""
    from book.models import teacher_model

    forward = 0
    for layer in teacher_model().layers:
        kind = type(layer).__name__
        if kind == "Conv2D":
            h, w, c_out = layer.output.shape[1:]
            k_h, k_w, c_in, _ = layer.kernel.shape
            forward += 2 * h * w * c_out * k_h * k_w * c_in
        elif kind == "Dense":
            forward += 2 * layer.kernel.shape[0] * layer.kernel.shape[1]
    return 3.0 * forward


def teacher_throughput(images: int, pipeline=False, jit_compile=False, bf16=False) -> dict:
    """Images/s of teacher training on ``images`` training images, after a warm-up."""
    import keras
    import tensorflow as tf

    from book.data import load_mnist
    from book.models import teacher_model
    from book.profile import PROFILES
    from book.teacher import ADADELTA_LR, TEACHER_BATCH

    if bf16:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    data = load_mnist(PROFILES["full"])
    x, y = data.x_train[:images], data.y_train[:images]
    keras.utils.set_random_seed(0)
    model = teacher_model()
    model.compile(optimizer=keras.optimizers.Adadelta(ADADELTA_LR),
                  loss="sparse_categorical_crossentropy", jit_compile=jit_compile)

    def fit(n):
        if pipeline:
            ds = tf.data.Dataset.from_tensor_slices((x[:n], y[:n])).shuffle(n, seed=0)
            model.fit(ds.batch(TEACHER_BATCH).prefetch(tf.data.AUTOTUNE), epochs=1, verbose=0)
        else:
            model.fit(x[:n], y[:n], batch_size=TEACHER_BATCH, epochs=1, verbose=0)

    fit(20 * TEACHER_BATCH)  # tracing and compilation happen here, not in the timing
    start = time.perf_counter()
    fit(images)
    seconds = time.perf_counter() - start
    return dict(images=images, seconds=round(seconds, 2), images_per_second=round(images / seconds, 1))


def teacher_accuracy(bf16=False) -> dict:
    """Train the teacher with the published recipe (``book.teacher.train_teacher``) under a
    lever that needs no change to that code; its test accuracy and wall time."""
    import keras

    from book.data import load_mnist
    from book.profile import PROFILES
    from book.teacher import train_teacher

    if bf16:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    profile = PROFILES["full"]
    start = time.perf_counter()
    _, history = train_teacher(load_mnist(profile), profile.teacher_epochs, verbose=0)
    return dict(test_accuracy=round(history["val_accuracy"][-1], 4), epochs=profile.teacher_epochs,
                seconds=round(time.perf_counter() - start, 1))


def run_levers(images: int, repeats: int) -> dict:
    """Every lever of ``LEVERS``, each in its own process, ``repeats`` rounds in turn (so that
    a slow spell of the machine hits all levers alike); the best round of each.

    Best, not median: on this 2-CPU machine a process sometimes runs at about one
    core's speed (the same images/s as with one intra-op thread), whatever the lever,
    and interference only ever slows a round down."""
    rounds = {name: [] for name in LEVERS}
    for round_ in range(repeats):
        for name, (env, kwargs) in LEVERS.items():
            out = subprocess.run(
                [sys.executable, __file__, "--one-lever", json.dumps(dict(images=images, **kwargs))],
                env={**os.environ, **env}, capture_output=True, text=True, check=True,
            )
            rounds[name].append(json.loads(out.stdout.strip().splitlines()[-1])["images_per_second"])
            print(f"  round {round_ + 1}: {name:32} {rounds[name][-1]:8.1f} images/s", flush=True)
    return {name: dict(images=images, repeats=repeats, images_per_second=max(values),
                       all_images_per_second=values) for name, values in rounds.items()}


def chapter_times(cold: bool) -> dict:
    """Seconds per notebook: executed cold now, or as stamped by the last ``book.execute`` run."""
    from book.execute import notebook_sources

    if not cold:
        import nbformat

        times = {}
        for md in notebook_sources():
            notebook = md.with_suffix(".ipynb")  # a chapter never executed has none
            stamp = nbformat.read(notebook, as_version=4).metadata.get("book", {}) if notebook.is_file() else {}
            times[md.stem] = stamp.get("seconds")
        return dict(source="stamped by the last `python -m book.execute`", seconds=times)

    from book.cache import ROOT

    scratch = Path(tempfile.mkdtemp(prefix="book-cold-"))
    env = {**os.environ, "BOOK_PROFILE": "full", "BOOK_ARTIFACTS": str(scratch / "artifacts"),
           "BOOK_RESULTS": str(scratch / "results")}
    run_one = "import sys; from pathlib import Path; from book.execute import execute; print(execute(Path(sys.argv[1])))"
    try:
        times = {}
        for md in notebook_sources():  # executed as copies: the committed notebooks stay as they are
            copy = scratch / md.relative_to(ROOT)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(md, copy)
            out = subprocess.run([sys.executable, "-c", run_one, str(copy)], env=env,
                                 capture_output=True, text=True, check=True)
            times[md.stem] = round(float(out.stdout.strip().splitlines()[-1]), 1)
            print(f"  {md.stem}: {times[md.stem]:8.1f} s", flush=True)
        return dict(source="executed cold by this benchmark", seconds=times)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


RETIME = """
import sys
from book import campaign, records
from book.profile import PROFILES
full = PROFILES["full"]
job = campaign.job_named(sys.argv[1])
unit = next(u for u in job.units(full) if str(u) == sys.argv[2])
path = job.path(full, unit)
path.unlink()
records.manifest_path(path).unlink()
campaign.run(full, only=job.name)  # trains the one unit now missing
times = campaign.training_time(full, float(sys.argv[3]), float(sys.argv[4]))
print(times[(times.job == job.name) & (times.unit == str(unit))].iloc[0].to_json())
"""


def retime_group(name: str, gflops: float, gb_per_s: float) -> dict:
    """Train one finished group (``name`` is ``job:unit``) again on this
    machine, into a scratch copy of the records (the published ones stay as
    they are): its seconds here beside the design's bound, and the seconds
    its record holds from the CPU that trained it."""
    from book import campaign, records
    from book.profile import PROFILES
    from book.results import PUBLISHED

    job_name, unit = name.split(":")
    job = campaign.job_named(job_name)
    published = job.path(
        PROFILES["full"],
        next(u for u in job.units(PROFILES["full"]) if str(u) == unit),
    )
    recorded = json.loads(records.manifest_path(published).read_text())
    scratch = Path(tempfile.mkdtemp(prefix="book-retime-"))
    try:
        shutil.copytree(PUBLISHED, scratch / "results")
        env = {**os.environ, "BOOK_PROFILE": "full",
               "BOOK_RESULTS": str(scratch / "results")}
        out = subprocess.run(
            [sys.executable, "-c", RETIME, job_name, unit, str(gflops), str(gb_per_s)],
            env=env, capture_output=True, text=True, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        return dict(job=job_name, unit=unit, units=row["units"],
                    seconds=round(row["seconds"], 1),
                    bound_seconds=round(row["bound_seconds"], 1),
                    recorded_seconds=round(recorded["seconds"], 1),
                    recorded_cpu=recorded["cpu"])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def campaign_cost(machine: str, gflops: float, gb_per_s: float, retimed: list) -> dict:
    """The training minutes the campaign's records hold, per CPU, and for the
    records trained on ``machine`` (this one) the design's bound at its
    measured matmul peak and bandwidth (``book.campaign.training_time``);
    ``retimed``: groups trained again here (``retime_group``), which join
    the ratio of measured time to the bound."""
    from book import campaign
    from book.profile import PROFILES

    def minutes(seconds) -> float:  # a plain float, as JSON takes it
        return round(float(seconds.sum()) / 60, 1)

    times = campaign.training_time(PROFILES["full"], gflops, gb_per_s)
    here = times[times.cpu == machine]
    measured, bound = minutes(here.seconds), minutes(here.bound_seconds)
    # Only a fused group has an estimate of its own (the others count their
    # measured time as their bound): without one trained here, no ratio.
    fused = here[here.units >= campaign.FUSED_MIN_UNITS]
    # plain floats: JSON takes no NumPy scalars, nor the bools compared from them
    seconds = float(fused.seconds.sum()) + sum(r["seconds"] for r in retimed)
    bound_seconds = float(fused.bound_seconds.sum()) + sum(r["bound_seconds"] for r in retimed)
    return dict(
        minutes_by_cpu={cpu: minutes(g.seconds) for cpu, g in times.groupby("cpu")},
        groups=len(times),
        groups_here=len(here),
        fused_groups_here=len(fused),
        measured_minutes=measured,
        bound_minutes=bound,
        retimed=retimed,
        ratio=round(seconds / bound_seconds, 2) if bound_seconds else None,
        by_job=[dict(job=job, groups=len(g), minutes=minutes(g.seconds),
                     bound_minutes=minutes(g.bound_seconds))
                for job, g in here.groupby("job", sort=False)],
    )


def ci_seconds() -> float:
    """Wall time of ``.ci/run`` (install included) on a fresh clone of the committed HEAD."""
    from book.cache import ROOT

    scratch = Path(tempfile.mkdtemp(prefix="book-ci-"))
    try:
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(scratch / "main")], check=True)
        (scratch / "shared").symlink_to(ROOT.parent / "shared")
        start = time.perf_counter()
        subprocess.run(["bash", ".ci/run"], cwd=scratch / "main", check=True, capture_output=True)
        return time.perf_counter() - start
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teacher-images", type=int, default=15_000,
                        help="training images per lever timing (default 15,000, a quarter epoch)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="rounds over the levers; each lever reports its best (default 3)")
    parser.add_argument("--cold-chapters", action="store_true",
                        help="execute every chapter from an empty cache (takes as long as the book)")
    parser.add_argument("--bf16-accuracy", action="store_true",
                        help="also train the whole teacher in bf16 and report its test accuracy (minutes)")
    parser.add_argument("--retime", action="append", default=[], metavar="JOB:UNIT",
                        help="train this finished group again here, for the ratio to the bound "
                        "(for example controls:0; minutes each; repeatable)")
    parser.add_argument("--ci", action="store_true",
                        help="also time .ci/run on a fresh clone of the committed HEAD (minutes)")
    # Internal: what runs in a fresh process (TensorFlow fixes its threads and Keras its dtype
    # policy at start-up), its keyword arguments as JSON; the result is printed as JSON.
    parser.add_argument("--one-lever", help=argparse.SUPPRESS)
    parser.add_argument("--whole-teacher", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_lever:
        print(json.dumps(teacher_throughput(**json.loads(args.one_lever))))
        return
    if args.whole_teacher:
        print(json.dumps(teacher_accuracy(**json.loads(args.whole_teacher))))
        return

    from book.cache import write_json
    from book.profile import PROFILES
    from book.records import cpu_model
    from book.results import results_dir

    machine = cpu_model()
    print(f"machine: {machine}, {os.cpu_count()} CPUs", flush=True)
    peaks = {dtype: round(matmul_peak(dtype), 1) for dtype in ("float32", "bfloat16")}
    gb_per_s = round(memory_bandwidth(), 1)
    for dtype, gflops in peaks.items():
        print(f"  matmul peak {dtype:9} {gflops:7.1f} GFLOP/s")
    print(f"  memory bandwidth      {gb_per_s:7.1f} GB/s")

    flops = teacher_train_flops_per_image()
    print(f"teacher training, {flops / 1e6:.1f} MFLOP per image, {args.teacher_images:,} images per lever, "
          f"best of {args.repeats} rounds")
    levers = run_levers(args.teacher_images, args.repeats)
    for result in levers.values():
        result["gflops"] = round(result["images_per_second"] * flops / 1e9, 1)
        result["fraction_of_fp32_peak"] = round(result["gflops"] / peaks["float32"], 3)
        result["epoch_seconds"] = round(60_000 / result["images_per_second"], 1)
    print(f"  {'lever':32} {'images/s':>9} {'GFLOP/s':>8} {'of fp32 peak':>13} {'60k epoch':>10}")
    for name, r in levers.items():
        print(f"  {name:32} {r['images_per_second']:9.1f} {r['gflops']:8.1f} "
              f"{r['fraction_of_fp32_peak']:13.0%} {r['epoch_seconds']:9.1f}s")

    bf16_teacher = None
    if args.bf16_accuracy:
        print("teacher trained in bf16, published recipe ...", end=" ", flush=True)
        out = subprocess.run([sys.executable, __file__, "--whole-teacher", json.dumps(dict(bf16=True))],
                             capture_output=True, text=True, check=True)
        bf16_teacher = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"test accuracy {bf16_teacher['test_accuracy']}, {bf16_teacher['seconds']} s", flush=True)

    print("the campaign's records", flush=True)
    retimed = []
    for name in args.retime:
        print(f"  training {name} again here ...", end=" ", flush=True)
        retimed.append(retime_group(name, peaks["float32"], gb_per_s))
        r = retimed[-1]
        print(f"{r['seconds'] / 60:.1f} min (bound {r['bound_seconds'] / 60:.1f} min; "
              f"{r['recorded_seconds'] / 60:.1f} min on {r['recorded_cpu']})", flush=True)
    cost = campaign_cost(machine, peaks["float32"], gb_per_s, retimed)
    for cpu, minutes in cost["minutes_by_cpu"].items():
        print(f"  {cpu:40} {minutes:8.1f} min")
    print(f"  on this CPU: {cost['measured_minutes']} min measured, {cost['bound_minutes']} min "
          f"the design's bound; fused groups here: {cost['fused_groups_here']} (ratio {cost['ratio']})")

    print("chapters", flush=True)
    chapters = chapter_times(args.cold_chapters)
    total = sum(s for s in chapters["seconds"].values() if s)
    for name, seconds in chapters["seconds"].items():
        print(f"  {name:20} {seconds:8.1f} s" if seconds else f"  {name:20}  not executed")
    print(f"  {'total':20} {total:8.1f} s  ({chapters['source']})")
    published = levers["as published (fit on NumPy)"]

    ci = None
    if args.ci:
        print("CI on a fresh clone ...", end=" ", flush=True)
        ci = round(ci_seconds() / 60, 1)
        print(f"{ci} min", flush=True)

    # A cold run trains everything the records hold, then executes the chapters.
    cold_minutes = round(sum(cost["minutes_by_cpu"].values()) + total / 60, 1)
    result = dict(
        date=time.strftime("%Y-%m-%d"), machine=machine,
        cpus=os.cpu_count(), command="python benchmarks/performance.py"
        + "".join(f" --{flag.replace('_', '-')}" for flag in ("cold_chapters", "bf16_accuracy", "ci")
                  if getattr(args, flag)) + "".join(f" --retime {name}" for name in args.retime),
        matmul_gflops=peaks, memory_gb_per_s=gb_per_s,
        teacher_train_mflop_per_image=round(flops / 1e6, 2),
        teacher_levers=[dict(lever=name, **r) for name, r in levers.items()],
        bf16_teacher=bf16_teacher, campaign=cost,
        chapters=dict(chapters, total_seconds=round(total, 1)),
        targets={
            "book cold <= 20 min": dict(measured_minutes=cold_minutes,
                                        met=cold_minutes <= TARGETS["book_cold_minutes"]),
            "campaign <= 1.5x its bound": dict(
                measured=cost["ratio"], met=None if cost["ratio"] is None
                else cost["ratio"] <= TARGETS["bound_ratio"]),
            "teacher epoch <= 20 s": dict(measured_seconds=published["epoch_seconds"],
                                          met=published["epoch_seconds"] <= TARGETS["teacher_epoch_seconds"]),
            "CI <= 15 min": dict(measured_minutes=ci, met=ci <= TARGETS["ci_minutes"] if ci else None),
        },
    )
    path = results_dir(PROFILES["full"]) / "performance.json"  # results/, or $BOOK_RESULTS
    write_json(path, result)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
