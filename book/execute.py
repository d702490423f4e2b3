"""Re-execute chapters and write their outputs into the paired ``.ipynb``.

    python -m book.execute                 # every chapter, in order, full profile
    python -m book.execute 03_distillation # one chapter (name or path)

Each chapter's MyST ``.md`` is the source: it is read with jupytext, run by
nbclient in a fresh kernel (so it must produce whatever it needs itself, from
the artifact cache or from scratch), and saved as the paired ``.ipynb``. Wall
time per chapter is printed. The profile comes from ``$BOOK_PROFILE`` as
everywhere else (default ``full``, the published one).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

from book.cache import ROOT
from book.profile import current_profile

CHAPTERS = ROOT / "chapters"
TIMEOUT_S = 3 * 3600  # per cell: the full sweep runs in one cell


def chapter_paths(names) -> list[Path]:
    """All chapters in order, or the named ones (``03_distillation``, ``chapters/03_distillation.md``)."""
    if not names:
        return sorted(CHAPTERS.glob("[0-9][0-9]_*.md"))
    paths = []
    for name in names:
        path = CHAPTERS / f"{Path(name).stem}.md"
        if not path.is_file():
            raise SystemExit(f"no chapter {name!r}: expected one of "
                             f"{[p.stem for p in sorted(CHAPTERS.glob('[0-9][0-9]_*.md'))]}")
        paths.append(path)
    return paths


def execute(md_path: Path) -> float:
    """Run one chapter and write ``<chapter>.ipynb``; return the wall time in seconds."""
    notebook = jupytext.read(md_path)
    start = time.perf_counter()
    NotebookClient(notebook, timeout=TIMEOUT_S, kernel_name="python3",
                   resources={"metadata": {"path": str(md_path.parent)}}).execute()
    seconds = time.perf_counter() - start
    ipynb = md_path.with_suffix(".ipynb")
    tmp = ipynb.with_name(f".{ipynb.name}.tmp")
    nbformat.write(notebook, tmp)
    os.replace(tmp, ipynb)  # a failed or interrupted run keeps the previous outputs
    return seconds


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("chapters", nargs="*", help="chapter names (default: all)")
    args = parser.parse_args(argv)
    print(f"profile: {current_profile().name}", flush=True)
    total = 0.0
    for path in chapter_paths(args.chapters):
        print(f"{path.stem} ...", end=" ", flush=True)
        seconds = execute(path)
        total += seconds
        print(f"{seconds:7.1f} s", flush=True)
    print(f"total {total:7.1f} s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
