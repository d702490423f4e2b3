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
