"""Where measured results are written: ``results/`` (committed) for the full profile.

Introduced in chapter 1. The intro page builds its results table from these
files, so the book's headline numbers are never typed by hand. Other profiles
write to ``artifacts/<profile>/results/`` and never touch the published files.
"""

from __future__ import annotations

import json
from pathlib import Path

from book.cache import ROOT, artifacts_dir, write_json
from book.profile import Profile

PUBLISHED = ROOT / "results"


def results_dir(profile: Profile) -> Path:
    return PUBLISHED if profile.name == "full" else artifacts_dir(profile.name) / "results"


def record(profile: Profile, name: str, **values) -> Path:
    """Write ``values`` to ``<results_dir>/<name>.json`` (atomically) and return the path."""
    path = results_dir(profile) / f"{name}.json"
    write_json(path, dict(profile=profile.name, **values))
    return path


def published(name: str) -> dict:
    """A published (full-profile) result, as committed under ``results/``."""
    return json.loads((PUBLISHED / f"{name}.json").read_text())
