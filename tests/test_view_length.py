"""Views stay thin (issue 13): every function of a page or API module (its views and the
helpers that build their contexts) is at most 40 lines, so a view binds its input, calls one
service or selector and renders; anything longer is split, or belongs in a form, selector or
service."""

import ast
from pathlib import Path

from tests.conftest import REPO

MAX_LINES = 40
APPS = ("reviewapp", "screening", "extraction", "analysis")
# The web edge: views*.py, the APIs, the error pages and what every template gets.
EDGE_MODULES = ("apis.py", "context_processors.py", "error_pages.py")


def _is_edge(path: Path) -> bool:
    return path.name.startswith("views") or path.name in EDGE_MODULES


def _functions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _measured() -> dict[str, int]:
    """`path::name` of every function checked, with its length in lines (the `def` line to
    the last line of its body, docstring included, decorators not)."""
    lengths = {}
    for app in APPS:
        for path in sorted((REPO / app).rglob("*.py")):
            if "migrations" in path.parts or not _is_edge(path):
                continue
            for node in _functions(ast.parse(path.read_text(), filename=str(path))):
                name = f"{path.relative_to(REPO).as_posix()}::{node.name}"
                length = node.end_lineno - node.lineno + 1
                lengths[name] = max(length, lengths.get(name, 0))
    return lengths


def test_every_function_of_the_page_and_api_modules_is_at_most_40_lines():
    too_long = {name: length for name, length in _measured().items() if length > MAX_LINES}

    assert len(_measured()) > 250, "the walk found too few functions: is the layout changed?"
    assert not too_long, f"over {MAX_LINES} lines (split them): {too_long}"
