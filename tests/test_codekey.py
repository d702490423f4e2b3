"""``book.codekey``: an artifact's key follows the code that produced it,
and nothing else."""

import importlib
import sys
import textwrap

import pytest

from book import codekey

LOSSES = '''
"""Losses."""


def squared(a, b):
    """The squared error."""
    return (a - b) ** 2


def unrelated(x):
    return x + 1
'''

TRAIN = '''
from keyed import losses

EPOCHS = 3


def train(a, b):
    # the producer
    return [losses.squared(a, b) for _ in range(EPOCHS)]


def plot(x):
    return x
'''


@pytest.fixture
def package(tmp_path, monkeypatch):
    root = tmp_path / "keyed"
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "losses.py").write_text(textwrap.dedent(LOSSES))
    (root / "train.py").write_text(textwrap.dedent(TRAIN))
    monkeypatch.syspath_prepend(str(tmp_path))

    def key_after(module, edit=None):
        path = root / f"{module}.py"
        if edit:
            path.write_text(edit(path.read_text()))
        for name in [m for m in sys.modules if m.startswith("keyed")]:
            del sys.modules[name]
        importlib.invalidate_caches()
        train = importlib.import_module("keyed.train")
        return codekey.code_key(train.train, package="keyed")

    yield key_after
    for name in [m for m in sys.modules if m.startswith("keyed")]:
        del sys.modules[name]


def test_comments_docstrings_and_other_functions_do_not_count(package):
    before = package("train")
    assert package("train", lambda s: s.replace("# the producer", "# x")) == before
    assert package("losses", lambda s: s.replace("The squared", "A")) == before
    assert package("losses", lambda s: s.replace("x + 1", "x + 2")) == before
    assert package("train", lambda s: s.replace("return x", "return 2")) == before


def test_a_changed_loss_or_constant_changes_the_key(package):
    before = package("train")
    changed = package("losses", lambda s: s.replace("** 2", "** 3"))
    assert changed != before
    assert package("train", lambda s: s.replace("EPOCHS = 3", "EPOCHS = 4")) not in {
        before, changed}


def test_the_chapter_8_keys_cover_their_training_code():
    from book import deployables

    reached = codekey.closure(deployables._student, deployables._head)
    for name in ("book.cnn.cnn_student", "book.heads.fit_group",
                 "book.deploy.train_compact_student", "book.deploy.prune_student",
                 "book.deployables.measure_file"):
        assert name in reached
    assert "book.deploy.plot_bytes_frontier" not in reached
