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


def _sweep_stats() -> pd.DataFrame:
    """Mean, standard deviation and count of test accuracy per (method, k) of the published sweep."""
    sweep = pd.read_csv(PUBLISHED / "sweep.csv")
    return sweep.groupby(["method", "method_label", "k", "params"], as_index=False, sort=False) \
        .test_accuracy.agg(["mean", "std", "count"])


def _with_compression(table: pd.DataFrame) -> pd.DataFrame:
    from book.models import compression_rate

    table = table.copy()
    table.insert(list(table.columns).index("parameters") + 1, "compression",
                 [f"{compression_rate(p):.2f}x" for p in table.parameters])
    table["parameters"] = table.parameters.map("{:,}".format)
    return table


def headline_table() -> pd.DataFrame:
    """The headline results (intro and README), built from the published results files."""
    from book import original
    from book.frontier import smallest_size

    teacher, k6 = published("teacher"), published("student_k6")
    labels = {m: label for m, label in _sweep_stats()[["method", "method_label"]].drop_duplicates().values}
    rows = [
        ("teacher CNN (ch. 1)", teacher["params"], f"{teacher['test_accuracy']:.4f}"),
        ("original's student, k = 6 (quoted)", k6["params"], f"{original.STUDENT_K6_ACCURACY:.4f}"),
    ]
    rows += [
        (f"student k = 6, {labels[m]}, one seed (ch. 3)", k6["params"], f"{acc:.4f}")
        for m, acc in k6["test_accuracy"].items()
    ]
    stats = _sweep_stats()
    for m, label in labels.items():
        of_method = stats[stats.method == m]
        smallest = smallest_size(of_method, 0.95, acc="mean")
        for _, r in of_method[(of_method.k == 6) | (of_method.params == smallest)].iterrows():
            note = ", the smallest with mean ≥ 0.95" if r.params == smallest else ""
            rows.append((f"student k = {r.k}{note}, {label}, {r['count']} seeds (ch. 5)",
                         r.params, f"{r['mean']:.4f} ± {r['std']:.4f}"))
    table = pd.DataFrame(rows, columns=["model", "parameters", "test accuracy"])
    return _with_compression(table).set_index("model")


def best_per_rate_table() -> pd.DataFrame:
    """For every student size of the sweep, the method with the best mean test accuracy."""
    stats = _sweep_stats()
    best = stats.loc[stats.groupby("k")["mean"].idxmax()].sort_values("params")
    table = pd.DataFrame(dict(
        k=best.k.values, parameters=best.params.values, best_method=best.method_label.values,
        test_accuracy=[f"{m:.4f} ± {s:.4f}" for m, s in zip(best["mean"], best["std"])],
    ))
    return _with_compression(table).set_index("k")


README = ROOT / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"


def readme_with_results(text: str) -> str:
    """``text`` (the README) with the block between the markers replaced by the headline table."""
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{headline_table().to_markdown()}\n{END}{tail}"


if __name__ == "__main__":
    # python -m book.results: refresh the README's results table from results/.
    README.write_text(readme_with_results(README.read_text()))
