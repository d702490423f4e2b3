"""Cache keys that know the code: a hash of the functions that produce an
artifact, and of everything in ``book`` they call, transitively.

Introduced in the bytes chapter, whose artifacts are keyed by it. A settings key
alone answers a code change with the old artifact; this one changes when
the producing code does. It reads functions as syntax trees with their
docstrings removed, so a comment, a docstring or an edit to another function
of the same module leaves it unchanged, and it adds the versions of the
numerical stack the code runs on (``NUMERICAL_STACK``), not those of the
book's theme or test tools.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import inspect
import textwrap
import types
from importlib import metadata

NUMERICAL_STACK = ("tensorflow-cpu", "keras", "numpy", "ai-edge-litert")


def _tree(obj) -> ast.AST:
    """``obj``'s source as a syntax tree without docstrings."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(obj)))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(
                node,
                (
                    ast.FunctionDef,
                    ast.AsyncFunctionDef,
                    ast.ClassDef,
                    ast.Module,
                ),
            )
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return tree


def _inside(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


PLAIN = (bool, int, float, str, bytes, tuple, frozenset, list, dict)


def _referenced(obj, tree: ast.AST, package: str) -> list[tuple[str, object]]:
    """What ``tree`` names from ``book``, resolved in ``obj``'s module:
    ``name``, ``module.name`` and imports inside functions, each as
    (qualified name, object)."""
    module = inspect.getmodule(obj)
    scope = vars(module)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in scope:
            found.append((f"{module.__name__}.{node.id}", scope[node.id]))
        elif isinstance(node, ast.Attribute) and isinstance(
            node.value, ast.Name
        ):
            owner = scope.get(node.value.id)
            if (
                isinstance(owner, types.ModuleType)
                and _inside(owner.__name__, package)
                and hasattr(owner, node.attr)
            ):
                found.append(
                    (
                        f"{owner.__name__}.{node.attr}",
                        getattr(owner, node.attr),
                    )
                )
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module
            and _inside(node.module, package)
        ):
            source = importlib.import_module(node.module)
            for alias in node.names:
                if hasattr(source, alias.name):
                    found.append(
                        (
                            f"{node.module}.{alias.name}",
                            getattr(source, alias.name),
                        )
                    )
    return found


@functools.cache  # many closures share functions: each is parsed once a process
def _read(obj, package: str) -> tuple[str, list[tuple[str, object]]]:
    """``obj``'s syntax tree, dumped, and what it references (``_referenced``)."""
    tree = _tree(obj)
    return ast.dump(tree), _referenced(obj, tree, package)


def closure(*producers, package: str = "book") -> dict[str, str]:
    """Every ``book`` function and class that ``producers`` reach, as a dump
    of its syntax tree, and every plain ``book`` constant they read
    (numbers, strings, containers), as its ``repr``; by qualified name."""
    seen: dict[str, str] = {}
    todo = [(f"{p.__module__}.{p.__qualname__}", p) for p in producers]
    while todo:
        name, obj = todo.pop()
        if isinstance(obj, (types.FunctionType, type)) and _inside(
            getattr(obj, "__module__", ""), package
        ):
            name = f"{obj.__module__}.{obj.__qualname__}"
            if name in seen:
                continue
            seen[name], referenced = _read(obj, package)
            todo.extend(referenced)
        elif isinstance(obj, PLAIN) and _inside(name, package):
            seen.setdefault(name, repr(obj))
    return seen


def stack_versions() -> dict[str, str]:
    versions = {}
    for name in NUMERICAL_STACK:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def code_key(*producers, package: str = "book") -> str:
    """A short hash of the code ``producers`` run (``closure``) and of the
    numerical stack's versions: part of the key of what they produce."""
    digest = hashlib.sha256()
    for name, tree in sorted(closure(*producers, package=package).items()):
        digest.update(f"{name}\0{tree}\0".encode())
    digest.update(repr(sorted(stack_versions().items())).encode())
    return digest.hexdigest()[:12]
