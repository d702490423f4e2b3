"""Show the code a chapter explains, where it explains it.

Introduced in chapter 3. The losses and training loops live in ``book/`` so
that every chapter runs the same code; ``listing`` prints their source in
the chapter, so the reader sees what runs without leaving the page.
"""

from __future__ import annotations

import inspect
import textwrap

from IPython.display import Markdown


def listing(
    *objects,
    between: tuple[str, str] | None = None,
    folded: str | None = None,
) -> Markdown:
    """The source of functions or classes, one after the other, as a code
    block (Markdown, so the book's pages highlight it like any other code).
    ``between``: show only the lines from the first that contains the first
    string up to the line before the first that contains the second,
    dedented.
    ``folded``: the code is bookkeeping the chapter does not explain; it is
    closed under "Show <folded>", and a click opens it."""
    source = "\n\n".join(inspect.getsource(o).rstrip() for o in objects)
    if between:
        lines = source.splitlines()
        start = next(i for i, line in enumerate(lines) if between[0] in line)
        end = next(
            i
            for i, line in enumerate(lines)
            if between[1] in line and i > start
        )
        # an excerpt from inside a function reads from the margin
        source = textwrap.dedent("\n".join(lines[start:end])).rstrip()
    block = f"```python\n{source}\n```"
    if folded:
        # myst-nb's markup for a hidden cell input, so that it looks and
        # works like the pages' "Show code cell source"
        block = (
            '<details class="admonition hide above-input">\n'
            '<summary aria-label="Toggle hidden content">\n'
            f'<p class="collapsed admonition-title">Show {folded}</p>\n'
            f'<p class="expanded admonition-title">Hide {folded}</p>\n'
            f"</summary>\n\n{block}\n\n</details>"
        )
    return Markdown(block)
