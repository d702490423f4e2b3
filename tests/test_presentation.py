"""The book's presentation helpers: tables, source listings, runtime notes."""

import pandas as pd

from book import distill, runtime
from book.source import listing
from book.tables import show


def test_tables_format_by_kind_and_hide_the_index():
    table = pd.DataFrame({"k": [2, 6], "parameters": [37280, 74188], "test accuracy": [0.91234, 0.5],
                          "compression": [32.19, 16.17]})
    html = show(table, kinds={"test accuracy": "accuracy", "compression": "rate"}).data
    for text in ("37,280", "0.9123", "0.5000", "16.2x", 'class="book-table"'):
        assert text in html
    assert "level0_row0" not in html  # no index column


def test_tables_are_the_same_html_every_time():
    table = pd.DataFrame({"a": [1.0, 2.0]})
    assert show(table, caption="x").data == show(table.copy(), caption="x").data


def test_listing_shows_the_source_and_excerpts():
    block = listing(distill.mse_logits_loss).data
    assert block.startswith("```python\ndef mse_logits_loss(") and block.endswith("\n```")
    step = listing(distill.fit_fused_heads, between=("@tf.function", "first_epoch")).data
    assert "ResourceApplyAdadelta" in step and "first_epoch" not in step


def test_every_chapter_has_a_runtime_note():
    from book.execute import notebook_sources

    for md in notebook_sources():
        text = md.read_text()
        if md.stem[:2] in {"01", "02", "03", "04", "05", "06", "07"}:
            assert f'note("{md.stem}")' in text, f"{md.name} has no runtime note"
            assert runtime.note(md.stem).data.startswith("**Runtime.**")
