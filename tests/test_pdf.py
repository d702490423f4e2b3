"""The whole book as a PDF (``python -m book.pdf``): built, printed and read back.

The single-page build (warnings as errors) is printed by headless Chromium, as
the Pages workflow does; the PDF must then have many pages, every chapter of the
table of contents among its bookmarks (and, where poppler's ``pdftotext`` is
installed, in its text), and internal links (chapters, figures, tables,
equations, citations) that each land on a destination the PDF defines. Read
with nothing but the standard library: Chromium (Skia) writes an uncompressed
object table. Skipped without Debian's ``chromium``, like the browser test.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from book import pdf as book_pdf
from book.archive import build_html
from book.execute import notebook_sources

ROOT = Path(__file__).resolve().parent.parent


def title_of(md: Path) -> str:
    return next(line[2:].strip() for line in md.read_text().splitlines() if line.startswith("# "))


def pdf_string(token: bytes) -> str:
    """A PDF string object, literal ``(...)`` or hex ``<FEFF...>``, as text."""
    if token.startswith(b"<"):
        raw = bytes.fromhex(token[1:-1].decode())
        return raw[2:].decode("utf-16-be") if raw.startswith(b"\xfe\xff") else raw.decode("latin-1")
    body = re.sub(rb"\\([()\\])", rb"\1", token[1:-1])
    return body.decode("latin-1")


def squeeze(text: str) -> str:
    # Chromium joins a heading's wrapped lines without a space in its bookmarks.
    return re.sub(r"\s+", "", text)


def toc_documents() -> list[str]:
    def walk(entries):
        for entry in entries:
            if "file" in entry:
                yield entry["file"]
            yield from walk(entry.get("chapters", []) + entry.get("sections", []))

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return list(walk(toc.get("parts", [])))


@pytest.fixture(scope="module")
def book_pdf_file(tmp_path_factory):
    if not Path(book_pdf.CHROMIUM).exists():
        pytest.skip(f"no Chromium at {book_pdf.CHROMIUM}: install Debian's chromium package (.ci/run does)")
    out = tmp_path_factory.mktemp("pdf")
    single = build_html(out, quiet=True, builder="singlehtml")
    return book_pdf.print_pdf(single, out / "book.pdf")


def test_the_book_prints_to_a_pdf_with_every_chapter_and_working_links(book_pdf_file):
    data = book_pdf_file.read_bytes()
    assert data.startswith(b"%PDF-")

    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", data))
    assert pages >= 50, f"only {pages} pages"

    titles = [pdf_string(t) for t in re.findall(rb"/Title\s*(\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f]+>)", data)]
    bookmarks = {squeeze(t) for t in titles}
    chapters = [md for md in notebook_sources() if md.relative_to(ROOT).with_suffix("").as_posix() in toc_documents()]
    assert len(chapters) >= 8
    missing = [title_of(md) for md in chapters if not any(squeeze(title_of(md)) in b for b in bookmarks)]
    assert not missing, f"chapters without a bookmark in the PDF: {missing}"

    if shutil.which("pdftotext"):
        text = squeeze(subprocess.run(["pdftotext", book_pdf_file, "-"], capture_output=True, text=True,
                                      check=True).stdout)
        absent = [title_of(md) for md in chapters if squeeze(title_of(md)) not in text]
        assert not absent, f"chapter titles not in the PDF's text: {absent}"
        for caption in ("Fig. 1.1", "Table 1.1", "(4.1)"):  # numbered as on the site
            assert squeeze(caption) in text, f"{caption} not in the PDF's text"

    # Internal links: link annotations to named destinations, each defined in the catalog's /Dests.
    targets = [m.decode() for m in re.findall(rb"/Subtype\s*/Link[^>]*?/Dest\s*/([^\s/>\]\[]+)", data)]
    assert len(targets) >= 100, f"only {len(targets)} internal links"
    dests_ref = re.search(rb"/Dests\s+(\d+)\s+0\s+R", data)
    assert dests_ref, "no named destinations in the catalog"
    start = data.index(b"\n" + dests_ref.group(1) + b" 0 obj")
    dests = data[start:data.index(b"endobj", start)]
    defined = {m.decode() for m in re.findall(rb"/([^\s/>\]\[]+)\s*\[", dests)}
    dangling = sorted(set(targets) - defined)
    assert not dangling, f"links to destinations the PDF does not define: {dangling[:10]}"
    for kind in ("document-chapters", "equation-", "tbl-", "fig-"):
        assert any(t.startswith(kind) or kind in t for t in targets), f"no internal link to a {kind} target"
