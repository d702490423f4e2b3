"""Under pytest the smoke profile is the default (``BOOK_PROFILE=full pytest ...`` overrides).

Set here, before any test or notebook kernel starts, so nbval's kernels inherit it.
"""

import os

os.environ.setdefault("BOOK_PROFILE", "smoke")


# What ``myst_nb.glue`` records for the text: values computed from the data, which
# differ between the smoke profile (tests) and the full one (published outputs).
# They are checked otherwise: the build fails on a missing glue key, and
# tests/test_freshness.py on a result that changed after a notebook read it.
GLUE_RECORDS = tuple(f"application/papermill.record/{mime}" for mime in (
    "text/plain", "text/html", "text/markdown", "image/svg+xml", "image/png", "application/json"))


# What the cells display: the committed notebooks hold the full profile's
# outputs, read off the published records, and the smoke run reads records of
# its own, so tables, figures, notes and printed numbers differ in every
# chapter. nbval checks that every cell runs; facts that must not move are
# asserted in the chapters.
DISPLAYS = ("stdout", "text/plain", "text/html", "text/markdown", "text/latex", "image/svg+xml",
            "image/png", "application/json")


def pytest_collectstart(collector):
    """nbval: don't compare what notebooks print to stderr (library logs, progress bars),
    the values they glue into the text, nor what they display (above)."""
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr", *GLUE_RECORDS, *DISPLAYS)


def _execute_with_history(self, cell_input, allow_stdin=None):
    """nbval runs cells with ``store_history=False``, and IPython >= 8 then
    ignores a trailing ``;``, so ``plot(...);`` would print the returned axes
    under nbval but not in Jupyter. Run cells as Jupyter does."""
    return self.kc.execute(cell_input, store_history=True, allow_stdin=allow_stdin, stop_on_error=False)


try:
    from nbval.kernel import RunningKernel
except ImportError:  # nbval not installed: plain pytest runs only tests/
    pass
else:
    RunningKernel.execute_cell_input = _execute_with_history

# A killed `python -m book.execute` can leave its temporary notebook
# (`.<name>.ipynb.tmp-*.ipynb`, book.cache.atomic_path) beside a chapter: not
# a chapter, so never collected (the next write of that chapter removes it).
collect_ignore_glob = [".*.tmp-*", "chapters/.*.tmp-*"]
