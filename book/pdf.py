"""The whole book as one PDF, built offline from the same sources as the HTML.

``python -m book.pdf`` builds the book as a single HTML page (Sphinx's
``singlehtml`` builder, through ``jupyter-book build . --builder singlehtml``,
from the committed notebooks, nothing executed, warnings as errors) into
``_build/singlehtml/``, opens it in headless Chromium (Debian's ``chromium``,
driven by Playwright, which downloads no browser of its own), waits until
MathJax (served by the page itself) has typeset every equation, and prints it
to ``_build/pdf/book.pdf``: A4, page numbers in the footer, the chapters as
PDF bookmarks, figures as vectors (the SVGs), figure, table and equation
numbers as on the site, and every internal link (a chapter, a figure, an
equation, a citation) a link inside the PDF. The print style sheet
(``_static/print.css``) hides the site's sidebars, toolbars and buttons and
opens the exercises' solutions.

Why this route: it needs nothing beyond what the book's browser test already
uses (no network, unlike Jupyter Book's ``pdfhtml``, which downloads a
browser; no TeX Live, about 700 MB, which would also need the SVG figures
converted), and the PDF shows the pages' own rendering.

``--no-build`` prints the ``_build/singlehtml`` already there. Not used by any
chapter: it is release tooling, outside every notebook's fingerprint.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

import yaml

from book.archive import build_html, serve
from book.cache import ROOT, atomic_path

BUILD = ROOT / "_build"
SINGLE = BUILD / "singlehtml"
PDF = BUILD / "pdf" / "book.pdf"
# Debian's chromium (and on GitHub's Ubuntu runners, the Chromium they link to
# /usr/bin/chromium); BOOK_CHROMIUM names another Chromium-family browser.
CHROMIUM = (
    os.environ.get("BOOK_CHROMIUM")
    or shutil.which("chromium")
    or "/usr/bin/chromium"
)
# What the headless browser needs on an offline machine, as in the browser test.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FOOTER = (
    '<div style="width: 100%; font-size: 8px; color: #666; text-align: center;">'
    '<span class="pageNumber"></span> / <span class="totalPages"></span></div>'
)


def root_page(single: Path) -> Path:
    """The one page that holds the whole book: the table of contents' root, as HTML."""
    root = yaml.safe_load((ROOT / "_toc.yml").read_text())["root"]
    page = Path(single) / f"{root}.html"
    if not page.is_file():
        raise SystemExit(
            f"{page} not found: build the book first (python -m book.pdf)"
        )
    return page


def print_pdf(
    single: Path = SINGLE, pdf: Path = PDF, chromium: str = CHROMIUM
) -> Path:
    """Print the single-page book in ``single`` to ``pdf`` with headless Chromium."""
    page_file = root_page(single)
    if not Path(chromium).exists():
        raise SystemExit(
            f"no Chromium at {chromium}: install Debian's chromium package (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    # Served over HTTP on this machine only: file:// would work too, but a
    # server is what the browser test and readers of the site use.
    with serve(single) as site, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.emulate_media(media="print")
            url = f"{site}/{page_file.name}"
            response = page.goto(
                url, wait_until="networkidle", timeout=120_000
            )
            if not (response and response.ok):
                raise RuntimeError(
                    f"{url}: HTTP {response and response.status}"
                )
            # MathJax typesets after the page has loaded; print only once it is done.
            page.wait_for_function(
                "() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                timeout=60_000,
            )
            page.evaluate("() => MathJax.startup.promise")
            raw = page.evaluate("""() => Array.from(document.querySelectorAll('.math'))
                .filter(el => !el.querySelector('mjx-container')).length""")
            if raw:
                raise RuntimeError(f"{raw} equations left as raw TeX")
            page.evaluate("""() => Promise.all(Array.from(document.images)
                .filter(img => !img.complete).map(img => new Promise(r => img.onload = img.onerror = r)))""")
            page.evaluate("() => document.fonts.ready")
            with atomic_path(pdf) as tmp:
                page.pdf(
                    path=str(tmp),
                    format="A4",
                    print_background=True,
                    margin={
                        "top": "18mm",
                        "bottom": "18mm",
                        "left": "16mm",
                        "right": "16mm",
                    },
                    display_header_footer=True,
                    header_template="<span></span>",
                    footer_template=FOOTER,
                    outline=True,
                    tagged=True,
                )
        finally:
            browser.close()
    return Path(pdf)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m book.pdf", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--no-build",
        action="store_true",
        help="print the existing _build/singlehtml",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=PDF,
        help=f"where to write the PDF (default {PDF.relative_to(ROOT)})",
    )
    args = parser.parse_args(argv)
    if not args.no_build:
        try:
            build_html(builder="singlehtml")
        except RuntimeError as err:
            raise SystemExit(str(err)) from None
    pdf = print_pdf(pdf=args.output)
    size = pdf.stat().st_size / 2**20
    where = (
        pdf.relative_to(ROOT) if pdf.resolve().is_relative_to(ROOT) else pdf
    )
    print(f"{where} ({size:.1f} MiB)")


if __name__ == "__main__":
    main()
