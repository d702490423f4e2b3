"""The HTML book as one archive to download and read offline, from ``file://``.

``python -m book.archive`` builds the site as the README does
(``jupyter-book build . -W -n --keep-going``, from the committed notebooks,
nothing executed) and zips ``_build/html`` into
``_build/knowledge-distillation-html.zip``, under one top-level folder
``knowledge-distillation-html/``: unzip it and open ``index.html`` (or
``intro.html``) in a browser. The pages need no server and no network: MathJax
is served from the site itself (``sphinx-mathjax-offline``). The archive is
written atomically, so an interrupted run never leaves half a zip.

``--no-build`` archives the ``_build/html`` already there. Not used by any
chapter: it is release tooling, outside every notebook's fingerprint.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

from book.cache import ROOT, atomic_path

BUILD = ROOT / "_build"
HTML = BUILD / "html"
NAME = "knowledge-distillation-html"
ARCHIVE = BUILD / f"{NAME}.zip"


def build_html(
    output: Path = ROOT, quiet: bool = False, builder: str = "html"
) -> Path:
    """Build the book exactly as the README does (with Sphinx's ``builder``,
    by default the HTML site) into ``output/_build/<builder>``, and return
    that folder. A failed build raises ``RuntimeError`` (with the end of the
    build's log when ``quiet`` kept it off the terminal)."""
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    choice = [] if builder == "html" else ["--builder", builder]
    command = [str(jupyter_book), "build", str(ROOT), *choice]
    command += ["-W", "-n", "--keep-going"]
    if Path(output).resolve() != ROOT:
        command += ["--path-output", str(output)]
    build = subprocess.run(command, cwd=ROOT, capture_output=quiet, text=True)
    if build.returncode != 0:
        log = (
            f":\n{build.stdout[-4000:]}\n{build.stderr[-4000:]}"
            if quiet
            else ""
        )
        raise RuntimeError(
            f"{' '.join(['jupyter-book build', *choice])} failed "
            f"(exit {build.returncode}){log}"
        )
    return Path(output) / "_build" / builder


@contextlib.contextmanager
def serve(folder: Path):
    """Serve ``folder`` over HTTP on this machine only, quietly, and yield the
    base URL (what the browser test and the PDF printer open)."""

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def write_archive(
    html: Path = HTML, archive: Path = ARCHIVE, top: str = NAME
) -> Path:
    """Zip every file under ``html`` into ``archive``, below the folder ``top``."""
    html = Path(html)
    if not (html / "index.html").is_file():
        raise SystemExit(
            f"{html}/index.html not found: build the book first (python -m book.archive)"
        )
    # Sphinx's bookkeeping for incremental builds (.buildinfo) is no part of the site.
    files = sorted(
        p
        for p in html.rglob("*")
        if p.is_file()
        and not any(
            part.startswith(".") for part in p.relative_to(html).parts
        )
    )
    with atomic_path(archive) as tmp:
        with zipfile.ZipFile(
            tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9
        ) as zf:
            for path in files:
                zf.write(path, f"{top}/{path.relative_to(html).as_posix()}")
        tmp.chmod(
            0o644
        )  # a download, readable like any built file (mkstemp makes it 0600)
    return Path(archive)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m book.archive", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--no-build",
        action="store_true",
        help="archive the existing _build/html",
    )
    args = parser.parse_args(argv)
    if not args.no_build:
        try:
            build_html()
        except RuntimeError as err:
            raise SystemExit(str(err)) from None
    archive = write_archive()
    size = archive.stat().st_size / 2**20
    print(
        f"{archive.relative_to(ROOT)} ({size:.1f} MiB): unzip it and open {NAME}/index.html"
    )


if __name__ == "__main__":
    main()
