"""Show the code a chapter explains, where it explains it.

Introduced in chapter 3. The losses and training loops live in ``book/`` so
that every chapter runs the same code; ``listing`` prints their source in the
chapter, highlighted, so the reader sees what runs without leaving the page.
"""

from __future__ import annotations

import inspect

from IPython.display import Code


def listing(*objects) -> Code:
    """The source of functions or classes, one after the other, as a highlighted code block."""
    return Code(
        "\n\n".join(inspect.getsource(o).rstrip() for o in objects),
        language="python",
    )
