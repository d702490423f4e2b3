"""The whole book on one page (``--builder singlehtml``), from which ``python -m book.pdf``
prints the PDF.

myst-nb 1.4 wraps a cell whose input is hidden (``hide-input``) in a node it
teaches only the ``html`` builder to write; the single-page builder, another
HTML builder, would stop at the first such cell. Here it writes it the same way.
"""

from myst_nb.sphinx_ import (
    HideCodeCellNode,
    depart_HideCellInput,
    visit_HideCellInput,
)


def setup(app):
    app.add_node(
        HideCodeCellNode,
        override=True,
        html=(visit_HideCellInput, depart_HideCellInput),
        singlehtml=(visit_HideCellInput, depart_HideCellInput),
    )
    return {"parallel_read_safe": True, "parallel_write_safe": True}
