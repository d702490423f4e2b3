"""Check a re-run against the published results, value by value.

    BOOK_RESULTS=/tmp/rerun python -m book.execute   # a re-run, written aside
    python -m book.compare /tmp/rerun                # what moved, and by how much

Every chapter's runs are the campaign's records (``runs/``, see
``book.campaign``). A re-run value is set against the range of the published
runs of its cell, which holds one more run of the same distribution with
probability (n - 1) / (n + 1) (``book.inference``), without assuming normal
runs, so a faithful re-run lands outside it about 2 / (n + 1) of the time:
one time in six with ten runs, one in two with three. The expected count is
printed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from book.results import PUBLISHED

COLUMNS = [
    "file", "cell", "seed", "published_runs", "published_mean", "low",
    "high", "rerun", "inside", "chance_outside",
]  # fmt: skip


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
    return pd.DataFrame(rows, columns=COLUMNS)


def compare(rerun: Path, published: Path = PUBLISHED) -> pd.DataFrame:
    """One row per re-run record value that the published records can judge."""
    if not (rerun / "runs").is_dir():
        return pd.DataFrame(columns=COLUMNS)
    return compare_runs(rerun / "runs", published / "runs")


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
            f"{args.rerun} holds no records under runs/ that the published "
            "ones can judge"
        )
    shown = table if args.all else table[~table.inside]
    with pd.option_context("display.width", 160, "display.max_rows", None):
        print(shown.to_string(index=False, float_format="{:.4f}".format))
    outside = int((~table.inside).sum())
    print(
        f"\n{outside} of {len(table)} re-run values lie outside the range of "
        f"their published cell (about "
        f"{table.chance_outside.sum():.0f} expected by chance alone)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
