"""Rules the source itself keeps, checked on its syntax tree.

No HTML from string formatting: markup that carries untrusted text is made by an
autoescaping template or by the render-then-sanitize path (safe_html.py), never by an
f-string, `+`, `%` or `.format()` around a literal that holds a tag. The few places that
wrap already-checked markup in a fixed tag are named below, each with its reason.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "arxiv_digest"
# `<` before a tag name, a closing tag, a comment or a declaration.
_TAG = re.compile(r"<[A-Za-z/!?]")
# Calls whose string arguments are patterns, not markup.
_PATTERN_CALLS = {"compile", "sub", "match", "fullmatch", "search", "finditer", "findall", "split"}

ALLOWED = {
    # MathML that `checked_mathml` accepted, put back in the paragraph it stood alone in.
    ("safe_html.py", "render_block"),
}


def formatted_markup(source: str) -> Iterator[tuple[int, str]]:
    """(line, enclosing function) of each expression that formats a string with a tag in its
    literal part: an f-string, `+` or `%` on a literal, or a literal's `.format()`."""
    tree = ast.parse(source)
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _PATTERN_CALLS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "re"
        ):
            skipped.update(id(inner) for argument in node.args for inner in ast.walk(argument))
    functions = {
        id(inner): node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for inner in ast.walk(node)
    }
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        literals: list[ast.AST] = []
        if isinstance(node, ast.JoinedStr):
            literals = list(node.values)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
            literals = [node.left, node.right] if isinstance(node.op, ast.Add) else [node.left]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"
        ):
            literals = [node.func.value]
        if any(
            isinstance(literal, ast.Constant)
            and isinstance(literal.value, str)
            and _TAG.search(literal.value)
            for literal in literals
        ):
            yield node.lineno, functions.get(id(node), "<module>")


def test_no_module_assembles_markup_from_a_formatted_string() -> None:
    found = [
        f"{path.name}:{line} in {function}"
        for path in sorted(SRC.rglob("*.py"))
        for line, function in formatted_markup(path.read_text(encoding="utf-8"))
        if (path.name, function) not in ALLOWED
    ]
    assert found == []


@pytest.mark.parametrize(
    "source",
    [
        # The line that let an iframe into the topic feeds.
        'content = f"<p>{paper.title}</p><p>{paper.summary_zh}</p>"',
        'content = "<p>" + summary + "</p>"',
        'content = "<p>%s</p>" % summary',
        'content = "<a href={}>".format(url)',
    ],
)
def test_the_rule_finds_each_way_of_formatting_markup(source: str) -> None:
    assert set(formatted_markup(source)) == {(1, "<module>")}


def test_the_rule_leaves_patterns_and_plain_text_alone() -> None:
    source = 'import re\nPATTERN = re.compile(f"<p>{HELD}</p>")\nsay = f"a < b: {x}"\n'
    assert list(formatted_markup(source)) == []
