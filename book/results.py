"""Where measured results are written: ``results/`` (committed) for the full profile.

Introduced in chapter 1. The intro page builds its results table from these
files, so the book's headline numbers are never typed by hand. Other profiles
write to ``artifacts/<profile>/results/`` and never touch the published files.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from book.cache import (
    ROOT,
    artifacts_dir,
    atomic_path,
    destination,
)
from book.profile import Profile
from book.tables import KINDS

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


def published(name: str) -> dict:
    """A published (full-profile) result, as committed under ``results/``."""
    return json.loads((PUBLISHED / f"{name}.json").read_text())


def published_table(name: str) -> pd.DataFrame:
    """Every record of experiment ``name`` in the full profile; an error
    naming what is missing rather than a partial table."""
    from book import campaign
    from book.profile import PROFILES

    full = PROFILES["full"]
    job = campaign.job_named(name)
    missing = [u for u in job.units(full) if not job.finished(full, u)]
    if missing:
        raise RuntimeError(
            f"{name}: records {missing} are missing or stale in results/runs; "
            "run `python -m book.campaign`"
        )
    return campaign.table(full, name, train=False)


def runs_text(accuracies) -> str:
    """The median run, the lowest and the highest, and how many runs."""
    a = pd.Series(accuracies)
    if len(a) == 1:
        return f"{a.iloc[0]:.4f} (1 run)"
    return f"{a.median():.4f} ({a.min():.4f} to {a.max():.4f}, {len(a)} runs)"


def published_heads() -> pd.DataFrame:
    """Every published head of the sweep (k <= 20 and the large sizes), with its parameters."""
    from book.models import student_params

    heads = pd.concat(
        [published_table("sweep"), published_table("sweep_large")],
        ignore_index=True,
    )
    heads["params"] = heads.k.map(student_params)
    return heads


def headline_table() -> pd.DataFrame:
    """The teacher, the original's student beside ours at k = 6, and the
    smallest student of each kind whose median run reaches 0.95 / 0.99
    (the intro's and the README's table, from the full profile's records)."""
    from book import campaign, original
    from book.models import TEACHER_PARAMS, compression_rate, student_params
    from book.profile import PROFILES

    full = PROFILES["full"]
    labels = {m.name: m.label for m in campaign.sweep_methods(full)}
    heads, cnns = published_heads(), published_table("cnn_students")
    _, teacher = campaign.stored_teacher(full, read_only=True)
    rows = [
        (
            "teacher CNN",
            "hard labels",
            TEACHER_PARAMS,
            runs_text([teacher["history"]["val_accuracy"][-1]]),
        ),
        (
            "original's student, k = 6",
            "MSE on dropout-on logits (its README)",
            student_params(6),
            runs_text([original.STUDENT_K6_ACCURACY]),
        ),
    ]
    for m, label in labels.items():
        runs = heads[(heads.method == m) & (heads.k == 6)]
        rows.append(
            (
                "head, k = 6",
                label,
                student_params(6),
                runs_text(runs.test_accuracy),
            )
        )
    cnn_kinds = {"distilled": "distilled", "scratch": "from scratch"}
    for table, size, kinds, f in (
        (heads, "k", labels, 0.95),
        (cnns, "width", cnn_kinds, 0.99),
    ):
        for m, label in kinds.items():
            of_method = table[table.method == m]
            medians = of_method.groupby(size).test_accuracy.median()
            reaching = medians[medians >= f]
            if reaching.empty:
                continue
            at = of_method[of_method[size] == reaching.index.min()]
            name = "head, k" if size == "k" else "CNN, w"
            rows.append(
                (
                    f"{name} = {reaching.index.min()} (smallest test median ≥ {f:g})",
                    label,
                    int(at.params.iloc[0]),
                    runs_text(at.test_accuracy),
                )
            )
    table = pd.DataFrame(
        rows, columns=["model", "training", "parameters", "test accuracy"]
    )
    # A "smallest" row that repeats a k = 6 row (same method, size and runs)
    # is that row again: the first says so, the repeat goes.
    repeats = table.duplicated(["training", "parameters", "test accuracy"])
    for i in table.index[repeats]:
        same = table[["training", "parameters", "test accuracy"]].eq(
            table.loc[i, ["training", "parameters", "test accuracy"]]
        )
        first = table.index[same.all(axis=1)][0]
        rule = table.model[i][table.model[i].index("(") + 1 : -1]
        table.loc[first, "model"] += f" (also the {rule})"
    table = table[~repeats].reset_index(drop=True)
    table.insert(
        3, "compression", [compression_rate(p) for p in table.parameters]
    )
    return table


def comparisons_table() -> pd.DataFrame:
    """Per head size: the methods' medians and what the paired tests found."""
    from book import campaign
    from book.inference import borderline, paired
    from book.models import student_params
    from book.profile import PROFILES

    heads = published_heads()
    kd = campaign.sweep_methods(PROFILES["full"])[2].name
    short = {"mse": "MSE", "hard": "hard", kd: "KD"}
    found, unresolved = {}, {}
    for a, b in ((kd, "mse"), (kd, "hard"), ("mse", "hard")):
        for row in paired(heads, a, b).itertuples():
            said = found.setdefault(row.k, [])
            if row.verdict == f"{a} better":
                said.append(f"{short[a]} > {short[b]}")
            elif row.verdict == f"{b} better":
                said.append(f"{short[b]} > {short[a]}")
            elif row.verdict.startswith("equivalent"):
                close = " (borderline)" if borderline(row) else ""
                said.append(f"{short[a]} ≈ {short[b]}{close}")
            elif row.verdict.startswith("not resolved"):
                unresolved.setdefault(row.k, []).append(
                    f"{short[a]}–{short[b]}"
                )
    medians = heads.pivot_table(
        index="k", columns="method", values="test_accuracy", aggfunc="median"
    )
    return pd.DataFrame(
        {
            "k": medians.index,
            "parameters": [student_params(k) for k in medians.index],
            "median: MSE / hard / KD": [
                " / ".join(f"{medians.loc[k, m]:.4f}" for m in short)
                for k in medians.index
            ],
            "differences detected": [
                "; ".join(found.get(k, []) or ["none"])
                + (
                    f" ({', '.join(unresolved[k])} unresolved)"
                    if k in unresolved
                    else ""
                )
                for k in medians.index
            ],
        }
    )


def _markdown(table: pd.DataFrame) -> str:
    """A results table for the README: the same numbers, formatted as the book's tables are."""
    table = table.copy()
    table["parameters"] = table.parameters.map("{:,}".format)
    table["compression"] = table.compression.map(KINDS["rate"])
    return table.to_markdown(index=False)


def performance_tables() -> tuple[str, pd.DataFrame, pd.DataFrame]:
    """From ``results/performance.json`` (``benchmarks/performance.py``): a line
    saying where, when and how it was measured; the targets against the
    measurements; the teacher's training levers."""
    from book.records import cpu_text

    perf = published("performance")
    peaks = perf["matmul_gflops"]
    where = (
        f"Measured on {perf['date']} on {cpu_text(perf['machine'])} with "
        f"{perf['cpus']} logical CPUs (matmul peak {peaks['float32']:.0f} "
        f"GFLOP/s fp32, {peaks['bfloat16']:.0f} bf16; memory "
        f"{perf['memory_gb_per_s']:.0f} GB/s), by `{perf['command']}`."
    )
    units = {
        "measured_minutes": " min",
        "measured_seconds": " s",
        "measured": "×",
    }

    def measured(target: dict) -> str:
        key, value = next(
            (k, v) for k, v in target.items() if k.startswith("measured")
        )
        if value is None:
            return "not measured"
        return f"{value}{units.get(key, '')}"

    targets = pd.DataFrame(
        [
            {
                "target": re.sub(r"(\d)x\b", r"\1×", name.replace("<=", "≤")),
                "measured": measured(t),
                "met": {True: "yes", False: "no", None: "not measured"}[
                    t["met"]
                ],
            }
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
