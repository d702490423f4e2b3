"""The library code is formatted as ruff formats it (78 columns: chapters show it)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_book_is_formatted_with_ruff():
    ruff = Path(sys.executable).parent / "ruff"
    result = subprocess.run([ruff, "format", "--check", "book", "_ext"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, f"run `ruff format book _ext`:\n{result.stdout}{result.stderr}"
