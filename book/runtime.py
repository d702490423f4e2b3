"""What a chapter costs when its cache is empty: the runtime note at the top of each chapter.

Introduced in chapter 1. Each note says what the chapter computes itself and
what it reuses from earlier chapters, with the training time that the
published full-profile run recorded for that work (read from ``results/``,
never typed). Work whose time was not recorded is said to be so.
"""

from __future__ import annotations

import pandas as pd
from IPython.display import Markdown

from book.results import PUBLISHED, published


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"


def _group_minutes(name: str) -> str:
    path = PUBLISHED / f"{name}.csv"
    if not path.is_file():
        return "not recorded yet"
    table = pd.read_csv(path)
    return _minutes(
        table.groupby(["method", "seed"]).group_train_seconds.first().sum()
    )


def _teacher_minutes() -> str:
    """The teacher's epochs at the fp32 rate the benchmark measured (its training time is not stored)."""
    perf = published("performance")
    epoch = next(
        lever["epoch_seconds"]
        for lever in perf["teacher_levers"]
        if lever["lever"].startswith("as published")
    )
    return f"about {_minutes(published('teacher')['epochs'] * epoch)} at the benchmark's measured rate"


def note(chapter: str) -> Markdown:
    """The runtime note of ``chapter`` (its file name without suffix), as Markdown."""
    cnn_path = PUBLISHED / "cnn_students.csv"
    cnn = (
        _minutes(pd.read_csv(cnn_path).train_seconds.sum())
        if cnn_path.is_file()
        else "not recorded yet"
    )
    notes = {
        "01_teacher": f"trains the teacher ({_teacher_minutes()}).",
        "02_logits": "extracts the transfer set (2.6 GB on disk; a minute or two) from the teacher of "
        "{doc}`01_teacher`, training it first if it is not cached.",
        "03_distillation": "trains two k = 6 heads with Keras' `fit` (their times are in the chapter's table); "
        "it reuses the transfer set of {doc}`02_logits`.",
        "04_temperature": "trains the temperature grid, one fused model per seed (its time was not recorded); "
        "it reuses the transfer set of {doc}`02_logits`.",
        "05_sweep": f"trains the sweep ({_group_minutes('sweep')}), the mechanism controls "
        f"({_group_minutes('mechanism')}), the original's way with its own transfer set "
        f"({_group_minutes('original_way')} of training) and two more teachers with their transfer sets "
        f"and k = 6 heads; it reuses the transfer set of {{doc}}`02_logits`, the KD setting of "
        f"{{doc}}`04_temperature` and the CNN students of {{doc}}`07_cnn_students` ({cnn}).",
        "06_s_of_f": "trains nothing new: it reuses the sweep of {doc}`05_sweep` and the CNN students of "
        "{doc}`07_cnn_students`.",
        "07_cnn_students": f"trains the CNN students ({cnn}), one end-to-end `Distiller` run and the "
        f"omitted-digit students; it reuses the transfer set of {{doc}}`02_logits` and the KD "
        f"setting of {{doc}}`04_temperature`.",
    }
    return Markdown(
        f"**Runtime.** Run with an empty cache in the full profile, this chapter {notes[chapter]} "
        f"With the cache filled by an earlier run it takes seconds. The `smoke` profile "
        f"(`BOOK_PROFILE=smoke`) runs it in about a minute."
    )
