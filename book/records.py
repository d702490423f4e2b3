"""Records of long training runs: small, committed, each with a manifest, checked when read.

Used by the campaign (``book.campaign``), whose runs take hours and outlive a
session: a session's background jobs and its artifact cache end with it, so
what a finished group of heads produced is kept in the repository instead
(``results/runs/`` in the full profile). Each record is a CSV (or a binary
such as the teacher's weights) with a manifest beside it (``<name>.json``)
that holds:

* ``key``: a hash of the code that produced it (``code_key``) and of its
  settings; a record whose key differs from the current one is stale and is
  trained again, never read;
* ``sha256`` of the record's bytes, so a flipped bit is caught;
* what the run was: its settings, the CPU it ran on, its training seconds and
  the date.

A record is written first and its manifest last, both atomically, so a record
without a manifest (a run killed between the two) is simply not there. Only
one process produces a record at a time (an inter-process lock beside it); a
second one waits, says so, and then reads the first one's record. A damaged
record is reported, kept under a unique ``.invalid`` name, and produced again.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import functools
import hashlib
import json
import os
import re
import secrets
import shutil
import stat
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from book.cache import InvalidArtifact, require
from book.codekey import closure


# What training runs on. (LiteRT, in ``book.codekey.NUMERICAL_STACK``, only
# measures chapter 8's files: an upgrade must not stale hours of training.)
TRAINING_STACK = ("tensorflow-cpu", "keras", "numpy")


class NoSpace(OSError):
    """A disk too full for what the campaign must write."""


# The variables that choose where the campaign writes (book.results, book.cache).
WHERE = (
    "$BOOK_RESULTS (records) or $BOOK_ARTIFACTS (transfer sets, checkpoints)"
)


def require_space(folder: Path, needed: int, what: str) -> None:
    """Refuse, before the work, to produce ``what`` (``needed`` bytes) in a
    folder whose disk has less free space."""
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise NoSpace(
            errno.ENOSPC,
            f"{what} needs {needed / 2**30:.1f} GiB in {folder}, which has "
            f"{free / 2**30:.1f} GiB free; free some, or set {WHERE} to a folder with room",
        )


def _owner_alive(leftover: Path, prefix: str) -> bool:
    """Whether the process that named a temporary file (``<prefix><pid>-...``) still runs."""
    try:
        pid = int(leftover.name[len(prefix) :].split("-", 1)[0])
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def atomic_write(path: Path):
    """Yield a temporary path beside ``path`` (named with this process's id;
    same suffix, as some writers insist); on success flush it and rename it
    onto ``path``. Temporary files of writers that no longer run are removed
    first; a live writer's are left alone. A full disk is reported with the
    file, its folder and the variables that chose it."""
    path = Path(path)
    prefix = f".{path.name}.tmp-"
    for leftover in path.parent.glob(f"{prefix}*"):
        if not _owner_alive(leftover, prefix):
            leftover.unlink(missing_ok=True)
    tmp = path.with_name(
        f"{prefix}{os.getpid()}-{secrets.token_hex(4)}{path.suffix}"
    )
    try:
        yield tmp
        with open(tmp, "rb") as written:
            os.fsync(written.fileno())
        os.replace(tmp, path)
    except OSError as err:
        if err.errno in (errno.ENOSPC, errno.EDQUOT):
            raise NoSpace(
                errno.ENOSPC,
                f"{path}: the disk of {path.parent} is full; nothing was replaced. "
                f"Free some space, or set {WHERE} to a folder with room",
            ) from None
        raise
    finally:
        tmp.unlink(missing_ok=True)


# The text of every book module as this process loaded it (see ``snapshot_sources``).
_LOADED: dict[str, str] = {}


def _text_hash(file: str) -> str:
    return hashlib.sha256(Path(file).read_bytes()).hexdigest()


def snapshot_sources() -> None:
    """Remember the text of every ``book`` module imported so far. A key is
    computed from source files (``inspect.getsource``), which a long-running
    process reads from disk when it needs them: if a file was edited since the
    process imported it, the key would describe code that is not running, and
    from shifted lines. Call it right after the imports; ``code_key`` then
    refuses to compute a key from a changed file."""
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if file and module.__name__.split(".")[0] == "book":
            _LOADED.setdefault(file, _text_hash(file))


def _unchanged_since_loaded(names) -> None:
    for name in names:
        parts = name.split(".")
        module = next(
            sys.modules[".".join(parts[:i])]
            for i in range(len(parts), 0, -1)
            if ".".join(parts[:i]) in sys.modules
        )
        file = module.__file__
        if _LOADED.setdefault(file, _text_hash(file)) != _text_hash(file):
            raise RuntimeError(
                f"{file} changed on disk since this process loaded it: a key computed now "
                "would describe code that is not running. Restart the process."
            )


def _expanded(producers) -> list:
    """``producers`` and, for a function made by a factory (``f.<locals>.g``),
    the factory itself: its body decides what the inner function computes."""
    import importlib

    found = list(producers)
    for p in producers:
        if ".<locals>." in p.__qualname__:
            outer = p.__qualname__.split(".<locals>.")[0]
            found.append(
                getattr(importlib.import_module(p.__module__), outer)
            )
    return found


def _captured(producers) -> list[str]:
    """The values ``producers`` carry with them: closure cells (the T and
    alpha a loss factory captured) and default arguments, by value."""
    values = []
    for p in producers:
        cells = [
            c.cell_contents for c in (getattr(p, "__closure__", None) or ())
        ]
        for value in [*cells, *(getattr(p, "__defaults__", None) or ())]:
            if isinstance(value, np.ndarray):
                values.append(
                    f"{value.dtype}{value.shape}{hashlib.sha256(value.tobytes()).hexdigest()}"
                )
            elif callable(value):
                values.append(
                    getattr(value, "__qualname__", type(value).__name__)
                )
            else:
                values.append(re.sub(r" at 0x[0-9a-f]+", "", repr(value)))
    return values


def _version(name: str) -> str:
    from importlib import metadata

    # TensorFlow is packaged as tensorflow-cpu here, as tensorflow elsewhere: the same code
    for candidate in (name, name.removesuffix("-cpu")):
        try:
            return metadata.version(candidate)
        except metadata.PackageNotFoundError:
            continue
    return "absent"


@functools.lru_cache(maxsize=None)
def _closure(producers: tuple) -> dict:
    """``closure`` of ``producers``, once per process (many units share
    producers; the source a process runs does not change under it, and
    ``_unchanged_since_loaded`` refuses a key if a file did)."""
    return closure(*_expanded(producers))


@functools.lru_cache(maxsize=None)
def _code_key(producers: tuple, settings_json: str) -> str:
    """``code_key``, once per process for each (producers, settings)."""
    digest = hashlib.sha256()
    found = _closure(producers)
    _unchanged_since_loaded(found)
    # By bare name: moving a function to another module does not change what it computes.
    # A constant's repr may name a function by its address: keep the name only.
    parts = sorted(
        f"{name.rsplit('.', 1)[-1]}\0{re.sub(r' at 0x[0-9a-f]+', '', tree)}\0"
        for name, tree in found.items()
    )
    for part in parts:
        digest.update(part.encode())
    digest.update(repr(sorted(_captured(producers))).encode())
    # ast.dump's output differs between Python versions (3.12 adds fields): name the version
    digest.update(
        f"python {sys.version_info.major}.{sys.version_info.minor}".encode()
    )
    digest.update(repr([_version(name) for name in TRAINING_STACK]).encode())
    digest.update(settings_json.encode())
    return digest.hexdigest()[:16]


def code_key(*producers, settings: dict) -> str:
    """A hash of the code ``producers`` run (``book.codekey.closure``, with
    the factories of functions they made and the values those captured), the
    Python version, the versions of ``TRAINING_STACK`` and ``settings``;
    refused if a source file changed since the process loaded it
    (``snapshot_sources``)."""
    outside = [p for p in producers if not p.__module__.startswith("book")]
    if outside:
        # e.g. a module run as a script: its functions belong to "__main__",
        # and the closure would silently leave them out of the key.
        raise ValueError(
            f"producers {[p.__qualname__ for p in outside]} are not in the book package "
            f"(module {outside[0].__module__!r}): their code would not be part of the key"
        )
    return _code_key(
        tuple(producers), json.dumps(settings, sort_keys=True, default=str)
    )


def cpu_model() -> str:
    """The CPU's model name and model number, as ``/proc/cpuinfo`` gives them."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        import platform

        return platform.processor() or "unknown"
    fields = dict(
        re.findall(r"^(model name|model)\s*:\s*(.+)$", info, flags=re.M)
    )
    return f"{fields.get('model name', 'unknown')} (model {fields.get('model', '?')})"


def cpu_text(name: str, article: bool = True) -> str:
    """A CPU as ``cpu_model`` names it, for a sentence: 'Intel(R) Xeon(R)
    Processor (model 167)' -> 'an Intel Xeon Processor (CPU model 167)'
    (without the article for a table)."""
    name = " ".join(
        re.sub(r"\((R|TM)\)", "", name)
        .replace("(model", "(CPU model")
        .split()
    )
    if not article:
        return name
    return ("an " if name[:1].lower() in "aeiou" else "a ") + name


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def passed_mark(path: Path, manifest: dict, folder: Path) -> Path:
    """Where the full check of a large record leaves its mark (in ``folder``,
    outside the records): named by the record, its key, and its size and
    modification time, so that any change to the file asks for the full check
    again. A check that is slow (reading 2 GB, recompressing files) runs once
    per file; the cheap checks run on every load."""
    status = path.stat()
    return folder / (
        f"{path.name}-{manifest['key'][:16]}-{status.st_size}-{status.st_mtime_ns}"
    )


def mapped_npz(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an uncompressed ``.npz`` (``np.savez``), mapped in place
    rather than read: nothing is read until used, and nothing checked (the
    zip's CRCs are checked only by reading a member in full). Copy-on-write:
    a change to an array never reaches the file."""
    import struct
    import zipfile

    arrays = {}
    with zipfile.ZipFile(path) as archive, open(path, "rb") as file:
        for member in archive.infolist():
            require(
                member.compress_type == zipfile.ZIP_STORED,
                f"{member.filename} is compressed; expected np.savez's stored members",
            )
            # a member's data follows its local header: 30 bytes, its name, an extra field
            file.seek(member.header_offset + 26)
            name_length, extra_length = struct.unpack("<HH", file.read(4))
            file.seek(name_length + extra_length, os.SEEK_CUR)
            version = np.lib.format.read_magic(file)
            read_header = {
                (1, 0): np.lib.format.read_array_header_1_0,
                (2, 0): np.lib.format.read_array_header_2_0,
            }[version]
            shape, fortran_order, dtype = read_header(file)
            arrays[member.filename.removesuffix(".npy")] = np.memmap(
                path,
                dtype=dtype,
                mode="c",
                offset=file.tell(),
                shape=shape,
                order="F" if fortran_order else "C",
            )
    return arrays


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _regular_or_absent(path: Path) -> bool:
    """True if ``path`` is a regular file, False if absent; refuses anything
    else (a FIFO would hang the reader) without opening it."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(mode):
        raise InvalidArtifact(
            f"{path} is not a regular file (a folder, link, FIFO or device); "
            "remove it or move it away"
        )
    return True


def say(message: str) -> None:
    """One line on stderr, on a line of its own even while a progress bar is drawn there."""
    from tqdm import tqdm

    tqdm.write(message, file=sys.stderr)
    sys.stderr.flush()


def keep_aside(path: Path, reason: str) -> None:
    """Report a damaged record in one line and move it (and its manifest) to
    unique ``.invalid`` names, so that no earlier evidence is overwritten."""
    stamp = datetime.datetime.now().strftime("%Y%m%dT%H%M%S%f")
    for p in (path, manifest_path(path)):
        if p.exists():
            p.replace(p.with_name(f"{p.name}.{stamp}.invalid"))
    say(
        f"records: {path}: {reason}; kept as *.{stamp}.invalid, producing it again"
    )


def read_manifest(
    path: Path, key: str, content_hash: bool = True
) -> dict | None:
    """The manifest of the record at ``path`` if the record is there, current
    (same key) and intact (same sha256, or, with ``content_hash=False``, a
    zip whose CRCs ``check`` verifies); None if it is absent or stale.
    Raises ``InvalidArtifact`` if it is damaged."""
    if not (
        _regular_or_absent(path) and _regular_or_absent(manifest_path(path))
    ):
        return None
    try:
        manifest = json.loads(manifest_path(path).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InvalidArtifact(f"unreadable manifest ({err})") from None
    require(
        isinstance(manifest, dict), "a manifest that is not a JSON object"
    )
    missing = {"key", "sha256", "seconds", "cpu", "settings"} - set(manifest)
    require(not missing, f"manifest lacks {sorted(missing)}")
    require(isinstance(manifest["key"], str), "a key that is not a string")
    require(
        isinstance(manifest["seconds"], (int, float))
        and np.isfinite(manifest["seconds"])
        and manifest["seconds"] >= 0,
        f"training seconds {manifest['seconds']!r}",
    )
    require(isinstance(manifest["cpu"], str), "a CPU that is not a string")
    require(
        isinstance(manifest["settings"], dict),
        "settings that are not an object",
    )
    if manifest["key"] != key:
        return None
    if content_hash:
        require(
            isinstance(manifest["sha256"], str)
            and re.fullmatch(r"[0-9a-f]{64}", manifest["sha256"]),
            f"a sha256 of {manifest['sha256']!r}",
        )
        require(
            sha256(path) == manifest["sha256"],
            "contents differ from the sha256 in its manifest",
        )
    return manifest


def write(
    path: Path,
    save: Callable[[Path], None],
    manifest: dict,
    content_hash: bool = True,
) -> dict:
    """Write the record with ``save(tmp)``, then its manifest (with the
    record's sha256, or None for a zip that carries its own CRCs)."""
    with atomic_write(path) as tmp:
        save(tmp)
    manifest = {**manifest, "sha256": sha256(path) if content_hash else None}
    with atomic_write(manifest_path(path)) as tmp:
        tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def _damage(err: Exception) -> bool:
    """Whether ``err`` says the file is damaged (keep it aside, produce it
    again) rather than that it could not be read here (let it propagate:
    an unreadable, valid record must not be thrown away)."""
    import zipfile

    if isinstance(err, OSError):
        return (
            err.errno is None
        )  # a library's "not a valid file", not EACCES or EIO
    return isinstance(
        err,
        (
            InvalidArtifact,
            zipfile.BadZipFile,
            EOFError,
            ValueError,
            KeyError,
            pd.errors.ParserError,
        ),
    )


def _read(path: Path, key: str, check, content_hash: bool):
    """(value, None) for a current, valid record; (None, None) if absent or
    stale; (None, error) if damaged."""
    try:
        manifest = read_manifest(path, key, content_hash)
        return (
            (None, None)
            if manifest is None
            else (check(path, manifest), None)
        )
    except Exception as err:  # noqa: BLE001 -- sorted by _damage
        if not _damage(err):
            raise
        return None, err


def produce(
    path: Path,
    key: str,
    compute: Callable[[], tuple[Callable[[Path], None], dict]] | None,
    check: Callable[[Path, dict], object],
    content_hash: bool = True,
):
    """The record at ``path``, checked, or produced now under a lock.

    ``compute()`` trains and returns ``(save, manifest)``; ``check(path,
    manifest)`` parses the record, raises ``InvalidArtifact`` if a value is
    wrong, and returns what the caller uses. The manifest written gets ``key``,
    the CPU and the date added. ``content_hash=False`` for a zip (a 2 GB
    ``.npz``): its members' CRCs, checked as ``check`` reads them, catch a
    flipped bit without hashing the whole file on every load. With
    ``compute=None`` nothing is written or moved: the checked value, or None
    if the record is absent, stale or damaged. A valid record is read without
    a lock (a read-only checkout can read it); only producing takes one.
    """
    from filelock import FileLock, Timeout

    path = Path(path)
    value, damage = _read(path, key, check, content_hash)
    if value is not None or compute is None:
        return value
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path) + ".lock")
    try:
        lock.acquire(timeout=1)
    except Timeout:
        say(
            f"records: {path} is being produced by another process; waiting for it"
        )
        lock.acquire()
    try:
        value, damage = _read(
            path, key, check, content_hash
        )  # the other process's, maybe
        if value is not None:
            return value
        if damage is not None:
            keep_aside(
                path,
                str(damage)
                if isinstance(damage, InvalidArtifact)
                else f"{type(damage).__name__}: {damage}",
            )
        save, manifest = compute()
        manifest = write(
            path,
            save,
            {
                **manifest,
                "key": key,
                "cpu": cpu_model(),
                "date": datetime.datetime.now(
                    datetime.timezone.utc
                ).isoformat(timespec="seconds"),
            },
            content_hash,
        )
        return check(path, manifest)
    finally:
        lock.release()


def read_table(path: Path, dtypes: dict[str, str]) -> pd.DataFrame:
    """A record's CSV with exactly the columns ``dtypes`` declares, each parsed
    as declared; any other cell is refused with its row and column named."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    require(
        list(table.columns) == list(dtypes),
        f"columns {list(table.columns)}, expected {list(dtypes)}",
    )
    for column, dtype in dtypes.items():
        parsed = (
            pd.to_numeric(table[column], errors="coerce")
            if dtype != "str"
            else table[column]
        )
        if dtype != "str":
            bad = parsed.isna() | ~np.isfinite(parsed.astype(float))
            if dtype == "int":
                bad |= parsed != parsed.round()
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise InvalidArtifact(
                    f"row {row + 2}, column {column!r}: {table[column].iloc[row]!r} is not a finite {dtype}"
                )
            parsed = parsed.astype("int64" if dtype == "int" else "float64")
        table[column] = parsed
    return table


class Checkpoint:
    """A training run's state after its last finished epoch, in one ``.npz``
    (for ``book.heads.fit_group``). Kept outside the records' keys: how the
    state is saved does not change what is trained."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def load(self, shapes: list[tuple[int, ...]], epochs: int):
        """(epoch, seconds, arrays), or None if there is no usable checkpoint
        (a damaged one is kept aside)."""
        if not _regular_or_absent(self.path):
            return None
        try:
            with np.load(self.path, allow_pickle=False) as saved:
                expected = {f"v{i}" for i in range(len(shapes))} | {
                    "epoch",
                    "seconds",
                }
                require(
                    set(saved.files) == expected,
                    f"arrays {sorted(saved.files)}, expected {len(shapes)} variables, epoch, seconds",
                )
                arrays = [saved[f"v{i}"] for i in range(len(shapes))]
                epoch, seconds = int(saved["epoch"]), float(saved["seconds"])
            for array, shape in zip(arrays, shapes):
                require(
                    array.shape == tuple(shape),
                    f"a variable of shape {array.shape}, expected {tuple(shape)}",
                )
                require(
                    bool(np.isfinite(array).all()),
                    "a variable holds NaN or infinite values",
                )
            require(
                0 <= epoch <= epochs, f"epoch {epoch}, expected 0-{epochs}"
            )
        except Exception as err:  # noqa: BLE001 -- any damage: start over
            keep_aside(
                self.path,
                f"unusable checkpoint ({type(err).__name__}: {err})",
            )
            return None
        return epoch, seconds, arrays

    def save(
        self, epoch: int, seconds: float, arrays: list[np.ndarray]
    ) -> None:
        with atomic_write(self.path) as tmp:
            np.savez(
                tmp,
                epoch=epoch,
                seconds=seconds,
                **{f"v{i}": a for i, a in enumerate(arrays)},
            )

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
