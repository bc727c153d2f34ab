"""Make untrusted text safe to publish in a Jekyll post, leaving benign text byte-identical.

Titles, abstracts, PDF text and model answers end up on a public web page that
Jekyll renders with Liquid and then kramdown. Here such text loses what could
break the build, run script in a reader's browser, or change the post's
structure:

- Liquid: where the text has `{{` or `{%`, every `{` is written as the Liquid
  output `{{ "{" }}`, so Jekyll prints it and no tag or variable can start.
- raw HTML: a `<` that would open a tag, comment or declaration outside code
  becomes `&lt;` (so no `<script>`, no `onerror=`, no stray `</details>`);
  kramdown's attribute lists and extensions (`{:`) lose their colon to `&#58;`,
  and links or link definitions whose target is a `javascript:`, `vbscript:`
  or `data:` URL (entities decoded, as a browser would) lose their link syntax.
  Entities, not backslashes, so that no run of backslashes can undo them.
- structure: outside code, a line that would be a heading (`## `), a thematic
  break or setext underline (`---`, `***`, `===`) is escaped with a backslash,
  and a code fence left open is closed.

Code spans and fenced code blocks keep their content: kramdown escapes it itself.
Formulas keep theirs too, in kramdown's `$$ ... $$` form (see `_prose`).
"""

from __future__ import annotations

import html
import re

from arxiv_digest.jekyll import liquid_safe

_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_KRAMDOWN_EXTENSION = re.compile(r"\{:")
_LINK_TARGET = re.compile(r"\]\(([^)]*)")
_LINK_DEFINITION = re.compile(r"^( {0,3}\[[^\]]*\]):(.*)$")
_SCRIPT_SCHEME = re.compile(r"(?:javascript|vbscript|data):")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f<>]+")
# What passes through unescaped: code spans, kramdown formulas, and LaTeX-delimited formulas,
# each only where kramdown will see it too: not behind an odd run of backslashes, which escapes
# its delimiter (the even run before it is kept as it is).
_VERBATIM = re.compile(
    r"(?P<lead>(?<!\\)(?:\\\\)*)"
    r"(?:(?<!`)(?P<ticks>`+)(?!`).+?(?<!`)(?P=ticks)(?!`)"
    r"|\$\$.+?\$\$"
    # A formula to convert must not hold `$$`: kramdown would end it there.
    r"|\\\((?P<inline>(?:(?!\$\$).)+?)\\\)"
    r"|\\\[(?P<display>(?:(?!\$\$).)+?)\\\])"
)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^( {0,3})(#{1,6}(?:[ \t]|$))")
# A thematic break (three or more of - * _), or a setext underline (any run of = or -).
_BREAK_OR_UNDERLINE = re.compile(r"^( {0,3})(?=(?:=+|-+)[ \t]*$|([-*_])(?:[ \t]*\2){2,}[ \t]*$)(.)")


def inline(text: str) -> str:
    """A one-line field (title, author, category): no HTML, no Liquid, no kramdown extension."""
    return liquid_safe(_prose(" ".join(text.split())))


def block(text: str) -> str:
    """A Markdown body (translation, abstract, analysis), safe inside the post's structure."""
    lines = []
    fence: str | None = None
    for line in text.split("\n"):
        marker = _FENCE.match(line)
        if fence is not None:
            if marker and _closes(fence, marker.group(1), line[marker.end() :]):
                fence = None
            lines.append(line)
            continue
        # A backtick fence's info string has no backtick; else the line is a code span.
        if marker and not (marker.group(1)[0] == "`" and "`" in line[marker.end() :]):
            fence = marker.group(1)
            lines.append(line)
            continue
        line = _HEADING.sub(r"\1\\\2", line)
        line = _BREAK_OR_UNDERLINE.sub(r"\1\\\3", line)
        lines.append(_prose(line))
    if fence is not None:
        lines.append(fence)
    return liquid_safe("\n".join(lines))


def _closes(fence: str, marker: str, rest: str) -> bool:
    """Whether a fence line `marker` + `rest` closes the code block opened by `fence`."""
    return marker[0] == fence[0] and len(marker) >= len(fence) and not rest.strip()


def _prose(line: str) -> str:
    """Escape HTML and kramdown syntax in one line, outside its code spans and formulas.

    A formula written `\\( ... \\)` or `\\[ ... \\]` becomes kramdown's `$$ ... $$`, which
    kramdown hands to MathJax intact (as `\\( ... \\)`, HTML-escaped); left as it was,
    kramdown would eat its backslashes and read its `_` as emphasis.
    """
    parts = []
    position = 0
    for span in _VERBATIM.finditer(line):
        parts.append(_escape(line[position : span.start()]))
        tex = span.group("inline") or span.group("display")
        parts.append(span.group(0) if tex is None else f"{span.group('lead')}$${tex}$$")
        position = span.end()
    parts.append(_escape(line[position:]))
    return "".join(parts)


def _escape(text: str) -> str:
    text = _TAG_START.sub("&lt;", text)
    text = _KRAMDOWN_EXTENSION.sub("{&#58;", text)
    text = _LINK_TARGET.sub(
        lambda link: f"]&#40;{link.group(1)}" if _runs_script(link.group(1)) else link.group(0),
        text,
    )
    definition = _LINK_DEFINITION.match(text)
    if definition and _runs_script(definition.group(2)):
        text = f"{definition.group(1)}&#58;{definition.group(2)}"
    return text


def _runs_script(url: str) -> bool:
    """Whether a browser would take `url` as a script URL (after decoding entities)."""
    return bool(_SCRIPT_SCHEME.match(_INVISIBLE.sub("", html.unescape(url)).lower()))
