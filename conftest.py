"""Under pytest the smoke profile is the default (``BOOK_PROFILE=full pytest ...`` overrides).

Set here, before any test or notebook kernel starts, so nbval's kernels inherit it.
"""

import os

os.environ.setdefault("BOOK_PROFILE", "smoke")
