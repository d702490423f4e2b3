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
import functools
import hashlib
import os
import zipfile
import zlib
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
                raise MnistDataError(
                    f"{source}: {name} has dtype {arr.dtype}; expected uint8"
                )
        if y.max() >= NUM_CLASSES:
            raise MnistDataError(
                f"{source}: y_{split} holds label {int(y.max())}; expected labels 0-9"
            )


MAX_IMAGES = (
    1_000_000  # MNIST has 70,000; a header declaring more is not MNIST
)


def _read_member(
    archive: zipfile.ZipFile, key: str, where: str
) -> np.ndarray:
    """One array of the archive: its header is checked before its data is read."""
    with archive.open(f"{key}.npy") as member:
        try:
            version = np.lib.format.read_magic(member)
        except ValueError as err:
            raise MnistDataError(
                f"{where}: {key} is not a NumPy array ({err})"
            ) from None
        read_header = {
            (1, 0): np.lib.format.read_array_header_1_0,
            (2, 0): np.lib.format.read_array_header_2_0,
        }.get(version)
        if read_header is None:
            raise MnistDataError(
                f"{where}: {key} has NumPy format version {version}; expected 1.0 or 2.0"
            )
        shape, _, dtype = read_header(member)
        if dtype.hasobject:
            raise MnistDataError(
                f"{where}: {key} holds Python objects, not numbers; expected uint8 "
                f"(this loader never unpickles)"
            )
        if dtype != np.uint8:
            raise MnistDataError(
                f"{where}: {key} has dtype {dtype}; expected uint8"
            )
        if not shape or shape[0] > MAX_IMAGES:
            raise MnistDataError(
                f"{where}: {key} declares shape {shape}; expected at most "
                f"{MAX_IMAGES:,} images (MNIST has 70,000)"
            )
        expected = int(np.prod(shape))
        data = member.read(expected + 1)
        if len(data) != expected:
            raise MnistDataError(
                f"{where}: {key} holds {len(data):,} bytes for shape {shape}, "
                f"expected {expected:,}; the file is truncated or corrupt"
            )
        return np.frombuffer(data, np.uint8).reshape(shape)


def read_npz(path: Path) -> dict:
    """Read the arrays of an MNIST ``.npz`` into memory, validated."""
    path = Path(path)
    expected = f"expected an MNIST .npz with the arrays {list(KEYS)} (set ${MNIST_ENV} to its path)"
    if not path.exists():
        raise MnistDataError(f"{path}: no such file; {expected}")
    if not path.is_file():
        kind = "a directory" if path.is_dir() else "not a regular file"
        raise MnistDataError(f"{path}: {kind}; {expected}")
    if not zipfile.is_zipfile(path):
        raise MnistDataError(
            f"{path}: not a readable .npz: not a zip archive (a .npy, another kind "
            f"of file, or a truncated or corrupt download); {expected}"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            members = sorted(
                n[:-4] for n in archive.namelist() if n.endswith(".npy")
            )
            missing = [k for k in KEYS if k not in members]
            if missing:
                raise MnistDataError(
                    f"{path}: missing arrays {missing}; expected keys {list(KEYS)} "
                    f"(found {members})"
                )
            arrays = {k: _read_member(archive, k, str(path)) for k in KEYS}
    except MnistDataError:
        raise
    except (
        zipfile.BadZipFile,
        zlib.error,
        OSError,
        ValueError,
        EOFError,
    ) as err:
        raise MnistDataError(
            f"{path}: not a readable .npz archive ({type(err).__name__}: {err}); "
            f"the file may be truncated or corrupt. {expected[0].upper()}{expected[1:]}"
        ) from None
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
        (x_train, y_train), (x_test, y_test) = (
            keras.datasets.mnist.load_data()
        )
    except (
        Exception
    ) as err:  # the download's failure modes are many (DNS, HTTP, SSL)
        raise MnistDataError(
            f"keras.datasets.mnist.load_data() failed ({type(err).__name__}: {err}). "
            f"Offline? Set ${MNIST_ENV} to a local mnist.npz with keys {list(KEYS)}"
        ) from err
    arrays = dict(
        x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test
    )
    validate(arrays, "keras.datasets.mnist")
    return arrays


def _raw_arrays() -> dict:
    source = mnist_source()
    return read_npz(source) if source else download()


@functools.lru_cache(maxsize=4)
def _fingerprint_of(source: str, stat: tuple, train_size, test_size) -> str:
    arrays = _raw_arrays()
    digest = hashlib.sha256()
    for key, n in (
        ("x_train", train_size),
        ("y_train", train_size),
        ("x_test", test_size),
        ("y_test", test_size),
    ):
        digest.update(np.ascontiguousarray(arrays[key][:n]).tobytes())
    return digest.hexdigest()[:16]


def data_fingerprint(profile: Profile) -> str:
    """A hash of the images and labels the profile trains and tests on. Part of
    the settings of every record and cached file made from the data (the
    teacher's: ``book.teacher.teacher_settings``): another data file -- even
    the same images with other labels -- never reuses one made from other data."""
    source = mnist_source()
    try:
        stat = os.stat(source) if source else None
    except OSError:
        stat = None  # reading it will raise MnistDataError, naming the file
    return _fingerprint_of(
        str(source),
        stat and (stat.st_size, stat.st_mtime_ns, stat.st_ino),
        profile.train_size,
        profile.test_size,
    )


def load_mnist(profile: Profile | None = None) -> Mnist:
    """MNIST scaled to [0, 1], cut to the profile's subset sizes (first n images)."""
    arrays = _raw_arrays()
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
