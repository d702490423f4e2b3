"""``python -m book.compare``: a re-run's records judged value by value."""

import numpy as np
import pandas as pd
import pytest

from book import records
from book.compare import compare, main


def record(root, seed, accuracy):
    """One sweep record of a seed: MSE and KD at k = 6."""
    path = root / "runs" / "sweep" / f"seed{seed}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = pd.DataFrame(dict(method=["mse", "kd"], k=[6, 6], seed=seed, correct=[0, 0],
                             test_accuracy=accuracy, dead_units=0))
    records.write(path, lambda tmp: rows.to_csv(tmp, index=False), dict(key="k", seconds=1, cpu="x", settings={}))


@pytest.fixture
def published(tmp_path):
    for seed, accuracy in enumerate(np.linspace(0.96, 0.97, 10)):
        record(tmp_path / "published", seed, [accuracy, accuracy + 0.01])
    return tmp_path / "published"


def test_campaign_records_are_judged_against_the_range_of_their_cell(tmp_path, published):
    rerun = tmp_path / "rerun"
    record(rerun, 0, [0.965, 0.90])  # MSE inside its range, KD far below
    table = compare(rerun, published)
    assert table.set_index("cell").loc["method = kd, k = 6"].inside == False  # noqa: E712
    assert table.set_index("cell").loc["method = mse, k = 6"].inside == True  # noqa: E712
    assert table.chance_outside.iloc[0] == pytest.approx(2 / 11)


def test_the_published_records_judge_themselves_inside(published):
    table = compare(published, published)
    assert len(table) == 20 and table.inside.all()


def test_a_folder_without_records_is_refused(tmp_path):
    with pytest.raises(SystemExit):
        main([str(tmp_path / "nowhere")])
    with pytest.raises(SystemExit):
        main([str(tmp_path)])
