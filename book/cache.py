"""Artifact cache: expensive results on disk, keyed by what produced them.

Introduced in chapter 1. Every artifact (trained teacher, transfer set, sweep
points) lives in ``artifacts/<profile>/`` under a name that ends in a hash of
the settings that produced it, so changing a setting never reuses a stale
file. Writes go to a temporary file in the same folder and are renamed into
place, which is atomic on POSIX: an interrupted run leaves either the old
state or the complete new file, never half of one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Callable, TypeVar

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS_ENV = "BOOK_ARTIFACTS"


def artifacts_dir(profile_name: str) -> Path:
    """``artifacts/<profile>`` under the repository (or ``$BOOK_ARTIFACTS``)."""
    base = Path(os.environ.get(ARTIFACTS_ENV, ROOT / "artifacts"))
    return base / profile_name


def settings_key(settings: dict) -> str:
    """A short, stable hash of a JSON-serialisable settings dict."""
    blob = json.dumps(settings, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


@contextlib.contextmanager
def atomic_path(path: Path):
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    The temporary name keeps ``path``'s suffix because some writers (Keras'
    ``model.save``) insist on it. On any exception the temporary file is removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(fd)
    try:
        yield Path(tmp)
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


def cached(
    path: Path,
    compute: Callable[[], T],
    save: Callable[[T, Path], None],
    load: Callable[[Path], T],
) -> T:
    """Load ``path`` if it exists; otherwise ``compute``, save atomically, return."""
    path = Path(path)
    if path.exists():
        return load(path)
    value = compute()
    with atomic_path(path) as tmp:
        save(value, tmp)
    return value
