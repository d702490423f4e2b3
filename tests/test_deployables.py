"""Chapter 8's pruning, weight sharing and LiteRT files, and the committed
deployables under ``results/models/``."""

import lzma

import keras
import numpy as np
import pandas as pd
import pytest

from book import deploy
from book.cnn import cnn_student
from book.data import load_mnist
from book.profile import PROFILES
from book.results import PUBLISHED

MODELS = PUBLISHED / "models"


def test_magnitude_mask_keeps_the_largest_weights():
    kernel = np.array([[0.1, -3.0], [2.0, -0.2]])
    mask = deploy.magnitude_mask(kernel, 0.5)
    assert mask.tolist() == [[0, 1], [1, 0]]
    assert deploy.magnitude_mask(kernel, 0.0).all()


def test_the_schedule_ramps_from_zero_to_the_final_sparsity():
    assert deploy.sparsity_at(0, 100, 0.9) == 0
    assert deploy.sparsity_at(100, 100, 0.9) == pytest.approx(0.9)
    assert deploy.sparsity_at(500, 100, 0.9) == pytest.approx(0.9)
    steps = [deploy.sparsity_at(s, 100, 0.9) for s in range(101)]
    assert steps == sorted(steps)


def test_pruned_weights_stay_pruned_while_training():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(4), keras.layers.Dense(2)]
    )
    model.compile("adam", "mse")
    x, y = np.random.rand(256, 8), np.random.rand(256, 2)
    layer = model.layers[0]
    pruning = deploy.MagnitudePruning([layer], 0.75, ramp_steps=4, every=2)
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[pruning])
    kernel = layer.kernel.numpy()
    assert np.count_nonzero(kernel) == 8  # 25% of 32
    assert (kernel[pruning.masks[0] == 0] == 0).all()


def test_shared_weights_take_at_most_the_given_number_of_values():
    kernel = np.random.default_rng(0).normal(size=(50, 20))
    kernel[kernel < -1] = 0
    shared = deploy.share_weights(kernel, clusters=4)
    assert len(np.unique(shared[shared != 0])) <= 4
    assert ((shared == 0) == (kernel == 0)).all()
    assert np.abs(shared - kernel).max() < np.abs(kernel).max()


def test_the_border_is_the_outer_ring_of_the_feature_map():
    rows = deploy.border_rows()
    assert len(rows) == (144 - 100) * 64
    assert 0 in rows  # position (0, 0)
    assert (5 * 12 + 5) * 64 not in rows  # position (5, 5), the centre


def test_a_litert_file_predicts_like_its_keras_model(tmp_path):
    keras.utils.set_random_seed(0)
    model = cnn_student(2)
    images = np.random.default_rng(0).random((64, 28, 28, 1), "float32")
    path = tmp_path / "w2.tflite"
    path.write_bytes(deploy.litert_file(model))  # float32
    scores = deploy.litert_scores(path, images, batch=40)
    assert scores.shape == (64, 10)
    np.testing.assert_allclose(
        scores, model.predict(images, verbose=0), atol=1e-4
    )
    int8 = deploy.litert_file(model, images)
    assert len(int8) < path.stat().st_size
    assert deploy.lzma_bytes(int8) == len(lzma.compress(int8, preset=9))


def test_the_plans_cover_both_profiles():
    assert set(deploy.PLANS) == set(PROFILES)


@pytest.fixture(scope="module")
def committed():
    table = pd.read_csv(MODELS / "models.csv")
    return table


def test_committed_files_are_small_and_listed(committed):
    files = sorted(p.name for p in MODELS.glob("*.tflite"))
    assert files == sorted(committed.file)
    sizes = [(MODELS / f).stat().st_size for f in committed.file]
    assert sizes == list(committed.bytes)
    assert max(sizes) <= 300_000 and sum(sizes) <= 2_000_000
    for f, packed in zip(committed.file, committed.lzma_bytes):
        assert deploy.lzma_bytes((MODELS / f).read_bytes()) == packed


def test_committed_files_score_as_published(committed):
    """Every committed file, loaded in the LiteRT interpreter, scores the
    whole MNIST test set (float32 images / 255, shape (N, 28, 28, 1)) as
    its table says."""
    data = load_mnist(PROFILES["full"])
    for row in committed.itertuples():
        scores = deploy.litert_scores(MODELS / row.file, data.x_test)
        assert scores.shape == (len(data.y_test), 10)
        accuracy = (scores.argmax(1) == data.y_test).mean()
        assert accuracy == pytest.approx(row.test_accuracy, abs=1e-12), (
            row.file
        )


def _files(rows):
    columns = ["name", "family", "variant", "size", "seed", "nonzero",
               "bytes", "lzma_bytes", "holdout_accuracy", "test_accuracy"]
    return pd.DataFrame(rows, columns=columns)


def test_choices_are_made_on_held_out_accuracy_only():
    files = _files([
        ("teacher-float32", "teacher", "float32", 0, 0, 9, 900, 800, .995, .990),
        ("teacher-int8", "teacher", "int8", 0, 0, 9, 300, 250, .995, .991),
        ("p.9-0", "pruned teacher", "int8", .9, 0, 1, 300, 90, .994, .999),
        ("p.9-1", "pruned teacher", "int8", .9, 1, 1, 300, 95, .994, .980),
        ("p.99-0", "pruned teacher", "int8", .99, 0, 1, 300, 40, .990, .999),
        ("small", "CNN student, distilled", "int8", 4, 0, 1, 8, 5, .981, .979),
    ])
    # held-out 0.981 reaches 0.98; its test accuracy does not choose it
    assert deploy.smallest_file(files, 0.98)["name"] == "small"
    assert deploy.smallest_file(files, 0.999) is None
    # 0.99 held-out is more than 0.002 below the teacher's 0.995
    assert deploy.pruned_pick(files, seed=0)["name"] == "p.9-0"
    headline = deploy.bytes_headline(files)
    assert list(headline.file) == ["teacher-float32", "teacher-int8",
                                   "p.9-0", "small", "teacher-int8"]

