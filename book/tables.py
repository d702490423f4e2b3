"""One table style for every chapter and the intro.

Introduced in chapter 1. ``show`` renders a pandas table the way the whole
book does: headers in words (the caller names the columns), no index column
unless it carries meaning, numbers formatted by what they are (``KINDS``),
and the book's table CSS class, which keeps a table within the text column.
"""

from __future__ import annotations

import hashlib

import pandas as pd
from IPython.display import HTML

# How each kind of value is written, everywhere in the book.
KINDS = {
    "accuracy": "{:.4f}",  # test or held-out accuracy, 4 decimals
    "difference": "{:+.4f}",  # a difference of accuracies, signed
    "count": "{:,.0f}",  # parameters, images, errors
    "rate": "{:.1f}x",  # compression rate
    "seconds": "{:,.0f}",
    "minutes": "{:.1f}",
    "setting": "{:g}",  # T, alpha, k
    "percent": "{:.1%}",
}


def show(
    table: pd.DataFrame,
    kinds: dict[str, str] | None = None,
    index: bool = False,
    caption: str | None = None,
) -> HTML:
    """A styled table: ``kinds`` maps columns to ``KINDS`` (other numbers: integers
    with thousands separators, floats to 4 significant digits).

    Returned as plain HTML whose element ids come from the table's content, so
    that re-running a cell gives byte-identical output (nbval compares it).
    """
    kinds = kinds or {}
    formats = {}
    for column in table.columns:
        if column in kinds:
            formats[column] = KINDS[kinds[column]]
        elif pd.api.types.is_integer_dtype(table[column]):
            formats[column] = KINDS["count"]
        elif pd.api.types.is_float_dtype(table[column]):
            formats[column] = "{:.4g}"
    styler = table.style.format(formats, na_rep="–").set_table_attributes(
        'class="book-table"'
    )
    if not index:
        styler = styler.hide(axis="index")
    else:
        styler = styler.hide(axis="index", names=True)
    if caption:
        styler = styler.set_caption(caption)
    uuid = hashlib.sha256(
        table.to_csv().encode() + str(caption).encode()
    ).hexdigest()[:8]
    return HTML(styler.set_uuid(uuid).to_html())
