"""The campaign in the smoke profile: a group is trained once, read back after,
and a damaged record is retrained to the identical result."""

import pytest

from book import campaign
from book.profile import PROFILES


@pytest.fixture
def profile(tmp_path, monkeypatch):
    monkeypatch.setenv("BOOK_ARTIFACTS", str(tmp_path / "artifacts"))
    monkeypatch.setenv("BOOK_RESULTS", str(tmp_path / "results"))
    campaign.forget_teacher()
    yield PROFILES["smoke"]
    campaign.forget_teacher()


def test_a_group_is_trained_once_and_a_damaged_record_again(profile, capsys):
    controls = campaign.experiment_named("controls")
    with pytest.raises(RuntimeError, match="no current stored teacher"):
        controls.group(
            profile, 0, key_only=True
        )  # asking for a key never trains
    campaign.stored_teacher(profile)
    assert not controls.finished(
        profile, 0
    )  # reads only: nothing is trained or written
    assert not controls.path(profile, 0).exists()
    assert campaign.table(profile, "controls", train=False).empty
    first = controls.group(profile, 0)
    # a chapter's runtime note: the time its records took, and what is still missing
    note = campaign.runtime_note(profile, {"controls": "the controls"}, teacher=True).data
    assert "the teacher" in note and "the controls" in note
    assert f"{len(controls.units(profile)) - 1} of its records are not trained yet" in note
    path = controls.path(profile, 0)
    written = path.stat().st_mtime_ns
    assert (
        controls.group(profile, 0).equals(first)
        and path.stat().st_mtime_ns == written
    )
    assert controls.finished(profile, 0) and not controls.finished(profile, 1)
    text = path.read_text()
    row = text.splitlines()[1]
    path.write_text(
        text.replace(row, row.replace(",0,", ",1,", 1))
    )  # one digit
    again = controls.group(profile, 0)
    assert again.drop(columns="seconds").equals(first.drop(columns="seconds"))
    assert "sha256" in capsys.readouterr().err
    manifest = campaign.records.read_manifest(
        path, controls.group(profile, 0, key_only=True)
    )
    assert (
        manifest["cpu"] and manifest["settings"]["experiment"] == "controls"
    )


def test_a_results_folder_that_is_a_file_is_refused_before_any_training(
    profile, tmp_path, monkeypatch
):
    from book.cache import UnwritableDestination

    not_a_folder = tmp_path / "results-file"
    not_a_folder.write_text("")
    monkeypatch.setenv("BOOK_RESULTS", str(not_a_folder))
    with pytest.raises(UnwritableDestination, match="BOOK_RESULTS"):
        campaign.run(profile, only="controls")
    assert not list(
        (tmp_path / "artifacts").rglob("*.npz")
    )  # nothing was trained or extracted


def test_a_transfer_set_with_a_flipped_byte_is_caught_by_its_crc(
    profile, capsys
):
    first = campaign.transfer(profile)
    files = list(
        (campaign.artifacts_dir(profile.name)).glob(
            "campaign-transfer-*-inference.npz"
        )
    )
    (path,) = files
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 3] ^= 0x01  # inside the training features
    path.write_bytes(bytes(blob))
    again = campaign.transfer(profile)
    assert (again.train_features == first.train_features).all()
    assert "invalid" in capsys.readouterr().err


def test_committed_records_are_intact_and_current(monkeypatch):
    """Every record under results/runs/ matches its sha256 and was made by the
    code and settings here: a change to what trains them (a loss, fit_group,
    the teacher's recipe) fails this test instead of silently staling hours of runs."""
    monkeypatch.delenv("BOOK_RESULTS", raising=False)
    full = PROFILES["full"]
    campaign.forget_teacher()
    try:
        checked = 0
        for job in campaign.JOBS:
            for unit in job.units(full):
                if job.path(full, unit).exists():
                    assert job.finished(full, unit), (
                        f"{job.path(full, unit)} is stale or damaged"
                    )
                    checked += 1
        assert checked or not campaign.runs_dir(full).exists()
    finally:
        campaign.forget_teacher()


def test_the_step_bound_counts_two_products_and_nine_passes():
    # 100 units: 2 x 2 x 32 x 9216 x 100 FLOPs at 1 GFLOP/s, 9 x 4 x 9216 x 100 bytes at 1 GB/s
    expected = 4 * 32 * 9216 * 100 / 1e9 + 9 * 4 * 9216 * 100 / 1e9
    assert campaign.step_bound_seconds(100, 1.0, 1.0) == pytest.approx(
        expected
    )


def test_a_consistent_but_wrong_transfer_set_is_caught_by_its_values(
    profile, capsys
):
    """Shuffled labels in an intact zip (its CRCs right): the labels are checked against MNIST's."""
    import numpy as np

    first = campaign.transfer(profile)
    (path,) = campaign.artifacts_dir(profile.name).glob(
        "campaign-transfer-*-inference.npz"
    )
    with np.load(path) as npz:
        arrays = dict(npz)
    arrays["train_labels"] = np.random.default_rng(0).permutation(
        arrays["train_labels"]
    )
    np.savez(path, **arrays)
    again = campaign.transfer(profile)
    assert (again.train_labels == first.train_labels).all()
    assert "train labels differ from MNIST's" in capsys.readouterr().err


def test_a_teacher_record_with_untrained_weights_is_caught_by_its_accuracy(
    profile, capsys
):
    """Zero weights saved under a manifest whose sha256 matches: the accuracy check catches them."""
    import json

    from book.models import teacher_model

    model, manifest = campaign.stored_teacher(profile)
    path = campaign.runs_dir(profile) / "teacher.weights.h5"
    blank = teacher_model()
    blank.set_weights([w * 0 for w in blank.get_weights()])
    staged = path.with_name("blank.weights.h5")
    blank.save_weights(staged)
    staged.replace(path)
    manifest_file = campaign.records.manifest_path(path)
    manifest_file.write_text(
        json.dumps(
            json.loads(manifest_file.read_text())
            | {"sha256": campaign.records.sha256(path)}
        )
    )
    campaign.forget_teacher()
    retrained, _ = campaign.stored_teacher(profile)
    assert all(
        (a == b).all()
        for a, b in zip(retrained.get_weights(), model.get_weights())
    )
    assert "its history says" in capsys.readouterr().err


def test_a_deployables_record_with_a_wrong_value_is_measured_again(
    profile, monkeypatch, capsys
):
    """Chapter 8's records: a value changed consistently (the zip's CRCs are
    fine) is caught by the checks and the unit measured again, identically."""
    import io
    import json

    import numpy as np

    from book import deployables
    from book.cnn import KdSetting

    monkeypatch.setattr(
        campaign, "kd_setting", lambda profile: KdSetting(4.0, 0.0)
    )
    campaign.stored_teacher(profile)
    job = deployables.Deployables()
    assert not job.finished(profile, "teacher")
    first = job.group(profile, "teacher")
    assert list(first.name) == ["teacher-float32", "teacher-int8"]
    assert job.finished(profile, "teacher")
    path = job.path(profile, "teacher")
    with np.load(path) as npz:
        arrays = {name: npz[name] for name in npz.files}
    rows = json.loads(str(arrays["rows"]))
    assert not [
        n for n in arrays if n.startswith("tflite_")
    ]  # teacher-sized files are not kept
    rows[0]["test_accuracy"] = 1.195  # a flipped digit, in a valid zip
    arrays["rows"] = np.array(json.dumps(rows))
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path.write_bytes(buffer.getvalue())
    again = job.group(profile, "teacher")
    assert again.drop(columns="seconds").equals(first.drop(columns="seconds"))
    assert "test_accuracy 1.195" in capsys.readouterr().err


def test_a_single_run_with_a_consistent_but_impossible_value_is_trained_again(
    profile, capsys
):
    """Issue 21's example: the teacher's val_accuracy 0.787 -> 1.787, with the
    manifest's sha256 made to match, so that only the value checks can catch it."""
    import json

    from book import records

    demo = campaign.single_run("lr_demo")
    first = demo.group(profile, 1.0)
    path = demo.path(profile, 1.0)
    text = path.read_text()
    value = repr(float(first.val_accuracy.iloc[0]))
    assert value in text
    path.write_text(text.replace(value, "1" + value[1:]))
    manifest_path = records.manifest_path(path)
    manifest = json.loads(manifest_path.read_text())
    manifest["sha256"] = records.sha256(path)
    manifest_path.write_text(json.dumps(manifest))
    again = demo.group(profile, 1.0)
    assert again.drop(columns="seconds").equals(first.drop(columns="seconds"))
    assert "val_accuracy outside 0-1" in capsys.readouterr().err


def test_keys_do_not_reach_the_campaigns_orchestration():
    """A key hashes its producers' closure (book.codekey), which follows every
    name a function uses, a local variable that shadows a module's name
    included. Producers must not reach the job list, the runner or the loaded
    teacher: adding a job, or loading the teacher first, would re-key hours of runs."""
    from book import deployables
    from book.codekey import closure

    producers = [r.train for r in campaign.SINGLE_RUNS] + [
        deployables._teacher_files,
        deployables._pruned_teacher,
        deployables._student,
        deployables._head,
        deployables.latency_files,
        deployables._benchmark,
        campaign.fit_group,
        campaign.train_student,
        campaign.train_teacher,
        campaign.read_transfer,
    ]
    # Nor the storage code: inputs are loaded outside and passed in as values.
    forbidden = (
        "book.campaign.JOBS",
        "book.campaign.EXPERIMENTS",
        "book.campaign.SINGLE_RUNS",
        "book.campaign._LOADED",
        "book.campaign.run",
        "book.campaign.table",
        "book.campaign.kd_setting",
        "book.campaign.sweep_methods",
        "book.campaign.stored_teacher",
        "book.campaign.transfer",
        "book.deployables.Deployables",
        "book.deployables.PLANS",
        "book.records.",
        "book.cache.artifacts_dir",
        "book.cache.atomic_path",
        "book.results.",
    )
    for producer in producers:
        reached = [
            name
            for name in closure(producer)
            if any(
                name == f or (f.endswith(".") and name.startswith(f))
                for f in forbidden
            )
        ]
        assert not reached, f"{producer.__name__} reaches {reached}"


def test_every_units_settings_can_be_written_into_its_manifest():
    import json

    from book import deployables
    from book.cnn import KdSetting

    smoke, kd = PROFILES["smoke"], KdSetting(4.0, 0.0)
    for job in campaign.SINGLE_RUNS:
        for unit in job.units(smoke):
            json.dumps(campaign.plain(job.values(smoke, unit, kd)))
    for unit in deployables.unit_names(smoke):
        json.dumps(campaign.plain(deployables.unit_values(smoke, unit, kd)))
        assert deployables.expected_names(unit)


def test_every_job_has_a_title_and_an_unknown_name_is_named():
    assert set(campaign.JOB_TITLES) == {job.name for job in campaign.JOBS}
    with pytest.raises(ValueError, match="no campaign job 'swep'.*'sweep'"):
        campaign.job_named("swep")
