"""Each chapter's MyST Markdown source in its download menu, beside the ``.ipynb``.

The pages are built from the executed notebooks; each is paired by jupytext
with a MyST Markdown file of the same name (``chapters/01_teacher.md`` beside
``chapters/01_teacher.ipynb``), which ``exclude_patterns`` keeps out of the
build. Here each page whose source has such a pair gets a ``.md`` entry in
sphinx-book-theme's download menu (after its ``.ipynb``), and the file itself
is copied beside the page's source under ``_sources/``, where the theme's
``.ipynb`` download points too.
"""

from __future__ import annotations

import shutil
from pathlib import Path

HTML_BUILDERS = ("html", "dirhtml")


def paired_markdown(app, docname: str) -> Path | None:
    """The jupytext-paired MyST source of a notebook page, or None."""
    if not app.env.doc2path(docname).endswith(".ipynb"):
        return None
    md = Path(app.srcdir) / f"{docname}.md"
    if (
        md.is_file()
        and "jupytext:" in md.read_text(encoding="utf-8").split("\n---", 1)[0]
    ):
        return md
    return None


def add_download(app, pagename, templatename, context, doctree):
    """Runs after the theme fills its header buttons (priority 501)."""
    if app.builder.name not in HTML_BUILDERS or not paired_markdown(
        app, pagename
    ):
        return
    for group in context.get("header_buttons", []):
        if group.get("label") != "download-buttons":
            continue
        buttons = group["buttons"]
        at = next(
            (
                i + 1
                for i, b in enumerate(buttons)
                if b.get("label") == "download-source-button"
            ),
            len(buttons),
        )
        buttons.insert(
            at,
            {
                "type": "link",
                "url": f"{context['pathto']('_sources', 1)}/{pagename}.md",
                "text": ".md",
                "tooltip": "Download the MyST Markdown source (jupytext)",
                "icon": "fab fa-markdown",
                "label": "download-markdown-button",
            },
        )


def copy_sources(app, exception):
    if exception or app.builder.name not in HTML_BUILDERS:
        return
    for docname in sorted(app.env.found_docs):
        md = paired_markdown(app, docname)
        if md:
            target = Path(app.outdir) / "_sources" / f"{docname}.md"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(md, target)


def setup(app):
    app.connect("html-page-context", add_download, priority=502)
    app.connect("build-finished", copy_sources)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
