"""Where the book writes, and how: checked destinations and atomic writes.

Introduced in chapter 1. ``artifacts_dir`` is ``artifacts/<profile>/`` (or
``$BOOK_ARTIFACTS/<profile>/``): what the campaign derives from its records
and caches locally (the transfer sets, checkpoints). ``destination`` creates
a folder named by an environment variable and test-writes it before any work
is done there; one that cannot be written fails at once, naming the variable.

Writes go to a temporary file in the same folder, flushed to disk and renamed
into place, which is atomic on POSIX: an interrupted run leaves either the
old state or the complete new file, and the next write of the same file
removes any temporary file a killed run left behind. ``require`` and
``InvalidArtifact`` are what the records' checks raise (``book.records``).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS_ENV = "BOOK_ARTIFACTS"


class InvalidArtifact(ValueError):
    """A record or cached file is unreadable or not what its producer writes."""


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
    """Write a pandas table to ``tmp`` as CSV, without its index."""
    table.to_csv(tmp, index=False)


def require(condition: bool, message: str) -> None:
    """For artifact checks: raise ``InvalidArtifact(message)`` unless ``condition``."""
    if not condition:
        raise InvalidArtifact(message)
