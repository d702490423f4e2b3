"""The published book, built and opened in a real browser (headless Chromium).

The fixture builds the HTML from the committed notebooks exactly as the
README does, with warnings as errors. Then, for the intro and every chapter:
nothing is requested from another host (the book reads offline), no console
errors, every equation rendered, every image decodes, every internal link
resolves, the page's main heading is the chapter's title, figure text is at
least 10 px and table frames are as wide as their tables; at a phone's width
(390 px) figure text is at least 9 px, table captions are whole and in view,
a table or figure that scrolls sideways says so, no cell of words is
squeezed to a word or two a line, numbers in tables are not broken across
lines, and the navigation opens from its button. Columns of numbers are right-aligned and a
solution's link starts at its exercise's name. Numbered equations
and their references, and the glossary as a definition list, are checked
too. Screenshots of each page, at desktop and phone width, are saved under
``_build/screenshots/``. Needs Debian's ``chromium`` (``.ci/run`` installs
it); Playwright drives it, and never downloads a browser of its own.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from book.archive import serve
from book.execute import notebook_sources

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "_build"
HTML = BUILD / "html"
PAGES = {p.stem: p.relative_to(ROOT).with_suffix(".html").as_posix() for p in notebook_sources()}
PHONE = {"width": 390, "height": 844}
# Files the publishing workflow adds to the site after the HTML build, so a
# local build links them without holding them (test_workflows checks the step).
PUBLISHED_ONLY = {"book.pdf"}
# Chapters that draw no figure, and why; every other chapter must have one.
TEXT_ONLY_CHAPTERS = {
    "11_speed": "the appendix's benchmark tables",
}


# A cell of words that wraps to three lines or more is at least this many ems wide (at 390 px).
MIN_CELL_EM = 8
# The smallest text a figure may show, in CSS px, as displayed: on a phone and on a desktop.
MIN_FIGURE_TEXT_PX = {"phone": 9.0, "desktop": 10.0}
# matplotlib draws SVG text as glyph paths, each text in a group `text_N` scaled by
# fontsize / 100 (its TextToPath.FONT_SCALE); with svg.fonttype "none" it writes a font size.
_TEXT_SCALE = re.compile(r'<g id="text_\d+">\s*(?:<!--.*?-->\s*)?<g [^>]*?scale\(([\d.]+) -', re.S)
_FONT_SIZE = re.compile(r"font(?:-size)?:\s*(?:[a-z]+\s+)*([\d.]+)px")
_VIEWBOX_WIDTH = re.compile(r'<svg[^>]*?viewBox="[-\d.]+ [-\d.]+ ([\d.]+)')


def smallest_text(svg: Path) -> tuple[float, float] | None:
    """(smallest font size, drawing width), both in the SVG's own units, or None without text.

    Sub- and superscripts inside a label (a tick's 10^2) are scaled again within their text
    and are not counted: the label's own size is."""
    text = svg.read_text()
    width = _VIEWBOX_WIDTH.search(text)
    sizes = [100 * float(s) for s in _TEXT_SCALE.findall(text)] + [float(s) for s in _FONT_SIZE.findall(text)]
    return (min(sizes), float(width.group(1))) if sizes and width else None


def small_figure_text(page, site: str, least: float) -> list[str]:
    """Figures on the page whose smallest text is displayed below `least` CSS px."""
    shown = page.eval_on_selector_all("main img", "imgs => imgs.map(i => [i.src, i.getBoundingClientRect().width])")
    small = []
    for src, width in shown:
        path = HTML / unquote(urlparse(src).path).lstrip("/")
        found = smallest_text(path) if src.startswith(site) and path.suffix == ".svg" else None
        if found and found[0] * width / found[1] < least:
            small.append(f"{path.name[:12]}: {found[0]:g}-unit text shown at {found[0] * width / found[1]:.1f} px")
    return small


def title_of(md: Path) -> str:
    """The first level-1 heading of a MyST source."""
    return next(line[2:].strip() for line in md.read_text().splitlines() if line.startswith("# "))


@pytest.fixture(scope="module")
def site(browser):  # no browser, no build: the fixture skips first
    build = subprocess.run(
        [Path(sys.executable).parent / "jupyter-book", "build", str(ROOT), "-W", "-n", "--keep-going"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert build.returncode == 0, f"jupyter-book build failed:\n{build.stdout[-4000:]}\n{build.stderr[-4000:]}"
    with serve(HTML) as url:
        yield url


@pytest.mark.parametrize("name", list(PAGES))
def test_page(site, browser, name):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, off_site = [], []

    def on_console(msg):
        source = msg.location.get("url", "")
        if msg.type == "error" and not source.endswith("/favicon.ico"):  # the browser's own probe
            errors.append(f"{msg.text} ({source})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda r: None if r.url.startswith((site, "data:", "blob:")) else off_site.append(r.url))
    url = f"{site}/{PAGES[name]}"
    response = page.goto(url, wait_until="networkidle")
    assert response and response.ok, f"{PAGES[name]}: HTTP {response and response.status}"

    (BUILD / "screenshots").mkdir(exist_ok=True)
    page.screenshot(path=str(BUILD / "screenshots" / f"{name}.png"), full_page=True)

    assert not off_site, f"{PAGES[name]}: requests to other hosts {off_site}"
    assert not errors, f"{PAGES[name]}: console errors {errors}"

    # Every equation typeset: MathJax replaced the TeX source with its own markup.
    page.wait_for_function("() => !window.MathJax || !MathJax.startup || MathJax.startup.promise")
    page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
    raw = page.evaluate(r"""() => Array.from(document.querySelectorAll('main .math'))
        .filter(el => !el.querySelector('mjx-container')).map(el => el.textContent.slice(0, 60))""")
    assert not raw, f"{PAGES[name]}: equations left as raw TeX: {raw}"
    # Punctuation right after inline math stays on its line (math.js): none is left outside.
    loose_punctuation = page.evaluate(r"""() => Array.from(document.querySelectorAll('main span.math'))
        .filter(m => !m.closest('.book-nowrap-math') && m.nextSibling && m.nextSibling.nodeType === 3
                     && /^[,.;:!?)\]]/.test(m.nextSibling.data))
        .map(m => m.textContent.slice(0, 30) + m.nextSibling.data.slice(0, 10))""")
    assert not loose_punctuation, f"{PAGES[name]}: punctuation that may start a line: {loose_punctuation}"

    heading = page.locator("main h1").first.inner_text().strip().rstrip("#").strip()
    md = next(p for p in notebook_sources() if p.stem == name)
    assert heading == title_of(md), f"{PAGES[name]}: main heading {heading!r}, expected {title_of(md)!r}"

    images = page.eval_on_selector_all(
        "main img", "imgs => imgs.map(i => [i.getAttribute('src'), i.complete, i.naturalWidth, i.naturalHeight])"
    )
    broken = [src for src, complete, w, h in images if not (complete and w > 0 and h > 0)]
    assert not broken, f"{PAGES[name]}: images that did not decode: {broken}"
    if name[:2].isdigit() and name not in TEXT_ONLY_CHAPTERS:
        assert images, f"{PAGES[name]}: a chapter page without a single figure"

    # Every table and code block fits the text column (a wider one scrolls or is clipped).
    wide = page.evaluate("""() => Array.from(document.querySelectorAll('main table, main pre'))
        .filter(el => el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1)
        .map(el => el.tagName + ': ' + el.textContent.trim().slice(0, 50))""")
    assert not wide, f"{PAGES[name]}: tables or code wider than the column: {wide}"

    # Figures are drawn at the column's width (book.plots), as SVG, so their text is shown at its
    # nominal size (10 pt and up): no figure may be scaled down by more than a tenth.
    shrunk = page.evaluate("""() => Array.from(document.querySelectorAll('main img'))
        .filter(img => img.naturalWidth > 0 && img.clientWidth / img.naturalWidth < 0.9)
        .map(img => img.getAttribute('src') + ' shown at ' + (img.clientWidth / img.naturalWidth).toFixed(2))""")
    assert not shrunk, f"{PAGES[name]}: figures shrunk below their drawn size (text too small): {shrunk}"
    rasters = page.eval_on_selector_all("main img", "imgs => imgs.map(i => i.getAttribute('src'))")
    assert all(src.endswith(".svg") for src in rasters), f"{PAGES[name]}: figures not in SVG: {rasters}"
    small = small_figure_text(page, site, MIN_FIGURE_TEXT_PX["desktop"])
    assert not small, f"{PAGES[name]}: figure text below {MIN_FIGURE_TEXT_PX['desktop']} px at 1280 px: {small}"

    # A table's frame (the box that draws a border) is as wide as its rows: no narrow
    # table in a column-wide frame.
    loose = page.evaluate("""() => Array.from(document.querySelectorAll('main table.book-table'))
        .flatMap(t => [t, ...t.querySelectorAll(':scope > thead, :scope > tbody')].map(box => [t, box]))
        .filter(([t, box]) => getComputedStyle(box).borderLeftStyle !== 'none'
            && parseFloat(getComputedStyle(box).borderLeftWidth) > 0
            && box.offsetWidth > t.querySelector('tr').offsetWidth + 4)
        .map(([t, box]) => t.id + ': a frame ' + box.offsetWidth + ' px wide around rows of '
            + t.querySelector('tr').offsetWidth)""")
    assert not loose, f"{PAGES[name]}: table frames wider than their tables: {loose}"

    # A column of numbers is right-aligned, also when its cells are text ("0.97 ± 0.01",
    # "1287.4×"): book.tables gives it the numeric alignment. A column with words in any
    # cell is a column of words.
    left = page.evaluate("""() => Array.from(document.querySelectorAll('main table.book-table')).flatMap(t => {
        const rows = Array.from(t.querySelectorAll('tbody tr'));
        return Array.from(rows[0]?.cells || []).map((_, i) => rows.map(r => r.cells[i]))
            .filter(column => column.some(td => td.classList.contains('text-left') && /[0-9]/.test(td.textContent))
                && column.every(td => !/[A-Za-z]/.test(td.textContent)))
            .map(column => t.id + ': ' + column.map(td => td.textContent.trim()).join(' | ').slice(0, 60));
    })""")
    assert not left, f"{PAGES[name]}: columns of numbers aligned left: {left}"

    # "Solution to Exercise 3.1": the link (and its underline) starts at "Exercise" (_ext/solutiontitle.py).
    titles = page.eval_on_selector_all(
        "main .solution > .admonition-title a", "as => as.map(a => a.textContent)")
    assert all(t == t.lstrip() for t in titles), f"{PAGES[name]}: solution links that start with a space: {titles}"

    no_index = page.locator("a[href$='genindex.html'], link[rel='index']").count()
    assert no_index == 0, f"{PAGES[name]}: links to a general index the book does not have"

    # The phone's view loaded fresh, as a phone loads it: a desktop page narrowed to 390 px
    # keeps its side panels drawn over the top of the full-page screenshot.
    phone = browser.new_page(viewport=PHONE)
    phone.goto(f"{site}/{PAGES[name]}", wait_until="networkidle")
    phone.wait_for_function("() => !window.MathJax || !MathJax.startup || MathJax.startup.promise")
    phone.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
    phone.screenshot(path=str(BUILD / "screenshots" / f"{name}-phone-full.png"), full_page=True)
    check_phone_layout(phone, site, PAGES[name])
    phone.close()

    hrefs = page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)")
    here = Path(HTML / PAGES[name])
    missing = []
    for href in hrefs:
        parsed = urlparse(href)
        if not href.startswith(site):
            continue  # external: not ours to check offline
        target = HTML / unquote(parsed.path).lstrip("/")
        if target.relative_to(HTML).as_posix() in PUBLISHED_ONLY:
            continue
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            missing.append(href)
        elif parsed.fragment and target == here:
            if page.locator(f"[id='{unquote(parsed.fragment)}']").count() == 0:
                missing.append(href)
    assert not missing, f"{PAGES[name]}: internal links that do not resolve: {missing}"
    page.close()


def check_phone_layout(page, site: str, where: str) -> None:
    """At a phone's width: figures legible, table captions whole and in view, numbers unbroken."""
    # Figures keep a minimum width and scroll sideways (custom.css) rather than shrink their text.
    small = small_figure_text(page, site, MIN_FIGURE_TEXT_PX["phone"])
    assert not small, f"{where}: figure text below {MIN_FIGURE_TEXT_PX['phone']} px at 390 px: {small}"

    # A table wider than the column scrolls inside its frame, with a line under it saying so;
    # its caption stays whole and in view, before and after the rows are scrolled to their far end.
    captions = page.evaluate("""() => {
        const column = document.querySelector('main article').getBoundingClientRect();
        const problems = [];
        for (const t of document.querySelectorAll('main table.book-table')) {
            const c = t.querySelector('caption');
            const frame = t.getBoundingClientRect();
            if (frame.left < column.left - 1 || frame.right > column.right + 1)
                problems.push(t.id + ': frame outside the column');
            const note = t.nextElementSibling;
            if (t.scrollWidth > t.clientWidth + 12 &&
                !(note && note.classList.contains('book-scroll-line') && note.offsetHeight > 0))
                problems.push(t.id + ': scrolls sideways with no line saying so');
            if (!c) continue;
            for (const end of [0, t.scrollWidth]) {
                t.scrollLeft = end;
                const r = c.getBoundingClientRect();
                if (r.left < frame.left - 1 || r.right > frame.left + t.clientLeft + t.clientWidth + 1 ||
                    c.scrollWidth > c.clientWidth + 1)
                    problems.push(t.id + ': caption cut with the rows scrolled to ' + t.scrollLeft + ' px');
            }
            t.scrollLeft = 0;
        }
        return problems;
    }""")
    assert not captions, f"{where}: at 390 px: {captions}"

    # Columns of words keep a readable measure (custom.css): no cell of words wraps to a word or
    # two per line, the tall and mostly empty rows of a table squeezed into a phone's column.
    squeezed = page.evaluate("""(least) => Array.from(document.querySelectorAll('main table.book-table td'))
        .filter(td => td.checkVisibility() && /[A-Za-z]{2,}/.test(td.textContent))
        .filter(td => {
            const style = getComputedStyle(td);
            const range = document.createRange();  // the text's own box, not the row's
            range.selectNodeContents(td);
            const text = range.getBoundingClientRect();
            return text.height > 2.5 * parseFloat(style.lineHeight) && text.width < least * parseFloat(style.fontSize);
        })
        .map(td => td.closest('table').id + ': ' + td.textContent.trim().slice(0, 50))""", MIN_CELL_EM)
    assert not squeezed, f"{where}: table cells of a word or two per line at 390 px: {squeezed}"

    # A figure or display equation wider than the column scrolls sideways too, with the same line
    # after it (scrolling.js); past a slack of a border or padding (px).
    for selector, slack in (("main figure", 1), ("main mjx-container[display='true']", 2)):
        unmarked = page.evaluate("""([selector, slack]) => Array.from(document.querySelectorAll(selector))
            .filter(box => box.scrollWidth > box.clientWidth + slack)
            .filter(box => { const n = box.nextElementSibling;
                             return !(n && n.classList.contains('book-scroll-line') && n.offsetHeight > 0); })
            .map(box => box.id || box.textContent.slice(0, 40))""", [selector, slack])
        assert not unmarked, f"{where}: {selector} that scroll at 390 px with no line saying so: {unmarked}"

    # No number, estimate or interval broken across lines: right-aligned cells, and cells of
    # numbers such as "0.9767 ± 0.0003", which tables.js keeps together in nowrap spans.
    broken = page.evaluate("""() => {
        const lines = el => {  // the distinct lines its text sits on
            const tops = [];
            const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                const range = document.createRange();
                range.selectNodeContents(node);
                for (const r of range.getClientRects()) if (r.width > 0) tops.push(r.top);
            }
            return tops.filter((top, i) => tops.findIndex(other => Math.abs(other - top) < 3) === i).length;
        };
        const cells = Array.from(document.querySelectorAll('main table.book-table td'));
        const unguarded = cells.filter(td => /[0-9]/.test(td.textContent) && !/[A-Za-z]{2,}/.test(td.textContent)
            && !td.querySelector('.math')
            && !td.classList.contains('text-right') && !td.querySelector('.book-nowrap'));
        const wrapped = Array.from(document.querySelectorAll(
            'main table.book-table td.text-right, main table.book-table .book-nowrap')).filter(el => lines(el) > 1);
        return unguarded.map(td => 'unguarded: ' + td.textContent.trim())
            .concat(wrapped.map(el => 'wrapped: ' + el.textContent.trim()));
    }""")
    assert not broken, f"{where}: numbers in tables that may break or did break across lines at 390 px: {broken}"


# Equations the prose refers back to, by page: each must carry a number.
NUMBERED_EQUATIONS = {
    "04_temperature": ["eq-kd-loss", "eq-high-t-limit", "eq-mse-decomposition"],
    "07_s_of_f": ["eq-s-of-f"],
}


def test_equations_are_numbered_and_their_references_resolve(site, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    numbers = {}  # (page, equation id) -> its number as displayed, "(4.1)"
    links = []  # (page, href, link text)
    for name, path in PAGES.items():
        page.goto(f"{site}/{path}", wait_until="networkidle")
        for eq_id, number in page.eval_on_selector_all(
            "main div.math[id^='equation-']", "ds => ds.map(d => [d.id, d.querySelector('.eqno').textContent])"
        ):
            numbers[path, eq_id] = number.replace("#", "").strip()
        links += [(path, *link) for link in page.eval_on_selector_all(
            "main a.reference.internal[href*='#equation-']", "as => as.map(a => [a.href, a.textContent.trim()])")]
    page.close()

    for name, labels in NUMBERED_EQUATIONS.items():
        for label in labels:
            number = numbers.get((PAGES[name], f"equation-{label}"), "")
            assert re.fullmatch(r"\(\d+\.\d+\)", number), f"{PAGES[name]}: {label} has no number ({number!r})"
    assert links, "no equation is referred to by its number"
    for path, href, text in links:
        parsed = urlparse(href)
        target = (unquote(parsed.path).lstrip("/"), unquote(parsed.fragment))
        assert target in numbers, f"{path}: {href} points to no numbered equation"
        assert text == numbers[target], f"{path}: a link reads {text!r}, its equation is {numbers[target]}"


def test_notation_glossary_is_a_definition_list(site, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{site}/notation.html", wait_until="networkidle")
    terms = page.locator("main dl dt").all_inner_texts()
    assert "compression rate" in [t.strip() for t in terms], f"the glossary is not a definition list: {terms}"
    assert page.locator("main dl dd").count() == len(terms)
    assert " : " not in page.locator("main").inner_text(), "a 'term : definition' paragraph left"
    footer = " ".join(page.locator("footer").all_inner_texts())
    assert not re.search(r"\bBy\b", footer), f"an author line in the footer: {footer!r}"
    page.close()


@pytest.mark.parametrize("name", ["intro", "04_temperature"])
def test_navigation_opens_and_closes_at_phone_width(site, browser, name):
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{site}/{PAGES[name]}", wait_until="networkidle")
    page.screenshot(path=str(BUILD / "screenshots" / f"{name}-phone.png"))
    # pydata-sphinx-theme shows the navigation in a modal dialog on narrow screens
    first_chapter = page.locator("dialog#pst-primary-sidebar-modal a", has_text="The teacher").first
    assert not first_chapter.is_visible(), "the chapter list shows before the button is pressed"
    page.get_by_role("button", name="Toggle primary sidebar").first.click()
    first_chapter.wait_for(state="visible", timeout=5000)
    page.screenshot(path=str(BUILD / "screenshots" / f"{name}-phone-navigation.png"))
    page.keyboard.press("Escape")
    first_chapter.wait_for(state="hidden", timeout=5000)
    page.close()


def test_chapter_pages_offer_their_markdown_source(site, browser):
    """The download menu offers each chapter's MyST source beside its notebook (_ext/mdsource.py)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{site}/{PAGES['04_temperature']}", wait_until="networkidle")
    page.get_by_role("button", name="Download this page").click()
    menu = page.locator(".dropdown-download-buttons .dropdown-menu")
    md, ipynb = menu.locator("a", has_text=".md"), menu.locator("a", has_text=".ipynb")
    md.wait_for(state="visible", timeout=5000)
    assert ipynb.is_visible(), "the .ipynb download is gone from the menu"
    response = page.request.get(md.evaluate("a => a.href"))
    assert response.ok, f"{md.get_attribute('href')}: HTTP {response.status}"
    text = response.text()
    assert text.startswith("---\njupytext:"), f"not a jupytext MyST file: {text[:60]!r}"
    assert text == (ROOT / "chapters" / "04_temperature.md").read_text()
    page.close()
