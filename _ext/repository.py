"""A repository button when the build is told the repository's URL, none otherwise.

The book's repository has no fixed address, so ``_config.yml`` names none: the
publishing workflow (``.github/workflows/pages.yml``) passes it in the
environment, ``BOOK_REPOSITORY_URL=https://github.com/<owner>/<name>`` (and
``BOOK_REPOSITORY_BRANCH``, default ``main``), and the published pages get
sphinx-book-theme's repository button. A local build without the variable has no
button, and no repository at all in its theme options (Jupyter Book's default
would otherwise be its own repository).
"""

import os

URL = "BOOK_REPOSITORY_URL"
BRANCH = "BOOK_REPOSITORY_BRANCH"


def set_repository(app, config):
    options = config.html_theme_options
    url = os.environ.get(URL, "").strip().rstrip("/")
    options["repository_url"] = url
    options["use_repository_button"] = bool(url)
    if url:
        options["repository_branch"] = (
            os.environ.get(BRANCH, "").strip() or "main"
        )
        options["path_to_docs"] = ""


def setup(app):
    # Before sphinx-book-theme reads the options (builder-inited).
    app.connect("config-inited", set_repository)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
