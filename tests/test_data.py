import numpy as np
import pytest

from book.data import MnistDataError, load_mnist, read_npz
from book.profile import PROFILES


def fake_mnist(n_train=8, n_test=4):
    rng = np.random.default_rng(0)
    return dict(
        x_train=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        y_train=rng.integers(0, 10, n_train).astype(np.uint8),
        x_test=rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        y_test=rng.integers(0, 10, n_test).astype(np.uint8),
    )


def write(tmp_path, arrays, name="mnist.npz"):
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


def test_valid_file_loads_scaled_with_channel_axis(tmp_path, monkeypatch):
    arrays = fake_mnist()
    monkeypatch.setenv("MNIST_NPZ", str(write(tmp_path, arrays)))
    data = load_mnist()
    assert data.x_train.shape == (8, 28, 28, 1) and data.x_train.dtype == np.float32
    assert data.x_train.max() <= 1.0
    np.testing.assert_array_equal(data.y_test, arrays["y_test"])


def test_profile_subset_takes_first_images(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_NPZ", str(write(tmp_path, fake_mnist(3000, 600))))
    data = load_mnist(PROFILES["smoke"])
    assert len(data.x_train) == PROFILES["smoke"].train_size
    assert len(data.y_test) == PROFILES["smoke"].test_size


def test_missing_file(tmp_path):
    with pytest.raises(MnistDataError, match=r"nope\.npz: no such file.*MNIST_NPZ"):
        read_npz(tmp_path / "nope.npz")


def test_truncated_file(tmp_path):
    path = write(tmp_path, fake_mnist())
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(MnistDataError, match=r"mnist\.npz: not a readable \.npz.*truncated"):
        read_npz(path)


def test_not_an_archive(tmp_path):
    path = tmp_path / "mnist.npz"
    path.write_text("hello")
    with pytest.raises(MnistDataError, match="not a readable .npz"):
        read_npz(path)


def test_wrong_keys(tmp_path):
    arrays = fake_mnist()
    arrays["train_images"] = arrays.pop("x_train")
    with pytest.raises(MnistDataError, match=r"missing arrays \['x_train'\]"):
        read_npz(write(tmp_path, arrays))


@pytest.mark.parametrize(
    "key, bad, message",
    [
        ("x_train", np.zeros((8, 32, 32), np.uint8), r"x_train has shape \(8, 32, 32\)"),
        ("x_test", np.zeros((4, 784), np.uint8), r"x_test has shape \(4, 784\)"),
        ("y_train", np.zeros((7,), np.uint8), r"y_train has shape \(7,\); expected \(8,\)"),
        ("x_train", np.zeros((8, 28, 28), np.float32), "x_train has dtype float32; expected uint8"),
        ("y_test", np.zeros((4,), np.int64), "y_test has dtype int64; expected uint8"),
        ("y_train", np.full((8,), 10, np.uint8), "y_train holds label 10; expected labels 0-9"),
    ],
)
def test_bad_arrays(tmp_path, key, bad, message):
    arrays = fake_mnist()
    arrays[key] = bad
    with pytest.raises(MnistDataError, match=message):
        read_npz(write(tmp_path, arrays))


def test_failed_download_says_what_to_set(monkeypatch):
    import keras

    monkeypatch.delenv("MNIST_NPZ", raising=False)
    monkeypatch.setattr("book.data.SHARED_MNIST", __import__("pathlib").Path("/nonexistent.npz"))

    def offline():
        raise OSError("URL fetch failure: no network")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(MnistDataError, match=r"load_data\(\) failed.*Set \$MNIST_NPZ"):
        load_mnist()
