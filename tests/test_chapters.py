"""Every chapter's MyST source and its executed .ipynb hold the same cells."""

import jupytext
import pytest
from jupytext.compare import compare_notebooks

from book.execute import notebook_sources

CHAPTERS = notebook_sources()


def test_there_are_chapters():
    assert len(CHAPTERS) >= 3


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_md_and_ipynb_agree(md):
    ipynb = md.with_suffix(".ipynb")
    assert ipynb.is_file(), f"{md.name} has no paired {ipynb.name}: run python -m book.execute {md.stem}"
    # Raises, naming the first differing cell, when sources, types or tags differ.
    compare_notebooks(jupytext.read(md), jupytext.read(ipynb), fmt="md:myst")


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_no_prose_left_to_write(md):
    """Paragraphs whose wording depends on full-profile data are marked ``<NAME>_CONCLUSION``
    while that data is being computed; none may reach the published book."""
    import re

    left = re.findall(r"\b[A-Z]+_CONCLUSION\b", md.read_text())
    assert not left, f"{md.name}: paragraphs still to be written against the data: {left}"
