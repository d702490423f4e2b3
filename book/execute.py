"""Re-execute chapters and write their outputs into the paired ``.ipynb``.

    python -m book.execute                 # every chapter in order, then the intro; full profile
    python -m book.execute 03_distillation # one chapter (name or path)

Each chapter's MyST ``.md`` is the source: it is read with jupytext, run by
nbclient in a fresh kernel (so it must produce whatever it needs itself, from
the artifact cache or from scratch), and saved as the paired ``.ipynb``. Wall
time per chapter is printed. The profile comes from ``$BOOK_PROFILE`` as
everywhere else (default ``full``, the published one).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import hashlib
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient
from packaging.utils import canonicalize_name

from book.cache import ROOT, atomic_path
from book.profile import current_profile

TIMEOUT_S = 3 * 3600  # per cell: the full sweep runs in one cell


def notebook_sources() -> list[Path]:
    """Every notebook of the book, in execution order: the chapters, then the
    intro (whose results table reads what the chapters wrote)."""
    return [
        *sorted((ROOT / "chapters").glob("[0-9][0-9]_*.md")),
        ROOT / "intro.md",
    ]


def chapter_paths(names) -> list[Path]:
    """All notebooks, or the named ones (``03_distillation``, ``chapters/03_distillation.md``, ``intro``)."""
    known = {p.stem: p for p in notebook_sources()}
    unknown = [n for n in names if Path(n).stem not in known]
    if unknown:
        raise SystemExit(
            f"no chapter {unknown}: expected some of {list(known)}"
        )
    return [known[Path(n).stem] for n in names] or list(known.values())


def imported_distributions(sources: list[str]) -> set[str]:
    """The installed distributions that provide a top-level module which
    code in ``sources`` imports (``ai_edge_litert`` -> ``ai-edge-litert``)."""
    from importlib.metadata import packages_distributions

    provided, names = packages_distributions(), set()
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.level == 0
            ):
                names.add(node.module.split(".")[0])
    return {
        canonicalize_name(d) for name in names for d in provided.get(name, [])
    }


def kernel_distributions(imported: set[str] = frozenset()) -> set[str]:
    """The distributions a chapter's kernel can import: the ``book`` package's
    declared dependencies, the kernel's own (``ipykernel``) and ``imported``
    (an optional dependency such as the bytes chapter's ``ai-edge-litert`` counts
    only for the notebooks that import it), with everything they require,
    transitively, as installed. Pins of anything else (the site's theme,
    JupyterLab, test tools) cannot change an output."""
    import tomllib
    from importlib import metadata

    from packaging.requirements import Requirement

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())[
        "project"
    ]["dependencies"]
    todo = [Requirement(r).name for r in declared] + ["ipykernel", *imported]
    seen: set[str] = set()
    while todo:
        name = canonicalize_name(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for line in requires:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate(
                {"extra": ""}
            ):
                todo.append(requirement.name)
    return seen


def book_modules(sources: list[str]) -> set[str]:
    """The ``book`` modules that code in ``sources`` imports, transitively
    (imports inside functions included; ``book/__init__.py`` always)."""
    seen, todo = {"__init__"}, list(sources)
    while todo:
        for node in ast.walk(ast.parse(todo.pop())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.level == 0
            ):
                names = [node.module] + [
                    f"{node.module}.{a.name}" for a in node.names
                ]
            for name in names:
                parts = name.split(".")
                path = (
                    ROOT / "book" / f"{parts[1]}.py"
                    if parts[0] == "book" and len(parts) > 1
                    else None
                )
                if path and path.is_file() and parts[1] not in seen:
                    seen.add(parts[1])
                    todo.append(path.read_text())
    return seen


def fingerprint(md_path: Path) -> str:
    """A hash of everything that produced a notebook's outputs: its code cells
    (with their tags; prose produces no output), the ``book`` modules they
    import, transitively (as syntax trees, so comments do not count), and the
    pins of the distributions its kernel can import (``kernel_distributions``)."""
    code = [
        (cell.source, cell.metadata.get("tags", []))
        for cell in jupytext.read(md_path).cells
        if cell.cell_type == "code"
    ]
    digest = hashlib.sha256(json.dumps(code).encode())
    sources = [source for source, _ in code]
    for module in sorted(book_modules(sources)):
        text = (ROOT / "book" / f"{module}.py").read_text()
        sources.append(text)
        tree = ast.dump(ast.parse(text))
        digest.update(f"book/{module}.py\0{tree}\0".encode())
    kernel = kernel_distributions(imported_distributions(sources))
    pins = [
        line.strip()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip()
        and not line.startswith("#")
        and canonicalize_name(re.split(r"[=<>!~ ;\[]", line.strip())[0])
        in kernel
    ]
    digest.update("\n".join(sorted(pins)).encode())
    return digest.hexdigest()[:16]


def recorded_stamp(md_path: Path) -> dict:
    """What the executed ``.ipynb`` recorded about its run (fingerprint,
    profile, ...); empty if it was never executed."""
    ipynb = md_path.with_suffix(".ipynb")
    if not ipynb.is_file():
        return {}
    return dict(nbformat.read(ipynb, as_version=4).metadata.get("book", {}))


def recorded_fingerprint(md_path: Path) -> str | None:
    """The fingerprint stored in the executed ``.ipynb`` (None if it has none)."""
    return recorded_stamp(md_path).get("fingerprint")


PUBLISHED_PROFILE = "full"


def stale_notebooks() -> list[Path]:
    """Notebooks whose committed outputs were not produced by the current code
    in the published profile."""
    return [
        p
        for p in notebook_sources()
        if (stamp := recorded_stamp(p)).get("fingerprint") != fingerprint(p)
        or stamp.get("profile") != PUBLISHED_PROFILE
    ]


def cpu() -> dict:
    """The processor a notebook ran on: float results can differ between CPU
    models (oneDNN picks kernels by instruction set), so it is recorded."""
    info = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = (part.strip() for part in line.partition(":"))
            if (
                key
                in ("vendor_id", "cpu family", "model", "model name", "flags")
                and key not in info
            ):
                info[key] = value
    if "flags" in info:  # the instruction-set extensions that select kernels
        info["flags"] = " ".join(
            f
            for f in info["flags"].split()
            if f.startswith(("avx", "fma", "amx", "sse4"))
        )
    return dict(info, cpus=os.cpu_count(), machine=platform.machine())


# Injected around a notebook while it runs (never saved): record every file under
# results/ that the kernel opens for reading, so that a test can tell when a
# result a notebook glued from has changed since (tests/test_freshness.py).
_WATCH_READS = """
import sys as _sys
_book_reads = set()
def _book_audit(event, args, _root={root!r}):
    if event == "open" and isinstance(args[0], str) and args[0].startswith(_root) and "r" in (args[1] or "r"):
        _book_reads.add(args[0])
_sys.addaudithook(_book_audit)
"""
_REPORT_READS = "print(__import__('json').dumps(sorted(_book_reads)))"


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def execute(md_path: Path) -> float:
    """Run one chapter and write ``<chapter>.ipynb``; return the wall time in seconds."""
    notebook = jupytext.read(md_path)
    stamp = dict(
        fingerprint=fingerprint(md_path),
        profile=current_profile().name,
        cpu=cpu(),
    )
    results = (ROOT / "results").resolve()
    notebook.cells.insert(
        0,
        nbformat.v4.new_code_cell(
            _WATCH_READS.format(root=f"{results}{os.sep}")
        ),
    )
    notebook.cells.append(nbformat.v4.new_code_cell(_REPORT_READS))
    start = time.perf_counter()
    NotebookClient(
        notebook,
        timeout=TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(md_path.parent)}},
        # every output is in by then: no need to wait for the kernel's own exit
        shutdown_kernel="immediate",
    ).execute()
    seconds = time.perf_counter() - start
    notebook.cells.pop(0)
    read = json.loads(notebook.cells.pop().outputs[0]["text"])
    for cell in (
        notebook.cells
    ):  # number the cells as if the injected one had not run
        if cell.cell_type == "code" and cell.execution_count:
            cell.execution_count -= 1
            for output in cell.outputs:
                if output.get("execution_count"):
                    output["execution_count"] -= 1
    stamp["results_read"] = {
        Path(p).relative_to(results).as_posix(): file_hash(Path(p))
        for p in read
        if Path(p).is_file()
    }
    notebook.metadata["book"] = dict(stamp, seconds=round(seconds, 1))
    with atomic_path(
        md_path.with_suffix(".ipynb")
    ) as tmp:  # a failed run keeps the old outputs
        nbformat.write(notebook, tmp)
    return seconds


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "chapters", nargs="*", help="chapter names (default: all)"
    )
    parser.add_argument(
        "--stale",
        action="store_true",
        help="execute only the notebooks whose fingerprint does not match the code",
    )
    args = parser.parse_args(argv)
    if args.stale:
        args.chapters = [p.stem for p in stale_notebooks()]
        if not args.chapters:
            print("every notebook is up to date")
            return
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
