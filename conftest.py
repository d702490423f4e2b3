"""Under pytest the smoke profile is the default (``BOOK_PROFILE=full pytest ...`` overrides).

Set here, before any test or notebook kernel starts, so nbval's kernels inherit it.
"""

import os

os.environ.setdefault("BOOK_PROFILE", "smoke")


def pytest_collectstart(collector):
    """nbval: don't compare what notebooks print to stderr (library logs, progress bars)."""
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr",)
