"""Artifact cache: expensive results on disk, keyed by what produced them, checked when loaded.

Introduced in chapter 1. Every artifact (trained teacher, transfer set, sweep
points) lives in ``artifacts/<profile>/`` under a name that ends in a hash of
the settings that produced it -- the data's fingerprint and the artifact's
format version among them -- so changing a setting never reuses a stale file.

Nothing on disk is trusted: ``cached`` runs each artifact's check when it
loads it, and a file that cannot be read or fails its check is reported in one
line, moved aside (``*.invalid``) and computed again. Writes go to a temporary
file in the same folder, flushed to disk and renamed into place, which is
atomic on POSIX: an interrupted run leaves either the old state or the
complete new file, and the next write of the same file removes any temporary
file a killed run left behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Callable, TypeVar

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS_ENV = "BOOK_ARTIFACTS"


class InvalidArtifact(ValueError):
    """A cached file is unreadable or not what its producer writes."""


class UnwritableDestination(OSError):
    """A folder the book must write to cannot be created or written."""


_checked_dirs: set[Path] = set()


def destination(env_var: str, default: Path) -> Path:
    """The folder named by ``$env_var`` (empty means unset; relative paths are
    relative to the repository), created and test-written before any work is
    done there. Raises ``UnwritableDestination`` naming the variable."""
    value = os.environ.get(env_var, "")
    path = Path(value).expanduser() if value else default
    if not path.is_absolute():
        path = ROOT / path
    if path not in _checked_dirs:
        try:
            path.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=path):
                pass
        except OSError as err:
            source = (
                f"${env_var}={value!r}"
                if value
                else f"the default for ${env_var}"
            )
            raise UnwritableDestination(
                f"{path} ({source}): cannot create or write files there "
                f"({type(err).__name__}: {err}); set ${env_var} to a writable folder"
            ) from None
        _checked_dirs.add(path)
    return path


def artifacts_dir(profile_name: str) -> Path:
    """``artifacts/<profile>`` under the repository (or ``$BOOK_ARTIFACTS``), checked writable."""
    return destination(ARTIFACTS_ENV, ROOT / "artifacts") / profile_name


def settings_key(settings: dict) -> str:
    """A short, stable hash of a JSON-serialisable settings dict."""
    blob = json.dumps(settings, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def _temporary_prefix(path: Path) -> str:
    return f".{path.name}.tmp-"


@contextlib.contextmanager
def atomic_path(path: Path):
    """Yield a temporary path beside ``path``; flush it and rename it onto ``path`` on success.

    The temporary name keeps ``path``'s suffix because some writers (Keras'
    ``model.save``) insist on it. On any exception the temporary file is
    removed; temporary files of earlier, killed writes of ``path`` are removed
    first. The result gets the usual mode of a new file (0644 under umask 022).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = _temporary_prefix(path)
    for leftover in path.parent.glob(f"{prefix}*"):
        leftover.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=prefix, suffix=path.suffix
    )
    os.close(fd)
    try:
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with open(tmp, "rb") as written:
            os.fsync(written.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def write_json(path: Path, obj) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=1, sort_keys=True))


def save_csv(table, tmp: Path) -> None:
    """A ``save`` for ``cached``: a pandas table, without its index."""
    table.to_csv(tmp, index=False)


def load_csv(path: Path):
    """A ``load`` for ``cached``: the table ``save_csv`` wrote; a file cut short
    (no final newline, the last value possibly truncated) is refused."""
    import pandas as pd

    text = Path(path).read_text()
    require(text.endswith("\n"), "cut short (no final newline)")
    return pd.read_csv(path)


def set_aside(path: Path, reason: str) -> None:
    """Report an unusable artifact in one line and move it out of the cache's way."""
    path = Path(path)
    aside = path.with_name(path.name + ".invalid")
    print(
        f"cache: {path}: {reason}; moved to {aside.name}, computing it again",
        file=sys.stderr,
        flush=True,
    )
    os.replace(path, aside)


def cached(
    path: Path,
    compute: Callable[[], T],
    save: Callable[[T, Path], None],
    load: Callable[[Path], T],
    check: Callable[[T], None] | None = None,
) -> T:
    """Load ``path`` if it exists and passes ``check``; otherwise ``compute``, save atomically, return.

    ``check`` raises ``InvalidArtifact`` (or any error) when a loaded value is
    not what ``compute`` would have produced in kind (columns, shapes, counts).
    A file that fails to load or to pass is set aside and recomputed.
    """
    path = Path(path)
    if path.exists():
        try:
            value = load(path)
            if check is not None:
                check(value)
            return value
        except Exception as err:  # noqa: BLE001 -- whatever the damage, the remedy is to recompute
            set_aside(
                path,
                f"{type(err).__name__}: {err}"
                if str(err)
                else type(err).__name__,
            )
    value = compute()
    with atomic_path(path) as tmp:
        save(value, tmp)
    return value


def require(condition: bool, message: str) -> None:
    """For artifact checks: raise ``InvalidArtifact(message)`` unless ``condition``."""
    if not condition:
        raise InvalidArtifact(message)


def table_check(columns, rows: int | None = None) -> Callable:
    """A ``check`` for a cached pandas table: exactly these columns, ``rows`` rows, no missing value."""
    columns = list(columns)

    def check(table) -> None:
        require(
            list(table.columns) == columns,
            f"columns {list(table.columns)}, expected {columns}",
        )
        require(
            rows is None or len(table) == rows,
            f"{len(table)} rows, expected {rows}",
        )
        require(not table.isna().any().any(), "missing values")

    return check


def fields_check(fields) -> Callable:
    """A ``check`` for a cached JSON dict: has every one of ``fields``."""

    def check(value) -> None:
        require(
            isinstance(value, dict),
            f"a {type(value).__name__}, expected a JSON object",
        )
        missing = [f for f in fields if f not in value]
        require(not missing, f"missing fields {missing}")

    return check
