"""``python -m book.compare``: a re-run judged value by value."""

import json
import shutil

import pandas as pd
import pytest

from book.compare import compare, main, prediction_interval
from book.results import PUBLISHED


def test_prediction_interval_is_wider_than_the_runs_and_stays_in_range():
    low, high = prediction_interval([0.97, 0.98, 0.99])
    assert low < 0.97 and high > 0.99
    assert prediction_interval([0.1, 0.9, 0.5]) == (0.0, 1.0)


def test_the_published_runs_judge_themselves_inside(tmp_path):
    for name in ("sweep.csv", "cnn_students.csv", "teacher.json"):
        shutil.copy(PUBLISHED / name, tmp_path / name)
    table = compare(tmp_path)
    assert len(table) == len(pd.read_csv(PUBLISHED / "sweep.csv")) + len(
        pd.read_csv(PUBLISHED / "cnn_students.csv")
    ) + 1
    assert table.inside.all()


def test_a_value_that_moved_is_named(tmp_path, capsys):
    sweep = pd.read_csv(PUBLISHED / "sweep.csv")
    row = sweep.index[(sweep.k == 64) & (sweep.seed == 0)][0]
    sweep.loc[row, "test_accuracy"] -= 0.05
    sweep.to_csv(tmp_path / "sweep.csv", index=False)
    teacher = json.loads((PUBLISHED / "teacher.json").read_text())
    teacher["test_accuracy"] = 0.95
    (tmp_path / "teacher.json").write_text(json.dumps(teacher))
    table = compare(tmp_path)
    assert set(table[~table.inside].cell) == {
        f"method = {sweep.loc[row, 'method']}, k = 64",
        "teacher",
    }
    assert main([str(tmp_path)]) == 0
    assert "2 of" in capsys.readouterr().out


def test_a_folder_without_results_is_refused(tmp_path):
    with pytest.raises(SystemExit):
        main([str(tmp_path / "nowhere")])
    with pytest.raises(SystemExit):
        main([str(tmp_path)])


def test_campaign_records_are_judged_against_the_range_of_their_cell(tmp_path, capsys):
    """A re-run's records against published ones (here both made in the test)."""
    import numpy as np

    from book import records

    def record(root, seed, accuracy):
        path = root / "runs" / "sweep" / f"seed{seed}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = pd.DataFrame(dict(method=["mse", "kd"], k=[6, 6], seed=seed, correct=[0, 0],
                                 test_accuracy=accuracy, dead_units=0))
        records.write(path, lambda tmp: rows.to_csv(tmp, index=False), dict(key="k", seconds=1, cpu="x", settings={}))

    published, rerun = tmp_path / "published", tmp_path / "rerun"
    for seed, accuracy in enumerate(np.linspace(0.96, 0.97, 10)):
        record(published, seed, [accuracy, accuracy + 0.01])
    record(rerun, 0, [0.965, 0.90])  # MSE inside its range, KD far below
    table = compare(rerun, published)
    assert list(table.inside) == [False, True] or list(table.inside) == [True, False]
    assert table.set_index("cell").loc["method = kd, k = 6"].inside == False  # noqa: E712
    assert table.chance_outside.iloc[0] == pytest.approx(2 / 11)
