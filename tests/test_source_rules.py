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


# --- Imports flow one way ------------------------------------------------------------------
# The day's data and what everything shares at the bottom, in ranks; the subsystems above
# them; the pipeline (which runs the subsystems) at the top, imported by none of them.
FOUNDATION_RANKS = {
    "arxiv_digest": 0, "errors": 0, "models": 0, "taxonomy": 0, "netfault": 0, "write": 0,
    "templating": 0, "config": 1, "record": 2, "window": 2,
}  # fmt: skip
SUBSYSTEMS = {
    "sources": set(),
    "answers": set(),
    "views": {"answers"},  # a view shows answers, so it reads the tasks that made them
}
PIPELINE = {"__main__", "audit", "build", "cli", "init", "mail", "progress", "report", "select"}


def imported_modules(path: Path) -> set[str]:
    """The package's modules `path` imports, as dotted names under arxiv_digest."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("arxiv_digest")
        ):
            module = node.module.removeprefix("arxiv_digest").lstrip(".")
            for alias in node.names:
                named = f"{module}.{alias.name}".lstrip(".")
                is_module = (SRC / (named.replace(".", "/") + ".py")).is_file()
                found.add(named if is_module else module or "arxiv_digest")
        elif isinstance(node, ast.Import):
            found.update(
                alias.name.removeprefix("arxiv_digest.")
                for alias in node.names
                if alias.name.startswith("arxiv_digest.")
            )
    return found


def upward(importer: str, imported: str) -> bool:
    """Whether module `importer` importing `imported` goes against the layers."""
    top, bottom = importer.split(".")[0], imported.split(".")[0]
    if top in PIPELINE or top == bottom:
        return False
    if top in FOUNDATION_RANKS:  # the bottom imports only what is below it
        return bottom not in FOUNDATION_RANKS or FOUNDATION_RANKS[bottom] > FOUNDATION_RANKS[top]
    return bottom not in FOUNDATION_RANKS and bottom not in SUBSYSTEMS[top]


def module_name(path: Path) -> str:
    """`views.site` for views/site.py; a package by its own name (`arxiv_digest`, `views`)."""
    name = path.relative_to(SRC).with_suffix("").as_posix().replace("/", ".")
    return "arxiv_digest" if name == "__init__" else name.removesuffix(".__init__")


def test_every_module_has_a_layer() -> None:
    for path in SRC.rglob("*.py"):
        top = module_name(path).split(".")[0]
        assert top in FOUNDATION_RANKS or top in SUBSYSTEMS or top in PIPELINE, path


def test_no_module_imports_upward() -> None:
    found = [
        f"{module_name(path)} imports {imported}"
        for path in sorted(SRC.rglob("*.py"))
        for imported in sorted(imported_modules(path))
        if upward(module_name(path), imported)
    ]
    assert found == []


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("record", "views.jekyll"),  # the data reaching up to a view
        ("answers.enrich", "views.post"),  # a subsystem reaching into another
        ("sources.arxiv", "answers.cache"),
        ("views.site", "build"),  # a subsystem reaching into the pipeline
        ("config", "record"),  # a lower rank reaching up
    ],
)
def test_the_layers_catch_an_upward_import(importer: str, imported: str) -> None:
    assert upward(importer, imported)


def test_the_layers_allow_the_downward_imports() -> None:
    for importer, imported in [("build", "views.site"), ("views.post", "answers.tasks"),
                               ("record", "models"), ("sources.oaipmh", "sources.arxivxml")]:  # fmt: skip
        assert not upward(importer, imported)
