"""One table style for every chapter and the intro.

Introduced in chapter 1. ``show`` renders a pandas table the way the whole
book does: headers in words (the caller names the columns), no index column
unless it carries meaning, numbers formatted by what they are (``KINDS``),
a caption, and a name that ``{numref}`` can point to.

A table has two renderings. The book's pages use the Markdown one, a MyST
``{table}`` directive, so that Sphinx numbers the table and resolves
references to it (``nb_render_markdown_format: myst`` and the Markdown-first
priority in ``_config.yml``). JupyterLab shows the HTML one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re

import pandas as pd


def true_minus(text: str) -> str:
    """A number as the pages set it: "−0.0020", not "-0.0020"."""
    return text.replace("-", "−")


def signed(x: float, digits: int = 4) -> str:
    """A difference with its sign and a true minus: "+0.0123", "−0.0020"; one
    that rounds to zero is "0.0000", never "-0.0000" or "+0.0000"."""
    if round(x, digits) == 0:
        return f"{0:.{digits}f}"
    return true_minus(f"{x:+.{digits}f}")


def p_value(p: float) -> str:
    """A p-value to two significant digits: "0.016", "1", "< 0.001"."""
    return "< 0.001" if p < 0.001 else f"{p:.2g}"


# How each kind of value is written, everywhere in the book.
KINDS = {
    "accuracy": "{:.4f}".format,  # test or held-out accuracy, 4 decimals
    "loss": "{:.4f}".format,  # a loss, 4 decimals
    "difference": signed,  # a difference of accuracies
    "count": "{:,.0f}".format,  # parameters, images, errors
    "signed count": lambda n: "0" if n == 0 else true_minus(f"{n:+,.0f}"),
    "rate": "{:,.1f}×".format,  # compression rate
    "seconds": "{:,.0f}".format,
    "minutes": "{:,.1f}".format,
    "MiB": "{:,.1f}".format,
    "setting": "{:g}".format,  # T, alpha, k
    "percent": "{:.1%}".format,
    "logit": lambda x: true_minus(f"{x:.2f}"),
    "probability": "{:.2e}".format,  # spans many orders of magnitude
    "p": p_value,
}
MISSING = "–"
CSS_CLASS = "book-table"


@dataclasses.dataclass(frozen=True, eq=False)
class Table:
    """A formatted table, displayed by Jupyter and by myst-nb."""

    cells: pd.DataFrame  # every value already written as text
    numeric: list[bool]  # per column: right-aligned
    caption: str
    name: str

    def _repr_markdown_(self) -> str:
        def row(values):
            return "| " + " | ".join(_escape(str(v)) for v in values) + " |"

        rule = (
            "|"
            + "|".join("---:" if n else ":---" for n in self.numeric)
            + "|"
        )
        lines = [row(self.cells.columns), rule, *map(row, self.cells.values)]
        return (
            f":::{{table}} {self.caption}\n:name: {self.name}\n"
            f":class: {CSS_CLASS}\n\n" + "\n".join(lines) + "\n:::\n"
        )

    def __repr__(self) -> str:
        # Jupyter also stores this plain-text form; nbval compares it, so it
        # must not contain the object's address.
        return f"{self.caption}\n{self.cells.to_string(index=False)}"

    def _repr_html_(self) -> str:
        styler = (
            self.cells.style.hide(axis="index")
            .set_caption(self.caption)
            .set_table_attributes(f'class="{CSS_CLASS}"')
        )
        # Ids from the name, so that re-running a cell gives byte-identical
        # output (nbval compares it).
        return styler.set_uuid(self.name).to_html()


def _escape(text: str) -> str:
    """Cell text as literal Markdown: no emphasis, math, roles or HTML."""
    return re.sub(r"([\\`*_\[\]<>$|{}~#])", r"\\\1", text)


def show(
    table: pd.DataFrame,
    caption: str,
    kinds: dict[str, str] | None = None,
    index: bool = False,
    name: str | None = None,
) -> Table:
    """A numbered, captioned table: ``kinds`` maps columns to ``KINDS`` (other
    numbers: integers with thousands separators, floats to 4 significant
    digits). ``index=True`` keeps the index as the first columns. ``name`` is
    the label for ``{numref}``; by default it is derived from the caption."""
    if index:
        table = table.reset_index()
    # a caption is a sentence, like a figure's: it ends with a full stop
    if not caption.endswith((".", "?", "!")):
        caption += "."
    kinds = kinds or {}
    cells = pd.DataFrame(index=range(len(table)))
    numeric = []
    for column in table.columns:
        values = table[column]
        if column in kinds:
            form = KINDS[kinds[column]]
        elif pd.api.types.is_integer_dtype(values):
            form = KINDS["count"]
        elif pd.api.types.is_float_dtype(values):
            form = "{:.4g}".format
        else:
            form = str
        cells[str(column)] = [
            MISSING if _missing(v) else form(v) for v in values
        ]
        numeric.append(
            pd.api.types.is_numeric_dtype(values)
            and not pd.api.types.is_bool_dtype(values)
            or all(map(_reads_as_number, cells[str(column)]))
        )
    if name is None:
        slug = re.sub(r"[^a-z0-9]+", "-", caption.lower()).strip("-")
        digest = hashlib.sha256(table.to_csv().encode()).hexdigest()[:6]
        name = f"tbl-{slug[:40].rstrip('-')}-{digest}"
    return Table(cells, numeric, caption, name)


def _reads_as_number(text: str) -> bool:
    """A cell of numbers without words ("1287.4×", "0.97 ± 0.01"), or an empty
    one: a column of them is right-aligned like a numeric one."""
    return text in ("", MISSING) or (
        re.search(r"[0-9]", text) is not None
        and re.search(r"[A-Za-z]", text) is None
    )


def _missing(value) -> bool:
    return not isinstance(value, (list, tuple)) and pd.isna(value)


# --- words and numbers in sentences --------------------------------------------------


def plural(n: int, noun: str, nouns: str = "") -> str:
    """3, "seed" -> "3 seeds"; 1, "seed" -> "1 seed"."""
    return f"{n:,} " + (noun if n == 1 else nouns or noun + "s")


_NUMBER = r"[0-9]+(?:\.[0-9]+)?"
# "k = 5, 6 and 7": the setting, its values (a value after a comma only where
# the list goes on: "k = 20, 3 runs above" is one value) and the last one
# after "and" or "or"
_SETTING = re.compile(
    rf"\b([kwfT]|α) = ({_NUMBER}(?:, {_NUMBER}(?=(?:, | and | or ){_NUMBER}))*)"
    rf"(?: (and|or) ({_NUMBER})\b)?"
)


def as_math(text: str) -> str:
    """Settings in a sentence as math, every value of a list included:
    "at k = 5, 6 and 7" -> "at $k = 5, 6$ and $7$"; "up to k = 20, 3 runs
    above" -> "up to $k = 20$, 3 runs above"."""

    def math(match):
        symbol = r"\alpha" if match[1] == "α" else match[1]
        last = f" {match[3]} ${match[4]}$" if match[4] else ""
        return f"${symbol} = {match[2]}${last}"

    return _SETTING.sub(math, text)


# myst_nb's prefix for a value glued without being displayed
GLUE_PREFIX = "application/papermill.record/"


def glue(name: str, variable, display: bool = True) -> None:
    """``myst_nb.glue``, the same output (tests/test_tables.py compares them),
    without importing ``myst_nb.ext.glue``: that module imports nbformat, whose
    jsonschema builds its IRI grammars at import, about 4 s in every kernel.
    The page shows ``variable`` where the prose writes {glue:text}`name`."""
    from IPython.core.formatters import format_display_data
    from IPython.display import display as ipy_display

    bundle, metadata = format_display_data(variable)
    prefix = "" if display else GLUE_PREFIX
    metadata["scrapbook"] = dict(name=name, mime_prefix=prefix)
    ipy_display(
        {prefix + k: v for k, v in bundle.items()},
        raw=True,
        metadata=metadata,
    )


def glue_md(name: str, text: str) -> None:
    """Glue a sentence as Markdown, its settings as math (``as_math``): the
    prose shows it with {glue:md}`name:myst`, so that math and roles render."""
    from IPython.display import Markdown

    glue(name, Markdown(as_math(text)), display=False)
