"""The campaign's records: a stale key, a flipped digit, a formula cell, a FIFO,
a second producer -- each named and recovered, nothing overwritten, no hang."""

import json
import multiprocessing
import os
import time

import pandas as pd
import pytest

from book import records
from book.cache import InvalidArtifact, require

DTYPES = dict(method="str", k="int", correct="int", test_accuracy="float")


def produce(path, key="k1", log=None, value=1, delay=0.0):
    """A toy record: two heads, 10 test images; ``log`` counts computations."""

    def compute():
        if log is not None:
            log.append(key)
        time.sleep(delay)
        rows = pd.DataFrame(dict(method=["mse", "kd"], k=[2, 6], correct=[value, 9], test_accuracy=[value / 10, 0.9]))
        return (lambda tmp: rows.to_csv(tmp, index=False)), dict(seconds=1.0, settings={})

    def check(path, manifest):
        rows = records.read_table(path, DTYPES)
        require(rows.correct.between(0, 10).all(), "a count outside 0-10")
        require(((rows.test_accuracy - rows.correct / 10).abs() < 1e-9).all(), "an accuracy that is not its count / 10")
        return rows

    return records.produce(path, key, compute, check)


def test_a_record_is_read_back_and_not_recomputed(tmp_path):
    log = []
    first = produce(tmp_path / "r.csv", log=log)
    again = produce(tmp_path / "r.csv", log=log)
    assert log == ["k1"] and first.equals(again)
    manifest = records.read_manifest(tmp_path / "r.csv", "k1")
    assert manifest["cpu"] and manifest["seconds"] == 1.0 and len(manifest["sha256"]) == 64


def test_a_changed_key_recomputes(tmp_path):
    log = []
    produce(tmp_path / "r.csv", key="old", log=log)
    produce(tmp_path / "r.csv", key="new", log=log)
    assert log == ["old", "new"]


@pytest.mark.parametrize(
    "damage",
    [
        lambda s: s.replace("mse,2,1,0.1", "mse,2,1,1.1"),  # one digit: the sha256 catches it
        lambda s: s.replace("mse,2,1,0.1", "mse,2,1,=1+1"),  # a formula cell
        lambda s: s[:-3],  # cut short
    ],
)
def test_a_damaged_record_is_kept_aside_and_produced_again(tmp_path, damage, capsys):
    path = tmp_path / "r.csv"
    clean = produce(path)
    path.write_text(damage(path.read_text()))
    again = produce(path)
    assert again.equals(clean)
    kept = sorted(tmp_path.glob("r.csv.2*.invalid"))
    assert len(kept) == 1 and "r.csv" in capsys.readouterr().err
    # a second fault keeps the first one's evidence
    path.write_text(damage(path.read_text()))
    produce(path)
    assert len(list(tmp_path.glob("r.csv.2*.invalid"))) == 2


def test_values_are_checked_even_when_the_hash_matches(tmp_path, capsys):
    """A consistent but wrong record (its manifest's hash updated): the value check catches it."""
    path = tmp_path / "r.csv"
    clean = produce(path, value=1)
    path.write_text(path.read_text().replace("mse,2,1,0.1", "mse,2,1,0.7"))
    manifest = records.manifest_path(path)
    fixed = json.loads(manifest.read_text()) | {"sha256": records.sha256(path)}
    manifest.write_text(json.dumps(fixed))
    assert produce(path).equals(clean)
    assert "not its count" in capsys.readouterr().err


def test_a_cell_that_is_not_a_number_is_named(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("method,k,correct,test_accuracy\nmse,2,inf,0.1\n")
    with pytest.raises(InvalidArtifact, match=r"row 2, column 'correct'"):
        records.read_table(path, DTYPES)


def test_a_fifo_under_a_record_name_is_refused_without_opening_it(tmp_path):
    path = tmp_path / "r.csv"
    os.mkfifo(path)
    with pytest.raises(InvalidArtifact, match="not a regular file"):
        records.read_manifest(path, "k1")


def _producer(path, out):
    rows = produce(path, delay=3.0, log=[])
    out.put(int(rows.correct.iloc[0]))


def test_a_second_producer_waits_and_reads_the_first_ones_record(tmp_path):
    path = tmp_path / "r.csv"
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    first = context.Process(target=_producer, args=(path, out))
    first.start()
    deadline = time.time() + 30
    while not (tmp_path / "r.csv.lock").exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    log = []
    rows = produce(path, log=log)  # would compute only if it did not wait
    first.join(30)
    assert first.exitcode == 0 and out.get(timeout=5) == 1
    assert log == [] and int(rows.correct.iloc[0]) == 1


def test_a_key_refuses_code_it_cannot_follow():
    def script_function():  # as if defined in a module run as a script
        pass

    script_function.__module__ = "__main__"
    with pytest.raises(ValueError, match="not in the book package"):
        records.code_key(script_function, settings={})


def test_a_live_writers_temporary_file_is_left_alone_and_a_dead_ones_removed(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "r.csv"
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    try:
        theirs = tmp_path / f".r.csv.tmp-{live.pid}-abcd.csv"
        stale = tmp_path / f".r.csv.tmp-{dead.pid}-abcd.csv"
        theirs.write_text("being written")
        stale.write_text("left by a killed run")
        produce(path)
        assert theirs.exists() and not stale.exists()
    finally:
        live.kill()


def test_a_full_disk_is_named_with_the_file_and_the_variables(tmp_path, monkeypatch):
    import errno

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(records.os, "replace", full)
    with pytest.raises(records.NoSpace, match=r"r\.csv.*is full.*BOOK_RESULTS"):
        produce(tmp_path / "r.csv")
    assert not list(tmp_path.glob("*.tmp-*")) and not (tmp_path / "r.csv").exists()


def test_work_that_needs_more_space_than_there_is_is_refused_before_it_starts(tmp_path):
    with pytest.raises(records.NoSpace, match="needs .* GiB"):
        records.require_space(tmp_path, 10**18, "a transfer set")


def test_a_folder_under_a_manifests_name_is_kept_aside_and_the_record_produced(tmp_path, capsys):
    path = tmp_path / "r.csv"
    clean = produce(path)
    manifest = records.manifest_path(path)
    manifest.unlink()
    manifest.mkdir()
    assert produce(path).equals(clean)
    assert "not a regular file" in capsys.readouterr().err
    assert len(list(tmp_path.glob("r.csv.json.*.invalid"))) == 1


def test_a_manifest_that_is_not_json_is_kept_aside_and_the_record_produced(tmp_path, capsys):
    """A garbled manifest (the teacher's holds its training history) is damage, not absence."""
    path = tmp_path / "r.csv"
    log = []
    clean = produce(path, log=log)
    records.manifest_path(path).write_text("{not json")
    assert produce(path, log=log).equals(clean)
    assert log == ["k1", "k1"] and "unreadable manifest" in capsys.readouterr().err
    assert len(list(tmp_path.glob("r.csv.json.*.invalid"))) == 1


def test_a_key_is_refused_when_its_source_changed_since_the_process_loaded_it(monkeypatch):
    from book import heads

    records.snapshot_sources()
    monkeypatch.setitem(records._LOADED, heads.__file__, "the text this process loaded")
    with pytest.raises(RuntimeError, match="changed on disk since this process loaded it"):
        records.code_key(heads.fit_group, settings={"test": "a changed source"})


def test_a_key_follows_what_a_factory_made_function_captured_and_its_factory():
    from book.distill import kd_loss, kd_method

    plain, tempered = kd_method(4, 0.0).loss, kd_method(4, 0.1).loss
    assert records.code_key(plain, settings={}) != records.code_key(tempered, settings={})
    assert kd_loss in records._expanded([plain])  # the factory's body is part of the key
    assert records.code_key(plain, settings={}) == records.code_key(kd_method(4, 0.0).loss, settings={})
