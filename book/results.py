"""Where measured results are written: ``results/`` (committed) for the full profile.

Introduced in chapter 1. The intro page builds its results table from these
files, so the book's headline numbers are never typed by hand. Other profiles
write to ``artifacts/<profile>/results/`` and never touch the published files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from book.cache import ROOT, artifacts_dir, write_json
from book.profile import Profile

PUBLISHED = ROOT / "results"


def results_dir(profile: Profile) -> Path:
    return PUBLISHED if profile.name == "full" else artifacts_dir(profile.name) / "results"


def record(profile: Profile, name: str, **values) -> Path:
    """Write ``values`` to ``<results_dir>/<name>.json`` (atomically) and return the path."""
    path = results_dir(profile) / f"{name}.json"
    write_json(path, dict(profile=profile.name, **values))
    return path


def published(name: str) -> dict:
    """A published (full-profile) result, as committed under ``results/``."""
    return json.loads((PUBLISHED / f"{name}.json").read_text())


def headline_table() -> pd.DataFrame:
    """The intro's results table, built from the published results files."""
    from book import original
    from book.distill import METHODS
    from book.frontier import smallest_size
    from book.models import compression_rate

    teacher = published("teacher")
    k6 = published("student_k6")
    sweep = pd.read_csv(PUBLISHED / "sweep.csv")
    rows = [
        ("teacher CNN (ch. 1)", teacher["params"], f"{teacher['test_accuracy']:.4f}"),
        ("original's student, k = 6 (quoted)", k6["params"], f"{original.STUDENT_K6_ACCURACY:.4f}"),
    ]
    rows += [
        (f"student k = 6, {METHODS[m].label}, one seed (ch. 3)", k6["params"], f"{acc:.4f}")
        for m, acc in k6["test_accuracy"].items()
    ]
    stats = sweep.groupby(["method", "k", "params"], as_index=False).test_accuracy.agg(["mean", "std", "count"])
    for m in sweep.method.unique():
        of_method = stats[stats.method == m]
        for label, row in (
            ("k = 6", of_method[of_method.k == 6]),
            ("smallest k with mean >= 0.95", of_method[of_method.params == smallest_size(of_method, 0.95, acc="mean")]),
        ):
            for _, r in row.iterrows():
                rows.append((
                    f"student {label} (k = {r.k}), {METHODS[m].label}, {r['count']} seeds (ch. 5)",
                    r.params, f"{r['mean']:.4f} ± {r['std']:.4f}",
                ))
    table = pd.DataFrame(rows, columns=["model", "parameters", "test accuracy"])
    table["compression"] = [f"{compression_rate(p):.2f}x" for p in table.parameters]
    table["parameters"] = table.parameters.map("{:,}".format)
    return table.set_index("model")[["parameters", "compression", "test accuracy"]]
