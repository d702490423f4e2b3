"""A solution's title reads "Solution to Exercise 3.1" with only "Exercise 3.1"
linked: sphinx-exercise 1.x puts the space between the two inside the link, so
the link's underline began with a blank."""

from docutils import nodes
from sphinx_exercise.nodes import solution_node, solution_start_node


def move_space_out_of_link(app, doctree, docname):
    # a {solution} directive, or the {solution-start} of a gated one
    for solution in doctree.findall(
        lambda node: isinstance(node, (solution_node, solution_start_node))
    ):
        title = solution.children[0]
        for link in title.findall(nodes.reference):
            text = link.children[0] if link.children else None
            if isinstance(text, nodes.Text) and text.startswith(" "):
                link.replace(text, nodes.Text(text.lstrip()))
                link.parent.insert(link.parent.index(link), nodes.Text(" "))


def setup(app):
    app.connect("doctree-resolved", move_space_out_of_link)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
