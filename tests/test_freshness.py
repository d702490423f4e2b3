"""Published outputs come from the published code.

Each executed notebook records a fingerprint of its own code cells, the
``book/`` modules they import (transitively) and the pins of the packages its
kernel can run (``book.execute``). A notebook whose fingerprint does not match
the current files, or that was executed in another profile than ``full``, is
stale.
"""

import nbformat

from book.execute import notebook_sources, recorded_fingerprint, stale_notebooks


def test_every_notebook_was_executed_by_the_current_code():
    stale = [p.stem for p in stale_notebooks()]
    assert not stale, (
        f"stale notebooks {stale}: their outputs were produced by other code than is here. "
        f"Re-execute them: python -m book.execute --stale"
    )


def test_published_notebooks_come_from_the_full_profile():
    wrong = [
        p.stem for p in notebook_sources()
        if nbformat.read(p.with_suffix(".ipynb"), as_version=4).metadata.get("book", {}).get("profile") != "full"
    ]
    assert not wrong, f"notebooks {wrong} were not executed in the full profile"


def test_fingerprint_follows_the_code_a_notebook_uses(tmp_path, monkeypatch):
    import book.execute as ex

    md = notebook_sources()[0]  # chapter 1: imports book.teacher, not book.pdf
    before = ex.fingerprint(md)
    (tmp_path / "book").mkdir()
    for f in (ex.ROOT / "book").glob("*.py"):
        (tmp_path / "book" / f.name).write_bytes(f.read_bytes())
    for name in ("requirements.txt", "pyproject.toml"):
        (tmp_path / name).write_bytes((ex.ROOT / name).read_bytes())
    (tmp_path / "chapters").mkdir()
    copy = tmp_path / "chapters" / md.name
    copy.write_bytes(md.read_bytes())
    monkeypatch.setattr(ex, "ROOT", tmp_path)
    assert ex.fingerprint(copy) == before

    def edited(path, text):
        original = path.read_text()
        path.write_text(text(original))
        try:
            return ex.fingerprint(copy)
        finally:
            path.write_text(original)

    # prose, comments, modules the chapter never imports, pins outside the kernel: no output changes
    assert edited(copy, lambda s: s + "\nA new paragraph of prose.\n") == before
    assert edited(tmp_path / "book" / "teacher.py", lambda s: s + "\n# a comment\n") == before
    assert edited(tmp_path / "book" / "pdf.py", lambda s: s + "\nX = 1\n") == before
    assert edited(tmp_path / "requirements.txt", lambda s: s.replace("sphinx-book-theme==", "sphinx-book-theme==0")) == before
    # code cells, code of an imported module (here a transitive import), pins in the kernel: stale
    assert edited(copy, lambda s: s + "\n```{code-cell} ipython3\n1 + 1\n```\n") != before
    assert edited(tmp_path / "book" / "models.py", lambda s: s + "\nX = 1\n") != before
    assert edited(tmp_path / "requirements.txt", lambda s: s.replace("keras==", "keras==0")) != before
    assert recorded_fingerprint(tmp_path / "chapters" / "nope.md") is None


def test_a_notebook_executed_in_another_profile_is_stale(tmp_path, monkeypatch):
    import book.execute as ex

    md = notebook_sources()[0]
    nb = nbformat.read(md.with_suffix(".ipynb"), as_version=4)
    nb.metadata["book"]["profile"] = "smoke"
    (tmp_path / md.name).write_bytes(md.read_bytes())
    nbformat.write(nb, tmp_path / md.with_suffix(".ipynb").name)
    monkeypatch.setattr(ex, "notebook_sources", lambda: [tmp_path / md.name])
    monkeypatch.setattr(ex, "fingerprint", lambda p: nb.metadata["book"]["fingerprint"])
    assert ex.stale_notebooks() == [tmp_path / md.name]


def test_results_a_notebook_read_are_unchanged_since_it_ran():
    """A notebook glues numbers from ``results/``; if one of the files it read
    has changed since, its text may no longer match the data."""
    from book.execute import ROOT, file_hash

    changed = {}
    for md in notebook_sources():
        stamp = nbformat.read(md.with_suffix(".ipynb"), as_version=4).metadata.get("book", {})
        for name, digest in stamp.get("results_read", {}).items():
            path = ROOT / "results" / name
            if not path.is_file() or file_hash(path) != digest:
                changed.setdefault(md.stem, []).append(name)
    assert not changed, (
        f"results files changed after the notebooks that read them ran: {changed}. "
        f"Re-execute them: python -m book.execute {' '.join(changed)}"
    )
