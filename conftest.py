"""Under pytest the smoke profile is the default (``BOOK_PROFILE=full pytest ...`` overrides).

Set here, before any test or notebook kernel starts, so nbval's kernels inherit it.
"""

import os

os.environ.setdefault("BOOK_PROFILE", "smoke")


def pytest_collectstart(collector):
    """nbval: don't compare what notebooks print to stderr (library logs, progress bars)."""
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr",)


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
