"""Check a re-run against the published results, value by value.

    BOOK_RESULTS=/tmp/rerun python -m book.execute   # a re-run, written aside
    python -m book.compare /tmp/rerun                # what moved, and by how much

The campaign's records (``runs/``, see ``book.campaign``) are judged the
same way but without assuming normal runs: a re-run value is set against the
range of the published runs of its cell, which holds one more run of the
same distribution with probability (n - 1) / (n + 1) (``book.inference``), so
a faithful re-run lands outside it about 2 / (n + 1) of the time: one time in
six with ten runs, one in two with three. The expected count is printed.

The result files of the book's earlier runs: every accuracy the book publishes over seeds (one method at one size) gives
a 95% *prediction interval* for one new run: mean +- t(n - 1) * sd *
sqrt(1 + 1/n) over the published seeds. Each re-run value is set against the
interval of its cell, and the teacher's accuracy against the spread of the
published teachers (``teacher_seeds.csv``). Even a faithful re-run lands
outside about one interval in twenty; many more, or the same cells again and
again, mean the re-run differs from the published one. With three seeds per
cell the intervals are wide where the seeds disagree and narrow where they
happen to agree, so a bimodal cell (a head that loses a hidden unit in some
runs) can land outside its interval on a faithful re-run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from book.results import PUBLISHED

# result file -> the columns that name a cell (the rest vary by seed)
SEEDED = {
    "sweep.csv": ["method", "k"],
    "mechanism.csv": ["method", "k"],
    "small_heads.csv": ["method", "k"],
    "original_way.csv": ["method", "k"],
    "cnn_students.csv": ["method", "width"],
}
COLUMNS = [
    "file", "cell", "seed", "published_runs", "published_mean", "low",
    "high", "rerun", "inside",
]  # fmt: skip


def prediction_interval(values, confidence: float = 0.95):
    """Where one more run of the same distribution lands with
    ``confidence``, from ``values`` (t-based, assuming normal runs)."""
    v = np.asarray(values, float)
    if len(v) < 2:
        return float("nan"), float("nan")
    half = (
        stats.t.ppf(0.5 + confidence / 2, len(v) - 1)
        * v.std(ddof=1)
        * np.sqrt(1 + 1 / len(v))
    )
    # an accuracy lies in [0, 1] whatever the normal approximation says
    return max(0.0, v.mean() - half), min(1.0, v.mean() + half)


def _row(file, cell, seed, published, rerun) -> dict:
    low, high = prediction_interval(published)
    return dict(
        file=file,
        cell=cell,
        seed=seed,
        published_runs=len(published),
        published_mean=float(np.mean(published)),
        low=low,
        high=high,
        rerun=float(rerun),
        inside=bool(low <= rerun <= high),
    )


def _records(runs: Path) -> dict[str, pd.DataFrame]:
    """Every intact record of a ``runs/`` folder, by job: its CSVs whose
    contents match their manifests' sha256 (a damaged one is left out)."""
    from book import records

    found = {}
    for path in sorted(runs.glob("*/*.csv")):
        manifest = records.manifest_path(path)
        if not manifest.is_file():
            continue
        key = json.loads(manifest.read_text()).get("key", "")
        try:
            if records.read_manifest(path, key) is None:
                continue
        except records.InvalidArtifact as err:
            print(f"compare: {path}: {err}; left out", file=sys.stderr)
            continue
        found.setdefault(path.parent.name, []).append(pd.read_csv(path))
    return {
        job: pd.concat(tables, ignore_index=True)
        for job, tables in found.items()
    }


def compare_runs(rerun: Path, published: Path) -> pd.DataFrame:
    """The campaign's records: one row per re-run value, against the range
    of the published runs of its cell."""
    from book.inference import prediction_range

    old, new = _records(published), _records(rerun)
    rows = []
    for job, runs in new.items():
        if job not in old:
            continue
        keys = ["method", "width" if "width" in runs else "k"]
        keys += ["teacher_seed"] if "teacher_seed" in runs else []
        for cell, group in runs.groupby(keys):
            mask = (old[job][keys] == pd.Series(cell, index=keys)).all(axis=1)
            reference = old[job][mask].test_accuracy
            if reference.empty:
                continue
            low, high, coverage = prediction_range(reference)
            label = ", ".join(f"{k} = {v}" for k, v in zip(keys, cell))
            for seed, value in zip(group.seed, group.test_accuracy):
                rows.append(
                    dict(
                        file=f"runs/{job}",
                        cell=label,
                        seed=seed,
                        published_runs=len(reference),
                        published_mean=float(reference.mean()),
                        low=low,
                        high=high,
                        rerun=float(value),
                        inside=bool(low <= value <= high),
                        chance_outside=1 - coverage,
                    )
                )
    return pd.DataFrame(rows, columns=[*COLUMNS, "chance_outside"])


def compare(rerun: Path, published: Path = PUBLISHED) -> pd.DataFrame:
    """One row per re-run value that the published results can judge."""
    rows = []
    for name, keys in SEEDED.items():
        if not (rerun / name).is_file():
            continue
        old, new = (pd.read_csv(d / name) for d in (published, rerun))
        for cell, runs in new.groupby(keys):
            mask = (old[keys] == pd.Series(cell, index=keys)).all(axis=1)
            reference = old[mask].test_accuracy
            label = ", ".join(f"{k} = {v}" for k, v in zip(keys, cell))
            for seed, value in zip(runs.seed, runs.test_accuracy):
                rows.append(_row(name, label, seed, reference, value))
    if (rerun / "teacher.json").is_file():
        teachers = pd.read_csv(published / "teacher_seeds.csv")
        spread = teachers.groupby("teacher_seed").teacher_accuracy.first()
        value = json.loads((rerun / "teacher.json").read_text())
        rows.append(
            _row("teacher.json", "teacher", 0, spread, value["test_accuracy"])
        )
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["chance_outside"] = 0.05
    if (rerun / "runs").is_dir() and (published / "runs").is_dir():
        table = pd.concat(
            [table, compare_runs(rerun / "runs", published / "runs")],
            ignore_index=True,
        )
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rerun", type=Path, help="results folder of a re-run")
    parser.add_argument(
        "--all",
        action="store_true",
        help="list every value, not only those outside",
    )
    args = parser.parse_args(argv)
    if not args.rerun.is_dir():
        parser.error(f"{args.rerun} is not a folder of result files")
    table = compare(args.rerun)
    if table.empty:
        parser.error(
            f"{args.rerun} holds none of {[*SEEDED, 'teacher.json', 'runs/']}"
        )
    shown = table if args.all else table[~table.inside]
    with pd.option_context("display.width", 160, "display.max_rows", None):
        print(shown.to_string(index=False, float_format="{:.4f}".format))
    outside = int((~table.inside).sum())
    print(
        f"\n{outside} of {len(table)} re-run values lie outside the interval "
        f"or range of their published cell (about "
        f"{table.chance_outside.sum():.0f} expected by chance alone)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
