"""The book's presentation helpers: tables, source listings, runtime notes."""

import pandas as pd

from book import distill, heads
from book.source import listing
from book.tables import show


def test_tables_format_by_kind_and_hide_the_index():
    table = pd.DataFrame({"k": [2, 6], "parameters": [37280, 74188], "test accuracy": [0.91234, 0.5],
                          "compression": [32.19, 16.17]})
    shown = show(table, "Sizes", kinds={"test accuracy": "accuracy", "compression": "rate"})
    html, markdown = shown._repr_html_(), shown._repr_markdown_()
    for text in ("37,280", "0.9123", "0.5000", "16.2×", 'class="book-table"', "Sizes"):
        assert text in html
    assert "level0_row0" not in html  # no index column
    assert "| 2 | 37,280 | 0.9123 | 32.2× |" in markdown


def test_tables_are_numbered_myst_tables_for_the_pages():
    table = pd.DataFrame({"method": ["a_b", "c|d"], "accuracy": [0.5, float("nan")]})
    markdown = show(table, "Methods", name="tbl-methods")._repr_markdown_()
    assert markdown.startswith(":::{table} Methods.\n:name: tbl-methods\n:class: book-table\n")  # a sentence
    assert "|:---|---:|" in markdown  # text left, numbers right
    assert r"| a\_b | 0.5 |" in markdown and r"| c\|d | – |" in markdown  # escaped, missing


def test_columns_of_numbers_written_as_text_are_right_aligned():
    table = pd.DataFrame({"student": ["MSE", "KD"], "f = 0.99": ["64,961", None],
                          "mean": ["0.97 ± 0.01", "1287.4×"], "note": ["seed 0: 0.99", "–"]})
    markdown = show(table, "Mixed")._repr_markdown_()
    assert "|:---|---:|---:|:---|" in markdown  # words left; numbers (and –) right


def test_tables_are_the_same_every_time():
    table = pd.DataFrame({"a": [1.0, 2.0]})
    one, two = show(table, caption="x"), show(table.copy(), caption="x")
    assert one._repr_html_() == two._repr_html_() and one.name == two.name
    assert repr(one) == repr(two) == "x.\na\n1\n2"  # no address


def test_listing_shows_the_source_and_excerpts():
    block = listing(distill.mse_logits_loss).data
    assert block.startswith("```python\ndef mse_logits_loss(") and block.endswith("\n```")
    # chapter 5's excerpt of fit_group: its dropout masks, up to the training data
    step = listing(heads.fit_group, between=("def dropout_masks", "x = tf.constant")).data
    assert step.startswith("```python\ndef dropout_masks(")  # dedented
    assert "stateless_uniform" in step and "tf.constant" not in step


def test_every_chapter_has_a_runtime_note():
    # every chapter that reads training records says what they cost (campaign.runtime_note)
    from book.execute import notebook_sources

    for md in notebook_sources():
        if md.stem[:2] in {"01", "02", "03", "04", "05", "06", "07", "08", "09"}:
            assert "campaign.runtime_note(" in md.read_text(), f"{md.name} has no runtime note"


def test_glue_writes_what_myst_nb_glue_writes(monkeypatch):
    """book.tables.glue stands in for myst_nb.glue in the kernels (it avoids
    importing nbformat there); the pages read its outputs as myst_nb's."""
    import IPython.display
    import myst_nb.ext.glue
    from IPython.display import Markdown

    from book import tables

    def captured(glue, **kwargs):
        calls = []
        monkeypatch.setattr(
            IPython.display, "display", lambda *a, **k: calls.append((a, k))
        )
        monkeypatch.setattr(
            myst_nb.ext.glue,
            "ipy_display",
            lambda *a, **k: calls.append((a, k)),
        )
        glue("x", Markdown("**0.9767**"), **kwargs)
        glue("y", 0.25, **kwargs)
        return calls

    for display in (True, False):
        assert captured(tables.glue, display=display) == captured(
            myst_nb.ext.glue.glue, display=display
        )


def test_differences_and_p_values_are_written_one_way():
    from book.tables import p_value, signed

    assert [
        signed(0.0315),
        signed(-0.0123),
        signed(0.00004),
        signed(-0.00004),
    ] == ["+0.0315", "−0.0123", "0.0000", "0.0000"]
    assert signed(0.00201, 5) == "+0.00201"
    assert [p_value(0.015625), p_value(1.0), p_value(0.0004)] == [
        "0.016",
        "1",
        "< 0.001",
    ]


def test_settings_in_sentences_become_math_with_every_value_of_their_list():
    from book.tables import as_math

    assert as_math("at k = 1, 2, 4 and 8; at w = 4") == "at $k = 1, 2, 4$ and $8$; at $w = 4$"
    assert as_math("s(0.95) at k = 5, 6 or 7") == "s(0.95) at $k = 5, 6$ or $7$"
    assert as_math("up to k = 20, 3 runs above") == "up to $k = 20$, 3 runs above"  # not a list
    assert as_math("KD at T = 4, α = 0") == r"KD at $T = 4$, $\alpha = 0$"
