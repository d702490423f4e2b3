"""The offline HTML archive (``python -m book.archive``) reads from ``file://``.

The fixture builds the book once into a temporary folder (as the README does,
from the committed notebooks: a few seconds) and archives it with
``book.archive``, then unpacks the zip elsewhere, as a reader who downloaded it
would. Headless Chromium opens the intro and chapter 4 straight from the
unpacked files: nothing is requested but local files, and every equation is
typeset by the MathJax that ships inside the archive. Needs Debian's
``chromium``, like ``tests/test_site.py``; skipped without it.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from book.archive import NAME, build_html, write_archive

PAGES = ["intro.html", "chapters/04_temperature.html"]


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory):
    """The archive's top folder, unpacked from a zip of a fresh build."""
    work = tmp_path_factory.mktemp("archive")
    html = build_html(work / "build", quiet=True)
    archive = write_archive(html, work / f"{NAME}.zip")
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        assert names and all(n.startswith(f"{NAME}/") for n in names), "files outside the archive's top folder"
        assert zf.testzip() is None
        zf.extractall(work / "download")
    return work / "download" / NAME


def test_archive_holds_the_site(unpacked):
    for page in ["index.html", *PAGES, "_static/mathjax/tex-chtml.js"]:
        assert (unpacked / page).is_file(), f"{page} missing from the archive"
    assert not list(unpacked.rglob(".buildinfo"))


@pytest.mark.parametrize("page_path", PAGES)
def test_page_reads_from_file_url_with_math(unpacked, browser, page_path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, off_disk, pending = [], [], {}

    def on_console(msg):
        if msg.type == "error":
            errors.append(f"{msg.text} ({msg.location.get('url', '')})")

    def on_request(request):
        if not request.url.startswith(("file://", "data:", "blob:")):
            off_disk.append(request.url)
        pending[request.url] = request

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", on_request)
    page.on("requestfinished", lambda r: pending.pop(r.url, None))
    page.on("requestfailed", lambda r: (pending.pop(r.url, None), errors.append(f"failed to load {r.url}: {r.failure}")))
    page.goto((unpacked / page_path).as_uri(), wait_until="load")
    # Chromium fires no 'networkidle' for file:// pages: wait for MathJax and its fonts instead.
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30000)
    page.evaluate("() => MathJax.startup.promise")
    page.evaluate("() => document.fonts.ready.then(() => null)")
    for _ in range(100):  # let the events of late loads (lazy images) arrive: up to 10 s
        if not pending:
            break
        page.wait_for_timeout(100)
    (unpacked.parent / "screenshots").mkdir(exist_ok=True)
    page.screenshot(path=str(unpacked.parent / "screenshots" / f"{Path(page_path).stem}.png"))

    assert not off_disk, f"{page_path}: requests beyond the unpacked files {off_disk}"
    assert not errors, f"{page_path}: console errors or failed loads {errors}"
    assert not pending, f"{page_path}: loads that never finished {list(pending)}"
    raw = page.evaluate(r"""() => Array.from(document.querySelectorAll('main .math'))
        .filter(el => !el.querySelector('mjx-container')).map(el => el.textContent.slice(0, 60))""")
    assert not raw, f"{page_path}: equations left as raw TeX: {raw}"
    if page_path.startswith("chapters/"):
        rendered = page.locator("main mjx-container").count()
        assert rendered > 0, f"{page_path}: no equation typeset by MathJax"
    page.close()
