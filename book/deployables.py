"""The bytes chapter's files as records: every model it measures, trained and measured
once, in units that resume across sessions and machines.

A unit trains one model (or none, for the teacher's own files), converts it and
its variants to LiteRT files, and measures each file (``measure_file``). Its
record, ``results/runs/deployables/<unit>.npz``, holds the measurements as
rows and the files themselves where they are small (``KEEP_BYTES``): the
students' and heads' files, which the chapter publishes and times. The
teacher-sized files (1.2-4.8 MB each) are not kept; the chapter rebuilds the
teacher's from the stored teacher and checks them against their rows.

Units, built on the campaign's stored teacher, its transfer set and its KD
choice (``book.campaign``):

* ``teacher``: the teacher as a float32 and a full-integer int8 file;
* ``teacher-pruned<s>-seed<n>``: its dense layer pruned to sparsity ``s``
  while fine-tuned (``s = 0``: the fine-tuning alone, the control), as int8
  files with and without shared weights;
* ``cnn-w<w>-<recipe>-seed<n>``: a compact student (``deploy.RECIPES``), then
  the same student pruned while it goes on learning, and its control tuned as
  long with nothing pruned; each as int8 files with and without shared weights;
* ``head-k<k>-seed<n>``: the KD head of that (seed, k) (``book.heads``: the
  draws of the campaign's grid heads), trained without the held-out tail, on
  the teacher's conv layers, as an int8 file.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from book import records
from book.cache import artifacts_dir, require
from book.deploy import (
    CLUSTERS,
    PLANS,
    activation_bytes,
    litert_file,
    litert_scores,
    lzma_bytes,
    on_images,
    prune_head,
    prune_student,
    quiet,
    shared,
    teacher_head,
    train_compact_student,
)
from book.distill import kd_method
from book.heads import Head, fit_group
from book.models import student_head
from book.profile import Profile
from book.temperature import holdout_cut, holdout_split

KEEP_BYTES = (
    200_000  # files at most this large are kept in their unit's record
)
CALIBRATION_IMAGES = 500  # from the training set (its held-out tail excluded)

ROW_TYPES = dict(
    name=str,
    family=str,
    variant=str,
    size=(int, float),
    seed=int,
    params=int,
    nonzero=int,
    kernel_nonzero_share=float,
    bytes=int,
    lzma_bytes=int,
    holdout_accuracy=float,
    test_accuracy=float,
    keras_test_accuracy=float,
    disagreements=int,
    activation_bytes=int,
    test_correct=str,
)


def measure_file(model, data, quantize: bool, name: str, **labels):
    """``model`` as a LiteRT file (int8 if ``quantize``), scored by loading the
    file in the interpreter: ``(row, file bytes)``. ``keras_test_accuracy`` is
    the Keras model's own; ``disagreements`` counts the test images on which
    the two predict different digits."""
    cut = holdout_cut(len(data.y_train))
    with quiet():
        blob = litert_file(
            model, calibration_images(data) if quantize else None
        )
        keras_predictions = model.predict(
            data.x_test, batch_size=1000, verbose=0
        ).argmax(1)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name}.tflite"
        path.write_bytes(blob)
        test = litert_scores(path, data.x_test).argmax(1)
        holdout = litert_scores(path, data.x_train[cut:]).argmax(1)
    kernels = [w.numpy() for w in model.weights if len(w.shape) > 1]
    row = dict(
        labels,
        name=name,
        params=int(model.count_params()),
        nonzero=int(sum(np.count_nonzero(w.numpy()) for w in model.weights)),
        kernel_nonzero_share=float(
            sum(np.count_nonzero(k) for k in kernels)
            / sum(k.size for k in kernels)
        ),
        bytes=len(blob),
        lzma_bytes=lzma_bytes(blob),
        holdout_accuracy=float((holdout == data.y_train[cut:]).mean()),
        test_accuracy=float((test == data.y_test).mean()),
        keras_test_accuracy=float((keras_predictions == data.y_test).mean()),
        disagreements=int((test != keras_predictions).sum()),
        activation_bytes=activation_bytes(model, 1 if quantize else 4),
        test_correct="".join("1" if c else "0" for c in test == data.y_test),
    )
    return row, blob


def int8_and_shared(
    model, shared_model, data, name: str, prefix: str, **labels
):
    """``model`` as an int8 file, and ``shared_model`` (the same model with
    ``CLUSTERS`` shared values where it is shared) as another: variants
    ``<prefix>int8`` and ``<prefix>16 shared values, int8``."""
    return [
        measure_file(model, data, True, f"{name}-int8",
                     variant=f"{prefix}int8", **labels),
        measure_file(shared_model, data, True, f"{name}-shared-int8",
                     variant=f"{prefix}{CLUSTERS} shared values, int8",
                     **labels),
    ]  # fmt: skip


# --- the units ---------------------------------------------------------------


def unit_names(profile: Profile) -> list[str]:
    plan = PLANS[profile.name]
    seeds = profile.sweep_seeds
    return [
        "teacher",
        *(
            f"teacher-pruned{s:g}-seed{n}"
            for s in (0.0, *plan.sparsities)
            for n in seeds
        ),
        *(f"cnn-w{w}-{r}-seed{n}" for w, r in plan.students for n in seeds),
        *(f"head-k{k}-seed{n}" for k in plan.head_sizes for n in seeds),
    ]


def calibration_images(data) -> np.ndarray:
    """The representative images of an int8 conversion: about
    ``CALIBRATION_IMAGES`` from the training set, its held-out tail excluded."""
    cut = holdout_cut(len(data.y_train))
    return data.x_train[: cut : max(1, cut // CALIBRATION_IMAGES)]


# The units' producers take every input as a value (loaded in
# ``Deployables.group``, identified in its key's settings): loading inside would
# bring the storage code into the key, and reading the plan inside would re-key
# every unit whenever the plan grows.


def _teacher_files(data, teacher, name):
    model = on_images(teacher, teacher_head(teacher), name)
    return [
        measure_file(model, data, kind == "int8", f"teacher-{kind}",
                     family="teacher", variant=kind, size=0, seed=0)
        for kind in ("float32", "int8")
    ]  # fmt: skip


def _pruned_teacher(
    data, teacher, transfer_set, name, sparsity, seed, epochs
):
    head = prune_head(teacher, transfer_set, sparsity, seed, epochs)
    # only the dense layer is pruned and shared; the convolutions stay as trained
    return int8_and_shared(
        on_images(teacher, head, name),
        on_images(teacher, shared(head), name),
        data,
        name,
        "pruned, ",
        family="pruned teacher",
        size=sparsity,
        seed=seed,
    )


def _student(data, transfer_set, name, width, recipe, seed, epochs,
             sparsity, prune_epochs, kd):  # fmt: skip
    logits = transfer_set.train_logits
    student = train_compact_student(
        width, recipe, seed, data, logits, kd, epochs
    )
    out = int8_and_shared(student, shared(student), data, name, "",
                          family=f"CNN student, {recipe}", size=width,
                          seed=seed)  # fmt: skip
    for share in (sparsity, 0.0):
        tag = "pruned" if share else "tuned"
        pruned = prune_student(
            student, share, data, logits, kd, prune_epochs, seed
        )
        out += int8_and_shared(pruned, shared(pruned), data, f"{name}-{tag}",
                               f"pruned {share:.0%}, ",
                               family=f"CNN student, {recipe}, {tag}",
                               size=width, seed=seed)  # fmt: skip
    return out


def _head(
    data, teacher, transfer_set, name, k, seed, epochs, kd, checkpoint=None
):
    fitted = fit_group(
        [Head(kd_method(kd.temperature, kd.alpha), k)],
        holdout_split(transfer_set),
        seed,
        epochs,
        checkpoint=checkpoint,
    )
    head = student_head(k)
    head.set_weights(list(fitted.weights[0]))
    return [
        measure_file(on_images(teacher, head, name), data, True,
                     f"{name}-int8", family="head on the teacher's convs",
                     variant="int8", size=k, seed=seed)
    ]  # fmt: skip


def _parse(unit: str):
    """(producer, the labels its name carries) for a unit's name."""
    if unit == "teacher":
        return _teacher_files, {}
    if unit.startswith("teacher-pruned"):
        sparsity, seed = unit.removeprefix("teacher-pruned").split("-seed")
        return _pruned_teacher, dict(sparsity=float(sparsity), seed=int(seed))
    if unit.startswith("cnn-w"):
        width, recipe, seed = unit.removeprefix("cnn-w").split("-")
        return _student, dict(
            width=int(width),
            recipe=recipe,
            seed=int(seed.removeprefix("seed")),
        )
    if unit.startswith("head-k"):
        k, seed = unit.removeprefix("head-k").split("-seed")
        return _head, dict(k=int(k), seed=int(seed))
    raise ValueError(f"unit {unit!r}: not one of chapter 8's")


def unit_values(profile: Profile, unit: str, kd) -> dict:
    """What a unit's producer reads besides its inputs: the labels its name
    carries and the plan's settings it uses (all in its key)."""
    producer, labels = _parse(unit)
    plan = PLANS[profile.name]
    extra = {
        _teacher_files: {},
        _pruned_teacher: dict(epochs=plan.prune_epochs),
        _student: dict(
            epochs=plan.student_epochs,
            sparsity=plan.student_sparsity,
            prune_epochs=plan.prune_epochs,
            kd=kd,
        ),
        _head: dict(epochs=profile.student_epochs, kd=kd),
    }[producer]
    return {**labels, **extra}


UNIT_INPUTS = {
    _teacher_files: ("teacher",),
    _pruned_teacher: ("teacher", "transfer_set"),
    _student: ("transfer_set",),
    _head: ("teacher", "transfer_set"),
}


def expected_names(unit: str) -> list[str]:
    """The files a unit measures, in order."""
    producer, _ = _parse(unit)
    if producer is _teacher_files:
        return ["teacher-float32", "teacher-int8"]
    if producer is _head:
        return [f"{unit}-int8"]
    stems = [unit] + (
        [f"{unit}-pruned", f"{unit}-tuned"] if producer is _student else []
    )
    return [f"{s}{v}" for s in stems for v in ("-int8", "-shared-int8")]


@dataclasses.dataclass(frozen=True)
class Deployables:
    """The campaign's job for the bytes chapter: one record per unit (see the module)."""

    uses_kd = True  # its distilled students train at the grid's KD setting
    name: str = "deployables"

    def units(self, profile: Profile) -> list[str]:
        return unit_names(profile)

    def epochs(self, profile: Profile) -> int:
        return 1

    def path(self, profile: Profile, unit: str) -> Path:
        return campaign.runs_dir(profile) / self.name / f"{unit}.npz"

    def finished(self, profile: Profile, unit) -> bool:
        return self.group(profile, unit, read_only=True) is not None

    def group(self, profile, unit, bar=None, key_only=False, read_only=False):
        producer, labels = _parse(unit)
        needs_kd = producer in (_student, _head)
        values = unit_values(
            profile, unit, campaign.kd_setting(profile) if needs_kd else None
        )
        settings = dict(
            experiment=self.name,
            unit=unit,
            values=campaign.plain(values),
            mnist=campaign.data_fingerprint(profile),
            teacher=campaign.teacher_sha(profile),
            litert=records._version("ai-edge-litert"),
            keep_bytes=KEEP_BYTES,
        )
        key = records.code_key(producer, settings=settings)
        if key_only:
            return key
        data = campaign.mnist_of(profile)

        def compute():
            inputs = {need: campaign.INPUTS[need](profile)
                      for need in UNIT_INPUTS[producer]}  # fmt: skip
            if producer is _head:  # resumable: a head trains for many epochs
                inputs["checkpoint"] = records.Checkpoint(
                    campaign.artifacts_dir(profile.name)
                    / f"deployables-{unit}-{key}.npz"
                )
            start = time.perf_counter()
            measured = producer(data, name=unit, **inputs, **values)
            seconds = time.perf_counter() - start
            rows = [row for row, _ in measured]
            kept = {
                row["name"]: blob
                for row, blob in measured
                if len(blob) <= KEEP_BYTES
            }

            def save(tmp):
                with open(tmp, "wb") as file:
                    np.savez_compressed(
                        file,
                        rows=np.array(json.dumps(rows)),
                        **{
                            f"tflite_{n}": np.frombuffer(b, np.uint8)
                            for n, b in kept.items()
                        },
                    )
                if bar is not None:
                    bar.update(1)

            return save, dict(
                settings=settings,
                seconds=seconds,
                test_images=len(data.y_test),
            )

        def check(path, manifest):
            # Recompressing the kept files (about 3 s over all the records)
            # proves each is the one measured: once per file (records.passed_mark).
            passed = records.passed_mark(
                path, manifest, artifacts_dir(profile.name) / "checked"
            )
            first = not passed.is_file()
            value = _check_record(path, manifest, unit, recompress=first)
            if first:
                passed.parent.mkdir(parents=True, exist_ok=True)
                passed.touch()
            return value

        value = records.produce(
            self.path(profile, unit),
            key,
            None if read_only else compute,
            check,
            content_hash=False,  # a zip: its members' CRCs catch a flipped bit
        )
        if value is None:
            return None
        rows, _ = value
        return rows


def _check_record(path: Path, manifest: dict, unit: str, recompress: bool):
    """(rows, kept files) of a unit's record, every value checked; each kept
    file's compressed size too if ``recompress``."""
    n, names = manifest["test_images"], expected_names(unit)
    _, labels = _parse(unit)
    with np.load(path, allow_pickle=False) as npz:
        require("rows" in npz.files, "no rows")
        rows = json.loads(str(npz["rows"]))
        files = {
            key.removeprefix("tflite_"): npz[key].tobytes()
            for key in npz.files
            if key.startswith("tflite_")
        }
    require(
        isinstance(rows, list) and all(isinstance(r, dict) for r in rows),
        "rows that are not a list of records",
    )
    require(
        [r.get("name") for r in rows] == names,
        f"files {[r.get('name') for r in rows]}, expected {names}",
    )
    for row in rows:
        where = f"row {row['name']}"
        require(
            set(row) == set(ROW_TYPES),
            f"{where}: fields {sorted(row)}, expected {sorted(ROW_TYPES)}",
        )
        for field, kind in ROW_TYPES.items():
            value = row[field]
            require(
                isinstance(value, kind) and not isinstance(value, bool),
                f"{where}: {field} {value!r} is not {kind}",
            )
            if isinstance(value, float):
                require(math.isfinite(value), f"{where}: {field} {value}")
        for field in ("holdout_accuracy", "test_accuracy", "keras_test_accuracy",
                      "kernel_nonzero_share"):  # fmt: skip
            require(0 <= row[field] <= 1, f"{where}: {field} {row[field]}")
        correct = row["test_correct"]
        require(
            len(correct) == n and set(correct) <= {"0", "1"},
            f"{where}: test_correct is not one 0/1 per test image ({n})",
        )
        require(
            correct.count("1") == round(row["test_accuracy"] * n),
            f"{where}: test_accuracy does not match its per-image record",
        )
        require(0 <= row["disagreements"] <= n, f"{where}: disagreements")
        require(
            0 < row["nonzero"] <= row["params"], f"{where}: non-zero weights"
        )
        require(0 < row["lzma_bytes"] and 0 < row["bytes"], f"{where}: bytes")
        require(
            row["seed"] == labels.get("seed", 0)
            and row["size"]
            == labels.get(
                "sparsity", labels.get("width", labels.get("k", 0))
            ),
            f"{where}: seed {row['seed']} or size {row['size']} not the unit's",
        )
        right = np.frombuffer(row["test_correct"].encode(), "u1") == ord("1")
        require(
            abs(right.mean() - row["keras_test_accuracy"]) * n
            <= row["disagreements"] + 1e-6,
            f"{where}: the file and the Keras model differ on more images "
            "than its disagreements",
        )
        if row["bytes"] <= KEEP_BYTES:
            blob = files.get(row["name"])
            require(blob is not None, f"{where}: its file is not kept")
            require(
                len(blob) == row["bytes"]
                and (not recompress or lzma_bytes(blob) == row["lzma_bytes"]),
                f"{where}: its kept file is not the one measured",
            )
    require(
        set(files) <= set(names), f"files {sorted(set(files) - set(names))}"
    )
    frame = pd.DataFrame(rows).assign(
        seconds=manifest["seconds"], cpu=manifest["cpu"]
    )
    return frame, files


def _unit_of(profile: Profile, name: str) -> str:
    """The unit that measures file ``name``."""
    unit = next(
        (u for u in unit_names(profile) if name in expected_names(u)), None
    )
    require(unit is not None, f"no unit of chapter 8 measures {name!r}")
    return unit


def kept_file(profile: Profile, name: str) -> bytes:
    """The bytes of a kept file, from its unit's record (checked)."""
    unit = _unit_of(profile, name)
    job = Deployables()
    path = job.path(profile, unit)
    manifest = records.read_manifest(
        path, job.group(profile, unit, key_only=True), False
    )
    require(manifest is not None, f"{path} is missing or stale")
    _, files = _check_record(path, manifest, unit, recompress=True)
    require(name in files, f"{name} is over {KEEP_BYTES:,} bytes: not kept")
    return files[name]


def publish(
    profile: Profile, table: pd.DataFrame, names, times
) -> pd.DataFrame:
    """Write the named kept files to ``<results_dir>/models/`` (others there
    are removed) with ``models.csv``: bytes, lzma bytes, test accuracy (from
    the interpreter) and latency (``times``, from ``latencies``)."""
    from book.cache import atomic_path, save_csv
    from book.results import results_dir

    models = results_dir(profile) / "models"
    models.mkdir(exist_ok=True)
    blobs = {name: kept_file(profile, name) for name in names}  # all, first
    for name, blob in blobs.items():
        with atomic_path(models / f"{name}.tflite") as tmp:
            tmp.write_bytes(blob)
    for stale in models.glob("*.tflite"):
        if stale.stem not in names:
            stale.unlink()
    rows = table.set_index("name").loc[list(names)]
    timing = times.set_index("name").loc[list(names)]
    listing = pd.DataFrame(
        {
            "file": [f"{n}.tflite" for n in names],
            "bytes": rows["bytes"].values,
            "lzma_bytes": rows.lzma_bytes.values,
            "test_accuracy": rows.test_accuracy.values,
            "litert_ms": timing.litert_ms.round(3).values,
        }
    )
    with atomic_path(models / "models.csv") as tmp:
        save_csv(listing, tmp)
    return listing


# --- latency -------------------------------------------------------------------

LATENCY_DTYPES = dict(
    name="str", litert_ms="float", keras_ms="float", stand_in="str"
)


def _architecture(name: str) -> str:
    """What Keras model a file's latency is compared with: a dense kernel
    costs the same whatever its values, so the architecture is enough."""
    if name.startswith("teacher"):
        return "teacher"
    if name.startswith("cnn-w"):
        return f"cnn:{int(name.removeprefix('cnn-w').split('-')[0])}"
    if name.startswith("head-k"):
        return f"head:{int(name.removeprefix('head-k').split('-')[0])}"
    raise ValueError(f"file {name!r}: not one of chapter 8's")


def _pruned_stand_in(teacher, data, name: str) -> bytes:
    """For a pruned teacher's file (not kept: 1.2 MB): the stored teacher
    with its dense layer magnitude-pruned to the same sparsity (and its
    values shared, if the file's are), not fine-tuned, as an int8 file. It
    has the file's shapes and the same number of zeros in the dense kernel
    (not the same positions), which is what its latency could depend on; its
    accuracy is not the file's."""
    from book.deploy import magnitude_mask

    sparsity = float(name.removeprefix("teacher-pruned").split("-seed")[0])
    head = teacher_head(teacher)
    dense = head.get_layer("dense")
    kernel, bias = dense.get_weights()
    dense.set_weights([kernel * magnitude_mask(kernel, sparsity), bias])
    if "-shared-" in name:
        head = shared(head)
    with quiet():
        return litert_file(
            on_images(teacher, head, name), calibration_images(data)
        )


def latency_files(teacher, data, measured: pd.DataFrame, names, folder: Path,
                  kept: dict):  # fmt: skip
    """Write every named file to ``folder`` as ``<name>.tflite``: a kept file
    as given (``kept``, read from its record); the teacher's two, rebuilt
    from the stored teacher and checked against their rows (bytes, and the
    test images each gets right); a pruned teacher's by its stand-in
    (``_pruned_stand_in``, checked for its size). Returns {name: what stood
    in, or ""}."""
    rows = measured.set_index("name")
    stand_ins = {}
    for name in names:
        stand_ins[name], row = "", rows.loc[name]
        path = folder / f"{name}.tflite"
        if row["bytes"] <= KEEP_BYTES:
            path.write_bytes(kept[name])
        elif name in ("teacher-float32", "teacher-int8"):
            model = on_images(teacher, teacher_head(teacher), "teacher")
            quantize = name.endswith("int8")
            with quiet():
                blob = litert_file(
                    model, calibration_images(data) if quantize else None
                )
            path.write_bytes(blob)
            right = litert_scores(path, data.x_test).argmax(1) == data.y_test
            require(
                len(blob) == row["bytes"]
                and "".join("1" if c else "0" for c in right)
                == row["test_correct"],
                f"{name} rebuilt from the stored teacher is not the file "
                f"its record measured",
            )
        elif name.startswith("teacher-pruned"):
            blob = _pruned_stand_in(teacher, data, name)
            require(
                len(blob) == row["bytes"],
                f"the stand-in for {name} has {len(blob):,} bytes, the file "
                f"{row['bytes']:,}",
            )
            path.write_bytes(blob)
            stand_ins[name] = "stand-in: same sparsity, not fine-tuned"
        else:
            raise ValueError(f"{name} is over {KEEP_BYTES:,} bytes: not kept")
    return stand_ins


def latencies(profile: Profile, table: pd.DataFrame, names) -> pd.DataFrame:
    """Median batch-1 latency per image of the named files in the LiteRT
    interpreter, and of a Keras model of the same architecture run as a
    compiled function, both on one thread, measured in a fresh process
    (TensorFlow fixes its thread count when it starts). A record,
    ``latency.csv`` beside the units', measured once on the CPU it names."""
    import os
    import subprocess
    import sys

    from book.deploy import LATENCY_COLUMNS

    names = list(names)
    calls = PLANS[profile.name].latency_calls
    job = Deployables()
    units = {n: _unit_of(profile, n) for n in names}
    settings = dict(
        names=names,
        calls=calls,
        teacher=campaign.teacher_sha(profile),
        mnist=campaign.data_fingerprint(profile),
        litert=records._version("ai-edge-litert"),
        # the records the files come from, and the models Keras times
        units={
            n: job.group(profile, u, key_only=True) for n, u in units.items()
        },
        architectures={n: _architecture(n) for n in names},
    )
    key = records.code_key(
        latency_files, _benchmark, _architecture, settings=settings
    )
    path = campaign.runs_dir(profile) / Deployables.name / "latency.csv"

    def compute():
        with tempfile.TemporaryDirectory() as folder:
            kept = {
                n: kept_file(profile, n)
                for n in names
                if table.set_index("name").loc[n, "bytes"] <= KEEP_BYTES
            }
            stand_ins = latency_files(
                campaign.stored_teacher(profile)[0],
                campaign.mnist_of(profile),
                table,
                names,
                Path(folder),
                kept,
            )
            command = [
                sys.executable, "-m", "book.deployables", folder, str(calls),
                *(f"{n}={_architecture(n)}" for n in names),
            ]  # fmt: skip
            run = subprocess.run(
                command,
                capture_output=True,
                text=True,
                env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
            )
        if run.returncode:
            raise RuntimeError(
                f"the latency benchmark failed:\n{run.stderr[-2000:]}"
            )
        times = pd.read_csv(io.StringIO(run.stdout))[LATENCY_COLUMNS]
        times["stand_in"] = times.name.map(stand_ins)
        return (lambda tmp: times.to_csv(tmp, index=False)), dict(
            settings=settings, seconds=0.0
        )

    def check(path, manifest):
        times = records.read_table(path, LATENCY_DTYPES)
        require(list(times.name) == names, "other files")
        require(
            (times[["litert_ms", "keras_ms"]] > 0).all().all(),
            "a time that is not positive",
        )
        return times.assign(cpu=manifest["cpu"])

    return records.produce(path, key, compute, check)


def _benchmark(folder: Path, calls: int, specs: list[str]) -> None:
    """Time ``<folder>/<name>.tflite`` for every ``name=architecture`` of
    ``specs`` (see ``_architecture``); print a CSV of ``LATENCY_COLUMNS``."""
    import sys

    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    from book.cnn import cnn_student
    from book.deploy import LATENCY_COLUMNS, LATENCY_THREADS, _median_ms
    from book.models import teacher_model

    tf.config.threading.set_intra_op_parallelism_threads(LATENCY_THREADS)
    tf.config.threading.set_inter_op_parallelism_threads(LATENCY_THREADS)
    image = np.random.default_rng(0).random((1, 28, 28, 1), "float32")

    rows = []
    for spec in specs:
        name, architecture = spec.split("=")
        interpreter = Interpreter(
            model_path=str(folder / f"{name}.tflite"),
            num_threads=LATENCY_THREADS,
        )
        interpreter.allocate_tensors()
        (source,), (sink,) = (
            interpreter.get_input_details(),
            interpreter.get_output_details(),
        )

        def litert():
            interpreter.set_tensor(source["index"], image)
            interpreter.invoke()
            return interpreter.get_tensor(sink["index"])

        kind, _, size = architecture.partition(":")
        teacher = teacher_model()  # untrained: the same cost as trained
        model = {
            "teacher": lambda: on_images(
                teacher, teacher_head(teacher), name
            ),
            "cnn": lambda: cnn_student(int(size)),
            "head": lambda: on_images(teacher, student_head(int(size)), name),
        }[kind]()
        compiled = tf.function(lambda x, m=model: m(x, training=False))
        tensor = tf.constant(image)
        rows.append(
            dict(
                name=name,
                litert_ms=_median_ms(litert, calls),
                keras_ms=_median_ms(lambda: compiled(tensor).numpy(), calls),
            )
        )
    pd.DataFrame(rows, columns=LATENCY_COLUMNS).to_csv(
        sys.stdout, index=False
    )


# Last, because book.campaign imports this module for its JOBS: by now
# Deployables exists for it, whichever of the two modules was imported first.
from book import campaign  # noqa: E402

if __name__ == "__main__":
    import sys

    from book.deployables import _benchmark as imported_benchmark

    imported_benchmark(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3:])
