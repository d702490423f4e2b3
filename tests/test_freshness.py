"""Published outputs come from the published code.

Each executed notebook records a fingerprint of the ``book/`` sources, its own
code cells and the pinned requirements (``book.execute``). A notebook whose
fingerprint does not match the current files, or that was executed in
another profile than ``full``, is stale.
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


def test_fingerprint_sees_a_change_in_book(tmp_path, monkeypatch):
    import book.execute as ex

    md = notebook_sources()[0]
    before = ex.fingerprint(md)
    fake_root = tmp_path
    (fake_root / "book").mkdir()
    for f in (ex.ROOT / "book").glob("*.py"):
        (fake_root / "book" / f.name).write_bytes(f.read_bytes())
    (fake_root / "requirements.txt").write_bytes((ex.ROOT / "requirements.txt").read_bytes())
    (fake_root / "chapters").mkdir()
    copy = fake_root / "chapters" / md.name
    copy.write_bytes(md.read_bytes())
    monkeypatch.setattr(ex, "ROOT", fake_root)
    assert ex.fingerprint(copy) == before
    copy.write_text(md.read_text() + "\nA new paragraph of prose.\n")
    assert ex.fingerprint(copy) == before  # prose produces no output
    copy.write_text(md.read_text() + "\n```{code-cell} ipython3\n1 + 1\n```\n")
    assert ex.fingerprint(copy) != before
    copy.write_bytes(md.read_bytes())
    (fake_root / "book" / "models.py").write_text("# edited\n", "utf-8")
    assert ex.fingerprint(copy) != before
    assert recorded_fingerprint(fake_root / "chapters" / "nope.md") is None
