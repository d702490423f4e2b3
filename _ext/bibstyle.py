"""The bibliography in the same author-year form as the citations in the text.

sphinxcontrib-bibtex cites "Hinton et al. (2015)" with ``bibtex_reference_style:
author_year``, but pybtex's built-in styles label the list itself [HVD15] or
[1]; this registers a style ``authoryear`` whose labels read "Hinton et al., 2015".
"""

import pybtex.plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle


class AuthorYearLabels(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        for entry in sorted_entries:
            people = entry.persons.get("author", [])
            names = [
                " ".join(p.last_names) or " ".join(p.first_names)
                for p in people
            ]
            who = (
                names[0]
                if len(names) == 1
                else " and ".join(names)
                if len(names) == 2
                else f"{names[0]} et al."
            )
            yield f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearStyle(UnsrtStyle):
    default_label_style = AuthorYearLabels
    default_sorting_style = "author_year_title"


def setup(app):
    pybtex.plugin.register_plugin(
        "pybtex.style.formatting", "authoryear", AuthorYearStyle
    )
    return {"parallel_read_safe": True, "parallel_write_safe": True}
