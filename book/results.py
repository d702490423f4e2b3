"""Where measured results are written: ``results/`` (committed) for the full profile.

Introduced in chapter 1. The intro page builds its results table from these
files, so the book's headline numbers are never typed by hand. Other profiles
write to ``artifacts/<profile>/results/`` and never touch the published files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from book.cache import (
    ROOT,
    artifacts_dir,
    atomic_path,
    destination,
    write_json,
)
from book.profile import Profile

PUBLISHED = ROOT / "results"


RESULTS_ENV = "BOOK_RESULTS"  # redirects what a run writes (the benchmark's cold run uses it)


def results_dir(profile: Profile) -> Path:
    """``results/`` for the full profile, ``artifacts/<profile>/results`` otherwise, or
    ``$BOOK_RESULTS``; created and checked writable before any work."""
    default = (
        PUBLISHED
        if profile.name == "full"
        else artifacts_dir(profile.name) / "results"
    )
    return destination(RESULTS_ENV, default)


def record(profile: Profile, name: str, **values) -> Path:
    """Write ``values`` to ``<results_dir>/<name>.json`` (atomically) and return the path."""
    path = results_dir(profile) / f"{name}.json"
    write_json(path, dict(profile=profile.name, **values))
    return path


def published(name: str) -> dict:
    """A published (full-profile) result, as committed under ``results/``."""
    return json.loads((PUBLISHED / f"{name}.json").read_text())


def _stats(name: str, size: str) -> pd.DataFrame:
    """Mean, standard deviation and count of test accuracy per (method, size) of a published table."""
    runs = pd.read_csv(PUBLISHED / f"{name}.csv")
    return runs.groupby(
        ["method", "method_label", size, "params"], as_index=False, sort=False
    ).test_accuracy.agg(["mean", "std", "count"])


def short_label(method: str) -> str:
    """A method's name for a narrow table column: MSE, hard, KD, distilled, scratch."""
    prefix = method.split("-")[0]
    return {
        "mse": "MSE",
        "hard": "hard",
        "kd": "KD",
        "distilled": "distilled",
        "scratch": "scratch",
    }.get(prefix, method)


def _accuracy(mean: float, sd: float | None = None) -> str:
    return f"{mean:.4f}" if sd is None else f"{mean:.4f} ± {sd:.4f}"


def headline_table() -> pd.DataFrame:
    """The headline results (intro and README), built from the published results files:
    one row per model, the training method, the seeds, size and test accuracy (mean ± SD)."""
    from book import original
    from book.frontier import smallest_size
    from book.models import compression_rate

    teacher, k6 = published("teacher"), published("student_k6")
    heads, cnns = _stats("sweep", "k"), _stats("cnn_students", "width")
    rows = [
        (
            "teacher CNN",
            "hard labels",
            1,
            teacher["params"],
            _accuracy(teacher["test_accuracy"]),
        ),
        (
            "original's student, k = 6",
            "MSE on logits (quoted)",
            1,
            k6["params"],
            _accuracy(original.STUDENT_K6_ACCURACY),
        ),
    ]
    for m in heads.method.unique():
        of_method = heads[heads.method == m]
        smallest = smallest_size(of_method, 0.95, acc="mean")
        for _, r in of_method[
            (of_method.k == 6) | (of_method.params == smallest)
        ].iterrows():
            note = " (smallest ≥ 0.95)" if r.params == smallest else ""
            rows.append(
                (
                    f"head, k = {r.k}{note}",
                    r.method_label,
                    r["count"],
                    r.params,
                    _accuracy(r["mean"], r["std"]),
                )
            )
    for m in cnns.method.unique():
        of_method = cnns[cnns.method == m]
        for level in (0.98, 0.99):
            smallest = smallest_size(of_method, level, acc="mean")
            for _, r in of_method[of_method.params == smallest].iterrows():
                rows.append(
                    (
                        f"CNN, w = {r.width} (smallest ≥ {level})",
                        r.method_label,
                        r["count"],
                        r.params,
                        _accuracy(r["mean"], r["std"]),
                    )
                )
    table = pd.DataFrame(
        rows,
        columns=["model", "training", "seeds", "parameters", "test accuracy"],
    )
    table.insert(
        4, "compression", [compression_rate(p) for p in table.parameters]
    )
    return table.set_index("model")


def best_per_rate_table() -> pd.DataFrame:
    """For every student size (heads of the sweep, CNN students), the training method with the
    best mean test accuracy, and every method it ties with (paired 95% interval containing zero)."""
    from book.models import compression_rate
    from book.stats import best_with_ties

    sweep, cnns = (
        pd.read_csv(PUBLISHED / "sweep.csv"),
        pd.read_csv(PUBLISHED / "cnn_students.csv"),
    )
    rows = []
    for runs, size, name in (
        (sweep, "k", "head, k = {}"),
        (cnns, "width", "CNN, w = {}"),
    ):
        best = best_with_ties(runs, list(runs.method.unique()), by=size)
        for value, methods in best.items():
            leader = methods.split(" = ")[0]
            at = runs[(runs[size] == value) & (runs.method == leader)]
            rows.append(
                (
                    name.format(value),
                    int(at.params.iloc[0]),
                    " = ".join(short_label(m) for m in methods.split(" = ")),
                    _accuracy(
                        at.test_accuracy.mean(), at.test_accuracy.std()
                    ),
                )
            )
    table = pd.DataFrame(
        rows,
        columns=[
            "student",
            "parameters",
            "best method (= ties)",
            "test accuracy",
        ],
    )
    table.insert(
        2, "compression", [compression_rate(p) for p in table.parameters]
    )
    return table.sort_values("parameters").set_index("student")


def _markdown(table: pd.DataFrame) -> str:
    """A results table for the README: the same numbers, formatted as the book's tables are."""
    table = table.copy()
    table["parameters"] = table.parameters.map("{:,}".format)
    table["compression"] = table.compression.map("{:.1f}x".format)
    return table.to_markdown()


def performance_tables() -> tuple[str, pd.DataFrame, pd.DataFrame]:
    """From ``results/performance.json`` (``benchmarks/performance.py``): a line saying where,
    when and how it was measured; the targets against the measurements; the teacher's levers."""
    perf = published("performance")
    where = (
        f"Measured on {perf['date']}, {perf['cpus']} CPUs ({perf['machine']}; matmul peak "
        f"{perf['matmul_gflops']['float32']:.0f} GFLOP/s fp32, {perf['matmul_gflops']['bfloat16']:.0f} "
        f"bf16), by `{perf['command']}`."
    )
    if perf.get("bf16_teacher"):
        bf16 = next(
            lever
            for lever in perf["teacher_levers"]
            if lever["lever"].startswith("bf16")
        )
        where += (
            f" The whole teacher trained in bf16 ({perf['bf16_teacher']['epochs']} epochs) reached "
            f"{perf['bf16_teacher']['test_accuracy']:.4f} test accuracy, the published fp32 teacher "
            f"{published('teacher')['test_accuracy']:.4f}; a bf16 epoch takes {bf16['epoch_seconds']:.1f} s "
            f"at the lever's best round, but every published number is fp32."
        )
    bound = perf["chapters"].get("cold_lower_bound_minutes")
    if bound:
        where += (
            f" Cold, the book needs at least {bound['total']:.0f} min: the training time recorded by "
            f"the published runs of the sweep ({bound['sweep']:.0f} min) and the CNN students "
            f"({bound['cnn_students']:.0f} min), and the teacher's epochs at the measured rate "
            f"({bound['teacher']:.1f} min); the temperature grid and the other runs come on top."
        )
    step = perf["sweep"].get("breakdown")
    if step:
        ms = step["ms_per_step"]
        where += (
            f" One fused sweep step ({step['units']} hidden units, batch {step['batch']}) took "
            f"{ms['whole_fused_step']:.1f} ms, of which the forward matmul {ms['forward_matmul']:.1f}, "
            f"the weight-gradient matmul {ms['weight_gradient_matmul']:.1f} and TensorFlow's fused "
            f"Adadelta update {ms['adadelta_update']:.1f} ms; a sweep method's "
            f"{step['method_target_minutes']}-minute target needs {step['target_ms_per_step']:.1f} ms "
            f"for the whole step"
            + (
                ", less than these three passes alone."
                if step["method_minutes_three_passes"]
                > step["method_target_minutes"]
                else "."
            )
        )

    def measured(t):
        value = next(v for k, v in t.items() if k.startswith("measured"))
        return (
            f">= {value} (recorded training time)"
            if t.get("lower_bound")
            else value
        )

    targets = pd.DataFrame(
        [
            dict(
                target=name,
                measured=measured(t),
                met={True: "yes", False: "no", None: "not measured"}[
                    t["met"]
                ],
            )
            for name, t in perf["targets"].items()
        ]
    )
    levers = pd.DataFrame(perf["teacher_levers"]).set_index("lever")[
        [
            "images_per_second",
            "gflops",
            "fraction_of_fp32_peak",
            "epoch_seconds",
        ]
    ]
    levers.index.name = "teacher training"
    levers.columns = [
        "images/s",
        "GFLOP/s",
        "of fp32 peak",
        "s per 60k epoch",
    ]
    levers["of fp32 peak"] = levers["of fp32 peak"].map("{:.0%}".format)
    return where, targets.set_index("target"), levers


README = ROOT / "README.md"
BLOCKS = {
    "results": lambda: _markdown(headline_table()),
    "performance": lambda: _performance_markdown(),
}


def _performance_markdown() -> str:
    where, targets, levers = performance_tables()
    return f"{where}\n\n{targets.to_markdown()}\n\n{levers.to_markdown()}"


def readme_with_results(text: str) -> str:
    """``text`` (the README) with each generated block (between its ``<!-- name:start -->``
    and ``<!-- name:end -->`` markers) rebuilt from ``results/``."""
    for name, render in BLOCKS.items():
        start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{start}\n{render()}\n{end}{tail}"
    return text


if __name__ == "__main__":
    # python -m book.results: refresh the README's generated tables from results/.
    with atomic_path(README) as tmp:
        tmp.write_text(readme_with_results(README.read_text()))
