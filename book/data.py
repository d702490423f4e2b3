"""MNIST, from a local ``.npz`` or from Keras' download, always validated.

Introduced in chapter 1. The loader looks, in order, at

1. ``$MNIST_NPZ``, a path to an ``.npz`` with the arrays that
   ``keras.datasets.mnist.load_data()`` returns (keys ``x_train``, ``y_train``,
   ``x_test``, ``y_test``);
2. ``../shared/data/mnist.npz`` beside the repository, if present;
3. ``keras.datasets.mnist.load_data()``, which downloads (needs internet).

Whatever the source, the arrays are checked before use, and any problem is one
``MnistDataError`` that names the file and what was expected.
"""

from __future__ import annotations

import dataclasses
import os
import zipfile
from pathlib import Path

import numpy as np

from book.cache import ROOT
from book.profile import Profile

MNIST_ENV = "MNIST_NPZ"
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist.npz"
KEYS = ("x_train", "y_train", "x_test", "y_test")
IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10


class MnistDataError(ValueError):
    """MNIST could not be loaded, or its arrays are not what MNIST looks like."""


@dataclasses.dataclass(frozen=True)
class Mnist:
    """Images scaled to [0, 1] with a channel axis, and integer labels."""

    x_train: np.ndarray  # (n, 28, 28, 1) float32
    y_train: np.ndarray  # (n,) int64
    x_test: np.ndarray
    y_test: np.ndarray


def validate(arrays: dict, source: str) -> None:
    """Check keys, shapes, dtypes and label range; raise ``MnistDataError`` if wrong."""
    missing = [k for k in KEYS if k not in arrays]
    if missing:
        raise MnistDataError(
            f"{source}: missing arrays {missing}; expected keys {list(KEYS)} "
            f"(found {sorted(arrays)})"
        )
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or x.shape[1:] != IMAGE_SHAPE or x.shape[0] == 0:
            raise MnistDataError(
                f"{source}: x_{split} has shape {x.shape}; expected (n, 28, 28) with n > 0"
            )
        if y.shape != (x.shape[0],):
            raise MnistDataError(
                f"{source}: y_{split} has shape {y.shape}; expected ({x.shape[0]},), "
                f"one label per image in x_{split}"
            )
        for name, arr in ((f"x_{split}", x), (f"y_{split}", y)):
            if arr.dtype != np.uint8:
                raise MnistDataError(f"{source}: {name} has dtype {arr.dtype}; expected uint8")
        if y.max() >= NUM_CLASSES:
            raise MnistDataError(
                f"{source}: y_{split} holds label {int(y.max())}; expected labels 0-9"
            )


def read_npz(path: Path) -> dict:
    """Read every array of an MNIST ``.npz`` into memory, validated."""
    path = Path(path)
    if not path.is_file():
        raise MnistDataError(
            f"{path}: no such file; expected an MNIST .npz with keys {list(KEYS)} "
            f"(set ${MNIST_ENV} to its path)"
        )
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError) as err:
        raise MnistDataError(
            f"{path}: not a readable .npz archive ({type(err).__name__}: {err}); "
            f"the file may be truncated or corrupt. Expected the arrays {list(KEYS)} "
            f"as keras.datasets.mnist.load_data() returns them"
        ) from err
    validate(arrays, str(path))
    return arrays


def mnist_source() -> Path | None:
    """The local ``.npz`` to use, or ``None`` to download through Keras."""
    if os.environ.get(MNIST_ENV):
        return Path(os.environ[MNIST_ENV])
    return SHARED_MNIST if SHARED_MNIST.is_file() else None


def download() -> dict:
    import keras

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as err:  # the download's failure modes are many (DNS, HTTP, SSL)
        raise MnistDataError(
            f"keras.datasets.mnist.load_data() failed ({type(err).__name__}: {err}). "
            f"Offline? Set ${MNIST_ENV} to a local mnist.npz with keys {list(KEYS)}"
        ) from err
    arrays = dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    validate(arrays, "keras.datasets.mnist")
    return arrays


def load_mnist(profile: Profile | None = None) -> Mnist:
    """MNIST scaled to [0, 1], cut to the profile's subset sizes (first n images)."""
    source = mnist_source()
    arrays = read_npz(source) if source else download()
    n_train = profile.train_size if profile else None
    n_test = profile.test_size if profile else None

    def images(x):
        return (x.astype("float32") / 255.0)[..., None]

    return Mnist(
        x_train=images(arrays["x_train"][:n_train]),
        y_train=arrays["y_train"][:n_train].astype("int64"),
        x_test=images(arrays["x_test"][:n_test]),
        y_test=arrays["y_test"][:n_test].astype("int64"),
    )
