"""Fault injection: the records never lie, the loader names every bad file.

What the campaign derives and caches is checked when it is read: a damaged
transfer set is reported in one line naming the file, kept aside and
computed again, to the same values; a damaged checkpoint is discarded and its
run starts over; another data file makes the stored teacher stale. (A
record's own faults -- a flipped digit, a cut, a stale key, a FIFO, a bad
manifest -- are ``tests/test_records.py``'s.) A write killed half-way leaves
no half file and no leftover after the next write; an unwritable destination
fails before any training, naming its environment variable. Runs on a tiny
profile (256 training images, one epoch) in a scratch folder.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import stat
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

from book import cache, campaign
from book.cache import UnwritableDestination, atomic_path
from book.data import MnistDataError, load_mnist, read_npz
from book.distill import METHODS
from book.heads import Head, fit_group
from book.profile import PROFILES
from book.records import Checkpoint

TINY = dataclasses.replace(PROFILES["smoke"], name="faults", train_size=256, test_size=64,
                           sweep_hidden_sizes=(2, 3), sweep_seeds=(0,))


@pytest.fixture
def mnist_file(tmp_path_factory):
    """A small MNIST-shaped file: real enough to train on, 400 training images."""
    rng = np.random.default_rng(1)
    path = tmp_path_factory.mktemp("data") / "mnist.npz"
    np.savez(path, x_train=rng.integers(0, 256, (400, 28, 28), dtype=np.uint8),
             y_train=rng.integers(0, 10, 400).astype(np.uint8),
             x_test=rng.integers(0, 256, (100, 28, 28), dtype=np.uint8),
             y_test=rng.integers(0, 10, 100).astype(np.uint8))
    return path


@pytest.fixture
def scratch(tmp_path, monkeypatch, mnist_file):
    """A fresh artifact folder and results folder, the small data file, nothing checked or loaded yet."""
    monkeypatch.setenv("BOOK_ARTIFACTS", str(tmp_path / "artifacts"))
    monkeypatch.setenv("BOOK_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("MNIST_NPZ", str(mnist_file))
    monkeypatch.setattr(cache, "_checked_dirs", set())
    campaign.forget_teacher()
    yield tmp_path / "artifacts" / TINY.name
    campaign.forget_teacher()


def damage_and_reload(path, damage, reload, capsys):
    """Damage ``path``, call ``reload``; it must say so in one line naming the file, keep
    the damaged file aside and compute it again."""
    damage(path)
    value = reload()
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("records:")]
    assert len(lines) == 1 and str(path) in lines[0], err
    assert len(list(path.parent.glob(f"{path.name}.2*.invalid"))) == 1  # the file (its manifest is kept aside too)
    assert path.exists()  # computed and saved again
    return value


# --- the transfer set -------------------------------------------------------------------------

def _transfer_path(scratch):
    (path,) = scratch.glob("campaign-transfer-*-inference.npz")
    return path


def test_transfer_set_missing_an_array_is_recomputed(scratch, capsys):
    first = campaign.transfer(TINY)
    path = _transfer_path(scratch)

    def drop_member(p):
        with np.load(p) as npz:
            kept = {k: npz[k] for k in npz.files if k != "test_logits"}
        np.savez(p, **kept)

    again = damage_and_reload(path, drop_member, lambda: campaign.transfer(TINY), capsys)
    np.testing.assert_array_equal(first.test_logits, again.test_logits)


def test_transfer_set_with_nan_logits_is_recomputed(scratch, capsys):
    first = campaign.transfer(TINY)
    path = _transfer_path(scratch)

    def poison(p):
        with np.load(p) as npz:
            arrays = {k: npz[k] for k in npz.files}
        arrays["train_logits"][0, 0] = np.nan
        with open(p, "wb") as f:
            np.savez(f, **arrays)

    again = damage_and_reload(path, poison, lambda: campaign.transfer(TINY), capsys)
    np.testing.assert_array_equal(first.train_logits, again.train_logits)


# --- checkpoints ------------------------------------------------------------------------------

def test_garbage_checkpoint_is_discarded_and_the_run_starts_over(tmp_path, capsys, tiny_transfer):
    heads = [Head(METHODS["mse"], 2), Head(METHODS["mse"], 5)]
    expected = fit_group(heads, tiny_transfer, seed=1, epochs=2).correct
    checkpoint = Checkpoint(tmp_path / ".running.npz")
    checkpoint.path.write_bytes(b"not a checkpoint")
    epochs = []
    run = fit_group(heads, tiny_transfer, seed=1, epochs=2, on_epoch_end=epochs.append, checkpoint=checkpoint)
    assert epochs == [0, 1]
    np.testing.assert_array_equal(run.correct, expected)
    assert "unusable checkpoint" in capsys.readouterr().err
    assert not checkpoint.path.exists()


def test_checkpoint_of_another_run_is_discarded(tmp_path, capsys, tiny_transfer):
    checkpoint = Checkpoint(tmp_path / ".running.npz")

    def stop(epoch):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit_group([Head(METHODS["mse"], 2), Head(METHODS["mse"], 5)], tiny_transfer, seed=1, epochs=3,
                  on_epoch_end=stop, checkpoint=checkpoint)
    assert checkpoint.path.exists()
    epochs = []
    fit_group([Head(METHODS["mse"], 3)], tiny_transfer, seed=1, epochs=2,
              on_epoch_end=epochs.append, checkpoint=checkpoint)  # other sizes: other shapes
    assert epochs == [0, 1]
    assert "unusable checkpoint" in capsys.readouterr().err


# --- the data ---------------------------------------------------------------------------------

def test_another_data_file_makes_the_stored_teacher_stale(scratch, mnist_file, tmp_path, monkeypatch):
    campaign.stored_teacher(TINY)
    with np.load(mnist_file) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["y_train"] = np.random.default_rng(2).permutation(arrays["y_train"])  # same images, other labels
    shuffled = tmp_path / "shuffled.npz"
    np.savez(shuffled, **arrays)
    monkeypatch.setenv("MNIST_NPZ", str(shuffled))
    campaign.forget_teacher()
    assert campaign.stored_teacher(TINY, read_only=True) is None  # stale: it would be trained again
    monkeypatch.setenv("MNIST_NPZ", str(mnist_file))
    campaign.forget_teacher()
    assert campaign.stored_teacher(TINY, read_only=True) is not None


# --- destinations -----------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["a file", "read-only"])
def test_unwritable_artifacts_fail_before_training(scratch, tmp_path, monkeypatch, kind):
    target = tmp_path / "blocked"
    if kind == "a file":
        target.write_text("")
    else:
        target.mkdir()
        target.chmod(stat.S_IRUSR | stat.S_IXUSR)
        if os.access(target, os.W_OK):  # root ignores permissions
            pytest.skip("running as root: a read-only folder is still writable")
    monkeypatch.setenv("BOOK_ARTIFACTS", str(target))
    trained = []
    monkeypatch.setattr(campaign, "train_teacher", lambda *a, **k: trained.append(1))
    with pytest.raises(UnwritableDestination, match=r"\$BOOK_ARTIFACTS"):
        campaign.stored_teacher(TINY)
    assert trained == []


def test_empty_variables_mean_unset_and_relative_paths_are_relative_to_the_repository(monkeypatch):
    monkeypatch.setattr(cache, "_checked_dirs", set())
    monkeypatch.setenv("BOOK_ARTIFACTS", "")
    assert cache.artifacts_dir("x") == cache.ROOT / "artifacts" / "x"
    monkeypatch.setenv("BOOK_ARTIFACTS", "artifacts")
    assert cache.artifacts_dir("x") == cache.ROOT / "artifacts" / "x"


# --- writes -----------------------------------------------------------------------------------

def test_a_killed_write_leaves_no_half_file_and_the_next_write_cleans_up(tmp_path):
    target = tmp_path / "big.npz"
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from book.cache import atomic_path
        with atomic_path({str(target)!r}) as tmp:
            tmp.write_bytes(b"half")
            print("writing", flush=True)
            time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "writing"
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert not target.exists()
    assert len(list(tmp_path.glob(".big.npz.tmp-*"))) == 1  # what a SIGKILL leaves
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"whole")
    assert target.read_bytes() == b"whole"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.npz"]


def test_written_files_get_a_normal_mode(tmp_path):
    target = tmp_path / "out.json"
    with atomic_path(target) as tmp:
        tmp.write_text("{}")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


# --- the loader -------------------------------------------------------------------------------

def _valid(path):
    rng = np.random.default_rng(0)
    np.savez_compressed(path, x_train=rng.integers(0, 256, (8, 28, 28), dtype=np.uint8),
                        y_train=np.arange(8, dtype=np.uint8), x_test=rng.integers(0, 256, (4, 28, 28), dtype=np.uint8),
                        y_test=np.arange(4, dtype=np.uint8))
    return path


def corrupt_deflate(path):
    _valid(path)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("x_train.npy")
    blob = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 10
    blob[start : start + 40] = bytes(40)
    path.write_bytes(bytes(blob))


def npy_instead(path):
    np.save(path.with_suffix(".npy"), np.zeros((2, 28, 28), np.uint8))
    os.replace(path.with_suffix(".npy"), path)


def object_member(path):
    _valid(path)
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["y_test"] = np.array([{"a": 1}, None, 3, 4], dtype=object)
    np.savez(path, **arrays)


def huge_header(n):
    def write(path):
        _valid(path)
        with np.load(path) as npz:
            arrays = {k: npz[k] for k in npz.files}
        with zipfile.ZipFile(path, "w") as archive:
            for key, array in arrays.items():
                with archive.open(f"{key}.npy", "w") as member:
                    shape = (n, 28, 28) if key == "x_train" else array.shape
                    np.lib.format.write_array_header_1_0(member, dict(descr="|u1", fortran_order=False, shape=shape))
                    member.write(array.tobytes())
    return write


def a_directory(path):
    path.mkdir()


def a_fifo(path):
    os.mkfifo(path)


def not_a_zip(path):
    path.write_text("this is not MNIST")


@pytest.mark.parametrize("make, problem", [
    (corrupt_deflate, r"truncated or corrupt"),
    (npy_instead, r"not a zip archive"),
    (object_member, r"Python objects.*never unpickles"),
    (huge_header(64_000_000), r"declares shape \(64000000, 28, 28\)"),
    (huge_header(10**12), r"declares shape \(1000000000000, 28, 28\)"),
    (a_directory, r"a directory"),
    (a_fifo, r"not a regular file"),
    (not_a_zip, r"not a zip archive"),
])
def test_every_bad_file_gets_one_error_naming_it(tmp_path, make, problem):
    path = tmp_path / "mnist.npz"
    make(path)
    with pytest.raises(MnistDataError, match=problem) as raised:
        read_npz(path)
    message = str(raised.value)
    assert str(path) in message and "allow_pickle" not in message


def test_the_loader_reads_what_it_validated(tmp_path, monkeypatch):
    path = _valid(tmp_path / "mnist.npz")
    monkeypatch.setenv("MNIST_NPZ", str(path))
    data = load_mnist()
    assert data.x_train.shape == (8, 28, 28, 1) and list(data.y_test) == [0, 1, 2, 3]


def test_a_killed_executions_temporary_notebook_is_never_collected():
    """``kill -9`` during ``book.execute``'s write leaves
    ``chapters/.<name>.ipynb.tmp-*.ipynb``: nbval must not collect it."""
    import fnmatch
    import runpy
    from pathlib import Path

    from book.cache import ROOT, _temporary_prefix

    ignored = runpy.run_path(str(ROOT / "conftest.py"))["collect_ignore_glob"]

    leftover = "chapters/" + _temporary_prefix(Path("01_teacher.ipynb"))
    assert any(
        fnmatch.fnmatch(leftover + "k2x9.ipynb", pattern)
        for pattern in ignored
    )
